/**
 * createReranker() / rerank() on the main thread: the engine runs in the library's worker (the
 * same worker, ORT environment and GPU device as the embedder) or in this thread
 * (`worker: false`). Scores arrive as one transferred Float32Array; the ranking (best first, ties
 * in input order, topK) is made here, where the documents already are.
 */
import { proxy } from 'comlink';
import { askPersistence } from '../cache/quota.ts';
import { checkRerankArgs, checkTopK, rankByScore } from '../engine/rank.ts';
import type { HeadMode, RerankBatchResult, RerankCallOptions, RerankerEngineOptions, RerankerInfo, RerankProgress } from '../engine/reranker.ts';
import { DisposedError } from '../errors.ts';
import type { RerankerOverrides } from '../models/rerank.ts';
import type { SelfCheckOption } from '../engine/self-check.ts';
import type { ModelOverrides } from '../models/spec.ts';
import { checkOptions } from './option-check.ts';
import { AT_RERANK_CALL, AT_RERANKER_LOAD, CREATE_RERANKER_RULES, RERANK_ONE_CALL_RULES, RERANK_RULES, RERANKER_LOAD_KEYS } from './option-rules.ts';
import { engineLoadOptions, SharedInstances, splitOptions, type LoadOptions } from './options.ts';
import { callWorker, engineWorker } from './worker.ts';

export interface CreateRerankerOptions extends LoadOptions {
  /** a model folder URL or a preset id: 'qwen3-reranker-0.6b', 'bge-reranker-base', 'ms-marco-minilm-l-6-v2' */
  model: string;
  /** maxTokens; and the reranker's own: kind ('yes-no' | 'cross-encoder'), template, defaultInstruction, yesToken / noToken, positiveLabel */
  overrides?: ModelOverrides & RerankerOverrides;
  /** yes/no rerankers: 'auto' (default) computes only the yes/no logits at the last position where the export allows it */
  head?: HeadMode;
  /**
   * At load, score a probe pair on WebGPU and on the wasm path (the same ONNX file) and compare: more
   * than 0.02 apart, the WebGPU result is wrong, and the reranker runs on wasm instead ('fallback'),
   * throws a SelfCheckError ('error') or only warns ('warn'). Default: 'fallback' for a reduced
   * dtype on WebGPU and for a GroupQueryAttention graph at any dtype; `info.selfCheck` says what happened.
   */
  selfCheck?: SelfCheckOption;
  onProgress?: (e: RerankProgress) => void;
}

export interface RerankOptions {
  /** yes/no rerankers: the task ('Given a web search query, retrieve relevant passages that answer the query' by default) */
  instruction?: string;
  /** how many results: an integer ≥ 1 (all by default; more than the documents gives them all) */
  topK?: number;
  /** documents per batch, at most */
  batchSize?: number;
  signal?: AbortSignal;
  onProgress?: (e: RerankProgress) => void;
}

/** One ranked document. */
export interface RerankResult {
  /** its index in the documents given */
  index: number;
  /** relevance in [0, 1] */
  score: number;
  document: string;
}

/** Results best first (ties in input order), plus what happened to the documents. */
export interface RerankResults extends Array<RerankResult> {
  /** input indices of documents cut to fit the model (the query and template are never cut) */
  readonly truncated: readonly number[];
  /** tokens of each (query, document) pair as the model would take it uncut, in input order */
  readonly tokens: readonly number[];
}

export interface RerankerStats {
  /** our GPU scratch buffers alive now (0 after dispose) */
  liveGpuBuffers: number;
  /** bytes read back from the GPU by the last batch: 4 per document */
  lastReadbackBytes: number;
  /** bytes of ORT's output tensors in the last batch (the logits, and any other output) */
  lastOutputBytes: number;
}

export interface Reranker {
  readonly info: RerankerInfo;
  rerank(query: string, documents: string[], options?: RerankOptions): Promise<RerankResults>;
  stats(): Promise<RerankerStats>;
  dispose(): Promise<void>;
}

function toResults(r: RerankBatchResult, documents: readonly string[], topK: number | undefined): RerankResults {
  const results = rankByScore(r.scores, topK).map((index) => ({ index, score: r.scores[index]!, document: documents[index]! }));
  return Object.assign(results, { truncated: r.truncated, tokens: r.tokens });
}

const noResults = (): RerankResults => Object.assign([], { truncated: [], tokens: [] });

function engineOptions(o: CreateRerankerOptions): Omit<RerankerEngineOptions, 'onProgress'> {
  return engineLoadOptions(o, { ...(o.head ? { head: o.head } : {}), ...(o.selfCheck !== undefined ? { selfCheck: o.selfCheck } : {}) });
}

