/**
 * Page side of `npm run bench` (bench/run.ts): webgpu-embed against transformers.js'
 * feature-extraction pipeline in this page, on the same model files, device, dtype, pooling and
 * normalization, alternating A and B.
 *
 * What is counted, for both libraries alike, by hooks on the WebGPU API in this page:
 *  - GPU buffer bytes alive (GPUDevice.createBuffer / GPUBuffer.destroy), per library: each
 *    library's onnxruntime-web asks for its own GPUDevice, and the device a buffer was made on
 *    says whose it is (GPUAdapter.requestDevice is labelled with the library loading at the time);
 *  - bytes read back from the GPU: every mapAsync(GPUMapMode.READ), per library;
 *  - JS heap: performance.memory.usedJSHeapSize (Chromium, precise with --enable-precise-memory-info),
 *    sampled every 10 ms while a library runs.
 * webgpu-embed runs with worker: false here (in this page, as transformers.js does), so its
 * buffers and heap are counted the same way; the long-task measure uses its worker (the default).
 */
import { clearCache, createEmbedder, type Embedder } from '../../src/index.ts';
import { paddingRatio, planBatches } from '../../src/engine/batching.ts';
import { probeAdapter, type AdapterReport } from '../../src/runtime/adapter.ts';
import { corpus, median, type CorpusKind } from '../corpus.ts';
import { configureTjs, type Tjs } from './tjs-env.ts';

type Lib = 'webgpu-embed' | 'transformers.js';
type Device = 'webgpu' | 'wasm';
/** transformers.js' dtype names, which webgpu-embed takes too (each names one file of the folder's onnx/) */
type Dtype = 'fp32' | 'fp16' | 'q8' | 'q4' | 'q4f16';

// ---------------------------------------------------------------- WebGPU accounting

interface Owned {
  live: number;
  peak: number;
  readback: number;
  /** sizes of the READ mappings since the last reset */
  maps: number[];
}
const owners = new Map<string, Owned>();
const own = (name: string) => {
  let o = owners.get(name);
  if (!o) owners.set(name, (o = { live: 0, peak: 0, readback: 0, maps: [] }));
  return o;
};
let loading = 'other';
const deviceOwner = new WeakMap<GPUDevice, string>();
const bufferInfo = new WeakMap<GPUBuffer, { owner: string; size: number; destroyed: boolean }>();

function hookWebGpu(): void {
  const g = globalThis as { __benchHooked?: boolean };
  if (g.__benchHooked || typeof GPUDevice === 'undefined') return;
  g.__benchHooked = true;
  const requestDevice = GPUAdapter.prototype.requestDevice;
  GPUAdapter.prototype.requestDevice = async function (this: GPUAdapter, d?: GPUDeviceDescriptor) {
    const owner = loading;
    const device = await requestDevice.call(this, d);
    deviceOwner.set(device, owner);
    return device;
  };
  const create = GPUDevice.prototype.createBuffer;
  GPUDevice.prototype.createBuffer = function (this: GPUDevice, d: GPUBufferDescriptor) {
    const b = create.call(this, d);
    const owner = deviceOwner.get(this) ?? 'other';
    bufferInfo.set(b, { owner, size: d.size, destroyed: false });
    const o = own(owner);
    o.live += d.size;
    o.peak = Math.max(o.peak, o.live);
    return b;
  };
  const destroy = GPUBuffer.prototype.destroy;
  GPUBuffer.prototype.destroy = function (this: GPUBuffer) {
    const i = bufferInfo.get(this);
    if (i && !i.destroyed) {
      i.destroyed = true;
      own(i.owner).live -= i.size;
    }
    return destroy.call(this);
  };
  const mapAsync = GPUBuffer.prototype.mapAsync;
  GPUBuffer.prototype.mapAsync = function (this: GPUBuffer, mode: number, offset?: number, size?: number) {
    if (mode & GPUMapMode.READ) {
      const i = bufferInfo.get(this);
      const bytes = size ?? this.size - (offset ?? 0);
      const o = own(i?.owner ?? 'other');
      o.readback += bytes;
      o.maps.push(bytes);
    }
    return mapAsync.call(this, mode, offset, size);
  };
}

