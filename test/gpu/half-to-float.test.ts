/** kernels/half-to-float.wgsl against the fixture builder's IEEE half rounding (an independent codec). */
import { describe, expect, it } from 'vitest';
import { encodeHalfToFloat } from '../../src/gpu/convert.ts';
import { beginEncoding, submit } from '../../src/gpu/encode.ts';
import { readF32, storageF32 } from '../../src/gpu/transfer.ts';
import { fromHalfBits, toHalfBits } from '../fixtures/build/graph.ts';
import { gpuDevice, randomFloats } from './device.ts';

async function convert(bits: Uint16Array): Promise<Float32Array> {
  const device = await gpuDevice();
  const words = new Uint32Array(Math.ceil(bits.length / 2));
  new Uint16Array(words.buffer).set(bits);
  const input = device.createBuffer({ size: Math.max(4, words.byteLength), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(input, 0, words);
  const output = storageF32(device, bits.length);
  const enc = beginEncoding(device);
  encodeHalfToFloat(enc, { input, output, count: bits.length });
  await submit(enc);
  const out = await readF32(device, output, bits.length);
  input.destroy();
  output.destroy();
  return out;
}

describe('float16 → float32 on the GPU', () => {
  it('converts random values exactly (every half is an f32), odd counts included', async () => {
    for (const n of [1, 2, 7, 513, 70_001]) {
      const bits = Uint16Array.from(randomFloats(n, n, -60, 60), toHalfBits);
      const gpu = await convert(bits);
      expect(Array.from(gpu)).toEqual(Array.from(bits, fromHalfBits));
    }
  });

  it('keeps signed zeros, subnormals, the largest half and infinities', async () => {
    const bits = Uint16Array.from([0x0000, 0x8000, 0x0001, 0x03ff, 0x7bff, 0xfbff, 0x7c00, 0xfc00, 0x3c00]);
    const gpu = await convert(bits);
    expect(Array.from(gpu)).toEqual([0, -0, 2 ** -24, 1023 * 2 ** -24, 65504, -65504, Infinity, -Infinity, 1]);
  });
});
