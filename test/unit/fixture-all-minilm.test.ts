/**
 * The all-minilm-l6-v2 fixture is the real all-MiniLM-L6-v2: the library (in-process, onnxruntime-web
 * on wasm, served over HTTP) gives what
 *   (a) onnxruntime-node running the folder's ONNX, mean-pooled and normalized in float64 here, gives;
 *   (b) sentence-transformers publishes for this model (its README's similarity example);
 *   (c) PyTorch sentence-transformers gives, when the model zoo's reference.json is present
 *       (test/fixtures/zoo/all-minilm-l6-v2/reference.json), skipped with the reason otherwise.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import * as ortNode from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmbedder, type Embedder } from '../../src/index.ts';
import { MODELS, startServer, type TestServer } from './helpers/model-folders.ts';

const NAME = 'all-minilm-l6-v2';
const DIR = join(MODELS, NAME);
const REFERENCE = join(MODELS, '..', 'zoo', NAME, 'reference.json');
const MAX_TOKENS = 256; // sentence_bert_config.json's max_seq_length

let server: TestServer;
let embedder: Embedder;
let session: ortNode.InferenceSession;
let tokenizer: Tokenizer;

const readJson = (file: string) => JSON.parse(readFileSync(join(DIR, file), 'utf8')) as Record<string, unknown>;

beforeAll(async () => {
  server = await startServer();
  embedder = await createEmbedder({ model: server.folder(NAME), worker: false, device: 'wasm' });
  session = await ortNode.InferenceSession.create(join(DIR, 'onnx', 'model.onnx'));
  tokenizer = new Tokenizer(readJson('tokenizer.json'), readJson('tokenizer_config.json'));
});
afterAll(async () => {
  await embedder?.dispose();
  await session?.release();
  await server?.close();
});

/** Token ids as sentence-transformers feeds them: [CLS] text [SEP], cut to 256 with [SEP] kept last. */
function tokenize(text: string): number[] {
  const ids = tokenizer.encode(text).ids;
  return ids.length <= MAX_TOKENS ? ids : [...ids.slice(0, MAX_TOKENS - 1), ids[ids.length - 1]!];
}

/** Oracle: one text through onnxruntime-node, masked mean in float64, L2-normalized. */
async function oracle(text: string): Promise<Float64Array> {
  const ids = tokenize(text);
  const t = (v: number[]) => new ortNode.Tensor('int64', BigInt64Array.from(v.map(BigInt)), [1, v.length]);
  const out = await session.run({ input_ids: t(ids), attention_mask: t(ids.map(() => 1)), token_type_ids: t(ids.map(() => 0)) });
  const h = out.last_hidden_state!;
  const [, T, H] = h.dims as [number, number, number];
  const data = h.data as Float32Array;
  const v = new Float64Array(H);
  for (let i = 0; i < T; i++) for (let d = 0; d < H; d++) v[d]! += data[i * H + d]!;
  let norm = 0;
  for (let d = 0; d < H; d++) norm += (v[d]! / T) ** 2;
  norm = Math.sqrt(norm);
  return v.map((x) => x / T / norm);
}

