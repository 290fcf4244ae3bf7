/**
 * The tiny-cross-encoder fixture is a real BertForSequenceClassification folder: onnxruntime-node
 * runs it with the declared signature and `logits` [batch_size, 1]; its pairs are tokenized
 * `[CLS] query [SEP] document [SEP]` with token types 0 / 1; the logit is the pooler + classifier
 * head on the [CLS] state of the same encoder (recomputed here from last_hidden_state); the token
 * types and the mask matter; transformers.js (AutoModelForSequenceClassification) gives the same.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { AutoModelForSequenceClassification, AutoTokenizer, env } from '@huggingface/transformers';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bertOnnx, randomBertWeights } from '../fixtures/build/bert.ts';
import { MODELS_DIR } from '../fixtures/build/index.ts';
import { crossEncoderHead, TINY_CROSS_ENCODER_SHAPE } from '../fixtures/build/tiny-cross-encoder.ts';

const NAME = 'tiny-cross-encoder';
const dir = join(MODELS_DIR, NAME);
const readJson = (file: string) => JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, unknown>;
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = MODELS_DIR + '/';

const QUERY = 'what is the capital of france?';
const DOCS = ['Paris is the capital and largest city of France.', 'Bananas are yellow.', 'The quick brown fox jumps over the lazy dog near the riverbank.'];

let session: ort.InferenceSession;
let tok: Tokenizer;
beforeAll(async () => {
  session = await ort.InferenceSession.create(join(dir, 'onnx', 'model.onnx'));
  tok = new Tokenizer(readJson('tokenizer.json'), readJson('tokenizer_config.json'));
});
afterAll(() => session?.release());

interface Pairs {
  ids: number[][];
  types: number[][];
}
const pairs = (docs: string[]): Pairs => {
  const enc = docs.map((d) => tok.encode(QUERY, { text_pair: d, return_token_type_ids: true }));
  return { ids: enc.map((e) => e.ids), types: enc.map((e) => e.token_type_ids) };
};

/** Right-padded int64 feeds (pad id 0). */
function feeds(p: Pairs, overrideTypes?: 'zeros') {
  const B = p.ids.length;
  const T = Math.max(...p.ids.map((r) => r.length));
  const ids = new BigInt64Array(B * T), mask = new BigInt64Array(B * T), types = new BigInt64Array(B * T);
  p.ids.forEach((row, b) =>
    row.forEach((id, t) => {
      ids[b * T + t] = BigInt(id);
      mask[b * T + t] = 1n;
      types[b * T + t] = overrideTypes === 'zeros' ? 0n : BigInt(p.types[b]![t]!);
    }),
  );
  return {
    input_ids: new ort.Tensor('int64', ids, [B, T]),
    attention_mask: new ort.Tensor('int64', mask, [B, T]),
    token_type_ids: new ort.Tensor('int64', types, [B, T]),
  };
}

async function logits(p: Pairs, overrideTypes?: 'zeros'): Promise<number[]> {
  const out = (await session.run(feeds(p, overrideTypes)))['logits']!;
  expect(out.dims).toEqual([p.ids.length, 1]);
  return Array.from(out.data as Float32Array);
}

describe('tiny-cross-encoder', () => {
  it('is a BertForSequenceClassification folder with one label and the BERT signature', () => {
    expect(readJson('config.json')).toMatchObject({ architectures: ['BertForSequenceClassification'], model_type: 'bert', num_labels: 1, id2label: { '0': 'LABEL_0' } });
    expect(session.inputNames).toEqual(['input_ids', 'attention_mask', 'token_type_ids']);
    expect(session.outputNames).toEqual(['logits']);
    const meta = session.outputMetadata[0]!;
    expect(meta.isTensor && { type: meta.type, shape: meta.shape }).toEqual({ type: 'float32', shape: ['batch_size', 1] });
  });

  it('tokenizes pairs as [CLS] query [SEP] document [SEP] with token types 0 then 1', () => {
    const [ids, types] = [pairs([DOCS[1]!]).ids[0]!, pairs([DOCS[1]!]).types[0]!];
    const q = tok.encode(QUERY, { add_special_tokens: false }).ids;
    const d = tok.encode(DOCS[1]!, { add_special_tokens: false }).ids;
    expect(ids).toEqual([101, ...q, 102, ...d, 102]);
    expect(types).toEqual([0, ...q.map(() => 0), 0, ...d.map(() => 1), 1]);
  });

  it('gives each pair in a right-padded batch the logit it gets alone; the scores spread over (0, 1)', async () => {
    const batch = await logits(pairs(DOCS));
    for (let i = 0; i < DOCS.length; i++) {
      const [alone] = await logits(pairs([DOCS[i]!]));
      expect(Math.abs(alone! - batch[i]!)).toBeLessThanOrEqual(1e-5);
    }
    const scores = batch.map((x) => 1 / (1 + Math.exp(-x)));
    expect(Math.max(...scores) - Math.min(...scores)).toBeGreaterThan(0.05);
    expect(scores.every((s) => s > 0.001 && s < 0.999)).toBe(true);
  });

  it('computes pooler + classifier on the [CLS] state of the same encoder (recomputed from last_hidden_state)', async () => {
    const encoder = await ort.InferenceSession.create(bertOnnx(randomBertWeights(TINY_CROSS_ENCODER_SHAPE, 0xce01), 'float32', 'encoder-only'));
    const p = pairs(DOCS);
    const hidden = (await encoder.run(feeds(p)))['last_hidden_state']!;
    const [B, T, H] = hidden.dims as number[];
    const h = hidden.data as Float32Array;
    const head = crossEncoderHead();
    const want = Array.from({ length: B! }, (_, b) => {
      const cls = h.subarray(b * T! * H!, b * T! * H! + H!);
      let logit = head.classifierB[0]!;
      for (let o = 0; o < H!; o++) {
        let s = head.poolerB[o]!;
        for (let i = 0; i < H!; i++) s += head.poolerW[o * H! + i]! * cls[i]!;
        logit += head.classifierW[o]! * Math.tanh(s);
      }
      return logit;
    });
    const got = await logits(p);
    got.forEach((x, b) => expect(Math.abs(x - want[b]!)).toBeLessThanOrEqual(1e-5));
    await encoder.release();
  });

  it('reads the token types (all zeros gives other logits)', async () => {
    const p = pairs(DOCS);
    const a = await logits(p);
    const z = await logits(p, 'zeros');
    expect(Math.max(...a.map((x, i) => Math.abs(x - z[i]!)))).toBeGreaterThan(1e-3);
  });

  it('loads in transformers.js (AutoModelForSequenceClassification) and gives the same logits', async () => {
    const tokenizer = await AutoTokenizer.from_pretrained(NAME);
    const model = await AutoModelForSequenceClassification.from_pretrained(NAME, { dtype: 'fp32' });
    try {
      const inputs = tokenizer(DOCS.map(() => QUERY), { text_pair: DOCS, padding: true });
      expect((inputs['input_ids'] as { dims: number[] }).dims[0]).toBe(DOCS.length);
      const out = (await model(inputs)) as { logits: { dims: number[]; data: Float32Array } };
      expect(out.logits.dims).toEqual([DOCS.length, 1]);
      const ours = await logits(pairs(DOCS));
      ours.forEach((x, i) => expect(Math.abs(x - out.logits.data[i]!)).toBeLessThanOrEqual(1e-5));
    } finally {
      await model.dispose();
    }
  });
});
