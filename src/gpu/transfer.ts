/**
 * Moving arrays between the CPU and GPU buffers: uploads, and the readback (a staging buffer,
 * mapAsync, one copy out) that every result of ours comes home through.
 */
import { beginEncoding, submit, type Encoding } from './encode.ts';

/**
 * STORAGE | COPY_SRC | COPY_DST: a buffer kernels read and write and that copies in and out. (A
 * function: GPUBufferUsage does not exist where there is no WebGPU, and these modules load there too.)
 */
export const storageUsage = (): number => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/** A storage buffer initialised with the given floats (usage STORAGE | COPY_SRC | COPY_DST). */
export function uploadF32(device: GPUDevice, data: Float32Array, label?: string): GPUBuffer {
  const buffer = device.createBuffer({
    ...(label ? { label } : {}),
    size: Math.max(4, Math.ceil(data.byteLength / 4) * 4),
    usage: storageUsage(),
    mappedAtCreation: true,
  });
  new Float32Array(buffer.getMappedRange()).set(data);
  buffer.unmap();
  return buffer;
}

/** An empty f32 storage buffer that can be read back. */
export function storageF32(device: GPUDevice, floats: number, label?: string): GPUBuffer {
  return device.createBuffer({
    ...(label ? { label } : {}),
    size: Math.max(4, floats * 4),
    usage: storageUsage(),
  });
}

/** Part of a readback: the first `bytes` of `source`. A readback's parts come back one after another. */
export interface ReadbackPart {
  source: GPUBuffer;
  bytes: number;
}

/** The bytes a readback of these parts brings back. */
export function readbackBytes(parts: readonly ReadbackPart[]): number {
  return parts.reduce((n, p) => n + p.bytes, 0);
}

/**
 * Ends `enc` with copies of `parts` into `staging` (a MAP_READ | COPY_DST buffer large enough for
 * them all), submits it, and once the GPU is done returns a copy of those bytes: one submission
 * and one map per batch, whatever the kernels before it.
 *
 * @example
 * const enc = beginEncoding(device);
 * encodeYesNoScore(enc, { ...args, scores });
 * const out = new Float32Array(await readBack(enc, staging, [{ source: scores, bytes: batch * 4 }]));
 */
export async function readBack(enc: Encoding, staging: GPUBuffer, parts: readonly ReadbackPart[]): Promise<ArrayBuffer> {
  let bytes = 0;
  for (const p of parts) {
    enc.encoder.copyBufferToBuffer(p.source, 0, staging, bytes, p.bytes);
    bytes += p.bytes;
  }
  await submit(enc);
  await staging.mapAsync(GPUMapMode.READ, 0, bytes);
  const data = staging.getMappedRange(0, bytes).slice(0);
  staging.unmap();
  return data;
}

/** readBack through a staging buffer made for it and destroyed after (for a one-off result; a head keeps one, src/gpu/scratch.ts). */
export async function readBackOnce(enc: Encoding, parts: readonly ReadbackPart[], label = 'readback'): Promise<ArrayBuffer> {
  const staging = enc.device.createBuffer({ label, size: Math.max(4, readbackBytes(parts)), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  try {
    return await readBack(enc, staging, parts);
  } finally {
    staging.destroy();
  }
}

/** Copies `floats` floats from a storage buffer into a fresh Float32Array (one staging copy). */
export async function readF32(device: GPUDevice, source: GPUBuffer, floats: number): Promise<Float32Array> {
  return new Float32Array(await readBackOnce(beginEncoding(device, 'readback'), [{ source, bytes: floats * 4 }]));
}