function callOptions(o: RerankOptions): Omit<RerankCallOptions, 'onProgress' | 'signal'> {
  return { ...(o.instruction !== undefined ? { instruction: o.instruction } : {}), ...(o.batchSize !== undefined ? { batchSize: o.batchSize } : {}) };
}

/**
 * Loads a reranker and keeps it (and its GPU resources) until dispose().
 *
 * @example
 * const reranker = await createReranker({ model: 'qwen3-reranker-0.6b' });
 * const [best] = await reranker.rerank('capital of France?', ['Bananas are yellow.', 'Paris is the capital of France.']);
 * best; // { index: 1, score: 0.99…, document: 'Paris is the capital of France.' }
 */
export async function createReranker(options: CreateRerankerOptions): Promise<Reranker> {
  checkOptions(options, CREATE_RERANKER_RULES, 'createReranker()', AT_RERANK_CALL);
  if (!options || typeof options.model !== 'string' || !options.model) {
    throw new TypeError("createReranker needs { model }: a model folder URL or a preset id such as 'qwen3-reranker-0.6b'");
  }
  const inWorker = options.worker ?? typeof Worker !== 'undefined';
  // navigator.storage.persist() exists on the main thread only.
  if (options.cache && options.cache.persist) await askPersistence();
  const check = (query: unknown, documents: unknown, o: RerankOptions) => {
    checkOptions(o, RERANK_RULES, 'rerank()', AT_RERANKER_LOAD);
    checkRerankArgs(query, documents);
    return checkTopK(o.topK);
  };
  if (!inWorker) {
    const { createRerankerEngine } = await import('../engine/reranker.ts');
    const engine = await createRerankerEngine({ ...engineOptions(options), ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
    return {
      info: engine.info,
      rerank: async (query, documents, o = {}) => {
        const topK = check(query, documents, o);
        return toResults(await engine.rerank(query, documents, { ...callOptions(o), ...(o.signal ? { signal: o.signal } : {}), ...(o.onProgress ? { onProgress: o.onProgress } : {}) }), documents, topK);
      },
      stats: async () => ({ liveGpuBuffers: engine.liveGpuBuffers, lastReadbackBytes: engine.lastReadbackBytes, lastOutputBytes: engine.lastOutputBytes }),
      dispose: () => engine.dispose(),
    };
  }
  const w = engineWorker();
  const { signal: _, ...workerOptions } = engineOptions(options);
  const { id, info } = await callWorker((api) => api.createReranker(workerOptions, options.signal, options.onProgress ? proxy(options.onProgress) : undefined), w, { options: workerOptions });
  let disposed = false;
  return {
    info,
    rerank: async (query, documents, o = {}) => {
      if (disposed) throw new DisposedError('this reranker was disposed; create a new one with createReranker()');
      const topK = check(query, documents, o);
      if (documents.length === 0) return noResults();
      const r = await callWorker((api) => api.rerank(id, query, documents, callOptions(o), o.signal, o.onProgress ? proxy(o.onProgress) : undefined), w, { query, documents, options: callOptions(o) });
      return toResults(r, documents, topK);
    },
    stats: () => callWorker((api) => api.rerankerStats(id), w),
    dispose: async () => {
      if (disposed) return;
      disposed = true;
      await callWorker((api) => api.disposeReranker(id), w).catch(() => undefined);
    },
  };
}

const shared = new SharedInstances<Reranker>();

/**
 * Ranks documents by relevance to a query, loading the model on first use and keeping it for
 * later calls with the same model, device and dtype. No documents: [] (and no model is loaded).
 *
 * @example
 * const ranked = await rerank('how do I bake bread?', passages, { model: 'qwen3-reranker-0.6b', topK: 5 });
 * ranked.map((r) => [r.index, r.score]);
 */
export async function rerank(query: string, documents: string[], options: RerankOptions & Omit<CreateRerankerOptions, 'signal'>): Promise<RerankResults> {
  checkOptions(options, RERANK_ONE_CALL_RULES, 'rerank()');
  if (!options || typeof options.model !== 'string' || !options.model) {
    throw new TypeError("rerank(query, documents, { model }) needs a model: a model folder URL or a preset id such as 'qwen3-reranker-0.6b'");
  }
  checkRerankArgs(query, documents);
  checkTopK(options.topK);
  if (documents.length === 0) return noResults();
  const { load, call } = splitOptions(options, RERANKER_LOAD_KEYS);
  const reranker = await shared.get(load, () => createReranker({ ...load, ...(call.onProgress ? { onProgress: call.onProgress } : {}) }));
  return reranker.rerank(query, documents, call);
}

/** Disposes the rerankers that rerank() keeps (the worker stays). */
export function releaseSharedRerankers(): Promise<void> {
  return shared.release();
}
