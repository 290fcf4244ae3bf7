/**
 * A module Web Worker that runs a WGSL compute shader on its own GPUDevice:
 * y[r] = mean over c of (a * x[r, c] + b), for an R x C matrix x.
 * One workgroup per row, a shared-memory tree reduction, and the shapes and scalars passed as
 * a uniform (never spliced into the shader text).
 *
 * in:  { x: Float32Array, rows, cols, a, b }
 * out: { ok: true, y: Float32Array, adapter: {...} } | { ok: false, error }
 */

const WGSL = /* wgsl */ `
struct Params { rows: u32, cols: u32, a: f32, b: f32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

const WG: u32 = 256u;
var<workgroup> partial: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let r = wid.x;
  var acc = 0.0;
  if (r < p.rows) {
    for (var c = lid; c < p.cols; c += WG) {
      acc += p.a * x[r * p.cols + c] + p.b;
    }
  }
  partial[lid] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) {
      partial[lid] += partial[lid + s];
    }
    workgroupBarrier();
  }
  if (lid == 0u && r < p.rows) {
    y[r] = partial[0] / f32(p.cols);
  }
}
`;

interface Request {
  x: Float32Array;
  rows: number;
  cols: number;
  a: number;
  b: number;
}

const scope = self as unknown as DedicatedWorkerGlobalScope;

async function run(req: Request) {
  if (!('gpu' in navigator) || !navigator.gpu) throw new Error('navigator.gpu is missing in the worker');
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) throw new Error('requestAdapter() returned null in the worker');
  const device = await adapter.requestDevice();
  const errors: string[] = [];
  device.pushErrorScope('validation');

  const { rows, cols } = req;
  const module = device.createShaderModule({ code: WGSL });
  const info = await module.getCompilationInfo();
  for (const m of info.messages) if (m.type === 'error') errors.push(`WGSL ${m.lineNum}:${m.linePos} ${m.message}`);
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });

  const params = new ArrayBuffer(16);
  new Uint32Array(params, 0, 2).set([rows, cols]);
  new Float32Array(params, 8, 2).set([req.a, req.b]);
  const uni = device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(uni, 0, params);
  const xb = device.createBuffer({ size: req.x.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(xb, 0, req.x.buffer, req.x.byteOffset, req.x.byteLength);
  const yb = device.createBuffer({ size: rows * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const rb = device.createBuffer({ size: rows * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });

  const bind = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [
      { binding: 0, resource: { buffer: uni } },
      { binding: 1, resource: { buffer: xb } },
      { binding: 2, resource: { buffer: yb } },
    ],
  });
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bind);
  pass.dispatchWorkgroups(rows);
  pass.end();
  enc.copyBufferToBuffer(yb, 0, rb, 0, rows * 4);
  device.queue.submit([enc.finish()]);
  const err = await device.popErrorScope();
  if (err) errors.push(`validation: ${err.message}`);
  if (errors.length) throw new Error(errors.join('\n'));

  await rb.mapAsync(GPUMapMode.READ);
  const y = new Float32Array(rb.getMappedRange().slice(0));
  rb.unmap();
  for (const b of [uni, xb, yb, rb]) b.destroy();
  const ai = adapter.info;
  device.destroy();
  return {
    y,
    adapter: { vendor: ai.vendor, architecture: ai.architecture, description: ai.description },
    workerIsolated: scope.crossOriginIsolated,
  };
}

scope.onmessage = (e: MessageEvent<Request>) => {
  console.log(`affine-mean worker: ${e.data.rows} x ${e.data.cols}`);
  run(e.data).then(
    (res) => scope.postMessage({ ok: true, ...res }, [res.y.buffer]),
    (err: unknown) => scope.postMessage({ ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  );
};
