/**
 * NV-Embed's latent-attention head composed on the GPU (src/gpu/latent-attention.ts) against the
 * plain CPU twin (src/reference/latent-attention.ts), end to end: hidden states and a pooling
 * mask in, normalized [B, d] out.
 */
import { describe, expect, it } from 'vitest';
import { ModelLoadError } from '../../src/errors.ts';
import { beginEncoding, submit } from '../../src/gpu/encode.ts';
import { createLatentAttention, type LatentAttentionOptions } from '../../src/gpu/latent-attention.ts';
import { readF32, storageF32, uploadF32 } from '../../src/gpu/transfer.ts';
import {
  latentAttentionParams,
  latentAttentionPool,
  type LatentAttentionConfig,
} from '../../src/reference/latent-attention.ts';
import { latentAttentionWeights, NV_LATENT_CONFIG } from '../fixtures/build/tiny-nv-embed.ts';
import { gpuDevice, maxAbsDiff, randomFloats } from './device.ts';

const P = 'latent_attention_model.cross_attend_blocks';

/** Random head weights under the checkpoint's names, scaled like trained ones. */
function randomHead(config: LatentAttentionConfig, ff: number, seed: number): Map<string, Float32Array> {
  const d = config.latent_dim, r = config.num_latents_value, inner = config.num_cross_heads * config.cross_dim_head;
  let s = seed;
  const mat = (out: number, inF: number) => randomFloats(out * inF, s++, -Math.sqrt(3 / inF), Math.sqrt(3 / inF));
  const vec = (n: number, lo: number, hi: number) => randomFloats(n, s++, lo, hi);
  return new Map([
    ['latent_attention_model.latents', vec(r * d, -2, 2)],
    [`${P}.0.norm.weight`, vec(d, 0.8, 1.2)],
    [`${P}.0.norm.bias`, vec(d, -0.1, 0.1)],
    [`${P}.0.norm_context.weight`, vec(d, 0.8, 1.2)],
    [`${P}.0.norm_context.bias`, vec(d, -0.1, 0.1)],
    [`${P}.0.fn.to_q.weight`, mat(inner, d)],
    [`${P}.0.fn.to_kv.weight`, mat(2 * inner, d)],
    [`${P}.0.fn.to_out.weight`, mat(d, inner)],
    [`${P}.1.norm.weight`, vec(d, 0.8, 1.2)],
    [`${P}.1.norm.bias`, vec(d, -0.1, 0.1)],
    [`${P}.1.fn.net.0.weight`, mat(2 * ff, d)],
    [`${P}.1.fn.net.0.bias`, vec(2 * ff, -0.1, 0.1)],
    [`${P}.1.fn.net.2.weight`, mat(d, ff)],
    [`${P}.1.fn.net.2.bias`, vec(d, -0.1, 0.1)],
  ]);
}

/** Pooling weights: right-padded lengths with the first `instruction` tokens of each row zeroed. */
function poolMask(lengths: number[], instruction: number[], tokens: number): Float32Array {
  const m = new Float32Array(lengths.length * tokens);
  lengths.forEach((len, b) => m.fill(1, b * tokens + Math.min(instruction[b] ?? 0, len), b * tokens + len));
  return m;
}

async function runOnGpu(
  config: LatentAttentionConfig,
  weights: Map<string, Float32Array> | Record<string, Float32Array>,
  hidden: Float32Array,
  mask: Float32Array,
  batch: number,
  tokens: number,
  options?: LatentAttentionOptions,
) {
  const device = await gpuDevice();
  const head = await createLatentAttention(device, config, weights, options);
  const h = uploadF32(device, hidden), w = uploadF32(device, mask), pooled = storageF32(device, batch * head.params.d);
  const enc = beginEncoding(device);
  head.encode(enc, { hidden: h, weights: w, pooled, batch, tokens });
  await submit(enc);
  const result = await readF32(device, pooled, batch * head.params.d);
  for (const b of [h, w, pooled]) b.destroy();
  head.destroy();
  return result;
}

const SMALL: LatentAttentionConfig = {
  num_latents_value: 16,
  num_cross_heads: 4,
  cross_dim_head: 8,
  latent_dim: 32,
  hidden_dim: 32,
  output_normalize: true,
};

async function expectMatch(
  config: LatentAttentionConfig,
  weights: Map<string, Float32Array> | Record<string, Float32Array>,
  batch: number,
  tokens: number,
  mask: Float32Array,
  seed: number,
  options?: LatentAttentionOptions,
) {
  const d = config.latent_dim;
  const hidden = randomFloats(batch * tokens * d, seed, -3, 3);
  const gpu = await runOnGpu(config, weights, hidden, mask, batch, tokens, options);
  const cpu = latentAttentionPool(hidden, mask, batch, tokens, latentAttentionParams(config, weights));
  const diff = maxAbsDiff(gpu, cpu);
  expect(diff).toBeLessThanOrEqual(1e-5);
  return { gpu, cpu, hidden, diff };
}

