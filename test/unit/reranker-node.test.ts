/**
 * rerank() with the engine in-process in Node (onnxruntime-web's wasm backend, the CPU twin of
 * the score kernel), models served over HTTP from 127.0.0.1, against an oracle written from
 * MODELS.md: the prompt formatted here and tokenized in one piece by @huggingface/tokenizers,
 * each pair ALONE through onnxruntime-node, the score from the FULL logits at the last token.
 * Also: the yes/no ids, the head edit against the full head, document-side truncation, the
 * cross-encoder fixture, ranking order and ties, and the argument errors.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import * as ortNode from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReranker, EmptyQueryError, ModelLoadError, rerank, releaseSharedRerankers, YesNoTokenError, type Reranker } from '../../src/index.ts';
import { rankByScore } from '../../src/engine/rank.ts';
import { MODELS, startServer, type TestServer } from './helpers/model-folders.ts';
import { planBatches } from '../../src/engine/batching.ts';

const SYSTEM =
  '<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the Instruct provided. Note that the answer can only be "yes" or "no".<|im_end|>\n<|im_start|>user\n';
const SUFFIX = '<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n';
const WEB_SEARCH = 'Given a web search query, retrieve relevant passages that answer the query';
const prompt = (q: string, d: string, instruction = WEB_SEARCH) => `${SYSTEM}<Instruct>: ${instruction}\n<Query>: ${q}\n<Document>: ${d}${SUFFIX}`;

const QUERY = 'What is the capital of France?';
const DOCS = [
  'Paris is the capital and largest city of France.',
  'Bananas are yellow.',
  'x',
  'The Eiffel Tower is in Paris, a large city in France with many museums, bridges and cafés along the Seine.',
];

const tokenizerOf = (name: string) =>
  new Tokenizer(JSON.parse(readFileSync(join(MODELS, name, 'tokenizer.json'), 'utf8')), JSON.parse(readFileSync(join(MODELS, name, 'tokenizer_config.json'), 'utf8')));

const sessions = new Map<string, Promise<ortNode.InferenceSession>>();
const session = (name: string) => {
  let s = sessions.get(name);
  if (!s) sessions.set(name, (s = ortNode.InferenceSession.create(join(MODELS, name, 'onnx', 'model.onnx'))));
  return s;
};

/** softmax([yes, no])[0] at the last token of ids run alone, from the full [1, T, V] logits. */
async function qwenOracle(ids: number[]): Promise<number> {
  const s = await session('tiny-qwen3-reranker');
  const T = ids.length;
  const i64 = (f: (t: number) => number) => new ortNode.Tensor('int64', BigInt64Array.from({ length: T }, (_, t) => BigInt(f(t))), [1, T]);
  const feeds: Record<string, ortNode.Tensor> = { input_ids: i64((t) => ids[t]!), attention_mask: i64(() => 1), position_ids: i64((t) => t) };
  for (const n of s.inputNames) if (n.startsWith('past_key_values.')) feeds[n] = new ortNode.Tensor('float32', new Float32Array(0), [1, 2, 0, 8]);
  const logits = (await s.run(feeds))['logits']!;
  const V = logits.dims[2]!;
  const data = logits.data as Float32Array;
  const yes = data[(T - 1) * V + 9693]!, no = data[(T - 1) * V + 2152]!;
  return Math.exp(yes) / (Math.exp(yes) + Math.exp(no));
}

/** σ(logit) of [CLS] query [SEP] document [SEP] alone. */
async function crossOracle(query: string, doc: string, maxDocTokens?: number): Promise<number> {
  const tok = tokenizerOf('tiny-cross-encoder');
  const q = tok.encode(query, { add_special_tokens: false }).ids;
  let d = tok.encode(doc, { add_special_tokens: false }).ids;
  if (maxDocTokens !== undefined) d = d.slice(0, maxDocTokens);
  const ids = [101, ...q, 102, ...d, 102];
  const types = [0, ...q.map(() => 0), 0, ...d.map(() => 1), 1];
  const t = (v: number[]) => new ortNode.Tensor('int64', BigInt64Array.from(v.map(BigInt)), [1, v.length]);
  const s = await session('tiny-cross-encoder');
  const logit = ((await s.run({ input_ids: t(ids), attention_mask: t(ids.map(() => 1)), token_type_ids: t(types) }))['logits']!.data as Float32Array)[0]!;
  return 1 / (1 + Math.exp(-logit));
}

let server: TestServer;
let pruned: Reranker;
let full: Reranker;
let cross: Reranker;

beforeAll(async () => {
  server = await startServer();
  pruned = await createReranker({ model: server.folder('tiny-qwen3-reranker'), worker: false, limits: { maxBatchSize: 3 } });
  full = await createReranker({ model: server.folder('tiny-qwen3-reranker'), worker: false, head: 'full-logits' });
  cross = await createReranker({ model: server.folder('tiny-cross-encoder'), worker: false });
});
afterAll(async () => {
  await Promise.all([pruned?.dispose(), full?.dispose(), cross?.dispose(), releaseSharedRerankers()]);
  await Promise.all([...sessions.values()].map(async (s) => (await s).release()));
  await server?.close();
});

