/**
 * The option checks (src/client/option-check.ts, option-rules.ts): every key the public types
 * declare is accepted (keys read from the declarations by the TypeScript compiler, and a full,
 * valid options object per call), an unknown key is a TypeError naming it and the nearest known
 * key, a value of the wrong type a TypeError naming the option; the pooling names of
 * transformers.js and sentence-transformers are understood (dtype names: dtype-names.test.ts).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { CreateEmbedderOptions, EmbedOptions } from '../../src/client/embedder.ts';
import { checkOptions, editDistance, nearestKey, type Rule, type Rules } from '../../src/client/option-check.ts';
import {
  ADD_RULES,
  AT_LOAD,
  CREATE_EMBEDDER_RULES,
  CREATE_INDEX_RULES,
  CREATE_RERANKER_RULES,
  EMBED_ONE_CALL_RULES,
  EMBED_RULES,
  EMBEDDER_LOAD_KEYS,
  INDEX_SEARCH_RULES,
  LOAD_RULES,
  RERANK_ONE_CALL_RULES,
  RERANK_RULES,
  RERANKER_LOAD_KEYS,
  SEARCH_AND_RERANK_RULES,
} from '../../src/client/option-rules.ts';
import type { LoadOptions } from '../../src/client/options.ts';
import type { CreateRerankerOptions, RerankOptions } from '../../src/client/reranker.ts';
import type { SearchAndRerankOptions } from '../../src/client/search.ts';
import { createEmbedder, createIndex, createReranker, embed, rerank, searchAndRerank } from '../../src/index.ts';
import { canonicalPooling, POOLING_ALIASES } from '../../src/models/spec.ts';
import type { AddOptions, CreateIndexOptions, IndexEmbedder, IndexSearchOptions } from '../../src/vector-index/types.ts';
import { readPublicApi, type PublicApi } from './helpers/public-options.ts';

const signal = new AbortController().signal;

// Full, valid options objects, written by hand: `Required<…>` makes the type check demand every key.
const OVERRIDES = {
  pooling: 'last_token',
  normalize: true,
  prompts: { query: 'query: ', document: 'passage: ' },
  defaultInstruction: 'Given a question, find the answer',
  maxTokens: 128,
  paddingSide: 'left',
  matryoshka: { sizes: [64, 128] },
} satisfies Required<NonNullable<LoadOptions['overrides']>>;
const LOAD: Required<LoadOptions> = {
  model: 'all-minilm-l6-v2',
  preset: 'all-minilm-l6-v2',
  revision: 'main',
  hub: { host: 'https://huggingface.co', pathTemplate: '{model}/resolve/{revision}/' },
  overrides: OVERRIDES,
  device: 'wasm',
  dtype: { model: 'q8' },
  worker: false,
  wasmPaths: '/ort/',
  numThreads: 2,
  jspi: false,
  limits: { maxBatchSize: 8, maxBatchTokens: 4096, batchOverheadTokens: 64 },
  cache: { maxBytes: 1e9, revalidate: true, verify: 'full', persist: false, onQuotaExceeded: 'memory', chunkSize: 1 << 20 },
  signal,
};
const CREATE_EMBEDDER: Required<CreateEmbedderOptions> = { ...LOAD, selfCheck: false, onProgress: () => {} };
const EMBED: Required<EmbedOptions> = { task: 'query', instruction: 'x', dimensions: 100, signal, onProgress: () => {}, longText: 'chunk', chunkOverlap: 16 };
const { signal: _s, ...CREATE_EMBEDDER_NO_SIGNAL } = CREATE_EMBEDDER;
const EMBED_ONE_CALL: Required<EmbedOptions & Omit<CreateEmbedderOptions, 'signal'>> = { ...CREATE_EMBEDDER_NO_SIGNAL, ...EMBED };
const RERANKER_OVERRIDES = {
  ...OVERRIDES,
  kind: 'cross-encoder',
  template: { prefix: '<s>', body: '{instruction} {query} {document}', suffix: '</s>' },
  yesToken: 'yes',
  noToken: 'no',
  positiveLabel: 1,
} satisfies Required<NonNullable<CreateRerankerOptions['overrides']>>;
const CREATE_RERANKER: Required<CreateRerankerOptions> = { ...LOAD, overrides: RERANKER_OVERRIDES, head: 'pruned', selfCheck: 'warn', onProgress: () => {} };
const RERANK: Required<RerankOptions> = { instruction: 'x', topK: 3, batchSize: 8, signal, onProgress: () => {} };
const { signal: _r, ...CREATE_RERANKER_NO_SIGNAL } = CREATE_RERANKER;
const RERANK_ONE_CALL: Required<RerankOptions & Omit<CreateRerankerOptions, 'signal'>> = { ...CREATE_RERANKER_NO_SIGNAL, ...RERANK };
const fakeEmbedder = { info: {}, embed: async () => [], countTokens: async () => [] } as unknown as IndexEmbedder;
const SEARCH_AND_RERANK: Required<SearchAndRerankOptions> = {
  embedder: fakeEmbedder as SearchAndRerankOptions['embedder'],
  reranker: {} as SearchAndRerankOptions['reranker'],
  candidates: 20,
  topK: 5,
  passageVectors: [new Float32Array(4)],
  queryInstruction: 'x',
  instruction: 'y',
  signal,
};
const CREATE_INDEX: Required<CreateIndexOptions> = { embedder: fakeEmbedder, dimensions: 64, storage: 'int8', device: 'wasm', name: 'docs', passageTokens: 128 };
const ADD: Required<AddOptions> = { signal, onProgress: () => {}, batchSize: 64 };
const INDEX_SEARCH: Required<IndexSearchOptions> = { topK: 5, filter: () => true, signal, instruction: 'x', candidates: 40 };

interface Entry {
  call: string;
  keys: (api: PublicApi) => string[];
  rules: Rules<object>;
  sample: object;
}

const ENTRIES: Entry[] = [
  { call: 'LoadOptions', keys: (a) => a.typeKeys('LoadOptions'), rules: LOAD_RULES, sample: LOAD },
  { call: 'createEmbedder()', keys: (a) => a.fnOptions('createEmbedder', 0), rules: CREATE_EMBEDDER_RULES, sample: CREATE_EMBEDDER },
  { call: 'embed()', keys: (a) => a.fnOptions('embed', 1), rules: EMBED_ONE_CALL_RULES, sample: EMBED_ONE_CALL },
  { call: 'embedder.embed()', keys: (a) => a.methodOptions('Embedder', 'embed', 1), rules: EMBED_RULES, sample: EMBED },
  { call: 'embedder.countTokens()', keys: (a) => a.methodOptions('Embedder', 'countTokens', 1), rules: EMBED_RULES, sample: EMBED },
  { call: 'createReranker()', keys: (a) => a.fnOptions('createReranker', 0), rules: CREATE_RERANKER_RULES, sample: CREATE_RERANKER },
  { call: 'rerank()', keys: (a) => a.fnOptions('rerank', 2), rules: RERANK_ONE_CALL_RULES, sample: RERANK_ONE_CALL },
  { call: 'reranker.rerank()', keys: (a) => a.methodOptions('Reranker', 'rerank', 2), rules: RERANK_RULES, sample: RERANK },
  { call: 'searchAndRerank()', keys: (a) => a.fnOptions('searchAndRerank', 2), rules: SEARCH_AND_RERANK_RULES, sample: SEARCH_AND_RERANK },
  { call: 'createIndex()', keys: (a) => a.fnOptions('createIndex', 0), rules: CREATE_INDEX_RULES, sample: CREATE_INDEX },
  { call: 'index.add()', keys: (a) => a.methodOptions('VectorIndex', 'add', 1), rules: ADD_RULES, sample: ADD },
  { call: 'index.search()', keys: (a) => a.methodOptions('VectorIndex', 'search', 1), rules: INDEX_SEARCH_RULES, sample: INDEX_SEARCH },
];

/** Object-valued options whose own keys are checked: [function, parameter, path, the rule that checks it]. */
const NESTED: [string, number, string, Rule][] = [
  ['createEmbedder', 0, 'overrides', CREATE_EMBEDDER_RULES.overrides],
  ['createEmbedder', 0, 'overrides.prompts', (CREATE_EMBEDDER_RULES.overrides.nested as Record<string, Rule>).prompts!],
  ['createEmbedder', 0, 'overrides.matryoshka', (CREATE_EMBEDDER_RULES.overrides.nested as Record<string, Rule>).matryoshka!],
  ['createEmbedder', 0, 'limits', CREATE_EMBEDDER_RULES.limits],
  ['createEmbedder', 0, 'cache', CREATE_EMBEDDER_RULES.cache],
  ['createReranker', 0, 'overrides', CREATE_RERANKER_RULES.overrides],
  ['createReranker', 0, 'overrides.template', (CREATE_RERANKER_RULES.overrides.nested as Record<string, Rule>).template!],
];

