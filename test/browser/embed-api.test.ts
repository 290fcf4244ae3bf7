/**
 * embed()'s behaviour as a user meets it, in real Chromium with the engine in its worker: bad
 * input gets typed errors that cross the worker boundary as their own classes; device choice;
 * cancellation; many calls at once; a worker that dies; readback size; nothing left on the GPU
 * after dispose().
 */
import type { Connect } from 'vite';
import { describe, expect, it } from 'vitest';
import type { ErrorInfo } from './pages/embed-api.ts';
import { useBrowser } from './harness/index.ts';

const ctx = useBrowser();
const API = '/test/browser/pages/embed-api.ts';

// /broken/<case>/… serves the tiny-e5 fixture with one file replaced, as a bad server would.
const broken: Connect.NextHandleFunction = (req, res, next) => {
  const m = /^\/broken\/([a-z-]+)\/(.*)$/.exec(req.url ?? '');
  if (!m) return next();
  const [, kind, file] = m;
  if (kind === 'html-onnx' && file === 'onnx/model.onnx') {
    res.setHeader('content-type', 'text/html');
    return res.end('<!DOCTYPE html><html><body>Sign in to continue</body></html>');
  }
  if (kind === 'truncated-onnx' && file === 'onnx/model.onnx') {
    res.setHeader('content-type', 'application/octet-stream');
    return res.end(Buffer.from([0x08, 0x08, 0x12, 0x05, 0x61]));
  }
  if (kind === 'no-tokenizer' && file === 'tokenizer.json') {
    res.statusCode = 404;
    return res.end('not found');
  }
  req.url = `/test/fixtures/models/tiny-e5/${file}`;
  next();
};

function expectError(e: ErrorInfo | 'resolved', cls: string, message: RegExp): ErrorInfo {
  expect(e).not.toBe('resolved');
  const err = e as ErrorInfo;
  expect(err.is).toContain(cls);
  expect(err.message).toMatch(message);
  return err;
}

describe('embed() in the worker: input, errors, devices', () => {
  it('answers bad input with typed errors that say what to do, and stays usable', async () => {
    const r = await ctx.call<Record<string, ErrorInfo | 'resolved' | number>>(API, 'badInput', 'tiny-e5');
    expect(r.emptyLength).toBe(0);
    expectError(r.nonString as ErrorInfo, 'TypeError', /texts\[1\] is the number 42, not a string/);
    expectError(r.notArray as ErrorInfo, 'TypeError', /wrap a single text as \[text\]/);
    // Matryoshka is any 1..full on any model (sentence-transformers' truncate_dim): past the full width is the error
    expectError(r.dimensions as ErrorInfo, 'RangeError', /dimensions must be an integer from 1 to 32 .*got the number 33/);
    expectError(r.task as ErrorInfo, 'RangeError', /task must be one of 'query', 'document', got the string "summary"/);
    expect(r.stillWorks).toBe(1);
    expectError(r.afterDispose as ErrorInfo, 'DisposedError', /create a new one/);
  });

  it('reports a model that cannot load with a ModelLoadError naming the file', async () => {
    ctx.server.use(broken);
    try {
      const r = await ctx.call<Record<string, ErrorInfo | 'resolved'>>(API, 'loadErrors', {
        missing: '/test/fixtures/models/no-such-model/',
        noTokenizer: '/broken/no-tokenizer/',
        htmlOnnx: '/broken/html-onnx/',
        truncatedOnnx: '/broken/truncated-onnx/',
      });
      expect(expectError(r.missing!, 'ModelFileNotFoundError', /no config\.json .*not found/).url).toMatch(/no-such-model\/config\.json$/);
      expect(expectError(r.noTokenizer!, 'ModelLoadError', /not found/).url).toMatch(/tokenizer\.json$/);
      expect(expectError(r.htmlOnnx!, 'ModelFileIsHtmlError', /answered with a web page/).url).toMatch(/onnx\/model[a-z0-9_]*\.onnx$/);
      expect(expectError(r.truncatedOnnx!, 'ModelLoadError', /.+/).url).toMatch(/onnx\/model\.onnx$/);
    } finally {
      ctx.server.remove(broken);
    }
  });

  it("refuses an fp16 file on WebGPU without 'shader-f16' before downloading, and picks fp32 by itself", async () => {
    const r = await ctx.call<{ asked: ErrorInfo; autoDtype: string; length: number }>(API, 'fp16WithoutShaderF16', 'minilm-shape');
    expectError(r.asked, 'DtypeUnsupportedError', /shader-f16.*use dtype 'fp32'/);
    expect(r.autoDtype).toBe('fp32');
    expect(r.length).toBe(384);
  });

  it('runs an fp16 export on the wasm path: float16 hidden states pooled on the CPU, close to fp32', async () => {
    const r = await ctx.call<{ cos: number[]; dtypes: string[] }>(API, 'fp16OnWasm', 'minilm-shape');
    expect(r.dtypes).toEqual(['fp16', 'fp32']);
    for (const c of r.cos) expect(c).toBeGreaterThan(0.9999);
  });

  it("'auto' does not take SwiftShader for a GPU, and says why", async () => {
    const r = await ctx.call<{ device: string; reason: string; fallback: boolean }>(API, 'autoChoice', 'tiny-e5');
    expect(r.fallback).toBe(true);
    expect(r.device).toBe('wasm');
    expect(r.reason).toMatch(/software fallback/);
  });

  it("without WebGPU, 'webgpu' is a WebGPUUnavailableError and 'auto' runs on wasm", async () => {
    const r = await ctx.call<{ webgpu: ErrorInfo; auto: { device: string; reason: string }; vector: number }>(API, 'withoutWebGPU', 'tiny-e5');
    expectError(r.webgpu, 'WebGPUUnavailableError', /navigator\.gpu is missing.*device: 'auto'/s);
    expect(r.auto.device).toBe('wasm');
    expect(r.auto.reason).toMatch(/no WebGPU/);
    expect(r.vector).toBe(32);
  });
});

