/**
 * Length-sorted batching: texts sorted by token count and cut into batches, so a batch pads its
 * texts to a length close to their own, and results are put back in input order afterwards.
 */
export interface BatchLimits {
  /** most texts in one batch */
  maxBatchSize: number;
  /** most padded tokens (batch size × longest text) in one batch: bounds the [B,T,H] activation */
  maxBatchTokens: number;
}

export const DEFAULT_LIMITS: BatchLimits = { maxBatchSize: 32, maxBatchTokens: 8192 };

/**
 * Cuts items (by their token lengths) into batches of input indices. Items are taken longest
 * first, so the first batch shows the worst-case memory at once rather than at the end; within
 * equal lengths, input order is kept (a stable sort), which keeps results deterministic.
 */
export function planBatches(lengths: readonly number[], limits: BatchLimits = DEFAULT_LIMITS): number[][] {
  for (const k of ['maxBatchSize', 'maxBatchTokens'] as const) {
    if (!(limits[k] >= 1)) throw new RangeError(`limits.${k} must be a number ≥ 1, got ${String(limits[k])}`);
  }
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[b]! - lengths[a]! || a - b);
  const batches: number[][] = [];
  let current: number[] = [];
  let longest = 0;
  for (const i of order) {
    const len = Math.max(1, lengths[i]!);
    const nextLongest = Math.max(longest, len);
    if (current.length > 0 && (current.length >= limits.maxBatchSize || (current.length + 1) * nextLongest > limits.maxBatchTokens)) {
      batches.push(current);
      current = [];
      longest = 0;
    }
    current.push(i);
    longest = Math.max(longest, len);
  }
  if (current.length) batches.push(current);
  return batches;
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
