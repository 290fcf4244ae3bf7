/**
 * createEmbedder() / embed() on the main thread: the engine runs in the library's worker by
 * default, or in this thread (`worker: false`: Node, or an app's own worker). Results arrive as
 * one transferred buffer, handed out as one Float32Array view per text.
 */
import { proxy } from 'comlink';
import type { EmbedBatchResult, EmbedCallOptions, EmbedderEngineOptions, EmbedderInfo, EmbedProgress } from '../engine/embedder.ts';
import type { SelfCheckOption } from '../engine/self-check.ts';
import type { CallTimings } from '../engine/stage-clock.ts';
import type { ModelOverrides } from '../models/spec.ts';
import type { Task } from '../models/types.ts';
import { askPersistence } from '../cache/quota.ts';
import { DisposedError } from '../errors.ts';
import { checkOptions } from './option-check.ts';
import { AT_EMBED_CALL, AT_LOAD, CREATE_EMBEDDER_RULES, EMBED_ONE_CALL_RULES, EMBED_RULES, EMBEDDER_LOAD_KEYS } from './option-rules.ts';
import { engineLoadOptions, SharedInstances, splitOptions, type LoadOptions } from './options.ts';
import { withPassageCall } from './passage-call.ts';
import { callWorker, engineWorker } from './worker.ts';

export interface CreateEmbedderOptions extends LoadOptions {
  /** override what the model's own files say: pooling ('last_token' and the like accepted), normalize, prompts, maxTokens, paddingSide, and matryoshka ({ min } or { sizes }: the sizes it was trained for) */
  overrides?: ModelOverrides;
  /**
   * At load, embed a probe sentence on WebGPU and on the wasm path (the same ONNX file) and compare:
   * below cosine 0.99 the WebGPU result is wrong, and the embedder runs on wasm instead
   * ('fallback'), throws a SelfCheckError ('error') or only warns ('warn'). Default: 'fallback'
   * for a reduced dtype (not fp32) on WebGPU, no check otherwise; `info.selfCheck` says what happened.
   *
   * @example
   * const e = await createEmbedder({ model, dtype: 'q4', device: 'webgpu', selfCheck: 'error' });
   * e.info.selfCheck; // { ran: true, cosine: 0.9996, threshold: 0.99, passed: true, action: 'none', ms: 180 }
   */
  selfCheck?: SelfCheckOption;
  onProgress?: (e: EmbedProgress) => void;
}

export interface EmbedOptions {
  /** chooses the model's prompt: 'query' or 'document' */
  task?: Task;
  /** the task description for instruction-aware models (Qwen3-Embedding, NV-Embed, e5-instruct) */
  instruction?: string;
  /**
   * Matryoshka output size: any integer from 1 to the model's full width (the vector's first
   * `dimensions` values, re-normalized when the model normalizes), as sentence-transformers'
   * truncate_dim; the full width by default. `info.matryoshka` says whether the model was trained
   * for it (below the full width, an untrained model loses more quality).
   */
  dimensions?: number;
  signal?: AbortSignal;
  onProgress?: (e: EmbedProgress) => void;
  /** a text past the model's maximum: 'truncate' (default, reported in `truncated`) or 'chunk' (overlapping windows, averaged) */
  longText?: 'truncate' | 'chunk';
  chunkOverlap?: number;
}

/** One Float32Array per input text (views over one buffer), plus what happened to the texts. */
export interface Embeddings extends Array<Float32Array> {
  /** the vectors' size */
  readonly dimensions: number;
  /** indices of texts cut to the model's maximum token count */
  readonly truncated: readonly number[];
  /** token count of each text as tokenized (before any cut) */
  readonly tokens: readonly number[];
}

export interface EmbedderStats {
  /** our GPU scratch buffers alive now (0 after dispose) */
  liveGpuBuffers: number;
  /** bytes read back from the GPU by the last batch: batch × dimensions × 4 */
  lastReadbackBytes: number;
  /**
   * where the engine's time went in the last embed() call, in ms by stage: tokenize, plan (batch
   * planning), wait (the lock, and yields between batches), feeds (padding, input tensors), run
   * (onnxruntime's run; on WebGPU it returns once the work is queued), head (pooling, Matryoshka,
   * readback: the GPU's time on WebGPU), gather (rows put back in input order); totalMs is the
   * call in the engine, and a worker's message hop is what the caller's own clock adds to it
   */
  lastCall?: CallTimings;
}

export interface Embedder {
  readonly info: EmbedderInfo;
  embed(texts: string[], options?: EmbedOptions): Promise<Embeddings>;
  /**
   * Tokens per text as embed() with these options would see it (prompt and special tokens
   * included, before any cut at info.maxTokens): for fitting passages to the model. embed()'s
   * options are accepted; task and instruction are the ones that count.
   */
  countTokens(texts: string[], options?: EmbedOptions): Promise<number[]>;
  /** what the engine holds and read back, for benchmarks and leak checks */
  stats(): Promise<EmbedderStats>;
  dispose(): Promise<void>;
}

