/**
 * Page-side helpers for the embed() API tests: bad input, typed errors across the worker,
 * cancellation, concurrency, a crashed worker. Errors come back described as plain data.
 */
import * as lib from '../../../src/index.ts';
import { fixtureUrl } from './embed.ts';
import { describeBuffer, gpuBufferMark, liveGpuBuffers, trackGpuBuffers } from './gpu-buffers.ts';

export type { ErrorInfo } from './errors.ts';
import { errorInfo as info, type ErrorInfo } from './errors.ts';

async function caught(p: Promise<unknown>): Promise<ErrorInfo | 'resolved'> {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    return info(e);
  }
}

export async function badInput(name: string) {
  const e = await lib.createEmbedder({ model: fixtureUrl(name), device: 'wasm' });
  const empty = await e.embed([]);
  const out = {
    emptyLength: empty.length,
    nonString: await caught(e.embed(['fine', 42 as unknown as string])),
    notArray: await caught(e.embed('one text' as unknown as string[])),
    dimensions: await caught(e.embed(['fine'], { dimensions: 33 })),
    task: await caught(e.embed(['fine'], { task: 'summary' as unknown as 'query' })),
    // after all those, the embedder still works
    stillWorks: (await e.embed(['fine'])).length,
    afterDispose: 'resolved' as ErrorInfo | 'resolved',
  };
  await e.dispose();
  out.afterDispose = await caught(e.embed(['fine']));
  return out;
}

export async function loadErrors(folders: Record<string, string>) {
  const out: Record<string, ErrorInfo | 'resolved'> = {};
  for (const [what, path] of Object.entries(folders)) {
    out[what] = await caught(lib.createEmbedder({ model: new URL(path, location.href).href, device: 'wasm' }));
  }
  return out;
}

/** WebGPU taken away (as in a browser without it): 'webgpu' must throw, 'auto' must say why it chose wasm. */
export async function withoutWebGPU(name: string) {
  Object.defineProperty(navigator, 'gpu', { value: undefined, configurable: true });
  const webgpu = await caught(lib.createEmbedder({ model: fixtureUrl(name), device: 'webgpu', worker: false }));
  const auto = await lib.createEmbedder({ model: fixtureUrl(name), device: 'auto', worker: false });
  const result = { webgpu, auto: { device: auto.info.device, reason: auto.info.deviceReason }, vector: (await auto.embed(['hello']))[0]!.length };
  await auto.dispose();
  return result;
}

export async function autoChoice(name: string) {
  const e = await lib.createEmbedder({ model: fixtureUrl(name) });
  const r = { device: e.info.device, reason: e.info.deviceReason, fallback: e.info.adapter.isFallbackAdapter };
  await e.dispose();
  return r;
}

const TEXTS = Array.from({ length: 12 }, (_, i) => `text number ${i} ${'about bread and butter '.repeat(1 + (i % 4))}`.trim());

/** Many calls at once from several places, compared with the same calls one by one. */
export async function concurrent(a: string, b: string) {
  const ea = await lib.createEmbedder({ model: fixtureUrl(a), device: 'webgpu' });
  const eb = await lib.createEmbedder({ model: fixtureUrl(b), device: 'webgpu' });
  const calls = TEXTS.map((t, i) => [i % 2 ? eb : ea, [t, TEXTS[(i + 5) % TEXTS.length]!]] as const);
  const together = await Promise.all(calls.map(([e, texts]) => e.embed([...texts])));
  const alone: Float32Array[][] = [];
  for (const [e, texts] of calls) alone.push(await e.embed([...texts]));
  let maxDiff = 0;
  together.forEach((r, i) => r.forEach((v, j) => v.forEach((x, k) => (maxDiff = Math.max(maxDiff, Math.abs(x - alone[i]![j]![k]!))))));
  await Promise.all([ea.dispose(), eb.dispose()]);
  return { calls: calls.length, maxDiff };
}

