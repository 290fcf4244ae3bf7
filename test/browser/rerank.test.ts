/**
 * rerank() end to end in Chromium (WebGPU on SwiftShader): the public API, the engine in the
 * library's worker, ORT on the WebGPU EP (or wasm), the edited yes/no head and the score kernel,
 * against oracles that share nothing with src/models or src/engine:
 *   (a)  the prompt formatted from MODELS.md, tokenized in one piece by transformers.js'
 *        AutoTokenizer, each pair ALONE through onnxruntime-node's ORIGINAL graph, the score
 *        softmax([yes, no])[0] from the FULL logits at the last token;
 *   (a') for the decoder on WebGPU: the same, with the original graph run alone by onnxruntime-web
 *        on this browser's WebGPU straight from the page, because SwiftShader's WGSL sin/cos (RoPE)
 *        move the logits ~1e-4 away from any CPU's (as in embed.test.ts: ROPE_ON_SWIFTSHADER_ABS);
 *   (b)  for the cross-encoder: transformers.js' AutoModelForSequenceClassification.
 * Each list of documents is reranked TOGETHER (mixed lengths, padded batches).
 */
import { join } from 'node:path';
import { AutoModelForSequenceClassification } from '@huggingface/transformers';
import * as ortNode from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { planBatches } from '../../src/engine/batching.ts';
import { useBrowser } from './harness/index.ts';
import { MODELS_DIR, tokenizer, WEB_SEARCH } from './oracle.ts';
import type { RerankCall, RerankCallResult, RerankCallsResult, RerankRun } from './pages/rerank.ts';

const PAGE = '/test/browser/pages/rerank.ts';
const ctx = useBrowser();

const STRICT = 1e-5;
/** SwiftShader's WGSL sin/cos in the decoder's RoPE (see embed.test.ts): logits ~1e-4 off any CPU's. */
const ROPE_ON_SWIFTSHADER_ABS = 1e-3;
const YES = 9693, NO = 2152;

const SYSTEM =
  '<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the Instruct provided. Note that the answer can only be "yes" or "no".<|im_end|>\n<|im_start|>user\n';
const SUFFIX = '<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n';
const prompt = (q: string, d: string, instruction = WEB_SEARCH) => `${SYSTEM}<Instruct>: ${instruction}\n<Query>: ${q}\n<Document>: ${d}${SUFFIX}`;

const QUERY = 'What is the capital of France?';
const DOCS = [
  'Paris is the capital and largest city of France.',
  'Bananas are yellow.',
  'x',
  'The Eiffel Tower is in Paris, a large city in France with many museums, bridges and cafés along the Seine.',
];
const INSTRUCTION = 'Find the sentence that names a city';
const TIES = ['Bananas are yellow.', 'Paris.', 'Bananas are yellow.', 'Paris.', 'Bananas are yellow.'];

// ---------------------------------------------------------------- Node-side oracles

const sessions = new Map<string, Promise<ortNode.InferenceSession>>();
const session = (name: string) => {
  let s = sessions.get(name);
  if (!s) sessions.set(name, (s = ortNode.InferenceSession.create(join(MODELS_DIR, name, 'onnx', 'model.onnx'))));
  return s;
};
afterAll(async () => Promise.all([...sessions.values()].map(async (s) => (await s).release())));

const softmaxYes = (yes: number, no: number) => 1 / (1 + Math.exp(no - yes));

async function promptIds(q: string, d: string, instruction?: string): Promise<number[]> {
  return (await tokenizer('tiny-qwen3-reranker')).encode(prompt(q, d, instruction));
}

/** (a): softmax(yes, no) at the last token of each prompt alone, from onnxruntime-node's full logits. */
async function qwenOracle(docs: string[], instruction?: string): Promise<number[]> {
  const s = await session('tiny-qwen3-reranker');
  const out: number[] = [];
  for (const d of docs) {
    const ids = await promptIds(QUERY, d, instruction);
    const T = ids.length;
    const i64 = (f: (t: number) => number) => new ortNode.Tensor('int64', BigInt64Array.from({ length: T }, (_, t) => BigInt(f(t))), [1, T]);
    const feeds: Record<string, ortNode.Tensor> = { input_ids: i64((t) => ids[t]!), attention_mask: i64(() => 1), position_ids: i64((t) => t) };
    for (const n of s.inputNames) if (n.startsWith('past_key_values.')) feeds[n] = new ortNode.Tensor('float32', new Float32Array(0), [1, 2, 0, 8]);
    const logits = (await s.run(feeds))['logits']!;
    const V = logits.dims[2]!;
    const data = logits.data as Float32Array;
    out.push(softmaxYes(data[(T - 1) * V + YES]!, data[(T - 1) * V + NO]!));
  }
  return out;
}