function toEmbeddings(r: EmbedBatchResult): Embeddings {
  const rows = Array.from({ length: r.count }, (_, i) => r.data.subarray(i * r.dimensions, (i + 1) * r.dimensions));
  return Object.assign(rows, { dimensions: r.dimensions, truncated: r.truncated, tokens: r.tokens });
}

function engineOptions(o: CreateEmbedderOptions): Omit<EmbedderEngineOptions, 'onProgress'> {
  return engineLoadOptions(o, o.selfCheck !== undefined ? { selfCheck: o.selfCheck } : {});
}

function callOptions(o: EmbedOptions): Omit<EmbedCallOptions, 'onProgress' | 'signal'> {
  const { onProgress: _p, signal: _s, ...rest } = o;
  return rest;
}

/**
 * Loads a model and returns an embedder that keeps it (and its GPU resources) until dispose().
 *
 * @example
 * const embedder = await createEmbedder({ model: 'https://example.com/models/multilingual-e5-small/' });
 * const [q] = await embedder.embed(['how do I bake bread?'], { task: 'query' });
 * await embedder.dispose();
 */
export async function createEmbedder(options: CreateEmbedderOptions): Promise<Embedder> {
  checkOptions(options, CREATE_EMBEDDER_RULES, 'createEmbedder()', AT_EMBED_CALL);
  if (!options || typeof options.model !== 'string' || !options.model) {
    throw new TypeError("createEmbedder needs { model }: a model folder URL or a preset id such as 'multilingual-e5-small'");
  }
  const inWorker = options.worker ?? typeof Worker !== 'undefined';
  // navigator.storage.persist() exists on the main thread only.
  if (options.cache && options.cache.persist) await askPersistence();
  if (!inWorker) {
    const { createEmbedderEngine } = await import('../engine/embedder.ts');
    const engine = await createEmbedderEngine({ ...engineOptions(options), ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
    return withPassageCall({
      info: engine.info,
      embed: async (texts, o = {}) => {
        checkOptions(o, EMBED_RULES, 'embed()', AT_LOAD);
        return toEmbeddings(await engine.embed(texts, o));
      },
      countTokens: async (texts, o = {}) => {
        checkOptions(o, EMBED_RULES, 'countTokens()', AT_LOAD);
        return engine.countTokens(texts, o);
      },
      stats: async () => engine.stats(),
      dispose: () => engine.dispose(),
    }, (texts, o) => engine.embedPassages(texts, o));
  }
  const w = engineWorker();
  const { signal: _, ...workerOptions } = engineOptions(options);
  const { id, info } = await callWorker(
    (api) => api.createEmbedder(workerOptions, options.signal, options.onProgress ? proxy(options.onProgress) : undefined),
    w,
    { options: workerOptions },
  );
  let disposed = false;
  const alive = () => {
    if (disposed) throw new DisposedError('this embedder was disposed; create a new one with createEmbedder()');
  };
  return withPassageCall({
    info,
    embed: async (texts, o = {}) => {
      alive();
      checkOptions(o, EMBED_RULES, 'embed()', AT_LOAD);
      return toEmbeddings(await callWorker((api) => api.embed(id, texts, callOptions(o), o.signal, o.onProgress ? proxy(o.onProgress) : undefined), w, { texts, options: callOptions(o) }));
    },
    countTokens: async (texts, o = {}) => {
      alive();
      checkOptions(o, EMBED_RULES, 'countTokens()', AT_LOAD);
      return callWorker((api) => api.countTokens(id, texts, { ...(o.task ? { task: o.task } : {}), ...(o.instruction !== undefined ? { instruction: o.instruction } : {}) }), w);
    },
    stats: () => callWorker((api) => api.stats(id), w),
    dispose: async () => {
      if (disposed) return;
      disposed = true;
      await callWorker((api) => api.disposeEmbedder(id), w).catch(() => undefined);
    },
  }, async (texts, o) => {
    alive();
    const { signal, onProgress, ...rest } = o;
    return callWorker((api) => api.embedPassages(id, texts, rest, signal, onProgress ? proxy(onProgress) : undefined), w, { texts, options: rest });
  });
}

const shared = new SharedInstances<Embedder>();

/**
 * Embeds texts with a model, loading it on first use and keeping it for later calls with the
 * same model, device and dtype.
 *
 * @example
 * const [a, b] = await embed(['first text', 'second text'], { model: 'all-minilm-l6-v2' });
 */
export async function embed(texts: string[], options: EmbedOptions & Omit<CreateEmbedderOptions, 'signal'>): Promise<Embeddings> {
  checkOptions(options, EMBED_ONE_CALL_RULES, 'embed()');
  if (!options || typeof options.model !== 'string' || !options.model) {
    throw new TypeError("embed(texts, { model }) needs a model: a model folder URL or a preset id such as 'multilingual-e5-small'");
  }
  const { load, call } = splitOptions(options, EMBEDDER_LOAD_KEYS);
  const embedder = await shared.get(load, () => createEmbedder({ ...load, ...(call.onProgress ? { onProgress: call.onProgress } : {}) }));
  return embedder.embed(texts, call);
}

/** Disposes the embedders that embed() keeps (the worker stays). */
export function releaseSharedEmbedders(): Promise<void> {
  return shared.release();
}
