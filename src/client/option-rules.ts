/**
 * The rules of every public options object (option-check.ts checks them). Each set is typed
 * Rules<TheInterface>: exactly the interface's keys, so the interfaces stay the one place option
 * names are written, and a key added there without a rule here fails the type check.
 */
import type { HubOptions } from '../io/hub.ts';
import type { BatchLimits } from '../engine/batching.ts';
import { canonicalPooling, type ModelOverrides } from '../models/spec.ts';
import { resolveDtypeOption } from '../models/onnx-files.ts';
import type { RerankerOverrides, RerankTemplate } from '../models/rerank.ts';
import type { CacheOptions } from '../cache/weight-cache.ts';
import type { AddOptions, CreateIndexOptions, IndexSearchOptions } from '../vector-index/types.ts';
import type { CreateEmbedderOptions, EmbedOptions } from './embedder.ts';
import type { LoadOptions } from './options.ts';
import type { CreateRerankerOptions, RerankOptions } from './reranker.ts';
import type { SearchAndRerankOptions } from './search.ts';
import { anyObject, arrayOf, boolean, custom, func, number, object, oneOf, signal, string, type Elsewhere, type Rules } from './option-check.ts';

const MATRYOSHKA_KEYS: Rules<{ min?: number; sizes?: number[] }> = { min: number, sizes: arrayOf(number, 'an array of numbers') };

export const OVERRIDES_RULES: Rules<ModelOverrides> = {
  pooling: custom((v, path, where) => void canonicalPooling(v, `${where}: ${path}`)),
  normalize: boolean,
  prompts: object<NonNullable<ModelOverrides['prompts']>>({ query: string, document: string }),
  defaultInstruction: string,
  maxTokens: number,
  paddingSide: oneOf(['left', 'right']),
  // { min } or { sizes }, one of them; their range needs the model's width, checked at load (src/models/spec.ts)
  matryoshka: custom((v, path, where) => {
    object(MATRYOSHKA_KEYS)(v, path, where);
    const m = v as { min?: unknown; sizes?: unknown };
    if ((m.min === undefined) === (m.sizes === undefined)) {
      throw new TypeError(`${where}: ${path} takes one of { min } (every size from min to the full width was trained) or { sizes } (these sizes were), got ${JSON.stringify(v)}`);
    }
  }, MATRYOSHKA_KEYS),
};

export const RERANKER_OVERRIDES_RULES: Rules<ModelOverrides & RerankerOverrides> = {
  ...OVERRIDES_RULES,
  kind: oneOf(['yes-no', 'cross-encoder']),
  template: object<RerankTemplate>({ prefix: string, body: string, suffix: string }),
  yesToken: string,
  noToken: string,
  positiveLabel: number,
};

const LIMITS_RULES: Rules<Partial<BatchLimits>> = { maxBatchSize: number, maxBatchTokens: number, batchOverheadTokens: number };

const CACHE_RULES: Rules<CacheOptions> = {
  maxBytes: number,
  revalidate: boolean,
  verify: oneOf(['size', 'full']),
  persist: boolean,
  onQuotaExceeded: oneOf(['error', 'memory']),
  chunkSize: number,
  dir: string,
};
const cacheObject = object(CACHE_RULES);

/** The embedder's and the reranker's device words ('gpu' is other libraries'; 'cpu' is onnxruntime-node in Node, as in transformers.js). */
const device = oneOf(['auto', 'webgpu', 'wasm', 'cpu'], {
  gpu: "WebGPU is 'webgpu'",
});

const selfCheck = oneOf(['fallback', 'error', 'warn', false]);

export const LOAD_RULES: Rules<LoadOptions> = {
  model: custom((v, path, where) => {
    if (typeof v !== 'string' || !v) throw new TypeError(`${where}: ${path} must be a hub id ('Xenova/all-MiniLM-L6-v2'), a preset id ('multilingual-e5-small') or a model folder URL, got ${JSON.stringify(v) ?? String(v)}`);
  }),
  preset: string,
  revision: string,
  hub: object<HubOptions>({ host: string, pathTemplate: string }),
  overrides: object(OVERRIDES_RULES),
  device,
  dtype: custom((v, path, where) => void resolveDtypeOption(v, `${where}: ${path}`)),
  worker: boolean,
  wasmPaths: string,
  numThreads: number,
  jspi: boolean,
  limits: object(LIMITS_RULES),
  cache: custom((v, path, where) => {
    if (v === false) return;
    if (v === true) throw new TypeError(`${where}: ${path} must be false (no cache) or an object of cache options; leave it out (or pass {}) for the default cache`);
    cacheObject(v, path, where);
  }, CACHE_RULES),
  signal,
};

export const CREATE_EMBEDDER_RULES: Rules<CreateEmbedderOptions> = { ...LOAD_RULES, selfCheck, onProgress: func };

export const EMBED_RULES: Rules<EmbedOptions> = {
  task: oneOf(['query', 'document'], { passage: "a passage is task 'document'", search_query: "task 'query'", search_document: "task 'document'" }),
  instruction: string,
  dimensions: number,
  signal,
  onProgress: func,
  longText: oneOf(['truncate', 'chunk']),
  chunkOverlap: number,
};

