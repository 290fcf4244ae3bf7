/**
 * kernels/layer-norm.wgsl, softmax.wgsl and geglu.wgsl on a real WebGPU device (Dawn +
 * SwiftShader) against their CPU twins in src/reference/layers.ts.
 */
import { describe, expect, it } from 'vitest';
import { beginEncoding, submit, type Encoding } from '../../src/gpu/encode.ts';
import { encodeGeglu, encodeLayerNorm, encodeSoftmax } from '../../src/gpu/layers.ts';
import { readF32, storageF32, uploadF32 } from '../../src/gpu/transfer.ts';
import { erf, geglu, gelu, layerNorm, softmaxRows } from '../../src/reference/layers.ts';
import { gpuDevice, maxAbsDiff, randomFloats } from './device.ts';

/** Uploads the inputs, runs `encode` with an output buffer of `outFloats`, reads it back. */
async function run(inputs: Float32Array[], outFloats: number, encode: (enc: Encoding, ins: GPUBuffer[], out: GPUBuffer) => void) {
  const device = await gpuDevice();
  const ins = inputs.map((a) => uploadF32(device, a));
  const out = storageF32(device, outFloats);
  const enc = beginEncoding(device);
  encode(enc, ins, out);
  await submit(enc);
  const result = await readF32(device, out, outFloats);
  for (const b of [...ins, out]) b.destroy();
  return result;
}

async function layerNormOnGpu(x: Float32Array, w: Float32Array, b: Float32Array, rows: number, size: number) {
  return run([x, w, b], rows * size, (enc, [xb, wb, bb], y) =>
    encodeLayerNorm(enc, { x: xb!, weight: wb!, bias: bb!, y, rows, size }),
  );
}

async function softmaxOnGpu(x: Float32Array, rows: number, size: number) {
  const device = await gpuDevice();
  const buf = uploadF32(device, x);
  const enc = beginEncoding(device);
  encodeSoftmax(enc, { x: buf, rows, size });
  await submit(enc);
  const result = await readF32(device, buf, rows * size);
  buf.destroy();
  return result;
}

const gegluOnGpu = (x: Float32Array, rows: number, ff: number) =>
  run([x], rows * ff, (enc, [xb], y) => encodeGeglu(enc, { x: xb!, y, rows, ff }));

describe('layer norm kernel vs the CPU reference', () => {
  it('matches on random shapes: odd sizes, sizes past the workgroup, one row, many rows', async () => {
    const shapes: [number, number][] = [[1, 1], [3, 7], [5, 32], [2, 257], [4, 1000], [300, 12], [1, 4096]];
    for (const [i, [rows, size]] of shapes.entries()) {
      const x = randomFloats(rows * size, 4000 + i, -4, 6); // an offset mean, as real activations have
      const w = randomFloats(size, 4100 + i, 0.5, 1.5);
      const b = randomFloats(size, 4200 + i, -0.5, 0.5);
      const gpu = await layerNormOnGpu(x, w, b, rows, size);
      expect(maxAbsDiff(gpu, layerNorm(x, w, b, rows, size))).toBeLessThanOrEqual(1e-5);
    }
  });

  it('stays accurate for a large mean over a small spread (two-pass variance) and a constant row', async () => {
    const rows = 2, size = 300;
    const x = randomFloats(rows * size, 17, -0.01, 0.01).map((v, i) => (i < size ? 1000 + v : 5));
    const w = new Float32Array(size).fill(1), b = new Float32Array(size).fill(0.25);
    const gpu = await layerNormOnGpu(x, w, b, rows, size);
    // A mean rounded to one f32 near 1000 (±3e-5) or E[x²] - mean² would miss by far more than
    // 1e-5 here; the constant row is exactly the bias.
    expect(maxAbsDiff(gpu.subarray(0, size), layerNorm(x, w, b, rows, size).subarray(0, size))).toBeLessThanOrEqual(1e-5);
    expect(Array.from(gpu.subarray(size))).toEqual(new Array(size).fill(0.25));
  });
});

describe('softmax kernel vs the CPU reference', () => {
  it('matches on random shapes (r = 1, 16, odd, past the workgroup, 512) and rows sum to 1', async () => {
    const shapes: [number, number][] = [[4, 1], [64, 16], [7, 33], [3, 300], [40, 512]];
    for (const [i, [rows, size]] of shapes.entries()) {
      const x = randomFloats(rows * size, 5000 + i, -8, 8);
      const gpu = await softmaxOnGpu(x, rows, size);
      expect(maxAbsDiff(gpu, softmaxRows(x, rows, size))).toBeLessThanOrEqual(1e-5);
      for (let n = 0; n < rows; n++) expect(Math.abs(gpu.subarray(n * size, (n + 1) * size).reduce((a, v) => a + v, 0) - 1)).toBeLessThan(1e-5);
    }
  });

  it('is stable for large logits (subtracts the row max)', async () => {
    const x = Float32Array.of(1000, 999, 998, -1000, 88.8, 88.7, 3e38, 0);
    const gpu = await softmaxOnGpu(x, 2, 4);
    expect(gpu.every(Number.isFinite)).toBe(true);
    expect(maxAbsDiff(gpu, softmaxRows(x, 2, 4))).toBeLessThanOrEqual(1e-6);
  });
});

describe('GEGLU kernel vs the CPU reference', () => {
  it('matches on random shapes', async () => {
    const shapes: [number, number][] = [[1, 1], [3, 128], [5, 77], [130, 300]];
    for (const [i, [rows, ff]] of shapes.entries()) {
      const x = randomFloats(rows * 2 * ff, 6000 + i, -4, 4);
      expect(maxAbsDiff(await gegluOnGpu(x, rows, ff), geglu(x, rows, ff))).toBeLessThanOrEqual(1e-5);
    }
  });

  it('computes the exact (erf) GELU, not the tanh form, to 1.5e-7 · max(1, |g|) over [-12, 12]', async () => {
    const n = 24001;
    const x = new Float32Array(2 * n);
    x.fill(1, 0, n); // the value half is 1, so the output is gelu(gate)
    for (let i = 0; i < n; i++) x[n + i] = -12 + i * 0.001;
    const gpu = await gegluOnGpu(x, 1, n);
    // error relative to max(1, |g|): the f32 output itself carries half an ulp of |g|
    let worst = 0;
    for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(gpu[i]! - gelu(x[n + i]!)) / Math.max(1, Math.abs(x[n + i]!)));
    expect(worst).toBeLessThanOrEqual(1.5e-7);
    // the tanh approximation, which a kernel might be tempted by, misses by ~2e-4 at g = 3
    const g = 3, tanhForm = 0.5 * g * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (g + 0.044715 * g ** 3)));
    expect(Math.abs(tanhForm - gelu(g))).toBeGreaterThan(1e-4);
  });

  it('has a double-precision erf oracle (known values)', () => {
    expect(erf(0)).toBe(0);
    expect(erf(0.5)).toBeCloseTo(0.5204998778130465, 14);
    expect(erf(1)).toBeCloseTo(0.8427007929497149, 14);
    expect(erf(-2)).toBeCloseTo(-0.9953222650189527, 14);
    expect(erf(3.5)).toBeCloseTo(0.9999992569016276, 14);
  });
});
