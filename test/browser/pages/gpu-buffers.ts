/**
 * GPU buffers counted in a page, for the pages that check what the engine leaves on the GPU or
 * measure what it holds (test/browser/pages/embed-lifecycle.ts, rerank.ts, embed-api.ts,
 * test/faults/pages/memory.ts, bench/pages/soak.ts and rerank.ts; bench pages are served by the
 * test server too): GPUDevice.prototype.createBuffer and GPUBuffer.prototype.destroy are
 * patched once per page, and every buffer made on any device (onnxruntime-web's included) is
 * remembered with its size, label and creator until it is destroyed.
 *
 * 'strong' tracking (the default) holds each buffer until destroy(): a buffer its owner dropped
 * without destroying it still counts, as a leak. 'weak' holds them through WeakRefs, for pages
 * that measure the JS heap (a strong reference would itself keep buffers alive there): a buffer
 * the garbage collector took is gone, as WebGPU frees it too.
 */

export type BufferCreator = 'onnxruntime-web' | 'webgpu-embed' | 'other';

export interface TrackedBuffer {
  /** the buffer's place in creation order (see gpuBufferMark) */
  serial: number;
  size: number;
  label: string;
  by: BufferCreator;
}

interface Entry extends TrackedBuffer {
  /** 'strong' tracking */
  buffer?: GPUBuffer;
  /** 'weak' tracking */
  ref?: WeakRef<GPUBuffer>;
}

const live = new Set<Entry>();
const entryOf = new WeakMap<GPUBuffer, Entry>();
let mode: 'strong' | 'weak' | undefined;
let serial = 0;
let bytesNow = 0;
let bytesPeak = 0;

/** Who made a buffer, by the stack at createBuffer: onnxruntime-web's files, ours (src/), or another. */
function creator(): BufferCreator {
  const stack = new Error().stack ?? '';
  return stack.includes('/onnxruntime-web/') ? 'onnxruntime-web' : stack.includes('/src/') ? 'webgpu-embed' : 'other';
}

/**
 * Starts counting (once per page; calling it again is a no-op, with another mode an error).
 *
 * @example
 * trackGpuBuffers();
 * const mark = gpuBufferMark();
 * const e = await createEmbedder({ model, device: 'webgpu', worker: false });
 * await e.embed(['hello']);
 * await e.dispose();
 * liveGpuBuffers(mark); // [] when dispose() destroyed every buffer made since the mark
 */
export function trackGpuBuffers(how: 'strong' | 'weak' = 'strong'): void {
  if (mode) {
    if (mode !== how) throw new Error(`GPU buffers are already tracked '${mode}' in this page, not '${how}'`);
    return;
  }
  mode = how;
  const create = GPUDevice.prototype.createBuffer;
  GPUDevice.prototype.createBuffer = function (this: GPUDevice, desc: GPUBufferDescriptor) {
    const b = create.call(this, desc);
    const entry: Entry = { serial: serial++, size: desc.size, label: desc.label ?? '', by: creator(), ...(how === 'strong' ? { buffer: b } : { ref: new WeakRef(b) }) };
    live.add(entry);
    entryOf.set(b, entry);
    bytesNow += desc.size;
    bytesPeak = Math.max(bytesPeak, bytesNow);
    return b;
  };
  const destroy = GPUBuffer.prototype.destroy;
  GPUBuffer.prototype.destroy = function (this: GPUBuffer) {
    const entry = entryOf.get(this);
    if (entry && live.delete(entry)) bytesNow -= entry.size;
    return destroy.call(this);
  };
}

/** The serial the next buffer gets: liveGpuBuffers(mark) lists only buffers made after it. */
export function gpuBufferMark(): number {
  return serial;
}

/** Buffers made since `since` (default: all) and not destroyed (nor, when tracked 'weak', collected), in creation order. */
export function liveGpuBuffers(since = 0): TrackedBuffer[] {
  if (!mode) throw new Error('call trackGpuBuffers() before the buffers are made');
  const out: TrackedBuffer[] = [];
  for (const e of live) {
    if (!e.buffer && !e.ref?.deref()) {
      live.delete(e);
      bytesNow -= e.size;
      continue;
    }
    if (e.serial >= since) out.push({ serial: e.serial, size: e.size, label: e.label, by: e.by });
  }
  return out;
}

/** Bytes of the buffers alive now ('weak': collected ones count until liveGpuBuffers() finds them gone). */
export function gpuBytesNow(): number {
  return bytesNow;
}

/** The most bytes alive at once since the last resetGpuPeak() (or since tracking began). */
export function gpuBytesPeak(): number {
  return bytesPeak;
}

export function resetGpuPeak(): void {
  bytesPeak = bytesNow;
}

/** Their bytes in all. */
export function bufferBytes(buffers: readonly TrackedBuffer[]): number {
  return buffers.reduce((n, b) => n + b.size, 0);
}

/** 'label size', as a failing assertion names a buffer left behind. */
export function describeBuffer(b: TrackedBuffer): string {
  return `${b.label} ${b.size}`;
}