const { signal: _loadSignal, ...CREATE_EMBEDDER_NO_SIGNAL } = CREATE_EMBEDDER_RULES;
/** embed(texts, options): the load options and the call's (whose signal is the call's). */
export const EMBED_ONE_CALL_RULES: Rules<EmbedOptions & Omit<CreateEmbedderOptions, 'signal'>> = { ...CREATE_EMBEDDER_NO_SIGNAL, ...EMBED_RULES };

/** The keys of embed()'s options that choose the model (the kept instance's key): all of createEmbedder()'s but its signal and onProgress. */
export const EMBEDDER_LOAD_KEYS = loadKeys(CREATE_EMBEDDER_RULES);

export const CREATE_RERANKER_RULES: Rules<CreateRerankerOptions> = {
  ...LOAD_RULES,
  overrides: object(RERANKER_OVERRIDES_RULES),
  head: oneOf(['auto', 'pruned', 'full-logits']),
  selfCheck,
  onProgress: func,
};

export const RERANK_RULES: Rules<RerankOptions> = { instruction: string, topK: number, batchSize: number, signal, onProgress: func };

const { signal: _rerankerSignal, ...CREATE_RERANKER_NO_SIGNAL } = CREATE_RERANKER_RULES;
export const RERANK_ONE_CALL_RULES: Rules<RerankOptions & Omit<CreateRerankerOptions, 'signal'>> = { ...CREATE_RERANKER_NO_SIGNAL, ...RERANK_RULES };

/** The keys of rerank()'s options that choose the model, as EMBEDDER_LOAD_KEYS. */
export const RERANKER_LOAD_KEYS = loadKeys(CREATE_RERANKER_RULES);

function loadKeys<O extends { signal?: unknown; onProgress?: unknown }>(rules: Rules<O>): Exclude<keyof O, 'signal' | 'onProgress'>[] {
  return Object.keys(rules).filter((k) => k !== 'signal' && k !== 'onProgress') as Exclude<keyof O, 'signal' | 'onProgress'>[];
}

export const SEARCH_AND_RERANK_RULES: Rules<SearchAndRerankOptions> = {
  embedder: anyObject,
  reranker: anyObject,
  candidates: number,
  topK: number,
  passageVectors: arrayOf(
    custom((v, path, where) => {
      if (!(v instanceof Float32Array)) throw new TypeError(`${where}: ${path} must be a Float32Array (a vector from embed()), got ${Object.prototype.toString.call(v).slice(8, -1)}`);
    }),
    'an array of Float32Array vectors',
  ),
  queryInstruction: string,
  instruction: string,
  signal,
};

export const CREATE_INDEX_RULES: Rules<CreateIndexOptions> = {
  embedder: anyObject,
  dimensions: number,
  storage: oneOf(['float32', 'int8', 'binary']),
  // the embedder's words ('wasm': no GPU) and the index's own ('cpu', the same), or a device to share
  device: custom((v, path, where) => {
    if (typeof v === 'object' && v !== null && 'queue' in v) return;
    if (typeof v !== 'string') throw new TypeError(`${where}: ${path} must be 'auto', 'webgpu', 'wasm', 'cpu' or a GPUDevice, got ${v === null ? 'null' : typeof v}`);
    oneOf(['auto', 'webgpu', 'wasm', 'cpu'])(v, path, where);
  }),
  name: string,
  passageTokens: number,
};

export const ADD_RULES: Rules<AddOptions> = { signal, onProgress: func, batchSize: number };

export const INDEX_SEARCH_RULES: Rules<IndexSearchOptions> = { topK: number, filter: func, signal, instruction: string, candidates: number };

/** Where keys of the load options go when they are passed to a call: the model's facts are fixed at load. */
export const AT_LOAD: Elsewhere[] = [
  { rules: OVERRIDES_RULES, say: (k) => `${k} is a fact of the model, fixed when it loads: createEmbedder({ model, overrides: { ${k} } })` },
  { rules: LOAD_RULES, say: (k) => `${k} is a load option: createEmbedder({ model, ${k} }), or the one-call embed(texts, { model, ${k} })` },
];
export const AT_RERANKER_LOAD: Elsewhere[] = [
  { rules: RERANKER_OVERRIDES_RULES, say: (k) => `${k} is a fact of the model, fixed when it loads: createReranker({ model, overrides: { ${k} } })` },
  { rules: CREATE_RERANKER_RULES, say: (k) => `${k} is a load option: createReranker({ model, ${k} }), or the one-call rerank(query, documents, { model, ${k} })` },
];

/** Where a call's keys go when they are passed at load. */
export const AT_EMBED_CALL: Elsewhere[] = [{ rules: EMBED_RULES, say: (k) => `${k} is an option of each call: embedder.embed(texts, { ${k} })` }];
export const AT_RERANK_CALL: Elsewhere[] = [{ rules: RERANK_RULES, say: (k) => `${k} is an option of each call: reranker.rerank(query, documents, { ${k} })` }];