let api: PublicApi;
beforeAll(() => {
  api = readPublicApi();
}, 60_000);

describe('every option the public types declare is accepted', () => {
  for (const e of ENTRIES) {
    it(`${e.call}: the rules have exactly the declared keys, and a full valid options object passes`, () => {
      const declared = e.keys(api);
      expect(declared.length).toBeGreaterThan(0);
      expect(Object.keys(e.rules).sort()).toEqual(declared);
      // the hand-written sample is complete too, so "passes" covers every key
      expect(Object.keys(e.sample).sort()).toEqual(declared);
      expect(() => checkOptions(e.sample, e.rules, e.call)).not.toThrow();
    });
  }

  for (const [fn, index, path, rule] of NESTED) {
    it(`${fn}(): ${path}'s keys are the declared ones`, () => {
      expect(rule.nested, `${path} has no rules for its keys`).toBeDefined();
      expect(Object.keys(rule.nested!).sort()).toEqual(api.nestedOptions(fn, index, path));
    });
  }

  it('the one-call forms take the load options (all but signal and onProgress) as the key of the kept instance', () => {
    expect([...EMBEDDER_LOAD_KEYS].sort()).toEqual(api.fnOptions('createEmbedder', 0).filter((k) => k !== 'signal' && k !== 'onProgress'));
    expect([...RERANKER_LOAD_KEYS].sort()).toEqual(api.fnOptions('createReranker', 0).filter((k) => k !== 'signal' && k !== 'onProgress'));
  });

  it('undefined values and no options at all pass', () => {
    expect(() => checkOptions(undefined, EMBED_RULES, 'embed()')).not.toThrow();
    expect(() => checkOptions({ task: undefined, signal: undefined }, EMBED_RULES, 'embed()')).not.toThrow();
  });
});