describe('embed() in the worker: concurrency, cancellation, crashes, resources', () => {
  it('answers many calls at once on two embedders, each with the result it gets alone', async () => {
    const r = await ctx.call<{ calls: number; maxDiff: number }>(API, 'concurrent', 'tiny-e5', 'glove-sif');
    expect(r.calls).toBe(12);
    expect(r.maxDiff).toBeLessThanOrEqual(1e-6);
  });

  it('cancels a queued call at once and a running one at a batch boundary; the embedder stays right', async () => {
    const r = await ctx.call<{
      queued: ErrorInfo; queuedMs: number; aDiff: number; runningErr: ErrorInfo; batchesDone: number; pre: ErrorInfo; afterDiff: number;
    }>(API, 'cancellation', 'tiny-e5');
    expect(r.queued.name).toBe('AbortError');
    expect(r.queuedMs).toBeLessThan(1000);
    expect(r.aDiff).toBeLessThanOrEqual(1e-6);
    expect(r.runningErr.name).toBe('AbortError');
    expect(r.batchesDone).toBeLessThan(6); // 12 texts in batches of 2: it stopped early
    expect(r.pre.name).toBe('AbortError');
    expect(r.afterDiff).toBeLessThanOrEqual(1e-6);
  });

  it('rejects pending calls with WorkerCrashedError when the worker dies, and recovers on the next call', async () => {
    const r = await ctx.call<{ crashed: ErrorInfo; recovered: boolean }>(API, 'workerCrash', 'tiny-e5');
    expectError(r.crashed, 'WorkerCrashedError', /next call starts a new one/);
    expect(r.recovered).toBe(true);
  });

  it('reads back only batch × dimensions × 4 bytes, and dispose() leaves no buffer of ours', async () => {
    const stats = await ctx.call<{ liveGpuBuffers: number; lastReadbackBytes: number }>(API, 'readback', 'tiny-e5', 32);
    expect(stats.lastReadbackBytes).toBe(3 * 32 * 4);
    // counted in the page (the engine there): buffers our code made are alive while it works, none after dispose()
    const r = await ctx.call<{ during: { ours: number; stats: number }; left: string[]; statsAfter: number }>(API, 'disposeLeavesNoBuffer', 'tiny-e5', 32);
    expect(r.during.ours).toBeGreaterThan(0);
    expect(r.during.stats).toBeGreaterThan(0);
    expect(r.left).toEqual([]);
    expect(r.statsAfter).toBe(0);
  });

  it('dispose() destroys every GPU buffer made for the model, onnxruntime-web\'s included', async () => {
    for (const model of ['tiny-e5', 'tiny-nv-embed']) {
      const r = await ctx.call<{ during: number; left: string[] }>('/test/browser/pages/embed-lifecycle.ts', 'lifecycle', model, ['hello world', 'the cat sat on the mat today']);
      expect(r.during).toBeGreaterThan(10);
      expect(r.left).toEqual([]);
    }
  });

  it('recovers from a lost GPU device: the call in flight fails clearly, the next ones run on a new device', async () => {
    const r = await ctx.call<{ newDevice: boolean; idleDiff: number; midCall: ErrorInfo | 'resolved'; midDiff: number }>(
      '/test/browser/pages/embed-lifecycle.ts', 'deviceLost', 'tiny-e5');
    expect(r.newDevice).toBe(true);
    expect(r.idleDiff).toBeLessThanOrEqual(1e-6);
    // Lost between batches of the call: the rest of the call fails with the typed error.
    expect(r.midCall).not.toBe('resolved');
    expect((r.midCall as ErrorInfo).name).toBe('GpuDeviceLostError');
    expect((r.midCall as ErrorInfo).message).toMatch(/next call runs on a new device/);
    expect(r.midDiff).toBeLessThanOrEqual(1e-6);
  });
});
