/**
 * The GPU head for a graph that pools by itself (pooling 'graph': EmbeddingGemma's
 * sentence_embedding) on a real WebGPU device (Dawn + SwiftShader): the head reads the graph's
 * [B, H] vectors straight from ORT's buffer (here a buffer larger than the tensor, as ORT's bucketed
 * ones are), pools nothing, and truncates + renormalizes on the GPU. Held to the first d values of
 * each row renormalized in float64 (written here, not taken from src/reference), f32 and f16 inputs.
 */
import { describe, expect, it } from 'vitest';
import { GpuHead } from '../../src/engine/gpu-head.ts';
import { fromHalfBits, toHalfBits } from '../fixtures/build/graph.ts';
import { gpuDevice, randomFloats } from './device.ts';

const usage = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/** A buffer holding `words` at its start and 4 KiB of garbage after it, as an ORT output buffer may. */
function ortLikeBuffer(device: GPUDevice, words: Uint32Array): GPUBuffer {
  const padded = new Uint32Array(words.length + 1024).fill(0x7fc00000); // NaN: read past the tensor, it would show
  padded.set(words);
  const buffer = device.createBuffer({ size: padded.byteLength, usage: usage() });
  device.queue.writeBuffer(buffer, 0, padded);
  return buffer;
}

/** The first d values of each row, divided by their L2 norm, in float64. */
function cutRows(x: ArrayLike<number>, batch: number, width: number, d: number, normalize: boolean): number[] {
  const out: number[] = [];
  for (let b = 0; b < batch; b++) {
    const row = Array.from({ length: d }, (_, i) => x[b * width + i]!);
    const n = normalize ? Math.hypot(...row) : 1;
    out.push(...row.map((v) => v / n));
  }
  return out;
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  return Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i]!)));
};

describe("GpuHead with pooling 'graph'", () => {
  it('truncates and renormalizes the graph vectors it is given (f32), at the full width and Matryoshka sizes', async () => {
    const device = await gpuDevice();
    const head = new GpuHead(device, 'graph');
    try {
      for (const [batch, width] of [[1, 768], [5, 768], [33, 97]] as const) {
        const x = randomFloats(batch * width, batch * 1000 + width, -2, 2);
        const buffer = ortLikeBuffer(device, new Uint32Array(x.buffer));
        for (const dims of [width, 512, 256, 128, 1].filter((d) => d <= width)) {
          const got = await head.run({ hidden: buffer, hiddenType: 'float32', batch, tokens: 1, size: width, weights: new Float32Array(0), dims, normalize: true });
          expect(maxDiff(got, cutRows(x, batch, width, dims, true)), `B ${batch}, width ${width}, d ${dims}`).toBeLessThanOrEqual(1e-6);
          // only [B, d] comes back
          expect(head.lastReadbackBytes).toBe(batch * dims * 4);
        }
        // a model that does not normalize: its vectors cut, as they are
        const raw = await head.run({ hidden: buffer, hiddenType: 'float32', batch, tokens: 1, size: width, weights: new Float32Array(0), dims: 7, normalize: false });
        expect(maxDiff(raw, cutRows(x, batch, width, 7, false))).toBe(0);
        buffer.destroy();
      }
    } finally {
      head.destroy();
    }
  });

  it('takes float16 graph outputs (converted on the GPU) the same way', async () => {
    const device = await gpuDevice();
    const head = new GpuHead(device, 'graph');
    try {
      const batch = 3;
      const width = 768;
      const halves = Uint16Array.from(randomFloats(batch * width, 77, -4, 4), toHalfBits);
      const words = new Uint32Array(halves.length / 2);
      new Uint16Array(words.buffer).set(halves);
      const buffer = ortLikeBuffer(device, words);
      const got = await head.run({ hidden: buffer, hiddenType: 'float16', batch, tokens: 1, size: width, weights: new Float32Array(0), dims: 256, normalize: true });
      expect(maxDiff(got, cutRows(Array.from(halves, fromHalfBits), batch, width, 256, true))).toBeLessThanOrEqual(1e-6);
      buffer.destroy();
    } finally {
      head.destroy();
    }
    expect(head.liveBuffers).toBe(0);
  });
});