describe('an unknown key is a TypeError naming it and the nearest known key', () => {
  const cases: [string, object, Rules<object>, string][] = [
    ['createEmbedder()', { model: 'm', dtpye: 'q8' }, CREATE_EMBEDDER_RULES, "createEmbedder(): unknown option 'dtpye'; did you mean 'dtype'?"],
    ['createEmbedder()', { model: 'm', devcie: 'wasm' }, CREATE_EMBEDDER_RULES, "createEmbedder(): unknown option 'devcie'; did you mean 'device'?"],
    ['embed()', { task: 'query', dimension: 256 }, EMBED_RULES, "embed(): unknown option 'dimension'; did you mean 'dimensions'?"],
    ['embed()', { instrucion: 'x' }, EMBED_RULES, "embed(): unknown option 'instrucion'; did you mean 'instruction'?"],
    ['rerank()', { top_k: 3 }, RERANK_RULES, "rerank(): unknown option 'top_k'; did you mean 'topK'?"],
    ['createReranker()', { model: 'm', haed: 'auto' }, CREATE_RERANKER_RULES, "createReranker(): unknown option 'haed'; did you mean 'head'?"],
    ['searchAndRerank()', { candiates: 5 }, SEARCH_AND_RERANK_RULES, "searchAndRerank(): unknown option 'candiates'; did you mean 'candidates'?"],
    ['createIndex()', { passage_tokens: 64 }, CREATE_INDEX_RULES, "createIndex(): unknown option 'passage_tokens'; did you mean 'passageTokens'?"],
    ['index.add()', { batch_size: 64 }, ADD_RULES, "index.add(): unknown option 'batch_size'; did you mean 'batchSize'?"],
    ['index.search()', { fliter: () => true }, INDEX_SEARCH_RULES, "index.search(): unknown option 'fliter'; did you mean 'filter'?"],
    // inside an object-valued option: the path is named
    ['createEmbedder()', { model: 'm', overrides: { pooing: 'cls' } }, CREATE_EMBEDDER_RULES, "createEmbedder(): unknown option 'overrides.pooing'; did you mean 'overrides.pooling'?"],
    ['createEmbedder()', { model: 'm', cache: { maxByte: 1 } }, CREATE_EMBEDDER_RULES, "createEmbedder(): unknown option 'cache.maxByte'; did you mean 'cache.maxBytes'?"],
    ['createEmbedder()', { model: 'm', limits: { batchSize: 4 } }, CREATE_EMBEDDER_RULES, "createEmbedder(): unknown option 'limits.batchSize'; did you mean 'limits.maxBatchSize'?"],
  ];
  for (const [call, options, rules, message] of cases) {
    it(`${call} ${JSON.stringify(options, (_, v: unknown) => (typeof v === 'function' ? 'fn' : v))}`, () => {
      expect(() => checkOptions(options, rules, call)).toThrow(TypeError);
      expect(() => checkOptions(options, rules, call)).toThrow(message);
      // and it lists what there is
      expect(() => checkOptions(options, rules, call)).toThrow(/Known options/);
    });
  }

  it("transformers.js' embed(texts, { pooling, normalize }) says where those go: load-time overrides", () => {
    // the method on an embedder: the model's facts were fixed when it loaded
    expect(() => checkOptions({ pooling: 'cls', normalize: false }, EMBED_RULES, 'embed()', AT_LOAD)).toThrow(
      "embed(): unknown option 'pooling': pooling is a fact of the model, fixed when it loads: createEmbedder({ model, overrides: { pooling } })",
    );
    // the one-call form has overrides: say so
    expect(() => checkOptions({ model: 'm', pooling: 'cls' }, EMBED_ONE_CALL_RULES, 'embed()')).toThrow("embed(): unknown option 'pooling'; did you mean overrides: { pooling }?");
    // a load option passed to a call
    expect(() => checkOptions({ dtype: 'q8' }, EMBED_RULES, 'embed()', AT_LOAD)).toThrow("dtype is a load option: createEmbedder({ model, dtype })");
  });

  it("other libraries' option names are answered with ours", () => {
    expect(() => checkOptions({ model: 'm', progress_callback: () => {} }, CREATE_EMBEDDER_RULES, 'createEmbedder()')).toThrow("progress_callback is onProgress here");
    expect(() => checkOptions({ model: 'm', quantized: true }, CREATE_EMBEDDER_RULES, 'createEmbedder()')).toThrow(/quantized is dtype here/);
    expect(() => checkOptions({ truncate_dim: 256 }, EMBED_RULES, 'embed()')).toThrow(/truncate_dim is dimensions here/);
  });

  it('a key far from every known one still names the nearest', () => {
    expect(() => checkOptions({ model: 'm', zzzzzzzz: 1 }, CREATE_EMBEDDER_RULES, 'createEmbedder()')).toThrow(/unknown option 'zzzzzzzz' \(the nearest known option is '\w+'\)/);
  });

  it('the public functions check before any work (no model is fetched)', async () => {
    await expect(createEmbedder({ model: 'https://127.0.0.1:1/none/', dtpye: 'q8' } as CreateEmbedderOptions)).rejects.toThrow("createEmbedder(): unknown option 'dtpye'");
    await expect(embed(['x'], { model: 'https://127.0.0.1:1/none/', pooling: 'cls' } as unknown as Parameters<typeof embed>[1])).rejects.toThrow(
      "embed(): unknown option 'pooling'; did you mean overrides: { pooling }?",
    );
    await expect(createReranker({ model: 'https://127.0.0.1:1/none/', topK: 3 } as CreateRerankerOptions)).rejects.toThrow(
      "createReranker(): unknown option 'topK': topK is an option of each call: reranker.rerank(query, documents, { topK })",
    );
    await expect(createEmbedder({ model: 'https://127.0.0.1:1/none/', task: 'query' } as CreateEmbedderOptions)).rejects.toThrow(
      "createEmbedder(): unknown option 'task': task is an option of each call: embedder.embed(texts, { task })",
    );
    await expect(rerank('q', ['d'], { model: 'https://127.0.0.1:1/none/', top_k: 3 } as unknown as Parameters<typeof rerank>[2])).rejects.toThrow("rerank(): unknown option 'top_k'; did you mean 'topK'?");
    await expect(searchAndRerank('q', ['d'], { embedder: fakeEmbedder, reranker: {}, top_k: 1 } as unknown as SearchAndRerankOptions)).rejects.toThrow("searchAndRerank(): unknown option 'top_k'");
    await expect(createIndex({ embedder: fakeEmbedder, dims: 8 } as unknown as CreateIndexOptions)).rejects.toThrow("createIndex(): unknown option 'dims'");
  });
});

