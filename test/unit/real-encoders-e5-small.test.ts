/**
 * multilingual-e5-small-shape, a small XLM-RoBERTa with random weights and the real 250k-token
 * vocabulary (mean pooling, "query: " / "passage: " prompts, fp32 weights in model.onnx_data), in
 * every dtype against PyTorch and onnxruntime-node; retrieval in fp32 only (random weights).
 */
import { describeRealEncoder } from './helpers/real-encoder-suite.ts';

describeRealEncoder('multilingual-e5-small-shape', { retrievalDtypes: 'fp32' });
