/**
 * kernels/matryoshka.wgsl on a real WebGPU device (Dawn + SwiftShader) against its CPU twin
 * src/reference/matryoshka.ts: f32 within 1e-5, int8 codes and binary bits identical.
 */
import { describe, expect, it } from 'vitest';
import { beginEncoding, submit } from '../../src/gpu/encode.ts';
import { binaryWords, encodeMatryoshka, int8Words } from '../../src/gpu/matryoshka.ts';
import { readF32, storageF32, uploadF32 } from '../../src/gpu/transfer.ts';
import { matryoshka } from '../../src/reference/matryoshka.ts';
import { gpuDevice, maxAbsDiff, randomFloats } from './device.ts';

async function runOnGpu(x: Float32Array, batch: number, hidden: number, dims: number) {
  const device = await gpuDevice();
  const input = uploadF32(device, x);
  const output = storageF32(device, batch * dims);
  const codes = storageF32(device, batch * int8Words(dims));
  const scales = storageF32(device, batch);
  const bits = storageF32(device, batch * binaryWords(dims));
  for (const b of [output, codes, scales, bits]) device.queue.writeBuffer(b, 0, new Uint32Array(b.size / 4).fill(0xdeadbeef));
  const enc = beginEncoding(device);
  encodeMatryoshka(enc, { input, output, batch, hidden, dims, int8: { codes, scales }, binary: bits });
  await submit(enc);
  const asU32 = (f: Float32Array) => new Uint32Array(f.buffer);
  const result = {
    embeddings: await readF32(device, output, batch * dims),
    codes: asU32(await readF32(device, codes, batch * int8Words(dims))),
    scales: await readF32(device, scales, batch),
    binary: asU32(await readF32(device, bits, batch * binaryWords(dims))),
  };
  for (const b of [input, output, codes, scales, bits]) b.destroy();
  return result;
}

async function expectMatch(x: Float32Array, batch: number, hidden: number, dims: number) {
  const gpu = await runOnGpu(x, batch, hidden, dims);
  const cpu = matryoshka(x, batch, hidden, dims, { int8: true, binary: true });
  expect(maxAbsDiff(gpu.embeddings, cpu.embeddings)).toBeLessThanOrEqual(1e-5);
  expect(maxAbsDiff(gpu.scales, cpu.int8!.scales)).toBeLessThanOrEqual(1e-5);
  expect(Array.from(gpu.codes)).toEqual(Array.from(cpu.int8!.codes));
  expect(Array.from(gpu.binary)).toEqual(Array.from(cpu.binary!));
  return { gpu, cpu };
}

