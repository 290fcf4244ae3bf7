/**
 * What comes after the transformer on the wasm path: the CPU twins of the GPU kernels
 * (src/reference), on the hidden states ORT returned in memory.
 */
import type { Pooling } from '../models/types.ts';
import { latentAttentionPool, type LatentAttentionParams } from '../reference/latent-attention.ts';
import { maskedMeanPool } from '../reference/masked-mean.ts';
import { matryoshka } from '../reference/matryoshka.ts';
import { firstTokenPool, lastTokenPool } from '../reference/token-pooling.ts';
import { truncateRows } from './gpu-head.ts';

export interface CpuHeadRun {
  hidden: Float32Array;
  batch: number;
  tokens: number;
  size: number;
  weights: Float32Array;
  dims: number;
  normalize: boolean;
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