function cos(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return ab / Math.sqrt(aa * bb);
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.max(...Array.from(a, (x, i) => Math.abs(x - b[i]!)));

describe('the all-minilm-l6-v2 fixture (the real all-MiniLM-L6-v2)', () => {
  it('is the model sentence-transformers describes: BERT 6×384, mean pooling, normalized, 256 tokens, no prompts', () => {
    expect(embedder.info).toMatchObject({ device: 'wasm', dimensions: 384, pooling: 'mean', maxTokens: 256 });
    expect(readJson('config.json')).toMatchObject({ model_type: 'bert', hidden_size: 384, num_hidden_layers: 6, num_attention_heads: 12, vocab_size: 30522 });
    expect(readFileSync(join(DIR, 'README.md'), 'utf8')).toMatch(/^license: apache-2.0$/m);
    // ~90 MB of fp32 weights, as the hub's onnx/model.onnx
    expect(statSync(join(DIR, 'onnx', 'model.onnx')).size).toBeGreaterThan(85e6);
    // bert-base-uncased's vocabulary: "the weather is lovely today ." with [CLS] … [SEP]
    expect(tokenizer.encode('The weather is lovely today.').ids).toEqual([101, 1996, 4633, 2003, 8403, 2651, 1012, 102]);
  });

  it('(a) the library on wasm matches onnxruntime-node + a float64 mean pool, batched with mixed lengths and a text over 256 tokens', async () => {
    const texts = [
      'The weather is lovely today.',
      'a',
      'Knead the dough for ten minutes, then let it rise in a warm place until it has doubled in size.',
      'Lighthouses guide ships past rocks at night with a rotating lamp. '.repeat(30), // ~390 tokens: truncated to 256
      'Ünïcödé façade — naïve café, 東京 and emoji 🙂 stay as the tokenizer has them.',
    ];
    const got = await embedder.embed(texts);
    expect(got.truncated).toEqual([3]);
    let worst = 0;
    for (const [i, text] of texts.entries()) {
      const want = await oracle(text);
      worst = Math.max(worst, maxAbsDiff(got[i]!, want));
      expect(got[i]!.length).toBe(384);
      expect(Math.hypot(...got[i]!), text).toBeCloseTo(1, 5);
      expect(cos(got[i]!, want), text).toBeGreaterThanOrEqual(0.99999);
      expect(maxAbsDiff(got[i]!, want), text).toBeLessThanOrEqual(1e-5);
    }
    console.log(`all-minilm-l6-v2: library (onnxruntime-web, wasm) vs onnxruntime-node + float64 pooling: max |Δ| ${worst.toExponential(2)}`);
  });

  it("(b) gives sentence-transformers' published similarities for this model within 0.001", async () => {
    // sentence-transformers README, SentenceTransformer("all-MiniLM-L6-v2"), model.similarity(embeddings, embeddings)
    const [a, b, c] = await embedder.embed(['The weather is lovely today.', "It's so sunny outside!", 'He drove to the stadium.']);
    const sims = [cos(a!, b!), cos(a!, c!), cos(b!, c!)];
    console.log(`all-minilm-l6-v2: cos = ${sims.map((s) => s.toFixed(5)).join(', ')} (published 0.6660, 0.1046, 0.1411)`);
    expect(Math.abs(sims[0]! - 0.666)).toBeLessThanOrEqual(0.001);
    expect(Math.abs(sims[1]! - 0.1046)).toBeLessThanOrEqual(0.001);
    expect(Math.abs(sims[2]! - 0.1411)).toBeLessThanOrEqual(0.001);
  });

  const haveReference = existsSync(REFERENCE);
  const reason = haveReference ? '' : ` — skipped: ${REFERENCE.replace(/^.*\/test\//, 'test/')} is absent (the model zoo writes it)`;
  if (!haveReference) beforeAll(() => console.log(`all-minilm-l6-v2: (c)${reason}`));
  it.skipIf(!haveReference)(`(c) matches PyTorch sentence-transformers on every probe of the zoo reference (cos ≥ 0.99999, |Δ| ≤ 1e-4)${reason}`, async () => {
    // the zoo's format (test/unit/helpers/zoo-reference.ts): tokens is the count after truncation, specials included
    type Probe = { text: string; task?: string; input?: string; tokens?: number; embedding: number[] };
    const probes = (JSON.parse(readFileSync(REFERENCE, 'utf8')) as { probe: Probe[] }).probe;
    expect(probes.length).toBeGreaterThan(0);
    for (const p of probes) {
      const input = p.input ?? p.text;
      if (typeof p.tokens === 'number') expect(tokenize(input).length, `tokens of ${JSON.stringify(input)}`).toBe(p.tokens);
      const [got] = await embedder.embed([p.text], p.task === 'query' || p.task === 'document' ? { task: p.task } : {});
      expect(cos(got!, p.embedding), p.text).toBeGreaterThanOrEqual(0.99999);
      expect(maxAbsDiff(got!, p.embedding), p.text).toBeLessThanOrEqual(1e-4);
    }
  });
});
