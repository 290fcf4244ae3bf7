/**
 * Page side of bench/index-search.ts: search latency of the vector index over random unit
 * vectors, its GPU path against its CPU path (the plain JavaScript loop), in one page and one
 * run; quantized recall@10 against exact search. The index is filled through import() of a blob
 * (the public path a prebuilt index takes), so no model is needed.
 */
import { createIndex, type IndexEmbedder, type VectorIndex, type VectorStorage } from '../../src/index.ts';
import { encodeIndex } from '../../src/vector-index/format.ts';

export interface SearchTiming {
  path: 'webgpu' | 'cpu';
  storage: VectorStorage;
  /** ms per search (topK 10, a query vector: scan + top-k + rescoring), over `runs` searches after a warm-up */
  median: number;
  p90: number;
  min: number;
  /** the longest the page's main thread went without running a task while these searches ran (a ticker every ~1 ms) */
  maxStallMs: number;
  /** main-thread long tasks (> 50 ms) while these searches ran */
  longTasks: number;
  longestTaskMs: number;
  /** recall@10 against the float32 CPU index's results (quantized storages) */
  recallAt10?: number;
  importMs: number;
  storeBytes: number;
}

export interface ConfigResult {
  rows: number;
  dims: number;
  timings: SearchTiming[];
}

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  };
}

function unitRows(n: number, dims: number, seed: number): Float32Array {
  const rnd = seeded(seed);
  const x = new Float32Array(n * dims);
  for (let r = 0; r < n; r++) {
    let norm = 0;
    for (let d = 0; d < dims; d++) {
      const v = rnd();
      x[r * dims + d] = v;
      norm += v * v;
    }
    const inv = 1 / Math.sqrt(norm);
    for (let d = 0; d < dims; d++) x[r * dims + d]! *= inv;
  }
  return x;
}

/** An embedder stand-in: the index only reads its info (queries are vectors here). */
function vectorsOnly(dims: number): IndexEmbedder {
  return {
    info: { model: 'random', device: 'webgpu', dimensions: dims, matryoshka: { trained: false }, maxTokens: 512 } as IndexEmbedder['info'],
    embed: () => Promise.reject(new Error('the benchmark searches with vectors')),
    countTokens: () => Promise.reject(new Error('the benchmark searches with vectors')),
  };
}

/**
 * Posts itself a message over and over (a task each time) and keeps the longest gap between two:
 * how long the main thread was held by anything else, the searches included.
 */
function stallTicker(): { stop(): number } {
  const { port1, port2 } = new MessageChannel();
  let last = performance.now();
  let worst = 0;
  let running = true;
  port1.onmessage = () => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
    if (running) setTimeout(() => port2.postMessage(null), 1);
  };
  port2.postMessage(null);
  return {
    stop() {
      running = false;
      port1.close();
      return Math.max(worst, performance.now() - last);
    },
  };
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

export async function benchConfig(rows: number, dims: number, runs: number, storages: VectorStorage[]): Promise<ConfigResult> {
  const vectors = unitRows(rows, dims, rows + dims);
  const blob = encodeIndex({
    dimensions: dims,
    model: 'random',
    documents: Array.from({ length: rows }, (_, i) => ({ id: String(i), text: '', passages: [{ start: 0, end: 0 }] })),
    vectors,
  });
  const queries = Array.from({ length: runs + 2 }, (_, i) => unitRows(1, dims, 7_000_000 + i));
  const timings: SearchTiming[] = [];
  let exact: string[][] | undefined;

  const measure = async (path: 'webgpu' | 'cpu', storage: VectorStorage) => {
    const index: VectorIndex = await createIndex({ embedder: vectorsOnly(dims), storage, device: path });
    const t0 = performance.now();
    await index.import(blob);
    const importMs = performance.now() - t0;
    await index.search(queries[0]!, { topK: 10 }); // warm-up: pipelines compiled
    const ms: number[] = [];
    const long: number[] = [];
    const ticker = stallTicker();
    const found: string[][] = [];
    const observer = new PerformanceObserver((list) => list.getEntries().forEach((e) => long.push(e.duration)));
    observer.observe({ type: 'longtask', buffered: false });
    for (let i = 1; i <= runs; i++) {
      const t = performance.now();
      const hits = await index.search(queries[i]!, { topK: 10 });
      ms.push(performance.now() - t);
      found.push(hits.map((h) => h.id));
    }
    const maxStallMs = ticker.stop();
    await new Promise((r) => setTimeout(r, 50));
    observer.disconnect();
    const stats = index.stats();
    await index.dispose();
    if (path === 'cpu' && storage === 'float32') exact = found;
    const recall = storage !== 'float32' && exact ? found.reduce((a, f, i) => a + f.filter((id) => exact![i]!.includes(id)).length / 10, 0) / runs : undefined;
    timings.push({
      path,
      storage,
      median: pct(ms, 0.5),
      p90: pct(ms, 0.9),
      min: Math.min(...ms),
      maxStallMs,
      longTasks: long.length,
      longestTaskMs: Math.max(0, ...long),
      ...(recall !== undefined ? { recallAt10: recall } : {}),
      importMs,
      storeBytes: stats.storeBytes,
    });
  };

  await measure('cpu', 'float32');
  await measure('webgpu', 'float32');
  for (const storage of storages) {
    if (storage === 'float32') continue;
    await measure('webgpu', storage);
    await measure('cpu', storage);
  }
  return { rows, dims, timings };
}

export async function adapterInfo(): Promise<{ description: string; architecture: string; isFallbackAdapter: boolean } | null> {
  const adapter = await navigator.gpu?.requestAdapter();
  if (!adapter) return null;
  const i = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  return { description: i.description, architecture: i.architecture, isFallbackAdapter: Boolean(i.isFallbackAdapter) };
}