// ---------------------------------------------------------------- JS heap

const heapNow = () => (performance as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? NaN;

/**
 * The heap is sampled by a 10 ms timer and at every batch boundary (sampleHeap(), called by the
 * runners right after a batch's outputs arrive, while they are still alive): a library that
 * blocks the main thread for a whole call (transformers.js on wasm) starves the timer.
 */
let heapPeak = NaN;
function sampleHeap(): void {
  heapPeak = Math.max(heapPeak, heapNow());
}
(globalThis as { __benchSampleHeap?: () => void }).__benchSampleHeap = sampleHeap;

/** Runs fn while sampling the JS heap; returns fn's result and the peak over the heap at the start. */
async function withHeap<R>(fn: () => Promise<R>): Promise<{ value: R; heapDelta: number; heapPeak: number }> {
  const start = heapNow();
  heapPeak = start;
  const timer = setInterval(sampleHeap, 10);
  try {
    const value = await fn();
    sampleHeap();
    return { value, heapDelta: heapPeak - start, heapPeak };
  } finally {
    clearInterval(timer);
  }
}

// ---------------------------------------------------------------- the environment

export interface PageEnvironment {
  userAgent: string;
  hardwareConcurrency: number;
  crossOriginIsolated: boolean;
  adapter: AdapterReport;
  /** GPUAdapterInfo as given (vendor, architecture, device, description) */
  adapterInfo?: Record<string, unknown>;
}

export async function environment(): Promise<PageEnvironment> {
  const { report, adapter } = await probeAdapter();
  const info = adapter?.info as unknown as Record<string, unknown> | undefined;
  return {
    userAgent: navigator.userAgent,
    hardwareConcurrency: navigator.hardwareConcurrency,
    crossOriginIsolated: globalThis.crossOriginIsolated,
    adapter: report,
    ...(info ? { adapterInfo: { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description } } : {}),
  };
}

// ---------------------------------------------------------------- the two libraries

interface Runner {
  lib: Lib;
  /** embeds texts in batches of (at most) batchSize */
  run(texts: string[], batchSize: number): Promise<void>;
  /** where the last run's time went, by stage (ms), asked after the run's clock stopped */
  stages(): Promise<Stages | undefined>;
  /** tokens computed and real tokens for these texts at this batch size */
  padding(texts: string[], batchSize: number): Promise<{ computed: number; real: number; batches: number }>;
  dispose(): Promise<void>;
  info: Record<string, unknown>;
}

export interface CompareOptions {
  /** folder URL (absolute) of the model, for webgpu-embed */
  modelUrl: string;
  /** where transformers.js finds model folders ('/test/fixtures/models/') and the model's name there */
  modelsPath: string;
  model: string;
  device: Device;
  dtype: Dtype;
  /** transformers.js' pooling name: 'mean' | 'last_token' | 'cls' */
  pooling: string;
  /** where transformers.js' own onnxruntime-web dist is served */
  tjsOrt: string;
  /** webgpu-embed batch cap: B × maxTokens padded tokens (set above any text, so B alone cuts batches) */
  maxTokens: number;
  cases: { corpus: CorpusKind; texts: number; batchSize: number; fixedTokens?: number }[];
  /** timed runs per library and case, after one warm-up each (at least 5 for a median) */
  runs: number;
  /** wasm threads for both libraries (ORT's default when left out) */
  numThreads?: number;
}

async function ours(o: CompareOptions): Promise<Runner> {
  // Batch limits are per embedder: one embedder per batch size, made when a case first asks for
  // it (the one before is disposed first; cases come grouped by batch size).
  const embedders = new Map<number, Embedder>();
  const get = async (batchSize: number) => {
    let e = embedders.get(batchSize);
    if (!e) {
      for (const [k, old] of embedders) {
        await old.dispose();
        embedders.delete(k);
      }
      loading = 'webgpu-embed';
      e = await createEmbedder({
        model: o.modelUrl,
        device: o.device,
        dtype: o.dtype,
        worker: false,
        cache: false,
        limits: { maxBatchSize: batchSize, maxBatchTokens: batchSize * o.maxTokens },
        ...(o.numThreads ? { numThreads: o.numThreads } : {}),
      });
      embedders.set(batchSize, e);
    }
    return e;
  };
  const first = await get(o.cases[0]?.batchSize ?? 1);
  let last: Embedder | undefined;
  return {
    lib: 'webgpu-embed',
    info: { device: first.info.device, dtype: first.info.dtype, pooling: first.info.pooling, normalize: first.info.normalize, dimensions: first.info.dimensions, maxTokens: first.info.maxTokens, ...(first.info.threads !== undefined ? { threads: first.info.threads, threadsReason: first.info.threadsReason } : {}) },
    async run(texts, batchSize) {
      last = await get(batchSize);
      await last.embed(texts, { onProgress: sampleHeap });
    },
    async stages() {
      // the engine's own stage clock (stats().lastCall, src/engine/stage-clock.ts)
      const lastCall = last && (await last.stats()).lastCall;
      return lastCall ? (Object.fromEntries(Object.entries(lastCall).filter(([k]) => k.endsWith('Ms'))) as Stages) : undefined;
    },
    async padding(texts, batchSize) {
      const e = await get(batchSize);
      const lengths = (await e.countTokens(texts)).map((n) => Math.min(n, e.info.maxTokens));
      const batches = planBatches(lengths, { maxBatchSize: batchSize, maxBatchTokens: batchSize * o.maxTokens });
      const real = lengths.reduce((a, b) => a + b, 0);
      return { computed: Math.round(paddingRatio(lengths, batches) * real), real, batches: batches.length };
    },
    async dispose() {
      for (const e of embedders.values()) await e.dispose();
    },
  };
}

async function transformersJs(tjs: Tjs, o: CompareOptions): Promise<Runner> {
  loading = 'transformers.js';
  configureTjs(tjs, o.tjsOrt, o.modelsPath, false, o.numThreads);
  const extractor = await tjs.pipeline('feature-extraction', o.model, { device: o.device, dtype: o.dtype });
  type Tok = (t: string[], opts: Record<string, unknown>) => { input_ids: { dims: number[] }; attention_mask: { data: ArrayLike<bigint | number> } };
  const tokenizer = (extractor as unknown as { tokenizer: Tok }).tokenizer;
  // Its ORT session's run(), timed: the part of a call both libraries hand to onnxruntime-web.
  const session = (extractor as unknown as { model: { sessions: Record<string, { run: (...a: unknown[]) => Promise<unknown> }> } }).model.sessions['model']!;
  let ortMs = 0;
  let lastStages: Stages | undefined;
  const ortRun = session.run.bind(session);
  session.run = async (...a: unknown[]) => {
    const t0 = performance.now();
    try {
      return await ortRun(...a);
    } finally {
      ortMs += performance.now() - t0;
    }
  };
  return {
    lib: 'transformers.js',
    info: { version: tjs.env.version, pooling: o.pooling, normalize: true },
    async run(texts, batchSize) {
      // transformers.js has no batching of its own: an app cuts its texts into calls, in order
      ortMs = 0;
      const t0 = performance.now();
      for (let i = 0; i < texts.length; i += batchSize) {
        const out = await extractor(texts.slice(i, i + batchSize), { pooling: o.pooling as 'mean', normalize: true });
        sampleHeap();
        out.dispose?.();
      }
      const totalMs = performance.now() - t0;
      lastStages = { totalMs, runMs: ortMs, otherMs: totalMs - ortMs };
    },
    async stages() {
      return lastStages;
    },
    async padding(texts, batchSize) {
      let computed = 0, real = 0, batches = 0;
      for (let i = 0; i < texts.length; i += batchSize) {
        // what its pipeline asks of its tokenizer
        const t = tokenizer(texts.slice(i, i + batchSize), { padding: true, truncation: true });
        computed += t.input_ids.dims[0]! * t.input_ids.dims[1]!;
        for (const m of Array.from(t.attention_mask.data)) real += Number(m);
        batches++;
      }
      return { computed, real, batches };
    },
    async dispose() {
      await extractor.dispose();
    },
  };
}

/** ms by stage in one run: ours from stats().lastCall (tokenizeMs, planMs, waitMs, feedsMs, runMs, headMs, gatherMs, totalMs); transformers.js' ORT run() and the rest */
export type Stages = Record<string, number>;

export interface LibCase {
  lib: Lib;
  /** the stages of the median run (see Stages) */
  stages?: Stages;
  runsMs: number[];
  medianMs: number;
  textsPerSecond: number;
  /** real tokens (no padding) per second */
  tokensPerSecond: number;
  paddedTokens: number;
  realTokens: number;
  /** tokens computed / real tokens */
  paddingRatio: number;
  batches: number;
  /** bytes read back from the GPU (mapAsync READ) in one run, and per batch */
  readbackBytes: number;
  readbackPerBatch: number;
  /** the largest single READ mapping in a run */
  largestReadback: number;
  /** the largest JS heap growth over a run's start, and the heap's peak */
  heapDeltaBytes: number;
  heapPeakBytes: number;
  /** GPU bytes alive at the peak of this library's runs (its weights included) */
  peakGpuBytes: number;
}

export interface CaseResult {
  corpus: CorpusKind;
  texts: number;
  batchSize: number;
  fixedTokens?: number;
  results: LibCase[];
  /** webgpu-embed texts/s over transformers.js texts/s */
  speedup: number;
}

export interface CompareResult {
  model: string;
  device: Device;
  dtype: Dtype;
  runs: number;
  libraries: Record<Lib, Record<string, unknown>>;
  /** ORT's wasm threads as each library left them */
  wasmThreads?: Record<string, unknown>;
  cases: CaseResult[];
  loadMs: Record<Lib, number>;
}

/**
 * Loads both libraries on the same model (one after the other), then for each case: one warm-up
 * run of each, then `runs` timed runs alternating webgpu-embed, transformers.js, … .
 */
export async function compare(o: CompareOptions): Promise<CompareResult> {
  hookWebGpu();
  const tjs = await import('@huggingface/transformers');
  const t0 = performance.now();
  const a = await ours(o);
  const t1 = performance.now();
  const b = await transformersJs(tjs, o);
  const t2 = performance.now();
  const runners = [a, b];
  // wasm threads as each library left them: ours as its info says, transformers.js' as its onnxruntime-web's env (ORT's default: min(4, cores / 2))
  const wasmThreads = { 'webgpu-embed': a.info.threads ?? 'n/a (WebGPU)', 'transformers.js': (tjs.env.backends.onnx.wasm as { numThreads?: number }).numThreads ?? 'default' };
  const cases: CaseResult[] = [];
  try {
    for (const c of o.cases) {
      const texts = corpus(c.corpus, c.texts, c.fixedTokens ?? 64);
      const per = new Map<Lib, { ms: number[]; stages: (Stages | undefined)[]; heapDelta: number; heapPeak: number; readback: number; largest: number; gpuPeak: number }>();
      for (const r of runners) {
        await r.run(texts, c.batchSize); // warm-up: shaders, shapes, allocator
        per.set(r.lib, { ms: [], stages: [], heapDelta: 0, heapPeak: 0, readback: 0, largest: 0, gpuPeak: 0 });
      }
      for (let i = 0; i < o.runs; i++) {
        for (const r of runners) {
          const acc = own(r.lib);
          acc.readback = 0;
          acc.maps = [];
          acc.peak = acc.live;
          const s = performance.now();
          const { heapDelta, heapPeak } = await withHeap(() => r.run(texts, c.batchSize));
          const p = per.get(r.lib)!;
          p.ms.push(performance.now() - s);
          p.stages.push(await r.stages());
          p.heapDelta = Math.max(p.heapDelta, heapDelta);
          p.heapPeak = Math.max(p.heapPeak, heapPeak);
          p.readback = acc.readback;
          p.largest = Math.max(0, ...acc.maps);
          p.gpuPeak = Math.max(p.gpuPeak, acc.peak);
        }
      }
      const results: LibCase[] = [];
      for (const r of runners) {
        const p = per.get(r.lib)!;
        const pad = await r.padding(texts, c.batchSize);
        const m = median(p.ms);
        // the run nearest the median (the median itself with an odd count)
        const medianRun = p.ms.reduce((best, x, i) => (Math.abs(x - m) < Math.abs(p.ms[best]! - m) ? i : best), 0);
        const stages = p.stages[medianRun];
        results.push({
          lib: r.lib,
          ...(stages ? { stages } : {}),
          runsMs: p.ms,
          medianMs: m,
          textsPerSecond: (texts.length / m) * 1000,
          tokensPerSecond: (pad.real / m) * 1000,
          paddedTokens: pad.computed,
          realTokens: pad.real,
          paddingRatio: pad.computed / pad.real,
          batches: pad.batches,
          readbackBytes: p.readback,
          readbackPerBatch: p.readback / pad.batches,
          largestReadback: p.largest,
          heapDeltaBytes: p.heapDelta,
          heapPeakBytes: p.heapPeak,
          peakGpuBytes: o.device === 'webgpu' ? p.gpuPeak : 0,
        });
      }
      cases.push({ ...c, results, speedup: results[0]!.textsPerSecond / results[1]!.textsPerSecond });
      console.log(`bench: ${o.model} ${o.device} ${c.corpus} ×${c.texts} B=${c.batchSize}: ${results.map((r) => `${r.lib} ${r.medianMs.toFixed(0)} ms`).join(', ')}`);
    }
  } finally {
    for (const r of runners) await r.dispose();
  }
  return {
    model: o.model,
    device: o.device,
    dtype: o.dtype,
    runs: o.runs,
    libraries: { 'webgpu-embed': a.info, 'transformers.js': b.info },
    wasmThreads,
    cases,
    loadMs: { 'webgpu-embed': t1 - t0, 'transformers.js': t2 - t1 },
  };
}

// ---------------------------------------------------------------- GPU memory over many batches

export interface GpuSoak {
  model: string;
  batches: number;
  perBatch: number;
  /** our GPU bytes alive (ORT's and our kernels') after batch n */
  samples: { batches: number; liveBytes: number }[];
  afterDisposeBytes: number;
  /** bytes read back per batch, as counted at mapAsync: expected perBatch × dimensions × 4 */
  readbackPerBatch: number;
  expectedReadbackPerBatch: number;
  ms: number;
}

/** webgpu-embed (in this page) over `batches` calls of `perBatch` mixed texts, GPU bytes sampled along the way. */
export async function gpuSoak(modelUrl: string, model: string, batches: number, perBatch: number, every: number): Promise<GpuSoak> {
  hookWebGpu();
  loading = 'soak';
  const acc = own('soak');
  const before = acc.live;
  const e = await createEmbedder({ model: modelUrl, device: 'webgpu', dtype: 'fp32', worker: false, cache: false });
  // short texts of varied lengths (8–32 tokens): a new shape almost every batch, cheap enough for 1,000 batches on a software adapter
  const texts = corpus('mixed', 2048, 64, 11).filter((t) => t.split(' ').length <= 30).slice(0, 512);
  const samples: GpuSoak['samples'] = [];
  acc.readback = 0;
  acc.maps = [];
  const t0 = performance.now();
  for (let i = 1; i <= batches; i++) {
    const start = ((i - 1) * perBatch) % (texts.length - perBatch);
    await e.embed(texts.slice(start, start + perBatch));
    if (i === 1 || i % every === 0) samples.push({ batches: i, liveBytes: acc.live - before });
  }
  const ms = performance.now() - t0;
  const readbackPerBatch = acc.readback / batches;
  const dims = e.info.dimensions;
  await e.dispose();
  return { model, batches, perBatch, samples, afterDisposeBytes: acc.live - before, readbackPerBatch, expectedReadbackPerBatch: perBatch * dims * 4, ms };
}

// ---------------------------------------------------------------- main-thread long tasks

export interface LongTasks {
  lib: Lib;
  where: string;
  texts: number;
  ms: number;
  longTasks: number;
  longestMs: number;
  /** sum of the long tasks' time over 50 ms each (the blocking time) */
  blockingMs: number;
}

/**
 * Long tasks (> 50 ms, PerformanceObserver) on this page's main thread while `n` mixed texts are
 * embedded: webgpu-embed in its worker (the default), transformers.js in the page (where its
 * pipeline runs unless the app builds a worker of its own).
 */
export async function longTasks(lib: Lib, o: { modelUrl: string; modelsPath: string; model: string; device: Device; dtype: Dtype; pooling: string; tjsOrt: string; n: number; batchSize: number }): Promise<LongTasks> {
  const texts = corpus('mixed', o.n, 64, 13);
  let run: () => Promise<void>;
  let dispose: () => Promise<void>;
  if (lib === 'webgpu-embed') {
    const e = await createEmbedder({ model: o.modelUrl, device: o.device, dtype: o.dtype, cache: false, limits: { maxBatchSize: o.batchSize } });
    await e.embed(texts.slice(0, 4));
    run = async () => void (await e.embed(texts));
    dispose = () => e.dispose();
  } else {
    const tjs = await import('@huggingface/transformers');
    configureTjs(tjs, o.tjsOrt, o.modelsPath, false);
    const x = await tjs.pipeline('feature-extraction', o.model, { device: o.device, dtype: o.dtype });
    await x(texts.slice(0, 4), { pooling: o.pooling as 'mean', normalize: true });
    run = async () => {
      for (let i = 0; i < texts.length; i += o.batchSize) await x(texts.slice(i, i + o.batchSize), { pooling: o.pooling as 'mean', normalize: true });
    };
    dispose = () => x.dispose();
  }
  await new Promise((r) => setTimeout(r, 200));
  const long: number[] = [];
  const observer = new PerformanceObserver((list) => list.getEntries().forEach((e) => long.push(e.duration)));
  observer.observe({ type: 'longtask', buffered: false });
  const t0 = performance.now();
  await run();
  const ms = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 200));
  observer.disconnect();
  await dispose();
  return {
    lib,
    where: lib === 'webgpu-embed' ? 'its worker (default)' : 'the page (its pipeline)',
    texts: texts.length,
    ms,
    longTasks: long.length,
    longestMs: Math.max(0, ...long),
    blockingMs: long.reduce((a, d) => a + Math.max(0, d - 50), 0),
  };
}

