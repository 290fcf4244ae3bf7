import { ort } from './ort-env.ts';
export async function wgslSinCos(xs: number[]): Promise<{ sin: number[]; cos: number[] }> {
  const adapter = await navigator.gpu.requestAdapter();
  const device = await adapter!.requestDevice();
  const n = xs.length;
  const inp = device.createBuffer({ size: n * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(inp, 0, new Float32Array(xs));
  const out = device.createBuffer({ size: n * 8, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const rb = device.createBuffer({ size: n * 8, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const mod = device.createShaderModule({ code: `
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let i = g.x; if (i >= arrayLength(&x)) { return; }
  y[2u*i] = sin(x[i]); y[2u*i+1u] = cos(x[i]);
}` });
  const pipe = device.createComputePipeline({ layout: 'auto', compute: { module: mod, entryPoint: 'main' } });
  const bg = device.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: inp } }, { binding: 1, resource: { buffer: out } }] });
  const enc = device.createCommandEncoder();
  const p = enc.beginComputePass(); p.setPipeline(pipe); p.setBindGroup(0, bg); p.dispatchWorkgroups(Math.ceil(n / 64)); p.end();
  enc.copyBufferToBuffer(out, 0, rb, 0, n * 8);
  device.queue.submit([enc.finish()]);
  await rb.mapAsync(GPUMapMode.READ);
  const y = new Float32Array(rb.getMappedRange().slice(0));
  return { sin: xs.map((_, i) => y[2 * i]!), cos: xs.map((_, i) => y[2 * i + 1]!) };
}
export async function decoderHidden(modelUrl: string, ep: 'webgpu' | 'wasm', ids: number[]): Promise<{ dims: number[]; data: number[] }> {
  const s = await ort.InferenceSession.create(modelUrl, { executionProviders: [ep] });
  const T = ids.length;
  const i64 = (f: (t: number) => number) => new ort.Tensor('int64', BigInt64Array.from({ length: T }, (_, t) => BigInt(f(t))), [1, T]);
  const feeds: Record<string, ort.Tensor> = {};
  for (const n of s.inputNames) {
    if (n === 'input_ids') feeds[n] = i64((t) => ids[t]!);
    else if (n === 'attention_mask') feeds[n] = i64(() => 1);
    else if (n === 'position_ids') feeds[n] = i64((t) => t);
    else feeds[n] = new ort.Tensor('float32', new Float32Array(0), [1, 2, 0, 8]);
  }
  const out = await s.run(feeds);
  const h = out['last_hidden_state']!;
  const data = Array.from((await h.getData()) as Float32Array);
  await s.release();
  return { dims: [...h.dims], data };
}
