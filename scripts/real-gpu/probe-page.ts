/**
 * Page side of scripts/real-gpu/probe-adapter.ts: what WebGPU adapter this browser gives a page,
 * asked the way the library and the bench ask (`navigator.gpu.requestAdapter()`, no options),
 * and whether a device from it really runs a compute shader (a dispatch read back). Returns
 * plain JSON values only.
 */

export interface ProbeResult {
  userAgent: string;
  crossOriginIsolated: boolean;
  /** navigator.gpu exists */
  webgpu: boolean;
  /** requestAdapter() gave an adapter */
  adapter: boolean;
  /** why there is none, when there is none */
  reason?: string;
  info?: { vendor: string; architecture: string; device: string; description: string };
  isFallbackAdapter?: boolean;
  features?: string[];
  /** every limit the adapter reports, by name */
  limits?: Record<string, number>;
  /** a device was created and a 256-thread compute dispatch gave the expected numbers */
  dispatch?: { ok: boolean; ms: number; error?: string };
  /** a device with 'shader-f16' was created and an f16 shader compiled and ran (where the adapter has the feature) */
  f16?: { ok: boolean; error?: string };
}

const DOUBLE = /* wgsl */ `
@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3u) {
  if (id.x < arrayLength(&x)) { x[id.x] = x[id.x] * 2.0 + 1.0; }
}`;

const HALF = /* wgsl */ `
enable f16;
@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3u) {
  if (id.x < arrayLength(&x)) { let h: f16 = f16(x[id.x]); x[id.x] = f32(h * 2.0h + 1.0h); }
}`;

/** Runs `code` over 256 floats 0..255 and checks x*2+1 comes back. */
async function dispatch(device: GPUDevice, code: string): Promise<void> {
  const n = 256;
  const input = Float32Array.from({ length: n }, (_, i) => i);
  const buf = device.createBuffer({ size: n * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
  const read = device.createBuffer({ size: n * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(buf, 0, input);
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ code });
  const pipeline = await device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const bind = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: buf } }] });
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bind);
  pass.dispatchWorkgroups(n / 64);
  pass.end();
  enc.copyBufferToBuffer(buf, 0, read, 0, n * 4);
  device.queue.submit([enc.finish()]);
  const err = await device.popErrorScope();
  if (err) throw new Error(`validation: ${err.message}`);
  await read.mapAsync(GPUMapMode.READ);
  const out = new Float32Array(read.getMappedRange().slice(0));
  read.unmap();
  buf.destroy();
  read.destroy();
  for (let i = 0; i < n; i++) if (out[i] !== i * 2 + 1) throw new Error(`wrong result at ${i}: ${out[i]} (expected ${i * 2 + 1})`);
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

export async function probe(): Promise<ProbeResult> {
  const base = { userAgent: navigator.userAgent, crossOriginIsolated: globalThis.crossOriginIsolated === true };
  const gpu = navigator.gpu;
  if (!gpu) return { ...base, webgpu: false, adapter: false, reason: 'navigator.gpu is missing (WebGPU is off in this browser or context)' };
  const adapter = await gpu.requestAdapter();
  if (!adapter) return { ...base, webgpu: true, adapter: false, reason: 'navigator.gpu.requestAdapter() returned null (no usable Vulkan driver, or WebGPU blocked for this GPU)' };
  const i = adapter.info;
  const isFallbackAdapter = Boolean((i as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter);
  const limits: Record<string, number> = {};
  // WebIDL attributes live on the prototype and are enumerable
  for (const k in adapter.limits) {
    const v = (adapter.limits as unknown as Record<string, unknown>)[k];
    if (typeof v === 'number') limits[k] = v;
  }
  const features = [...adapter.features].sort();
  const result: ProbeResult = {
    ...base,
    webgpu: true,
    adapter: true,
    info: { vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description },
    isFallbackAdapter,
    features,
    limits,
  };
  const t0 = performance.now();
  try {
    const device = await adapter.requestDevice();
    await dispatch(device, DOUBLE);
    device.destroy();
    result.dispatch = { ok: true, ms: performance.now() - t0 };
  } catch (e) {
    result.dispatch = { ok: false, ms: performance.now() - t0, error: message(e) };
  }
  if (features.includes('shader-f16')) {
    try {
      // a fresh adapter: an adapter hands out one device
      const a2 = await gpu.requestAdapter();
      if (!a2) throw new Error('second requestAdapter() returned null');
      const device = await a2.requestDevice({ requiredFeatures: ['shader-f16'] });
      await dispatch(device, HALF);
      device.destroy();
      result.f16 = { ok: true };
    } catch (e) {
      result.f16 = { ok: false, error: message(e) };
    }
  }
  return result;
}