describe('latent-attention pooling on the GPU vs the CPU reference', () => {
  it('matches at d 32, r 16, 4 heads × 8, ff 4d, with instruction tokens and padding masked out', async () => {
    const weights = randomHead(SMALL, 4 * 32, 100);
    const tokens = 9;
    const mask = poolMask([9, 5, 1, 7], [3, 2, 0, 7], tokens); // the last row: all instruction → zeros
    const { gpu } = await expectMatch(SMALL, weights, 4, tokens, mask, 101);
    for (let b = 0; b < 3; b++) {
      const row = gpu.subarray(b * 32, (b + 1) * 32);
      expect(Math.abs(Math.hypot(...row) - 1)).toBeLessThan(1e-5);
    }
    expect(Array.from(gpu.subarray(3 * 32))).toEqual(new Array(32).fill(0));
  });

  it('matches with inner ≠ d: the tiny-nv-embed fixture head (8 heads × 12 = 96 over d 32), T = 1 and large B', async () => {
    const weights = Object.fromEntries(Object.entries(latentAttentionWeights()).map(([k, t]) => [k, t.data]));
    await expectMatch(NV_LATENT_CONFIG, weights, 3, 1, poolMask([1, 1, 1], [0, 0, 0], 1), 102);
    await expectMatch(NV_LATENT_CONFIG, weights, 2, 11, poolMask([11, 4], [6, 0], 11), 103);
    const batch = 300;
    await expectMatch(NV_LATENT_CONFIG, weights, batch, 2, poolMask(Array.from({ length: batch }, (_, i) => 1 + (i % 2)), [], 2), 104);
  });

  it('gives the same answer when run in token chunks with weights tiled into small bindings', async () => {
    const config = { ...SMALL, num_cross_heads: 3, cross_dim_head: 12 }; // inner 36
    const weights = randomHead(config, 80, 200);
    const tokens = 13, mask = poolMask([13, 6, 10], [4, 0, 2], tokens);
    const whole = await expectMatch(config, weights, 3, tokens, mask, 201);
    // 4 KiB bindings: every weight (4.5 to 20 KiB) splits into tiles; 5 tokens per pass over 39
    const chunked = await expectMatch(config, weights, 3, tokens, mask, 201, { maxBindingBytes: 4096, maxChunkTokens: 5 });
    expect(maxAbsDiff(chunked.gpu, whole.gpu)).toBeLessThanOrEqual(1e-6);
  });

  it('leaves the mean unnormalized when output_normalize is false', async () => {
    const config = { ...SMALL, output_normalize: false };
    const weights = randomHead(config, 128, 300);
    const { gpu } = await expectMatch(config, weights, 2, 4, poolMask([4, 2], [1, 0], 4), 301);
    expect(Math.abs(Math.hypot(...gpu.subarray(0, 32)) - 1)).toBeGreaterThan(1e-3);
  });

  it('depends on the pooling weights: an instruction token moves the result, padding garbage does not', async () => {
    const weights = randomHead(SMALL, 128, 400);
    const tokens = 6;
    const hidden = randomFloats(tokens * 32, 401, -3, 3);
    const withInstruction = await runOnGpu(SMALL, weights, hidden, poolMask([6], [0], tokens), 1, tokens);
    const masked = await runOnGpu(SMALL, weights, hidden, poolMask([6], [2], tokens), 1, tokens);
    expect(maxAbsDiff(withInstruction, masked)).toBeGreaterThan(1e-3);
    const poisoned = hidden.slice();
    poisoned.fill(1e30, 4 * 32); // padded positions 4, 5
    const padded = await runOnGpu(SMALL, weights, poisoned, poolMask([4], [2], tokens), 1, tokens);
    const clean = await runOnGpu(SMALL, weights, hidden, poolMask([4], [2], tokens), 1, tokens);
    expect(maxAbsDiff(padded, clean)).toBe(0);
  });

  it('destroy() destroys every buffer the head made, and the head refuses work afterwards', async () => {
    const device = await gpuDevice();
    const made: GPUBuffer[] = [];
    const destroyed = new Set<GPUBuffer>();
    const createBuffer = device.createBuffer;
    device.createBuffer = function (descriptor: GPUBufferDescriptor) {
      const buffer = createBuffer.call(device, descriptor);
      const destroy = buffer.destroy;
      buffer.destroy = () => {
        destroyed.add(buffer);
        destroy.call(buffer);
      };
      made.push(buffer);
      return buffer;
    };
    let head;
    try {
      head = await createLatentAttention(device, SMALL, randomHead(SMALL, 128, 500), { maxBindingBytes: 2048 });
    } finally {
      device.createBuffer = createBuffer;
    }
    const alive = made.filter((b) => !destroyed.has(b));
    expect(alive.length).toBeGreaterThan(10); // weights in tiles, norms, biases, keys, values
    head.destroy();
    expect(made.filter((b) => !destroyed.has(b))).toEqual([]);
    const b = storageF32(device, 32);
    expect(() => head.encode(beginEncoding(device), { hidden: b, weights: b, pooled: b, batch: 1, tokens: 1 })).toThrow(/destroy/);
    b.destroy();
  });

  it('names a missing or misshapen weight in a ModelLoadError', async () => {
    const weights = randomHead(SMALL, 128, 600);
    weights.delete(`${P}.0.fn.to_q.weight`);
    expect(() => latentAttentionParams(SMALL, weights)).toThrow(ModelLoadError);
    expect(() => latentAttentionParams(SMALL, weights)).toThrow(/to_q/);
    const bad = randomHead(SMALL, 128, 601);
    bad.set(`${P}.0.norm.bias`, new Float32Array(31));
    expect(() => latentAttentionParams(SMALL, bad)).toThrow(/norm\.bias has 31 values/);
    await expect(createLatentAttention(await gpuDevice(), { ...SMALL, hidden_dim: 64 }, bad)).rejects.toThrow(ModelLoadError);
  });
});
