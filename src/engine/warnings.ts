/**
 * Load warnings: a model that loads and runs, but not as asked (nodes on the CPU beside a WebGPU
 * session, a WebGPU result the self-check doubted). Sent once on onProgress as
 * `{ status: 'warning', name, code, message }` (before 'ready'); the same facts stay in the
 * embedder's or reranker's info.
 */
import { ORT_WEB_VERSION, type CpuNode } from '../runtime/webgpu-ops.ts';

/**
 * A warning on onProgress.
 *
 * @example
 * createEmbedder({ model, onProgress: (e) => e.status === 'warning' && console.warn(e.code, e.message) });
 */
export interface LoadWarning {
  status: 'warning';
  /** the model, as in every progress event */
  name: string;
  /** 'cpu-nodes': info.cpuNodes is not empty; 'self-check': info.selfCheck.passed is false, or the check could not run */
  code: 'cpu-nodes' | 'self-check';
  /** what happened and what to do, in a sentence or two */
  message: string;
}

/** The ops dynamic int8 quantization writes (transformers.js' q8, int8 and uint8 files). */
const DYNAMIC_INT8 = new Set(['DynamicQuantizeLinear', 'MatMulInteger', 'MatMulIntegerToFloat', 'DynamicQuantizeMatMul']);

/** A warning as the engine's parts make it; the engine adds the model's name when it sends it. */
export type WarningBody = Omit<LoadWarning, 'name'>;

/** The warning for nodes that run on the CPU beside a WebGPU session; undefined when there are none. */
export function cpuNodesWarning(nodes: readonly CpuNode[] | undefined): WarningBody | undefined {
  if (!nodes?.length) return undefined;
  const ops = [...new Set(nodes.map((n) => (n.domain ? `${n.domain}.${n.op}` : n.op)))];
  const named = nodes.slice(0, 3).map((n) => `'${n.name}'`).join(', ') + (nodes.length > 3 ? `, … (${nodes.length} in all, info.cpuNodes)` : '');
  const advice = nodes.some((n) => DYNAMIC_INT8.has(n.op))
    ? "They come from dynamic int8 quantization (dtype 'q8', 'int8' or 'uint8'): on WebGPU use dtype 'fp32', 'fp16', 'q4' or 'q4f16'."
    : "On WebGPU, prefer an export without these ops, or device 'wasm'.";
  return {
    status: 'warning',
    code: 'cpu-nodes',
    message:
      `${nodes.length} node${nodes.length === 1 ? '' : 's'} of this model run on the CPU, not on WebGPU: onnxruntime-web ${ORT_WEB_VERSION}'s WebGPU ` +
      `provider has no kernel for ${ops.join(', ')} (${named}). The results are right, but each such node copies its tensors between the GPU and the CPU. ${advice}`,
  };
}
