/**
 * The glove-maxsim fixture is a reranker whose scores mean something: its ONNX graph (run by
 * onnxruntime-node) matches a plain TypeScript MaxSim written here from the raw GloVe vectors
 * (normalized, weighted and maxed in float64, not from the graph's tables), on random pairs and
 * edges; answering documents outrank unrelated ones; and the library (createReranker in Node,
 * wasm) reads the folder as a one-logit cross-encoder and gives the same scores.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReranker, type Reranker } from '../../src/index.ts';
import { loadModel } from '../../src/models/folder.ts';
import { rerankerSpec } from '../../src/models/rerank.ts';
import { MAXSIM_BIAS, MAXSIM_SCALE } from '../fixtures/build/glove-maxsim.ts';
import { GLOVE_WORDS, readGloveTop, sifWeights, type GloveTop } from '../fixtures/build/glove-sif.ts';
import { Rng } from '../fixtures/build/rng.ts';
import { MODELS, startServer, type TestServer } from './helpers/model-folders.ts';

const NAME = 'glove-maxsim';
const dir = join(MODELS, NAME);
const readJson = (file: string) => JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, unknown>;
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

let session: ort.InferenceSession;
let tok: Tokenizer;
let glove: GloveTop;
let sif: Float64Array;
let SEP: number;

beforeAll(async () => {
  session = await ort.InferenceSession.create(join(dir, 'onnx', 'model.onnx'));
  tok = new Tokenizer(readJson('tokenizer.json'), readJson('tokenizer_config.json'));
  glove = readGloveTop(GLOVE_WORDS);
  sif = sifWeights(GLOVE_WORDS);
  SEP = tok.token_to_id('[SEP]')!;
}, 60_000);
afterAll(() => session?.release());

// ---------- the reference, from the GloVe vectors: ids 0 [PAD], 1 [UNK], 2.. the words, N+2 [SEP]

const isWord = (id: number) => id >= 2 && id < GLOVE_WORDS + 2;
/** SIF weight of a query token: 0 for specials and for tokens with no letter or digit. */
const weightOf = (id: number) => (isWord(id) && /[\p{L}\p{N}]/u.test(glove.words[id - 2]!) ? sif[id - 2]! : 0);
function cosine(a: number, b: number): number {
  const { vectors: v, dim } = glove;
  let dot = 0, na = 0, nb = 0;
  for (let d = 0; d < dim; d++) {
    const x = v[(a - 2) * dim + d]!, y = v[(b - 2) * dim + d]!;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return dot / Math.sqrt(na * nb);
}

/** s = Σ_i w_i max_j cos(q_i, d_j) / Σ_i w_i over the query's and the document's real words; 0 if either has none. */
function refSimilarity(q: number[], d: number[]): number {
  const qs = q.filter((id) => weightOf(id) > 0);
  const ds = d.filter((id) => weightOf(id) > 0);
  if (qs.length === 0 || ds.length === 0) return 0;
  let num = 0, den = 0;
  for (const i of qs) {
    let best = -Infinity;
    for (const j of ds) best = Math.max(best, cosine(i, j));
    num += weightOf(i) * best;
    den += weightOf(i);
  }
  return num / den;
}
const refLogit = (q: number[], d: number[]) => MAXSIM_SCALE * refSimilarity(q, d) + MAXSIM_BIAS;

// ---------- the graph

const plain = (text: string) => tok.encode(text, { add_special_tokens: false }).ids;
interface Pair { ids: number[]; types: number[] }
const pairOf = (query: string, doc: string): Pair => {
  const e = tok.encode(query, { text_pair: doc, return_token_type_ids: true });
  return { ids: e.ids, types: e.token_type_ids };
};
/** Query / document ids built by hand: q [SEP] d, types 0…0 0 1…1. */
const pairOfIds = (q: number[], d: number[]): Pair => ({ ids: [...q, SEP, ...d], types: [...q.map(() => 0), 0, ...d.map(() => 1)] });

/** The logits of right-padded pairs (pad id 0, type 0), one batch. */
async function logits(pairs: Pair[]): Promise<number[]> {
  const B = pairs.length;
  const T = Math.max(...pairs.map((p) => p.ids.length));
  const ids = new BigInt64Array(B * T), mask = new BigInt64Array(B * T), types = new BigInt64Array(B * T);
  pairs.forEach((p, b) =>
    p.ids.forEach((id, t) => {
      ids[b * T + t] = BigInt(id);
      mask[b * T + t] = 1n;
      types[b * T + t] = BigInt(p.types[t]!);
    }),
  );
  const out = (await session.run({
    input_ids: new ort.Tensor('int64', ids, [B, T]),
    attention_mask: new ort.Tensor('int64', mask, [B, T]),
    token_type_ids: new ort.Tensor('int64', types, [B, T]),
  }))['logits']!;
  expect(out.dims).toEqual([B, 1]);
  return Array.from(out.data as Float32Array);
}

/** Largest |graph logit − reference logit| over the pairs, run as one padded batch and each alone. */
async function maxDiff(pairs: [number[], number[]][]): Promise<number> {
  const batch = await logits(pairs.map(([q, d]) => pairOfIds(q, d)));
  let worst = 0;
  for (const [k, [q, d]] of pairs.entries()) {
    const ref = refLogit(q, d);
    const [alone] = await logits([pairOfIds(q, d)]);
    worst = Math.max(worst, Math.abs(batch[k]! - ref), Math.abs(alone! - ref));
  }
  return worst;
}

const TOL = 2e-5; // on the logit (scale 14): s agrees to ~1e-6

describe('glove-maxsim: the folder', () => {
  it('is a one-label BertForSequenceClassification with input_ids, attention_mask, token_type_ids → logits [batch_size, 1]', () => {
    expect(readJson('config.json')).toMatchObject({ architectures: ['BertForSequenceClassification'], model_type: 'bert', num_labels: 1, max_position_embeddings: 512 });
    expect(readJson('tokenizer_config.json')).toMatchObject({ model_max_length: 512, pad_token: '[PAD]' });
    expect(session.inputNames).toEqual(['input_ids', 'attention_mask', 'token_type_ids']);
    expect(session.outputNames).toEqual(['logits']);
    const meta = session.outputMetadata[0]!;
    expect(meta.isTensor && { type: meta.type, shape: meta.shape }).toEqual({ type: 'float32', shape: ['batch_size', 1] });
  });

  it('tokenizes a pair as query [SEP] document, types 0 then 1, and a single text with nothing added', () => {
    expect(SEP).toBe(GLOVE_WORDS + 2);
    const q = plain('What is the capital of France?');
    const d = plain('Paris is the capital.');
    expect(q.map((id) => glove.words[id - 2])).toEqual(['what', 'is', 'the', 'capital', 'of', 'france', '?']);
    expect(tok.encode('Paris is the capital.').ids).toEqual(d);
    const p = pairOf('What is the capital of France?', 'Paris is the capital.');
    expect(p).toEqual(pairOfIds(q, d));
    expect(p.types).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
  });
});

describe('glove-maxsim: the graph against the reference', () => {
  it('agrees on random pairs of frequent and rare words, batched with padding and alone', async () => {
    const rng = new Rng(0x6a5e);
    const word = () => 2 + Math.floor(GLOVE_WORDS * rng.uniform() ** 3); // skewed to frequent words
    const seq = (n: number) => Array.from({ length: n }, word);
    const pairs: [number[], number[]][] = [];
    for (let k = 0; k < 12; k++) pairs.push([seq(1 + Math.floor(rng.uniform() * 10)), seq(1 + Math.floor(rng.uniform() * 40))]);
    const diff = await maxDiff(pairs);
    console.log(`glove-maxsim: random pairs, max |logit − reference| = ${diff.toExponential(2)}`);
    expect(diff).toBeLessThanOrEqual(TOL);
  });

  it('agrees on the edges: one-word query, one-word document, unknown and punctuation-only sides, a long document', async () => {
    const rng = new Rng(0x10e6);
    const long = Array.from({ length: 480 }, () => 2 + Math.floor(rng.uniform() * GLOVE_WORDS));
    const edges: [string, string][] = [
      ['paris', 'Paris is the capital and largest city of France.'],
      ['What is the capital of France?', 'paris'],
      ['capital', 'capital'],
      ['zzqxv blorfing', 'Paris is the capital of France.'], // no known query word
      ['?!', 'Paris is the capital of France.'], // punctuation only
      ['What is the capital of France?', 'zzqxv blorfing ...'], // no known document word
      ['the of and', 'a the'], // stopwords only: tiny weights, still a weighted mean
    ];
    const pairs: [number[], number[]][] = edges.map(([q, d]) => [plain(q), plain(d)]);
    pairs.push([plain('What is the capital of France?'), long]);
    const diff = await maxDiff(pairs);
    console.log(`glove-maxsim: edges, max |logit − reference| = ${diff.toExponential(2)}`);
    expect(diff).toBeLessThanOrEqual(TOL);
    // The unknown cases give exactly the bias; the same word on both sides gives s = 1.
    const [unknownQ, punctQ, unknownD, same] = await logits([pairOfIds(pairs[3]![0], pairs[3]![1]), pairOfIds(pairs[4]![0], pairs[4]![1]), pairOfIds(pairs[5]![0], pairs[5]![1]), pairOfIds(pairs[2]![0], pairs[2]![1])]);
    expect(plain('zzqxv blorfing')).toEqual([1, 1]);
    expect([unknownQ, punctQ, unknownD]).toEqual([MAXSIM_BIAS, MAXSIM_BIAS, MAXSIM_BIAS]);
    expect(same).toBeCloseTo(MAXSIM_SCALE + MAXSIM_BIAS, 5);
  });

  it('takes the query from type 0 and the document from type 1 (swapping the types changes the score)', async () => {
    const q = plain('how do whales feed');
    const d = plain('Whales feed on krill and small fish in the ocean, and sing long songs.');
    const [ab] = await logits([pairOfIds(q, d)]);
    const [ba] = await logits([pairOfIds(d, q)]);
    expect(Math.abs(ab! - refLogit(q, d))).toBeLessThanOrEqual(TOL);
    expect(Math.abs(ba! - refLogit(d, q))).toBeLessThanOrEqual(TOL);
    expect(Math.abs(ab! - ba!)).toBeGreaterThan(0.1);
  });
});

/** Each query, an answering document, then two unrelated ones. */
const TRIPLES: [string, string, string, string][] = [
  ['What is the capital of France?', 'Paris is the capital and largest city of France.', 'Bananas are yellow.', 'The cat sat on the mat.'],
  ['How do plants make energy from sunlight?', 'Photosynthesis lets plants turn sunlight, water and carbon dioxide into sugar.', 'The stock market fell sharply on Monday.', 'He scored two goals in the final match.'],
  ['Who won the football match?', 'The home team won the game 3-1 after a late goal.', 'Photosynthesis lets plants turn sunlight into sugar.', 'The recipe needs flour, eggs and butter.'],
  ['What do whales eat?', 'Whales feed on krill and small fish in the ocean.', 'The new laptop has a faster processor.', 'Parliament passed the budget law yesterday.'],
  ['How fast can a car go on the highway?', 'The speed limit on most highways is 120 km/h for cars.', 'She painted the kitchen walls blue.', 'Wheat is harvested in late summer.'],
];

describe('glove-maxsim: the scores mean something', () => {
  it('ranks the answering document above unrelated ones', async () => {
    for (const [query, ...docs] of TRIPLES) {
      const scores = (await logits(docs.map((d) => pairOf(query, d)))).map(sigmoid);
      console.log(`glove-maxsim: ${JSON.stringify(query)} → ${scores.map((s) => s.toFixed(3)).join(' / ')}`);
      expect(scores[0]).toBeGreaterThan(Math.max(scores[1]!, scores[2]!));
      expect(scores[0]).toBeGreaterThan(0.75);
      expect(Math.max(scores[1]!, scores[2]!)).toBeLessThan(0.5);
    }
  });
});

describe('glove-maxsim through the library (Node, wasm)', () => {
  let server: TestServer;
  let reranker: Reranker;
  beforeAll(async () => {
    server = await startServer();
    reranker = await createReranker({ model: server.folder(NAME), worker: false });
  }, 60_000);
  afterAll(async () => {
    await reranker?.dispose();
    await server?.close();
  });

  it('loadModel reads it as a one-logit cross-encoder with a query [SEP] document template', async () => {
    const model = await loadModel(server.folder(NAME));
    expect(rerankerSpec(model)).toMatchObject({ kind: 'cross-encoder', labels: 1, maxTokens: 512, paddingSide: 'right' });
    expect(model.tokenizer.pair).toEqual({ head: [], middle: [SEP], tail: [], types: { head: [], first: 0, middle: [0], second: 1, tail: [] } });
    expect(reranker.info).toMatchObject({ kind: 'cross-encoder', head: 'classifier', scoring: 'sigmoid', paddingSide: 'right', maxTokens: 512 });
  });

  it('scores as onnxruntime-node + sigmoid does, pair by pair', async () => {
    let worst = 0;
    for (const [query, ...docs] of TRIPLES) {
      const r = await reranker.rerank(query, docs);
      expect(r.map((x) => x.score)).toEqual([...r.map((x) => x.score)].sort((a, b) => b - a));
      expect(r[0]!.index).toBe(0);
      for (const x of r) {
        const [l] = await logits([pairOf(query, docs[x.index]!)]);
        worst = Math.max(worst, Math.abs(x.score - sigmoid(l!)));
      }
    }
    console.log(`glove-maxsim: library vs onnxruntime-node + sigmoid, max |Δscore| = ${worst.toExponential(2)}`);
    expect(worst).toBeLessThanOrEqual(1e-5);
  });

  it('cuts a document past 512 tokens on its side and still scores it as the reference does', async () => {
    const query = 'What do whales eat?';
    const long = 'Whales feed on krill and small fish in the ocean. '.repeat(60);
    const r = await reranker.rerank(query, [long, 'Bananas are yellow.']);
    expect(r.truncated).toEqual([0]);
    const q = plain(query);
    const d = plain(long).slice(0, 512 - 1 - q.length);
    const got = r.find((x) => x.index === 0)!.score;
    expect(Math.abs(got - sigmoid(refLogit(q, d)))).toBeLessThanOrEqual(1e-5);
  });
});
