/**
 * The nodes of a model that onnxruntime-web's WebGPU execution provider has no kernel for. ORT
 * does not fail on them: it places them on its CPU (wasm) provider and copies tensors between the
 * GPU and the CPU around each, which is correct but slow, and it says so only in a verbose log.
 *
 * Where the list comes from. `onnxruntime-web/webgpu` 1.30.0 loads ort-wasm-simd-threaded.asyncify
 * .{mjs,wasm} and `onnxruntime-web/jspi` ort-wasm-simd-threaded.jspi.{mjs,wasm} (src/runtime/ort.ts
 * picks one), the same C++ built two ways: the native C++ WebGPU provider
 * (onnxruntime/core/providers/webgpu and contrib_ops/webgpu; "WebGpuExecutionProvider" in its placement log), not the older JSEP one that
 * the package's docs/webgpu-operators.md still describes (that table lacks MatMulBnb4, for one,
 * which 1.30.0 runs on WebGPU). The repository's kernel lists could not be tied to the 1.30.0
 * build, so each entry was found by asking 1.30.0 itself: a one-node model per op, a session on
 * ['webgpu'], its placement log read. test/browser/webgpu-ops.test.ts asks again, for every entry
 * below and for the other ops of transformer text models it probes (63, all on WebGPU in 1.30.0:
 * MatMulNBits and MatMulBnb4 among them), so a new onnxruntime-web that moves any of them fails there.
 *
 * By op and domain only: nodes ORT moves to the CPU for their tensor types (int64 shape
 * arithmetic) or as shape bookkeeping are not what this reports.
 */
import type { OnnxGraph } from '../models/onnx/onnx-graph.ts';

/** The onnxruntime-web release the list was taken from. */
export const ORT_WEB_VERSION = '1.30.0';

/** Ops by domain ('' is ai.onnx) that 1.30.0's WebGPU provider leaves to the CPU. */
export const CPU_ONLY_OPS: Readonly<Record<string, readonly string[]>> = {
  // dynamic int8 quantization (transformers.js' model_quantized / model_int8 / model_uint8), static quantization, NonZero
  '': ['DynamicQuantizeLinear', 'MatMulInteger', 'QuantizeLinear', 'QLinearMatMul', 'NonZero'],
  // onnxruntime's CPU-side fusions and quantized ops, as ORT-optimized exports may hold them
  'com.microsoft': ['DequantizeLinear', 'DynamicQuantizeMatMul', 'EmbedLayerNormalization', 'FusedMatMul', 'MatMulIntegerToFloat', 'QAttention', 'QuantizeLinear'],
};

/**
 * A node that runs on the CPU next to a WebGPU session (`info.cpuNodes`).
 *
 * @example
 * embedder.info.cpuNodes; // [{ name: '/layer.0/attention/MatMul_quant', op: 'MatMulInteger', domain: '' }, …]
 */
export interface CpuNode {
  /** the node's name in the graph (as ORT's placement log names it) */
  name: string;
  op: string;
  /** '' for ai.onnx, 'com.microsoft', ... */
  domain: string;
}

/**
 * The nodes of an ONNX model's main graph (as the loader read it, src/models/onnx/onnx-graph.ts
 * readGraph) that the WebGPU provider has no kernel for: ops in CPU_ONLY_OPS, and every op of a
 * domain it has no kernels in at all (ai.onnx.ml, custom ops).
 *
 * @example
 * cpuOnlyNodes(readGraph(q8Bytes)); // [{ name: '/encoder/layer.0/.../MatMul_quant', op: 'MatMulInteger', domain: '' }, ...]
 */
export function cpuOnlyNodes({ nodes }: Pick<OnnxGraph, 'nodes'>): CpuNode[] {
  return nodes
    .map((n) => ({ name: n.name, op: n.opType, domain: n.domain === 'ai.onnx' ? '' : n.domain }))
    .filter((n) => CPU_ONLY_OPS[n.domain]?.includes(n.op) ?? true);
}
