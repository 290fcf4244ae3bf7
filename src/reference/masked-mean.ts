/**
 * CPU twin of kernels/masked-mean.wgsl: the wasm path's pooling and the gpu tests' oracle.
 * pooled[b, h] = Σ_t w[b, t] · x[b, t, h] / Σ_t w[b, t]; a row with no weight gives zeros.
 */
export function maskedMeanPool(
  hidden: Float32Array,
  weights: Float32Array,
  batch: number,
  tokens: number,
  size: number,
): Float32Array {
  if (hidden.length !== batch * tokens * size) {
    throw new RangeError(`maskedMeanPool: hidden has ${hidden.length} values, expected ${batch}×${tokens}×${size}`);
  }
  if (weights.length !== batch * tokens) {
    throw new RangeError(`maskedMeanPool: weights have ${weights.length} values, expected ${batch}×${tokens}`);
  }
  const out = new Float32Array(batch * size);
  const acc = new Float64Array(size);
  for (let b = 0; b < batch; b++) {
    acc.fill(0);
    let total = 0;
    for (let t = 0; t < tokens; t++) {
      const w = weights[b * tokens + t]!;
      if (w === 0) continue;
      total += w;
      const base = (b * tokens + t) * size;
      for (let h = 0; h < size; h++) acc[h]! += w * hidden[base + h]!;
    }
    if (total > 0) for (let h = 0; h < size; h++) out[b * size + h] = acc[h]! / total;
  }
  return out;
}
