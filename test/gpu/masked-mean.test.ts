/**
 * kernels/masked-mean.wgsl on a real WebGPU device (Dawn + SwiftShader) against its CPU twin
 * src/reference/masked-mean.ts, on random shapes and the edges.
 */
import { describe, expect, it } from 'vitest';
import { beginEncoding, submit } from '../../src/gpu/encode.ts';
import { encodeMaskedMean } from '../../src/gpu/pooling.ts';
import { readF32, storageF32, uploadF32 } from '../../src/gpu/transfer.ts';
import { maskedMeanPool } from '../../src/reference/masked-mean.ts';
import { gpuDevice, maxAbsDiff, randomFloats } from './device.ts';

/** Right-padded 0/1 mask with the given real lengths. */
function maskOf(lengths: number[], tokens: number): Float32Array {
  const m = new Float32Array(lengths.length * tokens);
  lengths.forEach((len, b) => m.fill(1, b * tokens, b * tokens + len));
  return m;
}

async function runOnGpu(hidden: Float32Array, weights: Float32Array, batch: number, tokens: number, size: number) {
  const device = await gpuDevice();
  const h = uploadF32(device, hidden);
  const w = uploadF32(device, weights);
  const out = storageF32(device, batch * size);
  const enc = beginEncoding(device);
  encodeMaskedMean(enc, { hidden: h, weights: w, pooled: out, batch, tokens, size });
  await submit(enc);
  const result = await readF32(device, out, batch * size);
  for (const b of [h, w, out]) b.destroy();
  return result;
}

async function expectMatch(batch: number, tokens: number, size: number, weights: Float32Array, seed: number) {
  const hidden = randomFloats(batch * tokens * size, seed);
  const gpu = await runOnGpu(hidden, weights, batch, tokens, size);
  const cpu = maskedMeanPool(hidden, weights, batch, tokens, size);
  expect(maxAbsDiff(gpu, cpu)).toBeLessThanOrEqual(1e-5);
  return { gpu, cpu, hidden };
}

describe('masked mean pooling kernel on WebGPU (SwiftShader) vs the CPU reference', () => {
  it('matches on random shapes and random masks', async () => {
    for (let trial = 0; trial < 6; trial++) {
      const seed = 1000 + trial;
      const r = randomFloats(3, seed, 0, 1);
      const batch = 1 + Math.floor(r[0]! * 9);
      const tokens = 1 + Math.floor(r[1]! * 40);
      const size = 1 + Math.floor(r[2]! * 150);
      const lengths = Array.from(randomFloats(batch, seed + 7, 0, 1), (u) => 1 + Math.floor(u * tokens));
      await expectMatch(batch, tokens, size, maskOf(lengths, tokens), seed);
    }
  });

  it('handles the edges: T = 1, one real token per row, odd H not a multiple of the workgroup, large B', async () => {
    await expectMatch(3, 1, 33, maskOf([1, 1, 1], 1), 1);
    await expectMatch(4, 17, 65, maskOf([1, 1, 1, 1], 17), 2);
    await expectMatch(2, 5, 7, maskOf([5, 2], 5), 3);
    await expectMatch(300, 3, 12, maskOf(Array.from({ length: 300 }, (_, i) => 1 + (i % 3)), 3), 4);
  });

  it('gives zeros for a row with no weight and ignores padded positions entirely', async () => {
    const batch = 3, tokens = 4, size = 70;
    const weights = maskOf([0, 4, 2], tokens);
    const { gpu, hidden } = await expectMatch(batch, tokens, size, weights, 5);
    expect(Array.from(gpu.subarray(0, size)).every((v) => v === 0)).toBe(true);
    // Garbage (even NaN) in padded slots must not leak into the mean.
    const poisoned = hidden.slice();
    for (let t = 2; t < tokens; t++) poisoned.fill(NaN, (2 * tokens + t) * size, (2 * tokens + t + 1) * size);
    const again = await runOnGpu(poisoned, weights, batch, tokens, size);
    expect(maxAbsDiff(again.subarray(2 * size), gpu.subarray(2 * size))).toBe(0);
  });

  it('uses non-binary pooling weights as a weighted mean', async () => {
    const batch = 2, tokens = 6, size = 40;
    const weights = randomFloats(batch * tokens, 9, 0, 2);
    await expectMatch(batch, tokens, size, weights, 6);
  });
});