describe('matryoshka kernel vs the CPU reference', () => {
  it('matches on random shapes for d = H, d = 1, d = 32 and odd d, int8 and binary bit for bit', async () => {
    for (let trial = 0; trial < 5; trial++) {
      const seed = 3000 + trial;
      const r = randomFloats(2, seed, 0, 1);
      const batch = 1 + Math.floor(r[0]! * 12);
      const hidden = 32 + Math.floor(r[1]! * 1100);
      const x = randomFloats(batch * hidden, seed, -3, 3);
      for (const dims of [hidden, 1, 32, 33, Math.ceil(hidden / 3) | 1]) await expectMatch(x, batch, hidden, dims);
    }
  });

  it('handles large B and H past the workgroup', async () => {
    await expectMatch(randomFloats(300 * 40, 11), 300, 40, 37);
    await expectMatch(randomFloats(3 * 4096, 12, -20, 20), 3, 4096, 4096);
  });

  it('keeps an all-zero row zero (no NaN) with zero codes, scale and bits', async () => {
    const batch = 3, hidden = 70, dims = 64;
    const x = randomFloats(batch * hidden, 13);
    x.fill(0, hidden, 2 * hidden);
    const { gpu } = await expectMatch(x, batch, hidden, dims);
    expect(Array.from(gpu.embeddings.subarray(dims, 2 * dims))).toEqual(new Array(dims).fill(0));
    expect(gpu.scales[1]).toBe(0);
    expect(Array.from(gpu.codes.subarray(int8Words(dims), 2 * int8Words(dims)))).toEqual([...new Array(int8Words(dims))].fill(0));
    expect(Array.from(gpu.binary.subarray(binaryWords(dims), 2 * binaryWords(dims)))).toEqual([0, 0]);
  });

  it('gives unit vectors, and int8 codes that decode to them', async () => {
    const batch = 4, hidden = 100, dims = 50;
    const { gpu } = await expectMatch(randomFloats(batch * hidden, 14, -5, 5), batch, hidden, dims);
    const q = new Int8Array(gpu.codes.buffer);
    for (let b = 0; b < batch; b++) {
      let norm = 0;
      for (let i = 0; i < dims; i++) {
        const e = gpu.embeddings[b * dims + i]!;
        norm += e * e;
        // |e - q/127·scale| ≤ half a step
        expect(Math.abs(e - (q[b * int8Words(dims) * 4 + i]! / 127) * gpu.scales[b]!)).toBeLessThanOrEqual(gpu.scales[b]! / 254 + 1e-7);
      }
      expect(Math.abs(Math.sqrt(norm) - 1)).toBeLessThan(1e-6);
    }
  });

  it('packs int8 little-endian 4 per word and bits 32 per word, LSB first', async () => {
    // dims 0..5 = [127, -127, 63.5, -0.5, 1, 0]: q = [127, -127, 64 (tie away), -1 (tie away), 1, 0]
    const x = Float32Array.of(127, -127, 63.5, -0.5, 1, 0, 99, 99);
    const gpu = await runOnGpu(x, 1, 8, 6);
    expect(Array.from(new Int8Array(gpu.codes.buffer))).toEqual([127, -127, 64, -1, 1, 0, 0, 0]);
    expect(gpu.codes[0]).toBe((0x7f | (0x81 << 8) | (0x40 << 16) | (0xff << 24)) >>> 0);
    expect(Array.from(gpu.binary)).toEqual([0b010101]);
  });

  it('rounds exact ties, near-ties, subnormals and huge ranges the same as the CPU', async () => {
    const hidden = 256;
    const rows: number[][] = [];
    // max 127: x = k + 0.5 is an exact tie; neighbours one ulp either side are not.
    const ties = [127, ...Array.from({ length: 60 }, (_, k) => (k % 2 ? -1 : 1) * (k + 0.5))];
    const up = ties.map((v) => nextUlp(v, +1));
    const down = ties.map((v) => nextUlp(v, -1));
    rows.push(ties, [127, ...up.slice(1)], [127, ...down.slice(1)]);
    // max 254: odd integers are ties
    rows.push([254, ...Array.from({ length: 100 }, (_, k) => 2 * k + 1)]);
    // subnormals (a float max may flush them), a range spanning many exponents
    rows.push([1e-38, 3e-39, -7e-40, 1.4e-45, -5e-45, 2e-39]);
    rows.push([1e6, 1, -1e3, 3.9e3, 1.95e3, 1e-30, -1e-12]);
    rows.push(Array.from(randomFloats(hidden, 15, -1, 1), (v, i) => v * 2 ** ((i % 40) - 20)));
    const x = new Float32Array(rows.length * hidden);
    rows.forEach((row, b) => x.set(row.slice(0, hidden), b * hidden));
    for (const dims of [hidden, 61, 7]) await expectMatch(x, rows.length, hidden, dims);
  });

  it('rejects dims outside [1, H]', async () => {
    const device = await gpuDevice();
    const enc = beginEncoding(device);
    const b = storageF32(device, 8);
    expect(() => encodeMatryoshka(enc, { input: b, output: storageF32(device, 8), batch: 1, hidden: 8, dims: 9 })).toThrow(RangeError);
    expect(() => encodeMatryoshka(enc, { input: b, output: storageF32(device, 8), batch: 1, hidden: 8, dims: 0 })).toThrow(RangeError);
    b.destroy();
  });
});

/** The f32 next to v toward ±∞. */
function nextUlp(v: number, dir: 1 | -1): number {
  const f = new Float32Array([v]);
  const u = new Int32Array(f.buffer);
  u[0]! += (v >= 0) === (dir > 0) ? 1 : -1;
  return f[0]!;
}
