/**
 * all-minilm-l6-v2, the real all-MiniLM-L6-v2 (mean pooling, 256 tokens), in every dtype against
 * PyTorch and onnxruntime-node, retrieval on the example corpus in every dtype
 * (helpers/real-encoder-suite.ts).
 */
import { describeRealEncoder } from './helpers/real-encoder-suite.ts';

describeRealEncoder('all-minilm-l6-v2', { retrievalDtypes: 'all' });
