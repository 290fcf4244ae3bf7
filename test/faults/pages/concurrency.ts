/**
 * Page side of the concurrency and cancellation faults: many embed() / rerank() / search() calls
 * at once from several places (two held embedders on WebGPU and wasm, the one-call embed() and
 * rerank(), a held reranker, a vector index on its own GPUDevice), compared with the same calls
 * made one by one; and calls cancelled at random moments, compared likewise.
 */
import * as lib from '../../../src/index.ts';
import { bounded, describeOutcome, fixtureUrl, maxDiff, rng, sleep, type Outcome } from './common.ts';

interface CorpusDocument {
  id: string;
  text: string;
}

const WORDS = 'bread dough oven planet orbit sun river bridge music piano garden rain winter market price code bug deer forest coffee tea ship storm'.split(' ');

interface State {
  gpuEmbedder: lib.Embedder;
  wasmEmbedder: lib.Embedder;
  reranker: lib.Reranker;
  index: lib.VectorIndex;
  queries: string[];
  documents: string[];
}
let st: State | undefined;

const E5 = () => ({ model: fixtureUrl('tiny-e5'), device: 'wasm' as const });
const CROSS = () => ({ model: fixtureUrl('tiny-cross-encoder'), device: 'wasm' as const });

export async function setup(): Promise<{ indexDevice: string; documents: number }> {
  const documents: CorpusDocument[] = await (await fetch('/examples/corpus/documents.json')).json();
  const queries: { query: string }[] = await (await fetch('/examples/corpus/queries.json')).json();
  const gpuEmbedder = await lib.createEmbedder({ model: fixtureUrl('tiny-e5'), device: 'webgpu' });
  const wasmEmbedder = await lib.createEmbedder({ model: fixtureUrl('glove-sif'), device: 'wasm' });
  const reranker = await lib.createReranker(CROSS());
  const index = await lib.createIndex({ embedder: wasmEmbedder, device: 'webgpu', storage: 'int8' });
  await index.add(documents.map((d) => ({ id: d.id, text: d.text })));
  st = { gpuEmbedder, wasmEmbedder, reranker, index, queries: queries.map((q) => q.query), documents: documents.map((d) => d.text.slice(0, 300)) };
  return { indexDevice: index.device, documents: documents.length };
}

export interface CallSpec {
  where: 'gpuEmbedder.embed' | 'wasmEmbedder.embed' | 'embed()' | 'reranker.rerank' | 'rerank()' | 'index.search';
  texts?: string[];
  query?: string;
  documents?: string[];
  topK?: number;
}

/** 100 calls from six places, random inputs from the corpus and a word list. */
export function makeCalls(seed: number, n: number): CallSpec[] {
  const s = st!;
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const sentence = () => Array.from({ length: 1 + Math.floor(r() * 12) }, () => pick(WORDS)).join(' ');
  const places: CallSpec['where'][] = ['gpuEmbedder.embed', 'wasmEmbedder.embed', 'embed()', 'reranker.rerank', 'rerank()', 'index.search'];
  return Array.from({ length: n }, (_, i): CallSpec => {
    const where = places[i % places.length]!;
    if (where.endsWith('embed') || where === 'embed()') {
      const texts = Array.from({ length: 1 + Math.floor(r() * 5) }, () => (r() < 0.5 ? pick(s.queries) : sentence()));
      return { where, texts };
    }
    if (where === 'index.search') return { where, query: r() < 0.6 ? pick(s.queries) : sentence(), topK: 1 + Math.floor(r() * 6) };
    const documents = Array.from({ length: 1 + Math.floor(r() * 6) }, () => (r() < 0.7 ? pick(s.documents) : sentence()));
    return { where, query: pick(s.queries), documents, ...(r() < 0.5 ? { topK: 1 + Math.floor(r() * 4) } : {}) };
  });
}

type Result = number[][] | { index: number; score: number }[] | { id: string; score: number }[];