/**
 * (a'): the same on this browser's WebGPU, the original graph run alone from the page. One page
 * call (one ORT session) for every prompt the tests need, memoized.
 */
const GPU_ORACLE_PROMPTS: [string, string | undefined][] = [...DOCS.map((d) => [d, undefined] as [string, undefined]), ...DOCS.slice(0, 2).map((d) => [d, INSTRUCTION] as [string, string])];
let gpuOracle: Promise<Map<string, number>> | undefined;
async function qwenGpuOracle(docs: string[], instruction?: string): Promise<number[]> {
  gpuOracle ??= (async () => {
    const seqs = await Promise.all(GPU_ORACLE_PROMPTS.map(([d, i]) => promptIds(QUERY, d, i)));
    const r = await ctx.call<{ yes: number; no: number }[]>(PAGE, 'ortYesNoAlone', ctx.server.url('/test/fixtures/models/tiny-qwen3-reranker/onnx/model.onnx'), 'webgpu', seqs, YES, NO, [2, 8]);
    return new Map(GPU_ORACLE_PROMPTS.map(([d, i], k) => [`${i ?? ''}|${d}`, softmaxYes(r[k]!.yes, r[k]!.no)]));
  })();
  const scores = await gpuOracle;
  return docs.map((d) => {
    const s = scores.get(`${instruction ?? ''}|${d}`);
    if (s === undefined) throw new Error(`(a') has no run of ${JSON.stringify(d)}`);
    return s;
  });
}

/** σ(logit) of each [CLS] query [SEP] document [SEP] alone in onnxruntime-node (transformers.js' pair tokenization). */
async function crossOracle(docs: string[]): Promise<number[]> {
  const tok = await tokenizer('tiny-cross-encoder');
  const s = await session('tiny-cross-encoder');
  const out: number[] = [];
  for (const d of docs) {
    const enc = tok(QUERY, { text_pair: d }) as unknown as Record<string, { data: BigInt64Array; dims: number[] }>;
    const t = (k: string) => new ortNode.Tensor('int64', BigInt64Array.from(enc[k]!.data), enc[k]!.dims);
    const logit = ((await s.run({ input_ids: t('input_ids'), attention_mask: t('attention_mask'), token_type_ids: t('token_type_ids') }))['logits']!.data as Float32Array)[0]!;
    out.push(1 / (1 + Math.exp(-logit)));
  }
  return out;
}

// ---------------------------------------------------------------- the page runs, memoized per reranker

interface Runs {
  result: RerankCallsResult;
  get(i: number): RerankRun;
  error(i: number): { name: string; message: string; is: string[] };
}

const memo = new Map<string, Promise<Runs>>();
function pageRun(key: string, create: Record<string, unknown>, calls: RerankCall[]): Promise<Runs> {
  let p = memo.get(key);
  if (!p) {
    p = (async () => {
      const t0 = performance.now();
      const result = await ctx.call<RerankCallsResult>(PAGE, 'rerankCalls', create, calls);
      console.log(`[${key}] createReranker ${result.createMs.toFixed(0)} ms; calls ${result.runs.map((r) => r.ms.toFixed(0)).join(', ')} ms; page call ${(performance.now() - t0).toFixed(0)} ms`);
      return {
        result,
        get(i: number) {
          const r = result.runs[i]! as RerankCallResult;
          if ('error' in r) throw new Error(`call ${i} threw ${r.error.name}: ${r.error.message}`);
          return r;
        },
        error(i: number) {
          const r = result.runs[i]!;
          if (!('error' in r)) throw new Error(`call ${i} did not throw`);
          return r.error;
        },
      };
    })();
    memo.set(key, p);
    p.catch(() => memo.delete(key));
  }
  return p;
}

