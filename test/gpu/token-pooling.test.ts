/**
 * kernels/first-token.wgsl and kernels/last-token.wgsl on a real WebGPU device (Dawn +
 * SwiftShader) against their CPU twins in src/reference/token-pooling.ts.
 */
import { describe, expect, it } from 'vitest';
import { beginEncoding, submit } from '../../src/gpu/encode.ts';
import { encodeFirstToken, encodeLastToken, type PoolArgs } from '../../src/gpu/pooling.ts';
import { readF32, storageF32, uploadF32 } from '../../src/gpu/transfer.ts';
import { firstTokenPool, lastTokenPool } from '../../src/reference/token-pooling.ts';
import { gpuDevice, maxAbsDiff, randomFloats } from './device.ts';

type Side = 'right' | 'left';

/** 0/1 mask with the given real lengths, padded on one side. */
function maskOf(lengths: number[], tokens: number, side: Side): Float32Array {
  const m = new Float32Array(lengths.length * tokens);
  lengths.forEach((len, b) => (side === 'right' ? m.fill(1, b * tokens, b * tokens + len) : m.fill(1, (b + 1) * tokens - len, (b + 1) * tokens)));
  return m;
}

const kernels = {
  first: { encode: encodeFirstToken, cpu: firstTokenPool },
  last: { encode: encodeLastToken, cpu: lastTokenPool },
} as const;
type Which = keyof typeof kernels;

async function runOnGpu(which: Which, hidden: Float32Array, mask: Float32Array, batch: number, tokens: number, size: number) {
  const device = await gpuDevice();
  const h = uploadF32(device, hidden);
  const w = uploadF32(device, mask);
  const out = storageF32(device, batch * size);
  // Garbage in the output must be overwritten, zero rows included.
  device.queue.writeBuffer(out, 0, new Float32Array(batch * size).fill(7));
  const enc = beginEncoding(device);
  const args: PoolArgs = { hidden: h, weights: w, pooled: out, batch, tokens, size };
  kernels[which].encode(enc, args);
  await submit(enc);
  const result = await readF32(device, out, batch * size);
  for (const b of [h, w, out]) b.destroy();
  return result;
}

async function expectMatch(which: Which, batch: number, tokens: number, size: number, mask: Float32Array, seed: number) {
  const hidden = randomFloats(batch * tokens * size, seed);
  const gpu = await runOnGpu(which, hidden, mask, batch, tokens, size);
  const cpu = kernels[which].cpu(hidden, mask, batch, tokens, size);
  // A copy, not arithmetic: the two must agree exactly.
  expect(maxAbsDiff(gpu, cpu)).toBe(0);
  return { gpu, cpu, hidden };
}

describe.each(['first', 'last'] as const)('%s-token pooling kernel vs the CPU reference', (which) => {
  it('matches on random shapes with left and right padding', async () => {
    for (let trial = 0; trial < 6; trial++) {
      const seed = 2000 + trial;
      const r = randomFloats(3, seed, 0, 1);
      const batch = 1 + Math.floor(r[0]! * 9);
      const tokens = 1 + Math.floor(r[1]! * 40);
      const size = 1 + Math.floor(r[2]! * 600);
      const lengths = Array.from(randomFloats(batch, seed + 7, 0, 1), (u) => 1 + Math.floor(u * tokens));
      for (const side of ['right', 'left'] as const) await expectMatch(which, batch, tokens, size, maskOf(lengths, tokens, side), seed);
    }
  });

  it('handles the edges: T = 1, one real token, all-padding rows but one, odd H, H past the workgroup, large B', async () => {
    for (const side of ['right', 'left'] as const) {
      await expectMatch(which, 3, 1, 33, maskOf([1, 1, 1], 1, side), 1);
      await expectMatch(which, 4, 17, 257, maskOf([1, 1, 1, 1], 17, side), 2);
      await expectMatch(which, 5, 6, 7, maskOf([0, 0, 4, 0, 0], 6, side), 3);
      await expectMatch(which, 300, 3, 12, maskOf(Array.from({ length: 300 }, (_, i) => i % 4), 3, side), 4);
      await expectMatch(which, 2, 300, 513, maskOf([300, 299], 300, side), 5);
    }
  });

  it('picks the right token under each padding side and gives zeros for a row with no real token', async () => {
    const batch = 3, tokens = 5, size = 9;
    const hidden = Float32Array.from({ length: batch * tokens * size }, (_, i) => Math.floor(i / size) + 1); // row value = 1 + b·T + t
    for (const side of ['right', 'left'] as const) {
      const mask = maskOf([2, 5, 0], tokens, side);
      const gpu = await runOnGpu(which, hidden, mask, batch, tokens, size);
      const expected = {
        first: { right: [0, 0], left: [3, 0] },
        last: { right: [1, 4], left: [4, 4] },
      }[which][side];
      expect(gpu[0]).toBe(1 + 0 * tokens + expected[0]!);
      expect(gpu[size]).toBe(1 + 1 * tokens + expected[1]!);
      expect(Array.from(gpu.subarray(2 * size))).toEqual(new Array(size).fill(0));
    }
  });

  it('never reads padded positions (NaN there does not leak)', async () => {
    const batch = 2, tokens = 6, size = 40;
    for (const side of ['right', 'left'] as const) {
      const mask = maskOf([3, 1], tokens, side);
      const { gpu, hidden } = await expectMatch(which, batch, tokens, size, mask, 6);
      const poisoned = hidden.slice();
      for (let i = 0; i < batch * tokens; i++) if (mask[i] === 0) poisoned.fill(NaN, i * size, (i + 1) * size);
      expect(maxAbsDiff(await runOnGpu(which, poisoned, mask, batch, tokens, size), gpu)).toBe(0);
    }
  });
});