describe('the Qwen3 yes/no reranker in-process (wasm)', () => {
  it('is a yes/no reranker by its config, with the ids of "yes" and "no" from the tokenizer, its head edited', () => {
    expect(pruned.info).toMatchObject({ kind: 'yes-no', device: 'wasm', head: 'pruned', scoring: 'softmax(yes, no)', yesId: 9693, noId: 2152, paddingSide: 'left', defaultInstruction: WEB_SEARCH });
    expect(full.info).toMatchObject({ head: 'full-logits', headReason: "head: 'full-logits' was asked for" });
  });

  it('scores each document as onnxruntime-node does alone from the full logits (mixed lengths, batches of 3), best first', async () => {
    const r = await pruned.rerank(QUERY, DOCS);
    const tok = tokenizerOf('tiny-qwen3-reranker');
    const want = await Promise.all(DOCS.map((d) => qwenOracle(tok.encode(prompt(QUERY, d)).ids)));
    expect(r.tokens).toEqual(DOCS.map((d) => tok.encode(prompt(QUERY, d)).ids.length));
    for (const x of r) expect(Math.abs(x.score - want[x.index]!)).toBeLessThanOrEqual(1e-5);
    expect(r.map((x) => x.index)).toEqual(rankByScore(want));
    expect(r.map((x) => x.document)).toEqual(r.map((x) => DOCS[x.index]));
    expect(new Set(want.map((s) => s.toFixed(3))).size).toBe(DOCS.length); // distinct scores: order was checked
  });

  it('gives the same scores with the full LM head as with the edited one', async () => {
    const a = await pruned.rerank(QUERY, DOCS);
    const b = await full.rerank(QUERY, DOCS);
    const byIndex = (r: typeof a) => r.slice().sort((x, y) => x.index - y.index).map((x) => x.score);
    const [sa, sb] = [byIndex(a), byIndex(b)];
    sa.forEach((s, i) => expect(Math.abs(s - sb[i]!)).toBeLessThanOrEqual(1e-5));
  });

  it('puts a custom instruction in the prompt', async () => {
    const instruction = 'Find the sentence that names a city';
    const r = await pruned.rerank(QUERY, DOCS.slice(0, 2), { instruction });
    const tok = tokenizerOf('tiny-qwen3-reranker');
    for (const x of r) expect(Math.abs(x.score - (await qwenOracle(tok.encode(prompt(QUERY, DOCS[x.index]!, instruction)).ids)))).toBeLessThanOrEqual(1e-5);
  });

  it('keeps input order for equal scores, and cuts to topK', async () => {
    const docs = ['Bananas are yellow.', 'Paris.', 'Bananas are yellow.', 'Paris.', 'Bananas are yellow.'];
    const r = await pruned.rerank(QUERY, docs);
    const s = new Map(r.map((x) => [x.index, x.score]));
    expect(s.get(0)).toBe(s.get(2));
    const bananas = r.filter((x) => x.document === 'Bananas are yellow.').map((x) => x.index);
    expect(bananas).toEqual([0, 2, 4]);
    expect(r.filter((x) => x.document === 'Paris.').map((x) => x.index)).toEqual([1, 3]);
    const top = await pruned.rerank(QUERY, docs, { topK: 2 });
    expect(top.map((x) => x.index)).toEqual(r.slice(0, 2).map((x) => x.index));
    expect((await pruned.rerank(QUERY, docs, { topK: 99 })).length).toBe(5);
  });

  it('cuts a long document on its side only: template, instruction and query survive; the cut is reported', async () => {
    const maxTokens = 96;
    const short = await createReranker({ model: server.folder('tiny-qwen3-reranker'), worker: false, overrides: { maxTokens } });
    try {
      const long = 'The city of Paris has many old streets, '.repeat(20);
      const r = await short.rerank(QUERY, [DOCS[1]!, long]);
      expect(r.truncated).toEqual([1]);
      const tok = tokenizerOf('tiny-qwen3-reranker');
      const fullIds = tok.encode(prompt(QUERY, long)).ids;
      expect(r.tokens[1]).toBe(fullIds.length);
      // the oracle's cut: system prefix + (instruction, query, document) cut to fit + suffix, tokenized as pieces
      const prefix = tok.encode(SYSTEM, { add_special_tokens: false }).ids;
      const suffix = tok.encode(SUFFIX, { add_special_tokens: false }).ids;
      const body = tok.encode(`<Instruct>: ${WEB_SEARCH}\n<Query>: ${QUERY}\n<Document>: ${long}`, { add_special_tokens: false }).ids;
      const ids = [...prefix, ...body.slice(0, maxTokens - prefix.length - suffix.length), ...suffix];
      expect(ids.length).toBe(maxTokens);
      expect(tok.decode(ids.slice(prefix.length, prefix.length + 40))).toContain(QUERY);
      const got = r.find((x) => x.index === 1)!.score;
      expect(Math.abs(got - (await qwenOracle(ids)))).toBeLessThanOrEqual(1e-5);
      // a query that leaves no room for any document is refused, not silently cut
      await expect(short.rerank('word '.repeat(80), ['a'])).rejects.toThrow(/no room for a document/);
    } finally {
      await short.dispose();
    }
  });
});

