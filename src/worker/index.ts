/** The worker entry: the engine exposed over comlink, nothing more (DESIGN.md). */
import { expose, proxy, transfer } from 'comlink';
import { diagnose } from '../engine/diagnose.ts';
import { createEmbedderEngine, type EmbedCallOptions, type EmbedderEngine, type EmbedderEngineOptions, type EmbedProgress } from '../engine/embedder.ts';
import type { PassageCallOptions } from '../engine/passages.ts';
import { createRerankerEngine, type RerankCallOptions, type RerankerEngine, type RerankerEngineOptions, type RerankProgress } from '../engine/reranker.ts';
import { DisposedError } from '../errors.ts';
import { registerTransferHandlers } from './protocol.ts';

registerTransferHandlers();

/** Options as they cross the boundary: functions travel separately, as comlink proxies. */
// (comlink's transfer handlers apply to top-level arguments only, so the AbortSignal travels
// as an argument of its own too.)
export type WorkerEmbedderOptions = Omit<EmbedderEngineOptions, 'onProgress' | 'fetchFile' | 'signal'>;
export type WorkerEmbedOptions = Omit<EmbedCallOptions, 'onProgress' | 'signal'>;
export type WorkerPassageOptions = Omit<PassageCallOptions, 'onProgress' | 'signal'>;

export type WorkerRerankerOptions = Omit<RerankerEngineOptions, 'onProgress' | 'fetchFile' | 'signal'>;
export type WorkerRerankOptions = Omit<RerankCallOptions, 'onProgress' | 'signal'>;

/**
 * The caller's onProgress (a comlink proxy: each event is a message on the proxy's own port) with
 * a way to wait until every event sent so far has been handled on the main thread. A call waits
 * for it before it returns, so its result, which travels on the worker's port (no order between
 * the two ports), never overtakes its last events: 'ready' arrives before createEmbedder()
 * resolves, an embed() call's last 'embed' event before its vectors. At most a second is waited:
 * a handler that returns a promise that never settles must not hold the call.
 */
function delivered<E>(onProgress: ((e: E) => unknown) | undefined) {
  if (!onProgress) return { settled: () => Promise.resolve() };
  let last: Promise<unknown> = Promise.resolve();
  return {
    onProgress: (e: E) => {
      last = Promise.resolve(onProgress(e)).catch(() => undefined);
    },
    settled: async () => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([last, new Promise((r) => (timer = setTimeout(r, 1000)))]);
      clearTimeout(timer);
    },
  };
}

/** Runs a call with its onProgress ordered before its outcome (delivered). */
async function withProgress<E, R>(onProgress: ((e: E) => void) | undefined, run: (onProgress: { onProgress?: (e: E) => void }) => Promise<R>): Promise<R> {
  const d = delivered(onProgress);
  try {
    return await run(d.onProgress ? { onProgress: d.onProgress } : {});
  } finally {
    await d.settled();
  }
}

const embedders = new Map<number, EmbedderEngine>();
const rerankers = new Map<number, RerankerEngine>();
let nextId = 1;

function embedder(id: number): EmbedderEngine {
  const e = embedders.get(id);
  if (!e) throw new DisposedError('this embedder was disposed (or its worker restarted); create a new one with createEmbedder()');
  return e;
}

function reranker(id: number): RerankerEngine {
  const r = rerankers.get(id);
  if (!r) throw new DisposedError('this reranker was disposed (or its worker restarted); create a new one with createReranker()');
  return r;
}

const api = {
  diagnose: () => diagnose('worker'),

  async createEmbedder(opts: WorkerEmbedderOptions, signal?: AbortSignal, onProgress?: (e: EmbedProgress) => void) {
    const engine = await withProgress(onProgress, (p) => createEmbedderEngine({ ...opts, ...(signal ? { signal } : {}), ...p }));
    const id = nextId++;
    embedders.set(id, engine);
    return { id, info: engine.info };
  },

  async embed(id: number, texts: string[], opts: WorkerEmbedOptions = {}, signal?: AbortSignal, onProgress?: (e: EmbedProgress) => void) {
    const e = embedder(id);
    const r = await withProgress(onProgress, (p) => e.embed(texts, { ...opts, ...(signal ? { signal } : {}), ...p }));
    return transfer(r, [r.data.buffer]);
  },

  /** createIndex()'s add(): documents split into passages and embedded in this one call */
  async embedPassages(id: number, texts: string[], opts: WorkerPassageOptions, signal?: AbortSignal, onProgress?: PassageCallOptions['onProgress']) {
    const e = embedder(id);
    const r = await withProgress(onProgress, (p) => e.embedPassages(texts, { ...opts, ...(signal ? { signal } : {}), ...p }));
    return transfer(r, [r.data.buffer]);
  },

  countTokens(id: number, texts: string[], opts: Pick<WorkerEmbedOptions, 'task' | 'instruction'> = {}) {
    return embedder(id).countTokens(texts, opts);
  },

  stats(id: number) {
    return embedder(id).stats();
  },

  async disposeEmbedder(id: number) {
    const e = embedders.get(id);
    embedders.delete(id);
    await e?.dispose();
  },

  async createReranker(opts: WorkerRerankerOptions, signal?: AbortSignal, onProgress?: (e: RerankProgress) => void) {
    const engine = await withProgress(onProgress, (p) => createRerankerEngine({ ...opts, ...(signal ? { signal } : {}), ...p }));
    const id = nextId++;
    rerankers.set(id, engine);
    return { id, info: engine.info };
  },

  async rerank(id: number, query: string, documents: string[], opts: WorkerRerankOptions = {}, signal?: AbortSignal, onProgress?: (e: RerankProgress) => void) {
    const rr = reranker(id);
    const r = await withProgress(onProgress, (p) => rr.rerank(query, documents, { ...opts, ...(signal ? { signal } : {}), ...p }));
    return transfer(r, [r.scores.buffer]);
  },

  rerankerStats(id: number) {
    const r = reranker(id);
    return { liveGpuBuffers: r.liveGpuBuffers, lastReadbackBytes: r.lastReadbackBytes, lastOutputBytes: r.lastOutputBytes };
  },

  async disposeReranker(id: number) {
    const r = rerankers.get(id);
    rerankers.delete(id);
    await r?.dispose();
  },
};

export type WorkerApi = typeof api;
export { proxy };

// onnxruntime-web's wasm threads may load the module that bundles it; only our own worker serves.
if (!(globalThis as { name?: string }).name?.startsWith('em-pthread')) expose(api);
