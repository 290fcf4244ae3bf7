/**
 * One batch's GPU work in one command encoder: kernels append their dispatches, and the small
 * per-dispatch buffers (uniforms) they create are destroyed once the submission is done.
 */
import { WebGPUEmbedError } from '../errors.ts';
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

/**
 * Submits the work and, once the GPU has finished it, frees the temporaries. Rejects when the
 * GPU refused the commands (a validation error: a kernel bug, never a silent wrong answer).
 */
export async function submit(enc: Encoding): Promise<void> {
  // Encoding errors surface when the encoder is finished or submitted: one error scope, pushed
  // and popped synchronously, catches them without catching anyone else's.
  enc.device.pushErrorScope('validation');
  const commands = enc.encoder.finish();
  enc.device.queue.submit([commands]);
  const refused = enc.device.popErrorScope();
  enc.inFlight.push(commands);
  try {
    await enc.device.queue.onSubmittedWorkDone();
    const error = await refused;
    if (error) throw new WebGPUEmbedError(`the GPU refused a kernel's commands (a bug in webgpu-embed, please report it): ${error.message}`);
  } finally {
    for (const b of enc.temporaries) b.destroy();
    enc.temporaries.length = 0;
    enc.inFlight.length = 0;
  }
}

/**
 * A uniform buffer of u32 values (padded to 16 bytes), freed with the encoding. An f32 field of
 * the WGSL struct goes in as its bit pattern: `f32Bits(1e-5)`.
 */
export function uniforms(enc: Encoding, values: number[]): GPUBuffer {
  const size = Math.max(16, Math.ceil((values.length * 4) / 16) * 16);
  const buffer = enc.device.createBuffer({ size, usage: GPUBufferUsage.UNIFORM, mappedAtCreation: true });
  new Uint32Array(buffer.getMappedRange()).set(values);
  buffer.unmap();
  enc.temporaries.push(buffer);
  return buffer;
}

/** The bit pattern of an f32, for an f32 field of a uniform struct. */
export function f32Bits(value: number): number {
  return new Uint32Array(Float32Array.of(value).buffer)[0]!;
}

const placeholders = new WeakMap<Encoding, Map<string, GPUBuffer>>();

/**
 * A 4-byte storage buffer bound where a kernel's flags say it never touches a binding (WGSL has
 * no optional bindings), freed with the encoding. Read-only slots may share one (`slot`
 * 'input'); each writable slot needs its own name, since writable bindings must not alias.
 */
export function unusedBinding(enc: Encoding, slot = 'input'): GPUBuffer {
  let perEncoding = placeholders.get(enc);
  if (!perEncoding) placeholders.set(enc, (perEncoding = new Map()));
  let buffer = perEncoding.get(slot);
  if (!buffer) {
    buffer = enc.device.createBuffer({ label: `unused ${slot}`, size: 4, usage: GPUBufferUsage.STORAGE });
    enc.temporaries.push(buffer);
    perEncoding.set(slot, buffer);
  }
  return buffer;
}

/** A scratch f32 storage buffer, freed with the encoding. */
export function scratchF32(enc: Encoding, floats: number, label: string): GPUBuffer {
  const buffer = enc.device.createBuffer({
    label,
    size: Math.max(4, floats * 4),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  enc.temporaries.push(buffer);
  return buffer;
}

/** The most workgroups in one dimension of a dispatch (WebGPU's default and common limit). */
const MAX_WORKGROUPS_PER_DIM = 65535;

/**
 * A 2-D grid holding `count` workgroups, for kernels that flatten it back as
 * `wid.y * nwg.x + wid.x` (and skip the few past `count`): rows beyond 65,535 still fit.
 */
export function gridOf(count: number): [number, number] {
  const x = Math.max(1, Math.min(count, MAX_WORKGROUPS_PER_DIM));
  return [x, Math.max(1, Math.ceil(count / x))];
}

/**
 * Binds buffers (whole, or a range as a GPUBufferBinding) to @binding(0..n-1) of group 0 in
 * order and dispatches the kernel (with its `override` constants, if given).
 */
export function dispatch(
  enc: Encoding,
  kernel: KernelName,
  buffers: (GPUBuffer | GPUBufferBinding)[],
  workgroups: [number, number?, number?],
  constants?: Record<string, number>,
): void {
  const pipeline = pipelineFor(enc.device, kernel, constants);
  const bindGroup = enc.device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: buffers.map((b, binding) => ({ binding, resource: 'buffer' in b ? b : { buffer: b } })),
  });
  const pass = enc.encoder.beginComputePass({ label: kernel });
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(workgroups[0], workgroups[1] ?? 1, workgroups[2] ?? 1);
  pass.end();
  enc.inFlight.push(bindGroup, pipeline, ...buffers);
}