async function run(c: CallSpec, signal?: AbortSignal): Promise<Result> {
  const s = st!;
  const o = signal ? { signal } : {};
  const vectors = (v: Float32Array[]) => v.map((x) => Array.from(x));
  switch (c.where) {
    case 'gpuEmbedder.embed':
      return vectors(await s.gpuEmbedder.embed(c.texts!, o));
    case 'wasmEmbedder.embed':
      return vectors(await s.wasmEmbedder.embed(c.texts!, o));
    case 'embed()':
      return vectors(await lib.embed(c.texts!, { ...E5(), ...o }));
    case 'reranker.rerank':
      return (await s.reranker.rerank(c.query!, c.documents!, { ...o, ...(c.topK ? { topK: c.topK } : {}) })).map((x) => ({ index: x.index, score: x.score }));
    case 'rerank()':
      return (await lib.rerank(c.query!, c.documents!, { ...CROSS(), ...o, ...(c.topK ? { topK: c.topK } : {}) })).map((x) => ({ index: x.index, score: x.score }));
    case 'index.search':
      return (await s.index.search(c.query!, { topK: c.topK!, ...o })).map((h) => ({ id: h.id, score: h.score }));
  }
}

/** How far a result is from the one-by-one result: vectors by max abs difference, rankings must match in order. */
function difference(a: Result, b: Result): number | string {
  if (a.length !== b.length) return `${a.length} results vs ${b.length}`;
  if (!a.length) return 0;
  if (Array.isArray(a[0])) return maxDiff(a as number[][], b as number[][]);
  const x = a as { index?: number; id?: string; score: number }[];
  const y = b as { index?: number; id?: string; score: number }[];
  let d = 0;
  for (let i = 0; i < x.length; i++) {
    if (x[i]!.index !== y[i]!.index || x[i]!.id !== y[i]!.id) return `result ${i}: ${x[i]!.id ?? x[i]!.index} vs ${y[i]!.id ?? y[i]!.index}`;
    d = Math.max(d, Math.abs(x[i]!.score - y[i]!.score));
  }
  return d;
}

const tolerance = (c: CallSpec) => (c.where === 'gpuEmbedder.embed' ? 1e-6 : 0);

export interface CallCheck {
  call: string;
  problem?: string;
}

/** All the calls at once, then each alone; each concurrent result against its lone twin. */
export async function concurrent(seed: number, n: number): Promise<{ checks: CallCheck[]; togetherMs: number; aloneMs: number }> {
  const calls = makeCalls(seed, n);
  // launched in a shuffled order, all before any is awaited
  const order = calls.map((_, i) => i).sort(() => rng(seed + 1)() - 0.5);
  const r = rng(seed + 2);
  order.sort(() => r() - 0.5);
  const t0 = performance.now();
  const promises: Promise<Outcome<Result>>[] = new Array(n);
  for (const i of order) promises[i] = bounded(run(calls[i]!), 120_000);
  const together = await Promise.all(promises);
  const togetherMs = performance.now() - t0;
  const t1 = performance.now();
  const alone: Outcome<Result>[] = [];
  for (const c of calls) alone.push(await bounded(run(c), 60_000));
  const aloneMs = performance.now() - t1;
  const checks = calls.map((c, i): CallCheck => {
    const label = `#${i} ${c.where}`;
    const a = together[i]!;
    const b = alone[i]!;
    if (a.ok !== true) return { call: label, problem: `concurrent: ${describeOutcome(a)}` };
    if (b.ok !== true) return { call: label, problem: `alone: ${describeOutcome(b)}` };
    const d = difference(a.value, b.value);
    if (typeof d === 'string' || !(d <= tolerance(c))) return { call: label, problem: `differs from the same call alone: ${d}` };
    return { call: label };
  });
  return { checks, togetherMs, aloneMs };
}

// ---- cancellation ----

const LONG = Array.from({ length: 128 }, (_, i) => `text number ${i} ${'about bread and butter '.repeat(1 + (i % 6))}`.trim());
const QUERY = 'how do I bake bread?';
const DOCS = Array.from({ length: 64 }, (_, i) => `document ${i}: ${'knead the dough and let it rise '.repeat(1 + (i % 5))}`);

interface CancelState {
  embedder: lib.Embedder;
  reranker: lib.Reranker;
  vectors: number[][];
  scores: number[];
  embedMs: number;
  rerankMs: number;
  createMs: number;
}
let cs: CancelState | undefined;
const byIndex = (r: lib.RerankResults) => [...r].sort((a, b) => a.index - b.index).map((x) => x.score);

