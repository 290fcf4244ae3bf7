/**
 * Page-side helpers for the rerank() browser tests: the library as an app uses it (its public
 * entry, the engine in its worker), onnxruntime-web straight from the page for the (a') oracle,
 * the retrieve-then-rerank flow, and GPU buffers tracked with the engine in the page.
 */
import * as lib from '../../../src/index.ts';
import type { CreateRerankerOptions, RerankOptions } from '../../../src/index.ts';
import { fixtureUrl } from './embed.ts';
import { describeBuffer, gpuBufferMark, liveGpuBuffers, trackGpuBuffers } from './gpu-buffers.ts';

export interface RerankCall {
  query: string;
  documents: string[];
  options?: RerankOptions;
}

export interface RerankRun {
  results: { index: number; score: number; document: string }[];
  truncated: number[];
  tokens: number[];
  stats: { liveGpuBuffers: number; lastReadbackBytes: number; lastOutputBytes: number };
  ms: number;
}

export type RerankCallResult = RerankRun | { error: { name: string; message: string; is: string[] }; ms: number };

export interface RerankCallsResult {
  info: lib.RerankerInfo;
  createMs: number;
  runs: RerankCallResult[];
}

const CLASSES: [string, unknown][] = [
  ['TypeError', TypeError],
  ['RangeError', RangeError],
  ['WebGPUEmbedError', lib.WebGPUEmbedError],
  ['ModelLoadError', lib.ModelLoadError],
  ['YesNoTokenError', lib.YesNoTokenError],
  ['EmptyQueryError', lib.EmptyQueryError],
  ['DisposedError', lib.DisposedError],
];

function errorInfo(e: unknown) {
  const err = e as Error;
  return { name: err?.name, message: err?.message, is: CLASSES.filter(([, C]) => e instanceof (C as new () => unknown)).map(([n]) => n) };
}

/** One reranker (options may name a fixture by `model: 'fixture:<name>'`), each call in turn, then dispose. */
export async function rerankCalls(create: CreateRerankerOptions, calls: RerankCall[]): Promise<RerankCallsResult> {
  const model = create.model.startsWith('fixture:') ? fixtureUrl(create.model.slice(8)) : create.model;
  const t0 = performance.now();
  const reranker = await lib.createReranker({ ...create, model });
  const createMs = performance.now() - t0;
  try {
    const runs: RerankCallResult[] = [];
    for (const c of calls) {
      const t1 = performance.now();
      try {
        const r = await reranker.rerank(c.query, c.documents, c.options ?? {});
        runs.push({ results: r.map((x) => ({ ...x })), truncated: [...r.truncated], tokens: [...r.tokens], stats: await reranker.stats(), ms: performance.now() - t1 });
      } catch (e) {
        runs.push({ error: errorInfo(e), ms: performance.now() - t1 });
      }
    }
    return { info: reranker.info, createMs, runs };
  } finally {
    await reranker.dispose();
  }
}

/** A reranker that cannot load: the error as it crosses the worker. */
export async function createError(create: CreateRerankerOptions) {
  const model = create.model.startsWith('fixture:') ? fixtureUrl(create.model.slice(8)) : create.model;
  try {
    const r = await lib.createReranker({ ...create, model });
    await r.dispose();
    return 'resolved';
  } catch (e) {
    return errorInfo(e);
  }
}

/**
 * onnxruntime-web straight from the page on one EP, the ORIGINAL model (full logits): each token
 * sequence ALONE (batch 1, positions 0..T-1, empty past of [1, past[0], 0, past[1]]) → the yes and
 * no logits at its last token. The (a') oracle: this browser's own WebGPU numerics, no library code.
 */
export async function ortYesNoAlone(modelUrl: string, ep: 'webgpu' | 'wasm', seqs: number[][], yes: number, no: number, past: [number, number]) {
  const { ort } = await import('./ort-env.ts');
  const session = await ort.InferenceSession.create(modelUrl, { executionProviders: [ep] });
  try {
    const out: { yes: number; no: number }[] = [];
    for (const ids of seqs) {
      const T = ids.length;
      const i64 = (f: (t: number) => number) => new ort.Tensor('int64', BigInt64Array.from({ length: T }, (_, t) => BigInt(f(t))), [1, T]);
      const feeds: Record<string, InstanceType<typeof ort.Tensor>> = { input_ids: i64((t) => ids[t]!), attention_mask: i64(() => 1), position_ids: i64((t) => t) };
      for (const n of session.inputNames) if (n.startsWith('past_key_values.')) feeds[n] = new ort.Tensor('float32', new Float32Array(0), [1, past[0], 0, past[1]]);
      const r = await session.run(feeds);
      const logits = r['logits']!;
      const V = logits.dims[2]!;
      const data = (await logits.getData()) as Float32Array;
      out.push({ yes: data[(T - 1) * V + yes]!, no: data[(T - 1) * V + no]! });
      for (const t of Object.values(r)) t.dispose();
    }
    return out;
  } finally {
    await session.release();
  }
}

