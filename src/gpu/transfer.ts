/** Moving small arrays between the CPU and GPU buffers. */

/** A storage buffer initialised with the given floats (usage STORAGE | COPY_SRC | COPY_DST). */
export function uploadF32(device: GPUDevice, data: Float32Array, label?: string): GPUBuffer {
  const buffer = device.createBuffer({
    ...(label ? { label } : {}),
    size: Math.max(4, Math.ceil(data.byteLength / 4) * 4),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
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
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
}

/** Copies `floats` floats from a storage buffer into a fresh Float32Array (one staging copy). */
export async function readF32(device: GPUDevice, source: GPUBuffer, floats: number): Promise<Float32Array> {
  const bytes = floats * 4;
  const staging = device.createBuffer({ size: Math.max(4, bytes), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  try {
    const encoder = device.createCommandEncoder({ label: 'readback' });
    encoder.copyBufferToBuffer(source, 0, staging, 0, bytes);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ, 0, bytes);
    return new Float32Array(staging.getMappedRange(0, bytes).slice(0));
  } finally {
    staging.destroy();
  }
}