const QWEN_CALLS: RerankCall[] = [
  { query: QUERY, documents: DOCS },
  { query: QUERY, documents: DOCS.slice(0, 2), options: { instruction: INSTRUCTION } },
  { query: QUERY, documents: TIES },
  { query: QUERY, documents: TIES, options: { topK: 2 } },
  { query: '', documents: DOCS },
  { query: QUERY, documents: ['fine', 42 as unknown as string] },
  { query: QUERY, documents: DOCS, options: { topK: 0 } },
  { query: QUERY, documents: [] },
];
/** The full head computes [B, T, 151669] logits: slow on SwiftShader, so it gets the two short documents only. */
const SHORT = [1, 2];
const qwen = (device: 'webgpu' | 'wasm', head: 'auto' | 'full-logits' = 'auto') =>
  pageRun(
    `tiny-qwen3-reranker@${device}/${head}`,
    { model: 'fixture:tiny-qwen3-reranker', device, head, limits: { maxBatchSize: 3 } },
    device === 'webgpu' && head === 'auto' ? QWEN_CALLS : head === 'full-logits' ? [{ query: QUERY, documents: SHORT.map((i) => DOCS[i]!) }] : QWEN_CALLS.slice(0, 1),
  );

const byIndex = (run: RerankRun) => run.results.slice().sort((a, b) => a.index - b.index).map((r) => r.score);
const maxDiff = (a: number[], b: number[]) => Math.max(...a.map((x, i) => Math.abs(x - b[i]!)));
const seen: string[] = [];
afterAll(() => console.log(`max |score diff| seen:\n  ${seen.join('\n  ')}`));
function expectScores(what: string, got: number[], want: number[], tol: number): void {
  const d = maxDiff(got, want);
  seen.push(`${what}: ${d.toExponential(2)}`);
  expect(d, what).toBeLessThanOrEqual(tol);
}

// ================================================================