describe('the cross-encoder in-process (wasm)', () => {
  it('is a one-logit sequence classifier scored by sigmoid, right padding', () => {
    expect(cross.info).toMatchObject({ kind: 'cross-encoder', head: 'classifier', scoring: 'sigmoid', paddingSide: 'right', maxTokens: 512 });
  });

  it('scores each pair as onnxruntime-node does alone', async () => {
    const r = await cross.rerank(QUERY, DOCS);
    for (const x of r) expect(Math.abs(x.score - (await crossOracle(QUERY, DOCS[x.index]!)))).toBeLessThanOrEqual(1e-5);
    expect(r.map((x) => x.score)).toEqual([...r.map((x) => x.score)].sort((a, b) => b - a));
  });

  it('cuts a document past 512 tokens on its side: [CLS] query [SEP] stays', async () => {
    const long = 'river mountain bread garden window music '.repeat(120);
    const r = await cross.rerank(QUERY, [long, DOCS[0]!]);
    expect(r.truncated).toEqual([0]);
    const tok = tokenizerOf('tiny-cross-encoder');
    const q = tok.encode(QUERY, { add_special_tokens: false }).ids;
    const got = r.find((x) => x.index === 0)!.score;
    expect(Math.abs(got - (await crossOracle(QUERY, long, 512 - 3 - q.length)))).toBeLessThanOrEqual(1e-5);
  });
});

describe('rerank() arguments and models', () => {
  it('answers bad input with typed errors; no documents gives [] without loading a model', async () => {
    await expect(pruned.rerank('', DOCS)).rejects.toBeInstanceOf(EmptyQueryError);
    await expect(pruned.rerank('   ', DOCS)).rejects.toBeInstanceOf(RangeError);
    await expect(pruned.rerank(QUERY, ['fine', 42 as unknown as string])).rejects.toThrow(/documents\[1\] is the number 42, not a string/);
    await expect(pruned.rerank(7 as unknown as string, DOCS)).rejects.toBeInstanceOf(TypeError);
    await expect(pruned.rerank(QUERY, 'one' as unknown as string[])).rejects.toThrow(/wrap a single document/);
    for (const topK of [0, -1, 1.5, Number.NaN]) await expect(pruned.rerank(QUERY, DOCS, { topK })).rejects.toThrow(/topK must be an integer ≥ 1/);
    await expect(pruned.rerank(QUERY, DOCS, { batchSize: 0 })).rejects.toBeInstanceOf(RangeError);
    expect([...(await pruned.rerank(QUERY, []))]).toEqual([]);
    const before = server.requests.length;
    const none = await rerank(QUERY, [], { model: server.folder('no-such-model'), worker: false });
    expect([...none]).toEqual([]);
    expect(none.truncated).toEqual([]);
    expect(server.requests.length).toBe(before);
  });

  it('reports progress per batch and stops at a batch boundary when its signal aborts', async () => {
    const events: { done: number; total: number }[] = [];
    const all = await pruned.rerank(QUERY, DOCS, { onProgress: (e) => e.status === 'rerank' && events.push({ done: e.done, total: e.total }) });
    expect(all).toHaveLength(4);
    // one event per batch of at most 3, as planned over the pairs' lengths (none is cut)
    let done = 0;
    expect(events).toEqual(planBatches(all.tokens, { maxBatchSize: 3, maxBatchTokens: 8192 }).map((b) => ({ done: (done += b.length), total: 4 })));
    expect(events.length).toBeGreaterThan(1);
    await expect(pruned.rerank(QUERY, DOCS, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    const ac = new AbortController();
    let batches = 0;
    const stopped = pruned.rerank(QUERY, DOCS, { signal: ac.signal, onProgress: () => ++batches === 1 && ac.abort() });
    await expect(stopped).rejects.toMatchObject({ name: 'AbortError' });
    expect(batches).toBe(1);
  });

  it('rerank() keeps one reranker per model for later calls', async () => {
    const a = await rerank(QUERY, DOCS.slice(0, 2), { model: server.folder('tiny-cross-encoder'), worker: false });
    const n = server.requests.length;
    const b = await rerank(QUERY, DOCS.slice(0, 2), { model: server.folder('tiny-cross-encoder'), worker: false, topK: 1 });
    expect(server.requests.length).toBe(n);
    expect([...b]).toEqual(a.slice(0, 1));
  });

  it('refuses an embedding model, and answer words that are not single tokens', async () => {
    await expect(createReranker({ model: server.folder('tiny-e5'), worker: false })).rejects.toThrow(/BertModel, which is not a reranker/);
    await expect(createReranker({ model: server.folder('tiny-e5'), worker: false })).rejects.toBeInstanceOf(ModelLoadError);
    const err = await createReranker({ model: server.folder('tiny-qwen3-reranker'), worker: false, overrides: { yesToken: 'yesterday maybe' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(YesNoTokenError);
    expect((err as Error).message).toMatch(/no single token "yesterday maybe"/);
  });
});
