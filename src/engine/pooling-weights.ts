/**
 * The per-token pooling weights of a batch: the attention mask, with each text's first
 * `poolSkip` real tokens zeroed (NV-Embed leaves the instruction out of its mean).
 */
import type { PaddedBatch } from './feeds.ts';

export function poolingWeights(p: PaddedBatch, poolSkip: readonly number[]): Float32Array {
  const w = p.maskF32.slice();
  for (let b = 0; b < p.batch; b++) {
    const skip = Math.min(poolSkip[b] ?? 0, p.lengths[b]!);
    const from = b * p.tokens + p.starts[b]!;
    w.fill(0, from, from + skip);
  }
  return w;
}
