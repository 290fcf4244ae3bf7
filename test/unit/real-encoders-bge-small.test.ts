/**
 * bge-small-en-v1.5-shape, bge-small-en-v1.5's architecture with random weights (CLS pooling,
 * 512 tokens), in every dtype against PyTorch and onnxruntime-node; retrieval in fp32 only
 * (random weights score every paragraph nearly alike: see SuiteOptions.retrievalDtypes).
 */
import { describeRealEncoder } from './helpers/real-encoder-suite.ts';

describeRealEncoder('bge-small-en-v1.5-shape', { retrievalDtypes: 'fp32' });
