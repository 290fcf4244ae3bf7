/**
 * kernels/top-k.wgsl on a real WebGPU device (Dawn + SwiftShader) against its CPU twin in
 * src/reference/top-k.ts: the same k entries in the same order, ties in key broken by the lower
 * id, padding past n, on every pass count the TypeScript side chains.
 */
import { describe, expect, it } from 'vitest';
import { beginEncoding, submit } from '../../src/gpu/encode.ts';
import { encodeTopK, TOP_K_MAX } from '../../src/gpu/top-k.ts';
import { readF32, uploadF32 } from '../../src/gpu/transfer.ts';
import { NO_ID, NONE, topK, topKBySort } from '../../src/reference/top-k.ts';
import { gpuDevice, randomFloats } from './device.ts';

async function onGpu(keys: Float32Array, k: number, ids?: Uint32Array) {
  const device = await gpuDevice();
  const keyBuf = uploadF32(device, keys);
  const idBuf = ids ? uploadF32(device, new Float32Array(ids.buffer, ids.byteOffset, ids.length)) : undefined;
  const enc = beginEncoding(device);
  const top = encodeTopK(enc, { keys: keyBuf, n: keys.length, k, ...(idBuf ? { ids: idBuf } : {}) });
  // the result buffers are the encoding's scratch: copy them out before the submission frees them
  const outKeys = device.createBuffer({ size: k * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
  const outIds = device.createBuffer({ size: k * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
  enc.encoder.copyBufferToBuffer(top.keys, 0, outKeys, 0, k * 4);
  enc.encoder.copyBufferToBuffer(top.ids, 0, outIds, 0, k * 4);
  await submit(enc);
  const result = { keys: await readF32(device, outKeys, k), ids: new Uint32Array((await readF32(device, outIds, k)).buffer) };
  for (const b of [keyBuf, idBuf, outKeys, outIds]) b?.destroy();
  return result;
}

async function expectTopK(keys: Float32Array, k: number, ids?: Uint32Array) {
  const gpu = await onGpu(keys, k, ids);
  const cpu = topK(keys, k, ids);
  expect(Array.from(gpu.ids)).toEqual(Array.from(cpu.ids));
  expect(Array.from(gpu.keys)).toEqual(Array.from(cpu.keys));
  return gpu;
}

/** Keys from a few distinct values, so most entries tie with many others. */
function tiedKeys(n: number, seed: number, distinct: number): Float32Array {
  return Float32Array.from(randomFloats(n, seed, 0, 1), (x) => Math.floor(x * distinct) / distinct);
}

describe('top-k kernel vs an exact CPU sort (key descending, ties to the lower id)', () => {
  it('one chunk: n = 1, 10, 2048; k from 1 to n, powers of two and not', async () => {
    for (const n of [1, 10, 2048]) {
      const keys = randomFloats(n, 100 + n);
      for (const k of [1, 3, Math.min(n, 10), Math.min(n, 64), Math.min(n, 100)]) await expectTopK(keys, k);
    }
  });

  it('pads with (NONE, 0xffffffff) when k > n', async () => {
    const gpu = await expectTopK(Float32Array.of(0.25, -1, 0.5), 5);
    expect(Array.from(gpu.ids)).toEqual([2, 0, 1, NO_ID, NO_ID]);
    expect(gpu.keys[4]).toBe(Math.fround(NONE));
  });

  it('several passes: n = 10,000 and 100,000, k = 1, 10, 100, 1000, TOP_K_MAX', async () => {
    for (const n of [10_000, 100_000]) {
      const keys = randomFloats(n, 7 + n);
      for (const k of [1, 10, 100, 1000, TOP_K_MAX]) await expectTopK(keys, k);
    }
  });

  it('breaks ties by the lower id: many equal keys, and all keys equal', async () => {
    await expectTopK(tiedKeys(10_000, 5, 7), 50);
    await expectTopK(tiedKeys(100_000, 6, 1000), 200);
    await expectTopK(new Float32Array(5000).fill(0.5), 37);
    const gpu = await expectTopK(new Float32Array(5000), 4);
    expect(Array.from(gpu.ids)).toEqual([0, 1, 2, 3]);
  });

  it('takes explicit ids (a later pass, or any caller)', async () => {
    const n = 5000;
    const ids = Uint32Array.from({ length: n }, (_, i) => (i * 7919) % 100_003);
    await expectTopK(tiedKeys(n, 8, 5), 20, ids);
  });

  it('ranks NONE keys (removed rows) after every real key and before padding', async () => {
    const keys = randomFloats(3000, 9);
    keys.fill(NONE, 0, 2990);
    const gpu = await expectTopK(keys, 12);
    expect(Array.from(gpu.ids.subarray(0, 10))).toEqual(Array.from(topK(keys.subarray(2990), 10).ids, (i) => i + 2990));
    expect(Array.from(gpu.ids.subarray(10))).toEqual([0, 1]);
  });

  it('the CPU side\'s sort for large k (topKBySort) gives the selector\'s order, NONE keys left out', () => {
    const keys = tiedKeys(20_000, 12, 50);
    keys.fill(NONE, 100, 200);
    for (const k of [1, 500, 19_900, 20_000]) {
      const a = topKBySort(keys, k);
      const b = topK(keys, k);
      const real = Math.min(k, 19_900);
      expect(Array.from(a.ids)).toEqual(Array.from(b.ids.subarray(0, real)));
      expect(Array.from(a.keys)).toEqual(Array.from(b.keys.subarray(0, real)));
    }
  });

  it('refuses k outside [1, TOP_K_MAX]', async () => {
    const device = await gpuDevice();
    const enc = beginEncoding(device);
    const keys = uploadF32(device, new Float32Array(8));
    expect(() => encodeTopK(enc, { keys, n: 8, k: 0 })).toThrow(RangeError);
    expect(() => encodeTopK(enc, { keys, n: 8, k: TOP_K_MAX + 1 })).toThrow(RangeError);
    keys.destroy();
  });
});
