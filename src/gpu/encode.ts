/**
 * One batch's GPU work in one command encoder: kernels append their dispatches, and the small
 * per-dispatch buffers (uniforms) they create are destroyed once the submission is done.
 */
import { pipelineFor } from './pipelines.ts';
import type { KernelName } from './kernels.ts';

export interface Encoding {
  readonly device: GPUDevice;
  readonly encoder: GPUCommandEncoder;
  /** buffers to destroy after the submission completes */
  readonly temporaries: GPUBuffer[];
  /** objects the GPU still uses until the submission completes, kept reachable until then */
  readonly inFlight: unknown[];
}

export function beginEncoding(device: GPUDevice, label = 'webgpu-embed'): Encoding {
  return { device, encoder: device.createCommandEncoder({ label }), temporaries: [], inFlight: [] };
}

/** Submits the work and, once the GPU has finished it, frees the temporaries. */
export async function submit(enc: Encoding): Promise<void> {
  const commands = enc.encoder.finish();
  enc.device.queue.submit([commands]);
  enc.inFlight.push(commands);
  try {
    await enc.device.queue.onSubmittedWorkDone();
  } finally {
    for (const b of enc.temporaries) b.destroy();
    enc.temporaries.length = 0;
    enc.inFlight.length = 0;
  }
}

/** A uniform buffer of u32 values (padded to 16 bytes), freed with the encoding. */
export function uniforms(enc: Encoding, values: number[]): GPUBuffer {
  const size = Math.max(16, Math.ceil((values.length * 4) / 16) * 16);
  const buffer = enc.device.createBuffer({ size, usage: GPUBufferUsage.UNIFORM, mappedAtCreation: true });
  new Uint32Array(buffer.getMappedRange()).set(values);
  buffer.unmap();
  enc.temporaries.push(buffer);
  return buffer;
}

/** Binds buffers to @binding(0..n-1) of group 0 in order and dispatches the kernel. */
export function dispatch(
  enc: Encoding,
  kernel: KernelName,
  buffers: GPUBuffer[],
  workgroups: [number, number?, number?],
): void {
  const pipeline = pipelineFor(enc.device, kernel);
  const bindGroup = enc.device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  const pass = enc.encoder.beginComputePass({ label: kernel });
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(workgroups[0], workgroups[1] ?? 1, workgroups[2] ?? 1);
  pass.end();
  enc.inFlight.push(bindGroup, pipeline, ...buffers);
}