describe('a value of the wrong type is a TypeError naming the option', () => {
  const cases: [string, unknown, Rules<object>, string][] = [
    // the case: this used to fail deep in the engine as "t.signal?.throwIfAborted is not a function"
    ['embed()', { signal: {} }, EMBED_RULES, 'embed(): signal must be an AbortSignal (new AbortController().signal, or AbortSignal.timeout(ms)), got an object (Object)'],
    ['createEmbedder()', { model: 'm', signal: 'stop' }, CREATE_EMBEDDER_RULES, 'createEmbedder(): signal must be an AbortSignal'],
    ['createEmbedder()', { model: 'm', onProgress: 'log' }, CREATE_EMBEDDER_RULES, 'createEmbedder(): onProgress must be a function, got the string "log"'],
    ['createEmbedder()', { model: 'm', worker: 'no' }, CREATE_EMBEDDER_RULES, 'createEmbedder(): worker must be true or false, got the string "no"'],
    ['createEmbedder()', { model: 'm', numThreads: '4' }, CREATE_EMBEDDER_RULES, 'createEmbedder(): numThreads must be a number, got the string "4"'],
    ['createEmbedder()', { model: 42 }, CREATE_EMBEDDER_RULES, 'createEmbedder(): model must be a hub id'],
    ['createEmbedder()', { model: 'm', overrides: 'cls' }, CREATE_EMBEDDER_RULES, 'createEmbedder(): overrides must be an object, got the string "cls"'],
    ['createEmbedder()', { model: 'm', overrides: { normalize: 'yes' } }, CREATE_EMBEDDER_RULES, 'createEmbedder(): overrides.normalize must be true or false'],
    ['createEmbedder()', { model: 'm', overrides: { pooling: () => 'mean' } }, CREATE_EMBEDDER_RULES, 'createEmbedder(): overrides.pooling must be a string'],
    ['createEmbedder()', { model: 'm', overrides: { matryoshka: { min: 32, sizes: [64] } } }, CREATE_EMBEDDER_RULES, 'createEmbedder(): overrides.matryoshka takes one of { min }'],
    ['createEmbedder()', { model: 'm', overrides: { matryoshka: { sizes: ['64'] } } }, CREATE_EMBEDDER_RULES, 'createEmbedder(): overrides.matryoshka.sizes[0] must be a number'],
    ['createEmbedder()', { model: 'm', cache: true }, CREATE_EMBEDDER_RULES, 'createEmbedder(): cache must be false (no cache) or an object of cache options'],
    ['createEmbedder()', { model: 'm', selfCheck: 1 }, CREATE_EMBEDDER_RULES, "createEmbedder(): selfCheck must be one of 'fallback', 'error', 'warn', false, got the number 1"],
    ['embed()', { task: 1 }, EMBED_RULES, "embed(): task must be one of 'query', 'document', got the number 1"],
    ['embed()', { dimensions: '256' }, EMBED_RULES, 'embed(): dimensions must be a number, got the string "256"'],
    ['rerank()', { topK: '3' }, RERANK_RULES, 'rerank(): topK must be a number'],
    ['searchAndRerank()', { passageVectors: [[0.1, 0.2]] }, SEARCH_AND_RERANK_RULES, 'searchAndRerank(): passageVectors[0] must be a Float32Array'],
    ['index.search()', { filter: 'x' }, INDEX_SEARCH_RULES, 'index.search(): filter must be a function'],
    ['createIndex()', { device: 1 }, CREATE_INDEX_RULES, "createIndex(): device must be 'auto', 'webgpu', 'wasm', 'cpu' or a GPUDevice, got number"],
    ['embed()', 'query', EMBED_RULES, 'embed(): options must be an object, got the string "query"'],
    ['embed()', null, EMBED_RULES, 'embed(): options must be an object, got null'],
  ];
  for (const [call, options, rules, message] of cases) {
    it(`${call} ${JSON.stringify(options, (_, v: unknown) => (typeof v === 'function' ? 'fn' : v))}`, () => {
      expect(() => checkOptions(options, rules, call)).toThrow(TypeError);
      expect(() => checkOptions(options, rules, call)).toThrow(message);
    });
  }

  it('a string outside a set of words is a RangeError listing them, with the nearest', () => {
    expect(() => checkOptions({ device: 'webgup' }, LOAD_RULES, 'createEmbedder()')).toThrow(RangeError);
    expect(() => checkOptions({ device: 'webgup' }, LOAD_RULES, 'createEmbedder()')).toThrow(
      "createEmbedder(): device must be one of 'auto', 'webgpu', 'wasm', 'cpu', got the string \"webgup\"; did you mean 'webgpu'?",
    );
    expect(() => checkOptions({ device: 'cpu' }, LOAD_RULES, 'createEmbedder()')).not.toThrow(); // transformers.js' word: onnxruntime-node in Node
    expect(() => checkOptions({ device: 'gpu' }, LOAD_RULES, 'createEmbedder()')).toThrow(/WebGPU is 'webgpu'/);
    expect(() => checkOptions({ storage: 'float16' }, CREATE_INDEX_RULES, 'createIndex()')).toThrow(RangeError);
    expect(() => checkOptions({ longText: 'split' }, EMBED_RULES, 'embed()')).toThrow(RangeError);
  });
});

