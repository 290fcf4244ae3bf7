/**
 * kernels/linear.wgsl on a real WebGPU device (Dawn + SwiftShader) against its CPU twin
 * (src/reference/layers.ts linear): plain, with bias and residual, tiled over output rows (the
 * way a weight past the binding-size limit runs), and grouped per head.
 */
import { describe, expect, it } from 'vitest';
import { beginEncoding, submit } from '../../src/gpu/encode.ts';
import {
  destroyLinearWeight,
  encodeHeadwiseLinear,
  encodeLinear,
  tileLinearWeight,
  uploadLinearWeight,
  type LinearWeight,
} from '../../src/gpu/linear.ts';
import { readF32, storageF32, uploadF32 } from '../../src/gpu/transfer.ts';
import { linear } from '../../src/reference/layers.ts';
import { gpuDevice, maxAbsDiff, randomFloats } from './device.ts';

interface Case {
  rows: number;
  inF: number;
  outF: number;
  bias?: boolean;
  residual?: boolean;
  /** tile the weight into bindings of at most this many bytes */
  maxBindingBytes?: number;
  /** describe one big buffer (at this byte offset) instead of uploading tiles */
  shared?: { offset: number };
}

async function runCase(c: Case, seed: number) {
  const device = await gpuDevice();
  const x = randomFloats(c.rows * c.inF, seed);
  const w = randomFloats(c.outF * c.inF, seed + 1, -1 / Math.sqrt(c.inF), 1 / Math.sqrt(c.inF));
  const bias = c.bias ? randomFloats(c.outF, seed + 2) : undefined;
  const residual = c.residual ? randomFloats(c.rows * c.outF, seed + 3) : undefined;
  const tiling = c.maxBindingBytes ? { maxBindingBytes: c.maxBindingBytes } : {};
  let weight: LinearWeight;
  let big: GPUBuffer | undefined;
  if (c.shared) {
    const padded = new Float32Array(c.shared.offset / 4 + w.length);
    padded.set(w, c.shared.offset / 4);
    big = uploadF32(device, padded);
    weight = tileLinearWeight(device, big, c.outF, c.inF, { ...tiling, offset: c.shared.offset });
  } else {
    weight = uploadLinearWeight(device, w, c.outF, c.inF, tiling);
  }
  const xb = uploadF32(device, x);
  const bb = bias && uploadF32(device, bias);
  const rb = residual && uploadF32(device, residual);
  const y = storageF32(device, c.rows * c.outF);
  const enc = beginEncoding(device);
  encodeLinear(enc, { x: xb, weight, y, rows: c.rows, ...(bb ? { bias: bb } : {}), ...(rb ? { residual: rb } : {}) });
  await submit(enc);
  const gpu = await readF32(device, y, c.rows * c.outF);
  for (const b of [xb, bb, rb, y, big]) b?.destroy();
  if (!c.shared) destroyLinearWeight(weight);
  return { gpu, cpu: linear(x, w, c.rows, c.inF, c.outF, bias, residual), tiles: weight.tiles };
}

describe('linear kernel vs the CPU reference', () => {
  it('matches on random shapes, with and without bias and residual', async () => {
    const cases: Case[] = [
      { rows: 1, inF: 1, outF: 1 },
      { rows: 5, inF: 7, outF: 3, bias: true },
      { rows: 64, inF: 64, outF: 64, residual: true },
      { rows: 65, inF: 33, outF: 130, bias: true, residual: true },
      { rows: 300, inF: 32, outF: 128, bias: true },
      { rows: 9, inF: 1000, outF: 17 },
    ];
    for (const [i, c] of cases.entries()) {
      const { gpu, cpu } = await runCase(c, 7000 + 10 * i);
      expect(maxAbsDiff(gpu, cpu)).toBeLessThanOrEqual(1e-5);
    }
  });

  it('tiles a weight over output rows when it exceeds the binding limit (separate buffers)', async () => {
    // 1 KiB bindings: 40 × 24 f32 weight = 3840 bytes → rows of 96 bytes, 8 per tile (the limit
    // keeps 252 bytes of slack for offset alignment) → 5 tiles, the last one short.
    const { gpu, cpu, tiles } = await runCase({ rows: 70, inF: 24, outF: 40, bias: true, residual: true, maxBindingBytes: 1024 }, 7100);
    expect(tiles.map((t) => t.rows)).toEqual([8, 8, 8, 8, 8]);
    expect(maxAbsDiff(gpu, cpu)).toBeLessThanOrEqual(1e-5);
    const odd = await runCase({ rows: 3, inF: 50, outF: 13, maxBindingBytes: 1024 }, 7110);
    expect(odd.tiles.map((t) => t.rows)).toEqual([3, 3, 3, 3, 1]); // 200-byte rows
    expect(maxAbsDiff(odd.gpu, odd.cpu)).toBeLessThanOrEqual(1e-5);
  });

  it('tiles one big weight buffer by binding offsets, unaligned offsets included', async () => {
    // rows of 21 floats = 84 bytes: tile offsets are not multiples of 256, and the weight itself
    // starts 12 bytes into the buffer.
    const { gpu, cpu, tiles } = await runCase({ rows: 33, inF: 21, outF: 29, bias: true, maxBindingBytes: 1024, shared: { offset: 12 } }, 7200);
    expect(tiles.length).toBeGreaterThan(1);
    expect(tiles.some((t) => t.offset % 256 !== 0)).toBe(true);
    expect(maxAbsDiff(gpu, cpu)).toBeLessThanOrEqual(1e-5);
  });

  it('runs one independent linear per column group (heads) in one dispatch', async () => {
    const device = await gpuDevice();
    const rows = 37, groups = 4, inF = 9, outPer = 13;
    const x = randomFloats(rows * groups * inF, 7300);
    const w = randomFloats(groups * outPer * inF, 7301);
    const weight = uploadLinearWeight(device, w, groups * outPer, inF);
    const xb = uploadF32(device, x);
    const y = storageF32(device, rows * groups * outPer);
    const enc = beginEncoding(device);
    encodeHeadwiseLinear(enc, { x: xb, weight, y, rows, groups });
    await submit(enc);
    const gpu = await readF32(device, y, rows * groups * outPer);
    xb.destroy(), y.destroy(), destroyLinearWeight(weight);
    // block-diagonal reference: group g sees its own slice of x and rows of w
    const cpu = new Float32Array(rows * groups * outPer);
    for (let g = 0; g < groups; g++) {
      const xg = new Float32Array(rows * inF);
      for (let n = 0; n < rows; n++) xg.set(x.subarray(n * groups * inF + g * inF, n * groups * inF + (g + 1) * inF), n * inF);
      const yg = linear(xg, w.subarray(g * outPer * inF, (g + 1) * outPer * inF), rows, inF, outPer);
      for (let n = 0; n < rows; n++) cpu.set(yg.subarray(n * outPer, (n + 1) * outPer), n * groups * outPer + g * outPer);
    }
    expect(maxAbsDiff(gpu, cpu)).toBeLessThanOrEqual(1e-5);
  });

  it('refuses an output that aliases an input, and a row too wide for any binding', async () => {
    const device = await gpuDevice();
    const weight = uploadLinearWeight(device, randomFloats(16, 1), 4, 4);
    const b = storageF32(device, 16);
    expect(() => encodeLinear(beginEncoding(device), { x: b, weight, y: b, rows: 4 })).toThrow(/alias/);
    expect(() => uploadLinearWeight(device, randomFloats(512, 1), 1, 512, { maxBindingBytes: 1024 })).toThrow(/does not fit/);
    b.destroy(), destroyLinearWeight(weight);
  });
});