// ---------------------------------------------------------------- time to first embedding

/** webgpu-embed from source under Vite's dev server (each module its own request), or as built (dist/, as an app bundles it), or transformers.js */
export type FirstLib = Lib | 'webgpu-embed (built)';

export interface FirstEmbedding {
  lib: FirstLib;
  /** load call → first vectors */
  ms: number;
  cache: 'cold' | 'warm';
  /** what the library's cache said, where it says */
  detail?: unknown;
}

/** Empties both libraries' caches: our IndexedDB store and transformers.js' Cache API store. */
export async function clearCaches(): Promise<void> {
  await clearCache();
  await caches.delete('transformers-cache');
}

/**
 * One load and one embedding, in a freshly loaded page, through each library's own weight cache:
 * webgpu-embed's IndexedDB (engine in its worker) or transformers.js' Cache API (its default in
 * browsers), with the model read over HTTP from this origin when not cached.
 */
export async function firstEmbedding(lib: FirstLib, cache: 'cold' | 'warm', o: { modelUrl: string; modelsPath: string; model: string; device: Device; dtype: Dtype; pooling: string; tjsOrt: string }): Promise<FirstEmbedding> {
  const text = ['the first embedding after a load'];
  if (lib !== 'transformers.js') {
    const t0 = performance.now();
    // as built: dist/index.js (npm run build), whose worker is one chunk, as in an app's bundle
    const create = lib === 'webgpu-embed (built)' ? ((await import(/* @vite-ignore */ `${location.origin}/dist/index.js`)) as typeof import('../../src/index.ts')).createEmbedder : createEmbedder;
    const e = await create({ model: o.modelUrl, device: o.device, dtype: o.dtype });
    const t1 = performance.now();
    await e.embed(text);
    const ms = performance.now() - t0;
    await e.dispose();
    // the engine's own breakdown (info.loadTimings); the worker's start and messages are the rest of createMs
    return { lib, ms, cache, detail: { cache: e.info.cache, createMs: t1 - t0, firstEmbedMs: ms - (t1 - t0), loadTimings: e.info.loadTimings } };
  }
  const t0 = performance.now();
  const tjs = await import('@huggingface/transformers');
  // this origin as its hub: files fetched over HTTP and kept in the Cache API (its browser default)
  configureTjs(tjs, o.tjsOrt, o.modelsPath, true);
  const x = await tjs.pipeline('feature-extraction', o.model, { device: o.device, dtype: o.dtype });
  await x(text, { pooling: o.pooling as 'mean', normalize: true });
  const ms = performance.now() - t0;
  await x.dispose();
  const c = await caches.open('transformers-cache');
  return { lib, ms, cache, detail: { cachedFiles: (await c.keys()).length } };
}