describe('pooling names in both spellings', () => {
  it("transformers.js' and sentence-transformers' names mean ours", () => {
    expect(Object.fromEntries(Object.keys(POOLING_ALIASES).map((k) => [k, canonicalPooling(k)]))).toEqual({
      mean: 'mean',
      cls: 'cls',
      first_token: 'cls',
      'last-token': 'last-token',
      last_token: 'last-token',
      lasttoken: 'last-token',
      eos: 'last-token',
      'latent-attention': 'latent-attention',
      latent_attention: 'latent-attention',
      graph: 'graph',
    });
  });

  it('a mode other libraries compute and this one does not says so; an unknown name lists the names', () => {
    expect(() => canonicalPooling('max')).toThrow(/overrides.pooling 'max' \(sentence-transformers' max over tokens\) is not computed by this library/);
    expect(() => canonicalPooling('none')).toThrow(RangeError);
    expect(() => canonicalPooling('avg')).toThrow(/overrides.pooling must be one of 'mean', 'cls', 'first_token', 'last-token', 'last_token'/);
  });
});

describe('the nearest key', () => {
  it('edit distance counts a swap of neighbours as one edit', () => {
    expect(editDistance('dtpye', 'dtype')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('same', 'same')).toBe(0);
  });

  it("ignores case, '_' and '-'; 'close' only within a third of the key's length", () => {
    expect(nearestKey('top_k', ['topK', 'batchSize'])).toEqual({ name: 'topK', distance: 0, close: true });
    expect(nearestKey('xyz', ['topK', 'batchSize'])?.close).toBe(false);
    expect(nearestKey('a', [])).toBeUndefined();
  });
});
