/**
 * CPU twin of kernels/matryoshka.wgsl: truncate each row to `dims`, L2-normalize (torch
 * F.normalize, eps 1e-12: a zero row stays zero), and optionally quantize. The packed outputs are
 * bit-identical to the kernel's (see the .wgsl header for the layouts).
 */
export interface MatryoshkaResult {
  /** [batch, dims] unit vectors */
  embeddings: Float32Array;
  /**
   * int8, symmetric per vector: codes [batch, ceil(dims / 4)] u32, byte k (little-endian) of word
   * j = dimension 4j + k as two's complement in [-127, 127]; scales [batch] = max |embedding|;
   * embedding ≈ q / 127 · scale.
   */
  int8?: { codes: Uint32Array; scales: Float32Array };
  /** [batch, ceil(dims / 32)] u32: bit i of word j = (dimension 32j + i > 0) */
  binary?: Uint32Array;
}

/**
 * @example
 * const { embeddings, binary } = matryoshka(pooled, 2, 1024, 256, { binary: true });
 */
export function matryoshka(
  x: Float32Array,
  batch: number,
  hidden: number,
  dims: number,
  options: { int8?: boolean; binary?: boolean } = {},
): MatryoshkaResult {
  if (x.length !== batch * hidden) throw new RangeError(`matryoshka: ${x.length} values, expected ${batch}×${hidden}`);
  if (!Number.isInteger(dims) || dims < 1 || dims > hidden) {
    throw new RangeError(`matryoshka dims must be an integer in [1, ${hidden}], got ${dims}`);
  }
  const embeddings = new Float32Array(batch * dims);
  const int8Words = Math.ceil(dims / 4);
  const bitWords = Math.ceil(dims / 32);
  const codes = new Uint32Array(batch * int8Words);
  const bytes = new Int8Array(codes.buffer); // little-endian, as every WebGPU host
  const scales = new Float32Array(batch);
  const binary = new Uint32Array(batch * bitWords);
  for (let b = 0; b < batch; b++) {
    const row = x.subarray(b * hidden, b * hidden + dims);
    let sumsq = 0;
    let max = 0;
    for (const v of row) {
      sumsq += v * v;
      max = Math.max(max, Math.abs(v));
    }
    const denom = Math.max(Math.sqrt(sumsq), 1e-12);
    for (let i = 0; i < dims; i++) {
      const v = row[i]!;
      embeddings[b * dims + i] = v / denom;
      // round(127 · v / scale) with scale = max / denom is round(127 · v / max): computed from
      // the raw values so no normalization rounding enters; ties away from zero. In doubles the
      // quotient of two f32s is never misrounded across a half (see the kernel's exact integer form).
      if (max > 0) {
        const q = Math.min(127, Math.round((127 * Math.abs(v)) / max));
        bytes[b * int8Words * 4 + i] = v < 0 ? -q : q;
      }
      if (v > 0) binary[b * bitWords + (i >> 5)]! |= 1 << (i & 31);
    }
    scales[b] = max / denom;
  }
  const result: MatryoshkaResult = { embeddings };
  if (options.int8) result.int8 = { codes, scales };
  if (options.binary) result.binary = binary;
  return result;
}
