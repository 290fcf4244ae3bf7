/**
 * What in a graph makes a text's result depend on how it is batched.
 *
 * Dynamic int8 quantization (transformers.js' model_quantized / model_int8 / model_uint8:
 * DynamicQuantizeLinear before each MatMulInteger) computes ONE activation scale and zero point
 * over the whole input tensor of a run, padding rows included. So in such a file a text's vector
 * depends on the texts it is batched with (measured on all-MiniLM-L6-v2's q8 file: cos 0.979
 * between a text in a mixed batch and the same text alone). The engine runs these files one text
 * per batch, so a text's vector is the one it gets alone, whatever else is in the call.
 */
import type { OnnxGraph } from './onnx-graph.ts';

/** What in a graph makes batching change a text's result, read in one pass over its nodes. */
export interface BatchSensitivity {
  /**
   * com.microsoft GroupQueryAttention (onnxruntime-genai's builder, onnx-community's
   * Qwen3-Reranker-0.6B-ONNX). That op takes each row's length from the attention mask and assumes
   * RIGHT padding: a left-padded batch gives its shorter rows wrong results without an error
   * (measured on a GQA Qwen3 reranker: scores off by up to 0.77 in a batch of 6).
   */
  groupQueryAttention: boolean;
  /** a DynamicQuantizeLinear node: activations quantized at run time, one scale per run */
  dynamicQuantization: boolean;
}

/**
 * @example
 * batchSensitivity(readGraph(q8Bytes)); // { groupQueryAttention: false, dynamicQuantization: true }
 */
export function batchSensitivity({ nodes }: Pick<OnnxGraph, 'nodes'>): BatchSensitivity {
  return {
    groupQueryAttention: nodes.some((n) => n.opType === 'GroupQueryAttention' && n.domain === 'com.microsoft'),
    dynamicQuantization: nodes.some((n) => n.opType === 'DynamicQuantizeLinear' && (n.domain === '' || n.domain === 'ai.onnx')),
  };
}