describe('rerank() with tiny-qwen3-reranker', () => {
  it("on WebGPU: the edited head ('pruned'), yes/no ids from the tokenizer, scores = softmax(yes, no) of the full logits, best first", async () => {
    const r = await qwen('webgpu');
    expect(r.result.info).toMatchObject({ kind: 'yes-no', device: 'webgpu', head: 'pruned', yesId: YES, noId: NO, scoring: 'softmax(yes, no)', paddingSide: 'left' });
    const run = r.get(0);
    expect(run.tokens).toEqual(await Promise.all(DOCS.map(async (d) => (await promptIds(QUERY, d)).length)));
    expect(Math.max(...run.tokens) - Math.min(...run.tokens)).toBeGreaterThan(15); // mixed lengths: padding in the batches
    const scores = byIndex(run);
    expectScores("webgpu pruned vs (a') onnxruntime-web WebGPU alone, full logits", scores, await qwenGpuOracle(DOCS), STRICT);
    const cpu = await qwenOracle(DOCS);
    expectScores('webgpu pruned vs (a) onnxruntime-node alone, full logits', scores, cpu, ROPE_ON_SWIFTSHADER_ABS);
    expect(run.results.map((x) => x.index)).toEqual([...cpu.keys()].sort((a, b) => cpu[b]! - cpu[a]!));
    for (const x of run.results) expect(x.score >= 0 && x.score <= 1 && x.document === DOCS[x.index]).toBe(true);
  });

  it('on WebGPU: reads back 4 bytes per document, and the edited graph outputs [B, 1, 2] where the full one outputs [B, T, 151669] and the KV cache', async () => {
    const prunedRun = (await qwen('webgpu')).get(0);
    const pruned = prunedRun.stats;
    const full = (await qwen('webgpu', 'full-logits')).get(0);
    // Pruned: batches of at most 3 over the documents' lengths (none is cut); 4 bytes per document of the last one.
    const lastBatch = planBatches(prunedRun.tokens, { maxBatchSize: 3, maxBatchTokens: 8192 }).at(-1)!;
    expect(pruned.lastReadbackBytes).toBe(lastBatch.length * 4);
    expect(pruned.lastOutputBytes).toBeLessThanOrEqual(256); // one small pooled GPU buffer
    // Full: one batch of the two short documents.
    expect(full.stats.lastReadbackBytes).toBe(2 * 4);
    const T = Math.max(...full.tokens);
    expect(full.stats.lastOutputBytes).toBeGreaterThanOrEqual(2 * T * 151669 * 4);
    console.log(`ORT output bytes of the last batch: pruned (${lastBatch.length} document(s)) ${pruned.lastOutputBytes}, full (2 documents, ${T} tokens) ${full.stats.lastOutputBytes}`);
  });

  it('the full-logits head gives the same scores as the edited one (WebGPU), and the wasm path (CPU twin) the same as (a)', async () => {
    const full = await qwen('webgpu', 'full-logits');
    expect(full.result.info).toMatchObject({ head: 'full-logits' });
    const pruned = byIndex((await qwen('webgpu')).get(0));
    expectScores('webgpu full-logits vs webgpu pruned', byIndex(full.get(0)), SHORT.map((i) => pruned[i]!), STRICT);
    const wasm = await qwen('wasm');
    expect(wasm.result.info).toMatchObject({ device: 'wasm', head: 'pruned' });
    expectScores('wasm pruned vs (a) onnxruntime-node', byIndex(wasm.get(0)), await qwenOracle(DOCS), STRICT);
  });

  it('puts a custom instruction into the prompt', async () => {
    const run = (await qwen('webgpu')).get(1);
    expectScores("webgpu custom instruction vs (a')", byIndex(run), await qwenGpuOracle(DOCS.slice(0, 2), INSTRUCTION), STRICT);
    const plain = byIndex((await qwen('webgpu')).get(0)).slice(0, 2);
    expect(maxDiff(byIndex(run), plain)).toBeGreaterThan(1e-4);
  });

  it('keeps input order among equal scores; topK cuts the same ranking', async () => {
    const r = await qwen('webgpu');
    const all = r.get(2).results;
    const scoreOf = new Map(all.map((x) => [x.index, x.score]));
    expect(scoreOf.get(0)).toBe(scoreOf.get(2));
    expect(scoreOf.get(2)).toBe(scoreOf.get(4));
    expect(all.filter((x) => x.document === 'Bananas are yellow.').map((x) => x.index)).toEqual([0, 2, 4]);
    expect(all.filter((x) => x.document === 'Paris.').map((x) => x.index)).toEqual([1, 3]);
    expect(r.get(3).results).toEqual(all.slice(0, 2));
  });

  it('answers bad input across the worker with typed errors; no documents gives []', async () => {
    const r = await qwen('webgpu');
    expect(r.error(4)).toMatchObject({ name: 'EmptyQueryError' });
    expect(r.error(4).is).toEqual(expect.arrayContaining(['EmptyQueryError', 'RangeError']));
    expect(r.error(5)).toMatchObject({ name: 'TypeError', message: expect.stringMatching(/documents\[1\] is the number 42/) });
    expect(r.error(6)).toMatchObject({ name: 'RangeError', message: expect.stringMatching(/topK must be an integer ≥ 1/) });
    expect(r.get(7).results).toEqual([]);
  });

  it('refuses answer words that are not single tokens (YesNoTokenError) and an embedding model (ModelLoadError), across the worker', async () => {
    const tokenErr = await ctx.call<{ name: string; is: string[]; message: string }>(PAGE, 'createError', { model: 'fixture:tiny-qwen3-reranker', device: 'wasm', overrides: { noToken: 'no way' } });
    expect(tokenErr.is).toEqual(expect.arrayContaining(['YesNoTokenError', 'ModelLoadError']));
    expect(tokenErr.message).toMatch(/no single token "no way"/);
    const notReranker = await ctx.call<{ is: string[]; message: string }>(PAGE, 'createError', { model: 'fixture:tiny-e5', device: 'wasm' });
    expect(notReranker.is).toContain('ModelLoadError');
    expect(notReranker.message).toMatch(/not a reranker/);
  });

  it('recovers from a lost GPU device: the next call runs on a new device, its graph edited again, with the same scores', async () => {
    const r = await ctx.call<{ newDevice: boolean; head: string; before: { index: number; score: number }[]; after: { index: number; score: number }[] }>(
      PAGE, 'deviceLost', 'tiny-qwen3-reranker', QUERY, DOCS.slice(1, 3));
    expect(r.newDevice).toBe(true);
    expect(r.head).toBe('pruned');
    expect(r.after.map((x) => x.index)).toEqual(r.before.map((x) => x.index));
    r.after.forEach((x, i) => expect(Math.abs(x.score - r.before[i]!.score)).toBeLessThanOrEqual(1e-6));
  });

  it('dispose() leaves no GPU buffer made for the reranker', async () => {
    for (const head of ['auto'] as const) {
      const r = await ctx.call<{ during: number; left: string[] }>(PAGE, 'lifecycle', 'tiny-qwen3-reranker', head, QUERY, DOCS.slice(1, 3));
      expect(r.during).toBeGreaterThan(5);
      expect(r.left).toEqual([]);
    }
  });
});