// ---------------------------------------------------------------- reranking

export interface RerankLib {
  lib: string;
  runsMs: number[];
  medianMs: number;
  docsPerSecond: number;
  /** bytes read back from the GPU in one call (mapAsync READ) */
  readbackBytes: number;
  /** GPU bytes alive at the peak of this library's runs (weights included) */
  peakGpuBytes: number;
  heapDeltaBytes: number;
  scores: number[];
}

export interface RerankCompare {
  model: string;
  device: Device;
  documents: number;
  batchSize: number;
  runs: number;
  results: RerankLib[];
  /** webgpu-embed docs/s over transformers.js docs/s */
  speedup: number;
  /** the largest score difference between the two */
  maxScoreDiff: number;
}

/**
 * webgpu-embed's reranker (pruned yes/no head, engine in the page) against transformers.js'
 * AutoModelForCausalLM on the same model (bench/pages/rerank.ts' loaders): both loaded, one
 * warm-up each, then `runs` calls alternating A and B.
 */
export async function rerankCompare(o: { modelUrl: string; modelsPath: string; model: string; device: Device; tjsOrt: string; query: string; documents: string[]; batchSize: number; runs: number }): Promise<RerankCompare> {
  hookWebGpu();
  const { loadOurs, loadTransformersJs } = await import('./rerank.ts');
  loading = 'webgpu-embed';
  const a = await loadOurs(o.modelUrl, o.device, 'auto', o.batchSize);
  loading = 'transformers.js';
  const b = await loadTransformersJs(o.modelsPath, o.model, o.device, o.tjsOrt);
  const scorers = [
    { lib: 'webgpu-embed' as const, s: a },
    { lib: 'transformers.js' as const, s: b },
  ];
  try {
    const per = scorers.map(({ lib, s }) => ({ lib, s, ms: [] as number[], readback: 0, gpuPeak: 0, heap: 0, scores: [] as number[] }));
    for (const p of per) await p.s.score(o.query, o.documents.slice(0, 1), o.batchSize); // warm-up
    for (let i = 0; i < o.runs; i++) {
      for (const p of per) {
        const acc = own(p.lib);
        acc.readback = 0;
        acc.peak = acc.live;
        const t0 = performance.now();
        const { value, heapDelta } = await withHeap(() => p.s.score(o.query, o.documents, o.batchSize));
        p.ms.push(performance.now() - t0);
        p.scores = value;
        p.readback = acc.readback;
        p.gpuPeak = Math.max(p.gpuPeak, acc.peak);
        p.heap = Math.max(p.heap, heapDelta);
      }
    }
    const results = per.map((p) => {
      const m = median(p.ms);
      return { lib: p.lib, runsMs: p.ms, medianMs: m, docsPerSecond: (o.documents.length / m) * 1000, readbackBytes: p.readback, peakGpuBytes: o.device === 'webgpu' ? p.gpuPeak : 0, heapDeltaBytes: p.heap, scores: p.scores };
    });
    return {
      model: o.model,
      device: o.device,
      documents: o.documents.length,
      batchSize: o.batchSize,
      runs: o.runs,
      results,
      speedup: results[0]!.docsPerSecond / results[1]!.docsPerSecond,
      maxScoreDiff: Math.max(...results[0]!.scores.map((s, i) => Math.abs(s - results[1]!.scores[i]!))),
    };
  } finally {
    await a.dispose();
    await b.dispose();
  }
}
