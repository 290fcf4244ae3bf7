/**
 * CPU twins of the row-wise kernels and the linear kernel (kernels/layer-norm.wgsl, linear.wgsl,
 * softmax.wgsl, geglu.wgsl), f64 accumulation: the pieces of latent attention on the wasm path and
 * the gpu tests' oracles.
 */

/** torch.nn.LayerNorm over the last dimension of x [rows, size] (biased variance). */
export function layerNorm(
  x: Float32Array,
  weight: Float32Array,
  bias: Float32Array,
  rows: number,
  size: number,
  eps = 1e-5,
): Float32Array {
  const y = new Float32Array(rows * size);
  for (let n = 0; n < rows; n++) {
    const row = x.subarray(n * size, (n + 1) * size);
    let mean = 0;
    for (const v of row) mean += v;
    mean /= size;
    let variance = 0;
    for (const v of row) variance += (v - mean) * (v - mean);
    variance /= size;
    const inv = 1 / Math.sqrt(variance + eps);
    for (let i = 0; i < size; i++) y[n * size + i] = (row[i]! - mean) * inv * weight[i]! + bias[i]!;
  }
  return y;
}

/** Y [rows, out] = X [rows, in] · Wᵀ (+ bias) (+ residual), W in torch layout [out, in]. */
export function linear(
  x: Float32Array,
  weight: Float32Array,
  rows: number,
  inFeatures: number,
  outFeatures: number,
  bias?: Float32Array,
  residual?: Float32Array,
): Float32Array {
  if (weight.length !== outFeatures * inFeatures) throw new RangeError(`linear: weight is not [${outFeatures}, ${inFeatures}]`);
  const y = new Float32Array(rows * outFeatures);
  for (let n = 0; n < rows; n++) {
    for (let o = 0; o < outFeatures; o++) {
      let acc = bias ? bias[o]! : 0;
      for (let i = 0; i < inFeatures; i++) acc += x[n * inFeatures + i]! * weight[o * inFeatures + i]!;
      if (residual) acc += residual[n * outFeatures + o]!;
      y[n * outFeatures + o] = acc;
    }
  }
  return y;
}

/** Softmax over each row of x [rows, size] (max-subtracted), as a new array. */
export function softmaxRows(x: Float32Array, rows: number, size: number): Float32Array {
  const y = new Float32Array(rows * size);
  for (let n = 0; n < rows; n++) {
    let max = -Infinity;
    for (let i = 0; i < size; i++) max = Math.max(max, x[n * size + i]!);
    let sum = 0;
    for (let i = 0; i < size; i++) sum += Math.exp(x[n * size + i]! - max);
    for (let i = 0; i < size; i++) y[n * size + i] = Math.exp(x[n * size + i]! - max) / sum;
  }
  return y;
}

/**
 * erf to about 1e-14 (Math has none): the Maclaurin series below |x| = 3, the continued fraction
 * of erfc above. An oracle for the kernel's f32 approximation, not a fast path.
 */
export function erf(x: number): number {
  const a = Math.abs(x);
  let r: number;
  if (a < 3) {
    // erf(a) = 2/√π Σ (-1)^n a^(2n+1) / (n! (2n+1))
    let sum = 0;
    let power = a;
    for (let n = 0; n < 200; n++) {
      const term = power / (2 * n + 1);
      sum += term;
      if (Math.abs(term) < 1e-17) break;
      power *= (-a * a) / (n + 1);
    }
    r = (2 / Math.sqrt(Math.PI)) * sum;
  } else {
    // erfc(a) = exp(-a²)/√π · 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + ...))))
    let f = 0;
    for (let k = 60; k >= 1; k--) f = k / 2 / (a + f);
    r = 1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / (a + f);
  }
  return x < 0 ? -r : r;
}

/** The exact GELU, g/2 · (1 + erf(g/√2)). */
export function gelu(g: number): number {
  return 0.5 * g * (1 + erf(g * Math.SQRT1_2));
}

/** GEGLU: x [rows, 2·ff] → [rows, ff] = x[:, :ff] · gelu(x[:, ff:]). */
export function geglu(x: Float32Array, rows: number, ff: number): Float32Array {
  const y = new Float32Array(rows * ff);
  for (let n = 0; n < rows; n++) {
    for (let j = 0; j < ff; j++) y[n * ff + j] = x[n * 2 * ff + j]! * gelu(x[n * 2 * ff + ff + j]!);
  }
  return y;
}