describe('rerank() with the cross-encoder fixture', () => {
  const LONG = 'river mountain bread garden window music '.repeat(120);
  const cross = () =>
    pageRun('tiny-cross-encoder@webgpu', { model: 'fixture:tiny-cross-encoder', device: 'webgpu' }, [
      { query: QUERY, documents: DOCS },
      { query: QUERY, documents: [LONG, DOCS[0]!] },
    ]);

  it('on WebGPU: a one-logit classifier scored by sigmoid, equal to onnxruntime-node alone and to transformers.js', async () => {
    const r = await cross();
    expect(r.result.info).toMatchObject({ kind: 'cross-encoder', device: 'webgpu', head: 'classifier', scoring: 'sigmoid', paddingSide: 'right' });
    const scores = byIndex(r.get(0));
    expectScores('cross-encoder webgpu vs (a) onnxruntime-node', scores, await crossOracle(DOCS), STRICT);
    const tok = await tokenizer('tiny-cross-encoder');
    const model = await AutoModelForSequenceClassification.from_pretrained('tiny-cross-encoder', { dtype: 'fp32' });
    try {
      const out = (await model(tok(DOCS.map(() => QUERY), { text_pair: DOCS, padding: true }))) as { logits: { data: Float32Array } };
      expectScores('cross-encoder webgpu vs (b) transformers.js', scores, Array.from(out.logits.data, (x) => 1 / (1 + Math.exp(-x))), STRICT);
    } finally {
      await model.dispose();
    }
    expect(r.get(0).stats.lastReadbackBytes % 4).toBe(0);
  });

  it('cuts a long document on its side and reports it', async () => {
    const run = (await cross()).get(1);
    expect(run.truncated).toEqual([0]);
    const tok = await tokenizer('tiny-cross-encoder');
    expect(run.tokens[0]).toBe(tok.encode(QUERY, { text_pair: LONG } as never).length);
    expect(run.tokens[0]).toBeGreaterThan(512);
  });
});

describe('with an embedder in the same worker', () => {
  const PASSAGES = [
    'Paris is the capital of France.',
    'Bananas are yellow and sweet.',
    'The Louvre is a museum in Paris.',
    'Mount Everest is the highest mountain.',
    'France is a country in Europe.',
    'The cat sat on the mat.',
    'Berlin is the capital of Germany.',
  ];

  it('searchAndRerank(): the cosine top-N of the embedder, reranked, best first — as done by hand, with or without given vectors', async () => {
    const r = await ctx.call<{
      hits: { index: number; score: number; similarity: number; document: string }[];
      candidates: number[];
      cos: number[];
      byHand: number[];
      reranked: { index: number; score: number }[];
      withVectors: { index: number; score: number }[];
    }>(PAGE, 'searchFlow', 'tiny-e5', 'tiny-cross-encoder', QUERY, PASSAGES, 4, 3);
    expect(r.candidates).toEqual(r.byHand);
    expect(r.hits.map((h) => h.index)).toEqual(r.reranked.map((x) => x.index));
    r.hits.forEach((h, i) => {
      expect(Math.abs(h.score - r.reranked[i]!.score)).toBeLessThanOrEqual(STRICT);
      expect(Math.abs(h.similarity - r.cos[h.index]!)).toBeLessThanOrEqual(1e-5);
      expect(h.document).toBe(PASSAGES[h.index]);
    });
    expect(r.hits).toHaveLength(3);
    expect(r.withVectors.map((h) => h.index)).toEqual(r.hits.map((h) => h.index));
  });

  it('embed() and rerank() called at once on one worker and one GPU device each give what they give alone', async () => {
    const r = await ctx.call<{ maxDiff: number; calls: number }>(PAGE, 'sharedWorker', 'tiny-e5', 'tiny-cross-encoder', QUERY, DOCS);
    expect(r.calls).toBe(4);
    expect(r.maxDiff).toBeLessThanOrEqual(1e-6);
  });
});
