/**
 * The browser layer's foundation: a real Chromium with WebGPU (SwiftShader here), a module
 * Web Worker running WGSL, onnxruntime-web placing the encoder on its WebGPU EP, and our own
 * kernel reading ORT's output buffer on ORT's device. Everything later (embed(), the cache,
 * rerank) stands on these four facts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMPUTE_OPS, CPU_ALLOWED_OPS, opCounts, parsePlacement, summarizePlacement } from './harness/ort-placement.ts';
import { MODELS_PATH, ORT_DIST_PATH, REPO_ROOT, useBrowser } from './harness/index.ts';
import type { EncoderInput, EncoderRun, GpuPoolResult, GpuReport, ThreadsResult, WorkerKernelResult } from './pages/foundation.ts';

const PAGE = '/test/browser/pages/foundation.ts';
const MODEL_DIR = join(REPO_ROOT, 'test', 'fixtures', 'models', 'tiny-e5');
const MODEL_URL = `${MODELS_PATH}tiny-e5/onnx/model.onnx`;

const ctx = useBrowser();

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Deterministic uniform numbers in [-1, 1) (mulberry32). */
function randoms(n: number, seed: number): number[] {
  let s = seed >>> 0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let t = (s = (s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out.push((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1);
  }
  return out;
}

/** Two short texts as token ids, looked up whole-word in the fixture's WordPiece vocab, right-padded. */
function encoderInput(): EncoderInput {
  if (!existsSync(join(MODEL_DIR, 'onnx', 'model.onnx'))) {
    throw new Error(`fixture tiny-e5 is missing at ${MODEL_DIR}: run \`npm run fixtures\` (vitest's global setup builds it)`);
  }
  const vocab = (JSON.parse(readFileSync(join(MODEL_DIR, 'tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number> } })
    .model.vocab;
  const id = (w: string) => {
    const v = vocab[w];
    if (v === undefined) throw new Error(`"${w}" is not in tiny-e5's vocab`);
    return v;
  };
  const rows = [
    ['[CLS]', 'query', ':', 'hello', 'world', '[SEP]'],
    ['[CLS]', 'passage', ':', 'test', '[SEP]'],
  ].map((r) => r.map(id));
  const T = Math.max(...rows.map((r) => r.length));
  return {
    ids: rows.map((r) => [...r, ...Array<number>(T - r.length).fill(id('[PAD]'))]),
    mask: rows.map((r) => [...r.map(() => 1), ...Array<number>(T - r.length).fill(0)]),
  };
}

/** Masked mean over the sequence axis of a [B,T,H] array, in float64. */
function meanPool(hidden: number[], mask: number[][], H: number): number[] {
  const B = mask.length;
  const T = mask[0]!.length;
  const out: number[] = [];
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      let acc = 0;
      let n = 0;
      for (let t = 0; t < T; t++) {
        const m = mask[b]![t]!;
        acc += m * hidden[(b * T + t) * H + h]!;
        n += m;
      }
      out.push(acc / Math.max(n, 1e-9));
    }
  }
  return out;
}

describe('browser foundation', () => {
  it('serves the repo cross-origin isolated: TS pages, bare imports, ORT dist files byte for byte, fixture models', async () => {
    const t0 = performance.now();
    const { server } = ctx;
    for (const [path, type] of [
      [`${ORT_DIST_PATH}ort-wasm-simd-threaded.asyncify.mjs`, 'text/javascript'],
      [`${ORT_DIST_PATH}ort-wasm-simd-threaded.asyncify.wasm`, 'application/wasm'],
      [MODEL_URL, null],
    ] as const) {
      const res = await fetch(server.url(path));
      expect(res.status, path).toBe(200);
      expect(res.headers.get('cross-origin-opener-policy'), path).toBe('same-origin');
      expect(res.headers.get('cross-origin-embedder-policy'), path).toBe('require-corp');
      if (type) expect(res.headers.get('content-type'), path).toContain(type);
      const body = new Uint8Array(await res.arrayBuffer());
      const file = path.startsWith(ORT_DIST_PATH)
        ? join(REPO_ROOT, 'node_modules', 'onnxruntime-web', 'dist', path.slice(ORT_DIST_PATH.length))
        : join(REPO_ROOT, path);
      expect(Buffer.from(body).equals(readFileSync(file)), `${path} is served unchanged`).toBe(true);
    }
    // a TypeScript page module is transpiled, and the page is cross-origin isolated
    const isolated = await ctx.browser.page.evaluate('crossOriginIsolated');
    expect(isolated).toBe(true);
    // bare imports of the runtime dependencies resolve in page code
    const bare = await ctx.call<Record<string, string>>('/test/browser/pages/bare-imports.ts', 'bareImports');
    expect(bare).toEqual({ comlink: 'function', idbKeyval: '42', tokenizers: 'function' });
    console.log(`server checks: ${(performance.now() - t0).toFixed(0)} ms`);
  });

  it("onnxruntime-web's wasm threads start (SharedArrayBuffer, pthread workers from the served .mjs)", async () => {
    const t0 = performance.now();
    const input = encoderInput();
    const r = await ctx.call<ThreadsResult>(PAGE, 'wasmThreads', MODEL_URL, input);
    expect(r.sharedArrayBuffer).toBe(true);
    expect(r.numThreads).toBe(2); // ORT lowers it to 1, with a warning, when threads cannot start
    expect(r.dims).toEqual([input.ids.length, input.ids[0]!.length, 32]);
    const pthreads = ctx.browser.logs.filter((e) => e.source.startsWith('worker:') && e.source.includes('ort-wasm-simd-threaded') && e.text === 'worker started');
    expect(pthreads.length, 'pthread workers started').toBeGreaterThan(0);
    console.log(`wasm threads: ${pthreads.length} pthread worker(s), ${(performance.now() - t0).toFixed(0)} ms`);
  });

  it('(a) navigator.gpu gives an adapter and a device', async () => {
    const t0 = performance.now();
    const r = await ctx.call<GpuReport>(PAGE, 'gpuReport');
    console.log('adapter:', JSON.stringify(r.adapter, null, 2));
    expect(r.crossOriginIsolated).toBe(true);
    expect(r.hasGpu, 'navigator.gpu (is --enable-unsafe-webgpu on?)').toBe(true);
    expect(r.adapter, 'requestAdapter() returned null').not.toBeNull();
    expect(r.deviceError).toBeUndefined();
    expect(r.deviceCreated).toBe(true);
    const limits = r.adapter!.limits;
    expect(limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 * 1024 * 1024);
    expect(limits.maxComputeInvocationsPerWorkgroup).toBeGreaterThanOrEqual(256);
    console.log(`(a) ${(performance.now() - t0).toFixed(0)} ms`);
  });

  it('(b) a WGSL compute shader runs in a module Web Worker', async () => {
    const t0 = performance.now();
    const rows = 37;
    const cols = 1000; // not a multiple of the workgroup size (256)
    const a = 1.75;
    const b = -0.25;
    const x = randoms(rows * cols, 1234).map((v) => Math.fround(v));
    const r = await ctx.call<WorkerKernelResult>(PAGE, 'workerKernel', x, rows, cols, a, b);
    const want: number[] = [];
    for (let i = 0; i < rows; i++) {
      let s = 0;
      for (let c = 0; c < cols; c++) s += a * x[i * cols + c]! + b;
      want.push(s / cols);
    }
    const diff = maxAbsDiff(r.y, want);
    console.log(`(b) worker adapter ${JSON.stringify(r.adapter)}, isolated ${r.workerIsolated}, max |diff| ${diff.toExponential(2)}, in-page ${r.ms.toFixed(0)} ms`);
    expect(r.workerIsolated).toBe(true);
    expect(diff).toBeLessThanOrEqual(1e-5);
    // the worker's console reached the harness' log (Playwright reports worker console on the page)
    expect(ctx.browser.logs.some((e) => e.source.startsWith('worker:') && e.text.includes('affine-mean worker'))).toBe(true);
    console.log(`(b) ${(performance.now() - t0).toFixed(0)} ms`);
  });

  it('(c) onnxruntime-web places the encoder on WebGPU and matches its wasm EP', async () => {
    const t0 = performance.now();
    const input = encoderInput();
    const gpu = await ctx.call<EncoderRun>(PAGE, 'encoderRun', MODEL_URL, 'webgpu', input);
    const WEBGPU = 'WebGpuExecutionProvider';
    const placement = parsePlacement(gpu.sessionLog);
    console.log(`(c) ORT placement (webgpu session):\n${summarizePlacement(placement, WEBGPU)}`);
    expect(placement.lines.length, `no placement lines in ORT's log:\n${gpu.sessionLog.slice(-30).join('\n')}`).toBeGreaterThan(0);
    const onGpu = opCounts(placement, WEBGPU);
    const onOther = Object.entries(placement.providers).filter(([ep]) => ep !== WEBGPU);
    if (placement.allOn !== WEBGPU) {
      // Some nodes elsewhere: only shape/integer bookkeeping may be (ORT puts Shape, Gather on
      // shapes, Range, int64 Casts on the CPU on purpose); no arithmetic of the encoder.
      const misplaced = onOther.flatMap(([ep, v]) => v.nodes.filter((n) => COMPUTE_OPS.has(n.op)).map((n) => `${ep}: ${n.op} (${n.name})`));
      expect(misplaced, 'compute nodes placed off WebGPU').toEqual([]);
      const unexpected = onOther.flatMap(([ep, v]) => v.nodes.filter((n) => !CPU_ALLOWED_OPS.has(n.op)).map((n) => `${ep}: ${n.op} (${n.name})`));
      expect(unexpected, 'nodes off WebGPU that are not shape/integer bookkeeping').toEqual([]);
      // a per-node list must have come with each "Node(s) placed" header
      for (const [ep, v] of onOther) expect(v.nodes.length, `node list for ${ep}`).toBe(v.count);
      for (const op of ['MatMul', 'Softmax', 'LayerNormalization']) {
        expect(onGpu[op] ?? 0, `${op} nodes on WebGPU (WebGPU ops: ${JSON.stringify(onGpu)})`).toBeGreaterThan(0);
      }
      // the encoder's work is on the GPU: the CPU side is a handful of nodes
      const gpuCount = placement.providers[WEBGPU]?.count ?? 0;
      const otherCount = onOther.reduce((s, [, v]) => s + v.count, 0);
      expect(gpuCount).toBeGreaterThan(otherCount * 4);
    }

    const cpu = await ctx.call<EncoderRun>(PAGE, 'encoderRun', MODEL_URL, 'wasm', input);
    const cpuPlacement = parsePlacement(cpu.sessionLog);
    console.log(`(c) ORT placement (wasm session): ${cpuPlacement.lines.filter((l) => !l.startsWith('  ')).join(' | ')}`);
    expect(Object.keys(cpuPlacement.providers)).toEqual(['CPUExecutionProvider']);

    const B = input.ids.length;
    const T = input.ids[0]!.length;
    expect(gpu.dims).toEqual([B, T, 32]);
    expect(cpu.dims).toEqual(gpu.dims);
    expect(gpu.location).toBe('cpu'); // read back by getData()
    const diff = maxAbsDiff(gpu.output, cpu.output);
    const scale = Math.max(...cpu.output.map(Math.abs));
    console.log(
      `(c) webgpu create ${gpu.createMs.toFixed(0)} ms run ${gpu.runMs.toFixed(0)} ms; wasm create ${cpu.createMs.toFixed(0)} ms run ${cpu.runMs.toFixed(0)} ms; ` +
        `max |webgpu - wasm| ${diff.toExponential(2)} (max |y| ${scale.toFixed(2)})`,
    );
    expect(gpu.output.every(Number.isFinite)).toBe(true);
    expect(diff).toBeLessThanOrEqual(1e-4);
    console.log(`(c) ${(performance.now() - t0).toFixed(0)} ms`);
  });

  it("(d) our WGSL kernel pools ORT's output on ORT's device, straight from its GPU buffer", async () => {
    const t0 = performance.now();
    const input = encoderInput();
    const gpu = await ctx.call<GpuPoolResult>(PAGE, 'gpuMeanPool', MODEL_URL, input);
    const cpu = await ctx.call<EncoderRun>(PAGE, 'encoderRun', MODEL_URL, 'wasm', input);
    const H = cpu.dims[2]!;
    const want = meanPool(cpu.output, input.mask, H);
    const diff = maxAbsDiff(gpu.pooled, want);
    console.log(
      `(d) output location ${gpu.outputLocation}, buffer ${gpu.bufferSize} bytes usage 0x${gpu.bufferUsage.toString(16)}, ` +
        `ORT adapter ${JSON.stringify(gpu.ortAdapterInfo)}; create ${gpu.createMs.toFixed(0)} ms run ${gpu.runMs.toFixed(0)} ms ` +
        `pool+readback ${gpu.poolMs.toFixed(0)} ms; max |gpu pool - wasm pool| ${diff.toExponential(2)}`,
    );
    expect(gpu.outputLocation).toBe('gpu-buffer');
    expect(gpu.ortDeviceIsGpuDevice).toBe(true);
    expect(gpu.B).toBe(input.ids.length);
    expect(gpu.H).toBe(H);
    expect(gpu.bufferSize).toBeGreaterThanOrEqual(gpu.B * input.ids[0]!.length * H * 4);
    expect(gpu.bufferUsage & 0x80, 'ORT output buffer has STORAGE usage').toBe(0x80);
    expect(gpu.pooled).toHaveLength(gpu.B * H);
    expect(diff).toBeLessThanOrEqual(1e-4);
    console.log(`(d) ${(performance.now() - t0).toFixed(0)} ms`);
  });
});