/** Abort a queued call and a running one; the embedder stays usable and right. */
export async function cancellation(name: string) {
  const e = await lib.createEmbedder({ model: fixtureUrl(name), device: 'webgpu', limits: { maxBatchSize: 2 } });
  const reference = await e.embed(TEXTS);

  // queued: B waits behind A; aborting B rejects it at once, A is unaffected
  const a = e.embed(TEXTS);
  const ac = new AbortController();
  const b = e.embed(TEXTS, { signal: ac.signal });
  const t0 = performance.now();
  ac.abort();
  const queued = await caught(b);
  const queuedMs = performance.now() - t0;
  const aResult = await a;

  // running: abort after the first batch; it stops at a batch boundary
  const running = new AbortController();
  let batchesDone = 0;
  const c = e.embed(TEXTS, {
    signal: running.signal,
    onProgress: (p) => {
      if (p.status === 'embed' && ++batchesDone === 1) running.abort();
    },
  });
  const runningErr = await caught(c);

  // already aborted before the call
  const pre = await caught(e.embed(TEXTS, { signal: AbortSignal.abort() }));

  const after = await e.embed(TEXTS);
  const diff = (x: Float32Array[], y: Float32Array[]) => Math.max(...x.map((v, i) => Math.max(...v.map((q, k) => Math.abs(q - y[i]![k]!)))));
  await e.dispose();
  return { queued, queuedMs, aDiff: diff(aResult, reference), runningErr, batchesDone, pre, afterDiff: diff(after, reference) };
}

/** The worker dies mid-call: the call rejects with a clear error and the next one starts a new worker. */
export async function workerCrash(name: string) {
  const e = await lib.createEmbedder({ model: fixtureUrl(name), device: 'wasm' });
  const pending = e.embed(TEXTS);
  lib.terminateEngineWorker();
  const crashed = await caught(pending);
  const again = await lib.createEmbedder({ model: fixtureUrl(name), device: 'wasm' });
  const r = await again.embed(['hello']);
  await again.dispose();
  return { crashed, recovered: r.length === 1 && r[0]!.length > 0 };
}

/** Bytes read back per batch and buffers left after dispose, through the public stats(). */
export async function readback(name: string, dims: number) {
  const e = await lib.createEmbedder({ model: fixtureUrl(name), device: 'webgpu' });
  await e.embed(['one', 'two words', 'three small words'], { dimensions: dims });
  const stats = await e.stats();
  await e.dispose();
  return stats;
}

/**
 * The engine in this page (worker: false), so its GPU buffers can be counted (gpu-buffers.ts):
 * those made by our code (src/) while it works and after dispose(), and the engine's own count
 * read after dispose().
 */
export async function disposeLeavesNoBuffer(name: string, dims: number) {
  trackGpuBuffers();
  const mark = gpuBufferMark();
  const ours = () => liveGpuBuffers(mark).filter((b) => b.by === 'webgpu-embed');
  const e = await lib.createEmbedder({ model: fixtureUrl(name), device: 'webgpu', worker: false });
  await e.embed(['one', 'two words', 'three small words'], { dimensions: dims });
  const during = { ours: ours().length, stats: (await e.stats()).liveGpuBuffers };
  await e.dispose();
  return { during, left: ours().map(describeBuffer), statsAfter: (await e.stats()).liveGpuBuffers };
}

/** An fp16 file asked for on an adapter without 'shader-f16' (SwiftShader), and the automatic choice. */
export async function fp16WithoutShaderF16(name: string) {
  const asked = await caught(lib.createEmbedder({ model: fixtureUrl(name), device: 'webgpu', dtype: 'fp16' }));
  const auto = await lib.createEmbedder({ model: fixtureUrl(name), device: 'webgpu' });
  const r = { asked, autoDtype: auto.info.dtype, length: (await auto.embed(['hello']))[0]!.length };
  await auto.dispose();
  return r;
}

/** A model on the wasm path with fp16 weights: the hidden states come back as float16 and are pooled on the CPU. */
export async function fp16OnWasm(name: string) {
  const e16 = await lib.createEmbedder({ model: fixtureUrl(name), device: 'wasm', dtype: 'fp16' });
  const e32 = await lib.createEmbedder({ model: fixtureUrl(name), device: 'wasm', dtype: 'fp32' });
  const texts = ['hello world', 'a second text about bread'];
  const [a, b] = [await e16.embed(texts), await e32.embed(texts)];
  const cos = a.map((v, i) => v.reduce((s, x, k) => s + x * b[i]![k]!, 0));
  const dtypes = [e16.info.dtype, e32.info.dtype];
  await Promise.all([e16.dispose(), e32.dispose()]);
  return { cos, dtypes };
}
