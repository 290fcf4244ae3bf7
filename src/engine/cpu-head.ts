/**
 * What comes after the transformer on the wasm path: the CPU twins of the GPU kernels
 * (src/reference), on the hidden states ORT returned in memory.
 */
import type { Pooling } from '../models/types.ts';
import { latentAttentionPool, type LatentAttentionParams } from '../reference/latent-attention.ts';
import { maskedMeanPool } from '../reference/masked-mean.ts';
import { matryoshka } from '../reference/matryoshka.ts';
import { firstTokenPool, lastTokenPool } from '../reference/token-pooling.ts';

/** One batch for an embedding head, on either path (the GPU head's HeadRun adds ORT's buffer). */
export interface EmbedHeadShape {
  batch: number;
  /** tokens per row (1 with pooling 'graph': the graph's own [batch, size] vectors) */
  tokens: number;
  size: number;
  /** [batch * tokens] pooling weights (unused with pooling 'graph') */
  weights: Float32Array;
  /** output width: 1 ≤ dims ≤ size */
  dims: number;
  normalize: boolean;
}

export interface CpuHeadRun extends EmbedHeadShape {
  hidden: Float32Array;
}

export function cpuHead(pooling: Pooling, r: CpuHeadRun, latent?: LatentAttentionParams): Float32Array {
  const { hidden, weights, batch, tokens, size } = r;
  let pooled: Float32Array;
  // 'graph': the graph's own pooled [batch, size] vectors (tokens is 1)
  if (pooling === 'graph') pooled = hidden;
  else if (pooling === 'mean') pooled = maskedMeanPool(hidden, weights, batch, tokens, size);
  else if (pooling === 'cls') pooled = firstTokenPool(hidden, weights, batch, tokens, size);
  else if (pooling === 'last-token') pooled = lastTokenPool(hidden, weights, batch, tokens, size);
  else {
    if (!latent) throw new Error('latent-attention pooling needs its head');
    pooled = latentAttentionPool(hidden, weights, batch, tokens, latent);
  }
  return r.normalize ? matryoshka(pooled, batch, size, r.dims).embeddings : truncateRows(pooled, batch, size, r.dims);
}

/** The first `dims` values of each row: a model that does not normalize is truncated without a kernel. */
export function truncateRows(x: Float32Array, rows: number, width: number, dims: number): Float32Array {
  if (dims === width) return x;
  const out = new Float32Array(rows * dims);
  for (let r = 0; r < rows; r++) out.set(x.subarray(r * width, r * width + dims), r * dims);
  return out;
}
