/**
 * Length-sorted batching: texts sorted by token count and cut into batches, so a batch pads its
 * texts to a length close to their own, and results are put back in input order afterwards.
 */
import type { BatchSensitivity } from '../models/onnx/batch-sensitivity.ts';
import type { PaddingSide } from '../models/types.ts';

export interface BatchLimits {
  /** most texts in one batch */
  maxBatchSize: number;
  /** most padded tokens (batch size × longest text) in one batch: bounds the [B,T,H] activation */
  maxBatchTokens: number;
  /**
   * what one more batch costs, in padded tokens (a session run, a dispatch, a readback): the
   * planner adds a batch where that saves more padding than this (default 128)
   */
  batchOverheadTokens?: number;
}

export const DEFAULT_LIMITS: BatchLimits = { maxBatchSize: 32, maxBatchTokens: 8192, batchOverheadTokens: 128 };

/** How a model's batches are cut (`info.batching`): the most texts per batch, and why when not the default. */
export interface BatchingInfo {
  maxBatchSize: number;
  reason?: string;
}

/**
 * The limits a model runs with: the caller's over the defaults, and one text per batch where
 * batching would change a text's result: a graph that quantizes its activations per run (dynamic
 * int8: one scale over the batch), unless the caller set maxBatchSize
 * (src/models/onnx/batch-sensitivity.ts).
 *
 * A GroupQueryAttention graph batches freely: the loader makes it right-padded, which that op
 * assumes (src/models/folder.ts). That it never meets left padding is checked here too, since a
 * left-padded batch would be wrong without an error.
 *
 * @example
 * modelLimits(spec.graph, undefined, 'right'); // q8: { limits: { maxBatchSize: 1, ... }, batching: { maxBatchSize: 1, reason: '...' } }
 */
export function modelLimits(graph: BatchSensitivity, asked: Partial<BatchLimits> | undefined, paddingSide: PaddingSide): { limits: BatchLimits; batching: BatchingInfo } {
  if (graph.groupQueryAttention && paddingSide === 'left') {
    throw new Error('internal: a GroupQueryAttention graph reached the engine left-padded (the loader right-pads it)');
  }
  const limits = { ...DEFAULT_LIMITS, ...asked };
  if (asked?.maxBatchSize === undefined && graph.dynamicQuantization) {
    const reason =
      'one text per batch: this file quantizes activations per run (DynamicQuantizeLinear, one scale over the whole batch), ' +
      "so batching would make a text's result depend on its neighbours; pass limits.maxBatchSize to batch anyway";
    return { limits: { ...limits, maxBatchSize: 1 }, batching: { maxBatchSize: 1, reason } };
  }
  return { limits, batching: { maxBatchSize: limits.maxBatchSize } };
}

/**
 * Cuts items (by their token lengths) into batches of input indices. Items are taken longest
 * first, so the first batch shows the worst-case memory at once rather than at the end; within
 * equal lengths, input order is kept (a stable sort), which keeps results deterministic.
 *
 * Where to cut the sorted list is chosen to minimise the tokens computed (each batch pads to its
 * longest item) plus `batchOverheadTokens` per batch, within both limits: an exact dynamic
 * programme over cut points (O(items × maxBatchSize)). Filling every batch to maxBatchSize, the
 * simple way, pads a small call badly: 64 texts of 8–256 tokens in batches of 32 compute 1.48×
 * their tokens that way, 1.09× cut here.
 */
export function planBatches(lengths: readonly number[], limits: BatchLimits = DEFAULT_LIMITS): number[][] {
  for (const k of ['maxBatchSize', 'maxBatchTokens'] as const) {
    if (!(limits[k] >= 1)) throw new RangeError(`limits.${k} must be a number ≥ 1, got ${String(limits[k])}`);
  }
  const overhead = limits.batchOverheadTokens ?? DEFAULT_LIMITS.batchOverheadTokens!;
  if (!(overhead >= 0)) throw new RangeError(`limits.batchOverheadTokens must be a number ≥ 0, got ${String(overhead)}`);
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[b]! - lengths[a]! || a - b);
  const sorted = order.map((i) => Math.max(1, lengths[i]!));
  const n = sorted.length;
  // cost[i]: the cheapest plan for the i longest items; from[i]: where its last batch starts
  const cost = new Float64Array(n + 1).fill(Infinity);
  const from = new Int32Array(n + 1);
  cost[0] = 0;
  for (let start = 0; start < n; start++) {
    const longest = sorted[start]!; // the batch's first item is its longest
    for (let size = 1; size <= limits.maxBatchSize && start + size <= n; size++) {
      // an item longer than the token budget still goes, alone
      if (size > 1 && size * longest > limits.maxBatchTokens) break;
      const c = cost[start]! + size * longest + overhead;
      if (c < cost[start + size]!) {
        cost[start + size] = c;
        from[start + size] = start;
      }
    }
  }
  const batches: number[][] = [];
  for (let end = n; end > 0; end = from[end]!) batches.push(order.slice(from[end]!, end));
  return batches.reverse();
}

/** Tokens computed (padded) over real tokens, for the batches planned: 1.0 means no padding. */
export function paddingRatio(lengths: readonly number[], batches: readonly number[][]): number {
  let padded = 0, real = 0;
  for (const b of batches) {
    const longest = Math.max(...b.map((i) => lengths[i]!));
    padded += longest * b.length;
    for (const i of b) real += lengths[i]!;
  }
  return real === 0 ? 1 : padded / real;
}

/**
 * A batch's padded-token budget capped so what the head binds whole on the GPU (`rowBytes` per
 * padded token: the embedder's hidden states [B, T, H] f32) fits the device's binding limit (ORT's
 * device keeps WebGPU's default 128 MiB unless the adapter's larger limit was requested). Without
 * a GPU device, or a head that binds nothing per token, the limits as they are.
 *
 * @example
 * fitBindingLimit({ maxBatchSize: 32, maxBatchTokens: 65536 }, 4 * 4096, device); // 128 MiB: maxBatchTokens 8192
 */
export function fitBindingLimit(limits: BatchLimits, rowBytes: number | undefined, device: Pick<GPUDevice, 'limits'> | undefined): BatchLimits {
  if (!device || !rowBytes) return limits;
  const fit = Math.floor(device.limits.maxStorageBufferBindingSize / rowBytes);
  return { ...limits, maxBatchTokens: Math.max(1, Math.min(limits.maxBatchTokens, fit)) };
}
