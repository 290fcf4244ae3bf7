/**
 * Page side of test/browser/index.test.ts: the corpus in examples/corpus indexed with the
 * glove-sif fixture through the public API, as an app would (embedder in the library's worker,
 * the index in this page).
 */
import { createEmbedder, createIndex, type SearchHit, type VectorStorage } from '../../../src/index.ts';
import { fixtureUrl } from './embed.ts';

interface CorpusDocument {
  id: string;
  topic: string;
  text: string;
}
interface CorpusQuery {
  query: string;
  expected: string;
  passage?: string;
}

export interface QueryResult {
  query: string;
  expected: string;
  passage?: string;
  hits: { id: string; score: number; start: number; end: number; text: string }[];
  ms: number;
}

export interface CorpusRun {
  embedderDevice: string;
  indexDevice: string;
  /** the same queries through an index forced onto the CPU path, over the same embedder */
  cpu: QueryResult[];
  results: QueryResult[];
  stats: unknown;
  addMs: number;
  progress: { done: number; total: number }[];
  /** messages the page posted to the library's worker during add(): one call, split and embedded there */
  addMessages: number;
  /** bytes of export() before save() and after load() into a fresh index (real IndexedDB) */
  saved: { bytes: number; equal: boolean; loadedSize: number };
  /** after remove(): the removed id among any hit of its own query */
  staleAfterRemove: boolean;
  longTasks: number[];
}

const slim = (hits: SearchHit[]) => hits.map((h) => ({ id: h.id, score: h.score, start: h.passage.start, end: h.passage.end, text: h.passage.text }));

export async function searchCorpus(device: 'webgpu' | 'wasm', storage: VectorStorage): Promise<CorpusRun> {
  const documents: CorpusDocument[] = await (await fetch('/examples/corpus/documents.json')).json();
  const queries: CorpusQuery[] = await (await fetch('/examples/corpus/queries.json')).json();
  const long: number[] = [];
  const observer = new PerformanceObserver((list) => list.getEntries().forEach((e) => long.push(e.duration)));
  observer.observe({ type: 'longtask', buffered: false });

  const embedder = await createEmbedder({ model: fixtureUrl('glove-sif'), device });
  const index = await createIndex<{ topic: string }>({ embedder, storage, name: `corpus-${device}-${storage}` });
  const cpuIndex = await createIndex<{ topic: string }>({ embedder, storage, device: 'cpu' });
  try {
    const progress: { done: number; total: number }[] = [];
    const docs = documents.map((d) => ({ id: d.id, text: d.text, metadata: { topic: d.topic } }));
    const post = Worker.prototype.postMessage;
    let addMessages = 0;
    Worker.prototype.postMessage = function (this: Worker, ...args: Parameters<Worker['postMessage']>) {
      addMessages++;
      return (post as (...a: unknown[]) => void).apply(this, args);
    } as Worker['postMessage'];
    const t0 = performance.now();
    try {
      await index.add(docs, { batchSize: 16, onProgress: (e) => progress.push({ done: e.done, total: e.total }) });
    } finally {
      Worker.prototype.postMessage = post;
    }
    const addMs = performance.now() - t0;
    await cpuIndex.import(index.export());

    const run = async (ix: typeof index) => {
      const out: QueryResult[] = [];
      for (const q of queries) {
        const t = performance.now();
        const hits = await ix.search(q.query, { topK: 3 });
        out.push({ ...q, hits: slim(hits), ms: performance.now() - t });
      }
      return out;
    };
    const results = await run(index);
    const cpu = await run(cpuIndex);

    const before = index.export();
    await index.save();
    const fresh = await createIndex<{ topic: string }>({ embedder, storage, name: index.name });
    const loaded = await fresh.load();
    const after = fresh.export();
    const saved = { bytes: before.length, equal: loaded && before.length === after.length && before.every((b, i) => b === after[i]), loadedSize: fresh.size };
    await fresh.dispose();

    index.remove('planets');
    const stale = await index.search('how do planets orbit the sun', { topK: 40 });
    return {
      embedderDevice: embedder.info.device,
      indexDevice: index.device,
      cpu,
      results,
      stats: index.stats(),
      addMs,
      progress,
      addMessages,
      saved,
      staleAfterRemove: stale.some((h) => h.id === 'planets'),
      longTasks: long,
    };
  } finally {
    observer.disconnect();
    await index.dispose();
    await cpuIndex.dispose();
    await embedder.dispose();
  }
}

export interface DeviceLossRun {
  before: string[];
  after: string[];
  deviceBefore: string;
  deviceAfter: string;
  error?: string;
}

/**
 * An index on a GPUDevice the page gave it; the device is destroyed (as a driver reset would
 * lose it): the next search rebuilds the index from its CPU rows, on the CPU path (the index
 * cannot make a device in the page's place), and answers the same.
 */
export async function deviceLoss(): Promise<DeviceLossRun> {
  const documents: CorpusDocument[] = await (await fetch('/examples/corpus/documents.json')).json();
  const adapter = await navigator.gpu.requestAdapter();
  const device = await adapter!.requestDevice();
  const embedder = await createEmbedder({ model: fixtureUrl('glove-sif'), device: 'wasm' });
  const index = await createIndex({ embedder, device, storage: 'int8' });
  try {
    await index.add(documents.map((d) => ({ id: d.id, text: d.text })));
    const q = 'how do planets orbit the sun';
    const before = (await index.search(q, { topK: 5 })).map((h) => h.id);
    const deviceBefore = index.device;
    device.destroy();
    await device.lost;
    const after = (await index.search(q, { topK: 5 })).map((h) => h.id);
    return { before, after, deviceBefore, deviceAfter: index.device };
  } catch (e) {
    return { before: [], after: [], deviceBefore: '', deviceAfter: '', error: String(e) };
  } finally {
    await index.dispose();
    await embedder.dispose();
  }
}
