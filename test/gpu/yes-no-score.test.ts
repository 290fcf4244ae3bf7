/**
 * kernels/yes-no-score.wgsl on a real WebGPU device (Dawn + SwiftShader) against its CPU twin in
 * src/reference/yes-no-score.ts: the last real position's two logits (or one) → one score per row.
 */
import { describe, expect, it } from 'vitest';
import { beginEncoding, submit } from '../../src/gpu/encode.ts';
import { readF32, storageF32, uploadF32 } from '../../src/gpu/transfer.ts';
import { encodeYesNoScore } from '../../src/gpu/yes-no-score.ts';
import { yesNoScores, type ScoreShape } from '../../src/reference/yes-no-score.ts';
import { fromHalfBits, toHalfBits } from '../fixtures/build/graph.ts';
import { gpuDevice, maxAbsDiff, randomFloats } from './device.ts';

type Side = 'right' | 'left';

function maskOf(lengths: number[], tokens: number, side: Side): Float32Array {
  const m = new Float32Array(lengths.length * tokens);
  lengths.forEach((len, b) => (side === 'right' ? m.fill(1, b * tokens, b * tokens + len) : m.fill(1, (b + 1) * tokens - len, (b + 1) * tokens)));
  return m;
}

async function onGpu(logits: Float32Array, mask: Float32Array, s: ScoreShape, half = false): Promise<Float32Array> {
  const device = await gpuDevice();
  let l: GPUBuffer;
  if (half) {
    const words = new Uint32Array(Math.ceil(logits.length / 2));
    new Uint16Array(words.buffer).set(Uint16Array.from(logits, toHalfBits));
    l = device.createBuffer({ size: Math.max(4, words.byteLength), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(l, 0, words);
  } else {
    l = uploadF32(device, logits);
  }
  const m = uploadF32(device, mask);
  const out = storageF32(device, s.batch);
  device.queue.writeBuffer(out, 0, new Float32Array(s.batch).fill(7)); // garbage must be overwritten
  const enc = beginEncoding(device);
  encodeYesNoScore(enc, { logits: l, logitsType: half ? 'float16' : 'float32', mask: m, scores: out, ...s });
  await submit(enc);
  const r = await readF32(device, out, s.batch);
  for (const b of [l, m, out]) b.destroy();
  return r;
}

async function expectMatch(s: ScoreShape, mask: Float32Array, seed: number, scale = 4, half = false) {
  let logits = randomFloats(s.batch * s.tokens * s.vocab, seed, -scale, scale);
  if (half) logits = Float32Array.from(logits, (x) => fromHalfBits(toHalfBits(x))); // what the half buffer holds
  const gpu = await onGpu(logits, mask, s, half);
  const cpu = yesNoScores(logits, mask, s);
  expect(maxAbsDiff(gpu, cpu)).toBeLessThanOrEqual(1e-6);
  for (const v of gpu) expect(v >= 0 && v <= 1).toBe(true);
  return { gpu, cpu, logits };
}

describe('yes/no score kernel vs the CPU reference', () => {
  it('matches on random shapes, left and right padding, two classes and one', async () => {
    for (let trial = 0; trial < 6; trial++) {
      const seed = 300 + trial;
      const r = randomFloats(4, seed, 0, 1);
      const batch = 1 + Math.floor(r[0]! * 9);
      const tokens = 1 + Math.floor(r[1]! * 40);
      const vocab = 2 + Math.floor(r[2]! * 700);
      const yes = Math.floor(r[3]! * vocab);
      const no = (yes + 1 + trial) % vocab;
      const lengths = Array.from(randomFloats(batch, seed + 7, 0, 1), (u) => 1 + Math.floor(u * tokens));
      for (const side of ['right', 'left'] as const) {
        await expectMatch({ batch, tokens, vocab, yes, no }, maskOf(lengths, tokens, side), seed);
        await expectMatch({ batch, tokens, vocab, yes }, maskOf(lengths, tokens, side), seed + 1);
      }
    }
  });

  it("reads Qwen3's full vocabulary at T-1 (yes 9693, no 2152), the pruned [B, 1, 2], and a cross-encoder's [B, 1]", async () => {
    await expectMatch({ batch: 3, tokens: 5, vocab: 151669, yes: 9693, no: 2152 }, maskOf([5, 2, 3], 5, 'left'), 1);
    await expectMatch({ batch: 33, tokens: 1, vocab: 2, yes: 0, no: 1 }, new Float32Array(33).fill(1), 2);
    await expectMatch({ batch: 9, tokens: 1, vocab: 1, yes: 0 }, new Float32Array(9).fill(1), 3);
  });

  it('reads float16 logits (packed two per word, odd counts too)', async () => {
    await expectMatch({ batch: 3, tokens: 3, vocab: 7, yes: 6, no: 1 }, maskOf([3, 1, 2], 3, 'left'), 4, 4, true);
    await expectMatch({ batch: 5, tokens: 1, vocab: 1, yes: 0 }, new Float32Array(5).fill(1), 5, 4, true);
  });

  it('handles the edges: saturated logits (no NaN), a row with no real token (0), large B', async () => {
    const { gpu } = await expectMatch({ batch: 4, tokens: 2, vocab: 2, yes: 0, no: 1 }, maskOf([2, 2, 2, 2], 2, 'left'), 6, 200);
    expect(gpu.every(Number.isFinite)).toBe(true);
    const none = await onGpu(randomFloats(3 * 4 * 3, 7), maskOf([2, 0, 4], 4, 'right'), { batch: 3, tokens: 4, vocab: 3, yes: 1, no: 2 });
    expect(none[1]).toBe(0);
    await expectMatch({ batch: 300, tokens: 3, vocab: 5, yes: 4, no: 0 }, maskOf(Array.from({ length: 300 }, (_, i) => 1 + (i % 3)), 3, 'left'), 8);
  });

  it('picks the last real position and the right classes; never reads padded positions', async () => {
    // logits chosen so each (position, class) gives a distinct score
    const s = { batch: 2, tokens: 4, vocab: 3, yes: 2, no: 0 };
    const logits = Float32Array.from({ length: 2 * 4 * 3 }, (_, i) => (i % 3 === 2 ? i / 10 : i % 3 === 0 ? -i / 20 : 99));
    for (const side of ['left', 'right'] as const) {
      const mask = maskOf([2, 3], 4, side);
      const gpu = await onGpu(logits, mask, s);
      const t1 = side === 'left' ? [3, 3] : [1, 2];
      t1.forEach((t, b) => {
        const row = (b * 4 + t) * 3;
        expect(gpu[b]).toBeCloseTo(1 / (1 + Math.exp(logits[row]! - logits[row + 2]!)), 6);
      });
      const poisoned = logits.slice();
      for (let i = 0; i < 8; i++) if (mask[i] === 0) poisoned.fill(NaN, i * 3, (i + 1) * 3);
      expect(maxAbsDiff(await onGpu(poisoned, mask, s), gpu)).toBe(0);
    }
  });

  it('refuses classes past the vocabulary and buffers too small for the shape', async () => {
    const device = await gpuDevice();
    const small = storageF32(device, 4);
    const enc = beginEncoding(device);
    expect(() => encodeYesNoScore(enc, { logits: small, logitsType: 'float32', mask: small, scores: small, batch: 1, tokens: 1, vocab: 2, yes: 2, no: 0 })).toThrow(RangeError);
    expect(() => encodeYesNoScore(enc, { logits: small, logitsType: 'float32', mask: small, scores: small, batch: 3, tokens: 1, vocab: 2, yes: 1, no: 0 })).toThrow(/logits buffer/);
    small.destroy();
  });
});