/**
 * searchAndRerank() in the worker, and the same steps by hand through the public API: the
 * embedder's vectors, the cosine top-N, the reranker on those N.
 */
export async function searchFlow(embedderModel: string, rerankerModel: string, query: string, passages: string[], candidates: number, topK: number) {
  const embedder = await lib.createEmbedder({ model: fixtureUrl(embedderModel), device: 'webgpu' });
  const reranker = await lib.createReranker({ model: fixtureUrl(rerankerModel), device: 'webgpu' });
  try {
    const hits = await lib.searchAndRerank(query, passages, { embedder, reranker, candidates, topK });
    const vectors = await embedder.embed(passages, { task: 'document' });
    const [q] = await embedder.embed([query], { task: 'query' });
    const cos = vectors.map((v) => v.reduce((s, x, k) => s + x * q![k]!, 0));
    const byHand = [...cos.keys()].sort((a, b) => cos[b]! - cos[a]! || a - b).slice(0, candidates);
    const reranked = await reranker.rerank(query, byHand.map((i) => passages[i]!), { topK });
    // Vectors given: no embedding of the passages on the call.
    const withVectors = await lib.searchAndRerank(query, passages, { embedder, reranker, candidates, topK, passageVectors: vectors });
    return {
      hits: hits.map((h) => ({ ...h })),
      candidates: [...hits.candidates],
      cos,
      byHand,
      reranked: reranked.map((r) => ({ index: byHand[r.index]!, score: r.score })),
      withVectors: withVectors.map((h) => ({ ...h })),
    };
  } finally {
    await Promise.all([embedder.dispose(), reranker.dispose()]);
  }
}

/** An embedder and a reranker in the same worker, called at once: each gives what it gives alone. */
export async function sharedWorker(embedderModel: string, rerankerModel: string, query: string, documents: string[]) {
  const embedder = await lib.createEmbedder({ model: fixtureUrl(embedderModel), device: 'webgpu' });
  const reranker = await lib.createReranker({ model: fixtureUrl(rerankerModel), device: 'webgpu', limits: { maxBatchSize: 2 } });
  try {
    const aloneE = await embedder.embed(documents);
    const aloneR = await reranker.rerank(query, documents);
    const calls = await Promise.all([embedder.embed(documents), reranker.rerank(query, documents), embedder.embed(documents.slice(1)), reranker.rerank(query, documents.slice(1))]);
    const [e1, r1, e2, r2] = calls as [Float32Array[], lib.RerankResults, Float32Array[], lib.RerankResults];
    let maxDiff = 0;
    e1.forEach((v, i) => v.forEach((x, k) => (maxDiff = Math.max(maxDiff, Math.abs(x - aloneE[i]![k]!)))));
    e2.forEach((v, i) => v.forEach((x, k) => (maxDiff = Math.max(maxDiff, Math.abs(x - aloneE[i + 1]![k]!)))));
    const score = (r: lib.RerankResults, shift: number) => new Map(r.map((x) => [x.index + shift, x.score]));
    const s0 = score(aloneR, 0);
    for (const [i, s] of [...score(r1, 0), ...score(r2, 1)]) maxDiff = Math.max(maxDiff, Math.abs(s - s0.get(i)!));
    return { maxDiff, calls: calls.length };
  } finally {
    await Promise.all([embedder.dispose(), reranker.dispose()]);
  }
}

/** The engine in this page: GPU buffers made for the reranker while it works, and left after dispose(). */
export async function lifecycle(name: string, head: 'auto' | 'full-logits', query: string, documents: string[]) {
  trackGpuBuffers();
  const mark = gpuBufferMark();
  const r = await lib.createReranker({ model: fixtureUrl(name), device: 'webgpu', worker: false, head });
  await r.rerank(query, documents);
  await r.rerank(query, documents.slice(0, 1));
  const during = liveGpuBuffers(mark).length;
  await r.dispose();
  return { during, left: liveGpuBuffers(mark).map(describeBuffer) };
}

/**
 * ORT's GPU device destroyed under a live reranker while it is idle (as a driver reset would): the
 * next call reloads the model, edits its graph again and scores the same on a new device.
 */
export async function deviceLost(name: string, query: string, documents: string[]) {
  const ort = await (await import('../../../src/runtime/ort.ts')).runtimeFor('webgpu');
  const r = await lib.createReranker({ model: fixtureUrl(name), device: 'webgpu', worker: false });
  try {
    const before = (await r.rerank(query, documents)).map((x) => ({ ...x }));
    const first = (await ort.env.webgpu.device) as GPUDevice;
    first.destroy();
    await first.lost;
    const after = (await r.rerank(query, documents)).map((x) => ({ ...x }));
    const second = (await ort.env.webgpu.device) as GPUDevice;
    return { newDevice: first !== second, head: r.info.head, before, after };
  } finally {
    await r.dispose();
  }
}