export async function cancelSetup(): Promise<{ embedMs: number; rerankMs: number; createMs: number; embedBatches: number; rerankBatches: number }> {
  let t0 = performance.now();
  const embedder = await lib.createEmbedder({ ...E5(), limits: { maxBatchSize: 2 } });
  const createMs = performance.now() - t0;
  const reranker = await lib.createReranker({ ...CROSS(), limits: { maxBatchSize: 2 } });
  await embedder.embed(LONG);
  t0 = performance.now();
  const vectors = (await embedder.embed(LONG)).map((v) => Array.from(v));
  const embedMs = performance.now() - t0;
  t0 = performance.now();
  const scores = byIndex(await reranker.rerank(QUERY, DOCS));
  const rerankMs = performance.now() - t0;
  cs = { embedder, reranker, vectors, scores, embedMs, rerankMs, createMs };
  return { embedMs, rerankMs, createMs, embedBatches: LONG.length / 2, rerankBatches: DOCS.length / 2 };
}

export interface CancelTrial {
  /** the cancelled call: 'aborted', 'right', or what went wrong */
  cancelled: string;
  /** how long the cancelled call ran on after its signal aborted, when it resolved anyway (ms) */
  ranOn?: number;
  /** batches it reported done after its signal aborted, when it resolved anyway */
  batchesAfter?: number;
  /** a call running beside it, not cancelled: must be right */
  beside: string;
  /** the next call of the same kind: must be right */
  after: string;
}

const verdict = (o: Outcome<number>, allowAbort: boolean): string => {
  if (o.ok === true) return o.value === 0 ? 'right' : `resolved with results off by ${o.value}`;
  if (o.ok === false && allowAbort && o.error.name === 'AbortError') return 'aborted';
  return describeOutcome(o);
};

/**
 * One call cancelled with an AbortSignal after `delayMs` (< 0: aborted before the call), with an
 * uncancelled call of the other kind running beside it. 'create' cancels a createEmbedder() (a
 * model load, the cache off so it downloads).
 */
export async function cancelTrial(kind: 'embed' | 'rerank' | 'create', delayMs: number): Promise<CancelTrial> {
  const s = cs!;
  const ac = new AbortController();
  let abortedAt: number | undefined;
  const abort = () => {
    abortedAt = performance.now();
    ac.abort();
  };
  if (delayMs < 0) abort();
  const timer = delayMs >= 0 ? setTimeout(abort, delayMs) : undefined;
  let batchesAfter = 0;
  const onProgress = (p: { status: string }) => void ((p.status === 'embed' || p.status === 'rerank') && abortedAt !== undefined && batchesAfter++);
  const embedCall = (signal?: AbortSignal) => s.embedder.embed(LONG, signal ? { signal, onProgress } : {}).then((v) => maxDiff(v, s.vectors));
  const rerankCall = (signal?: AbortSignal) => s.reranker.rerank(QUERY, DOCS, signal ? { signal, onProgress } : {}).then((r) => maxDiff([byIndex(r)], [s.scores]));
  const createCall = async (signal?: AbortSignal) => {
    const e = await lib.createEmbedder({ ...E5(), limits: { maxBatchSize: 2 }, cache: false, ...(signal ? { signal } : {}) });
    try {
      return maxDiff(await e.embed(LONG), s.vectors);
    } finally {
      await e.dispose();
    }
  };
  const call = kind === 'embed' ? embedCall : kind === 'rerank' ? rerankCall : createCall;
  const besideCall = kind === 'rerank' ? embedCall : rerankCall;
  let settledAt = 0;
  const [cancelled, beside] = await Promise.all([
    bounded(call(ac.signal).finally(() => (settledAt = performance.now())), 60_000),
    bounded(besideCall(), 60_000),
  ]);
  clearTimeout(timer);
  const after = await bounded(call(), 60_000);
  return {
    cancelled: verdict(cancelled, true),
    ...(cancelled.ok === true && abortedAt !== undefined && abortedAt < settledAt ? { ranOn: settledAt - abortedAt, batchesAfter } : {}),
    beside: verdict(beside, false),
    after: verdict(after, false),
  };
}

export async function teardown(): Promise<void> {
  await st?.index.dispose();
  await st?.gpuEmbedder.dispose();
  await st?.wasmEmbedder.dispose();
  await st?.reranker.dispose();
  await cs?.embedder.dispose();
  await cs?.reranker.dispose();
  await lib.releaseSharedEmbedders();
  await lib.releaseSharedRerankers();
  st = undefined;
  cs = undefined;
  await sleep(0);
}
