/**
 * Node-side oracles for the embed() browser tests, written from /work/shared/MODELS.md and not
 * from src/models: prompts are formatted here, tokenized by transformers.js' AutoTokenizer, and
 * each text runs ALONE (batch 1, no padding) in onnxruntime-node; the CPU twins in src/reference
 * pool its last_hidden_state, then the vector is L2-normalized in float64.
 *   (a) onnxRuntimeOracle(): onnxruntime-node → src/reference pooling → normalize
 *   (b) transformersJsOracle(): transformers.js' feature-extraction pipeline with its own pooling
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AutoTokenizer, env, pipeline, type PreTrainedTokenizer } from '@huggingface/transformers';
import * as ort from 'onnxruntime-node';
import { latentAttentionParams, latentAttentionPool, type LatentAttentionConfig } from '../../src/reference/latent-attention.ts';
import { maskedMeanPool } from '../../src/reference/masked-mean.ts';
import { lastTokenPool } from '../../src/reference/token-pooling.ts';
import { REPO_ROOT } from './harness/index.ts';

export const MODELS_DIR = join(REPO_ROOT, 'test', 'fixtures', 'models');

env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = MODELS_DIR + '/';

export type FixtureName = 'tiny-e5' | 'tiny-qwen3-embedding' | 'tiny-nv-embed' | 'glove-sif' | 'minilm-shape';
export type Task = 'query' | 'document';

/** Qwen3-Embedding's (and our NV-Embed fixture's) default task description (MODELS.md). */
export const WEB_SEARCH = 'Given a web search query, retrieve relevant passages that answer the query';

/** How a family formats an input and pools it, straight from MODELS.md. */
interface Family {
  pooling: 'mean' | 'last-token' | 'latent-attention';
  /** the prompt put before a text of this task ('' when none) */
  prefix(task: Task, instruction: string): string;
  /** NV-Embed: the prompt's tokens (counted without special tokens) leave the pooling mean */
  maskInstruction: boolean;
}

const FAMILIES: Record<FixtureName, Family> = {
  // Multilingual E5: 'query: ' / 'passage: ', masked mean.
  'tiny-e5': { pooling: 'mean', prefix: (task) => (task === 'query' ? 'query: ' : 'passage: '), maskInstruction: false },
  // Qwen3-Embedding: 'Instruct: {task}\nQuery:{query}' (no space), documents raw; last token.
  'tiny-qwen3-embedding': {
    pooling: 'last-token',
    prefix: (task, instruction) => (task === 'query' ? `Instruct: ${instruction}\nQuery:` : ''),
    maskInstruction: false,
  },
  // NV-Embed: 'Instruct: {task}\nQuery: {query}', passages raw; latent attention; instruction masked.
  'tiny-nv-embed': {
    pooling: 'latent-attention',
    prefix: (task, instruction) => (task === 'query' ? `Instruct: ${instruction}\nQuery: ` : ''),
    maskInstruction: true,
  },
  // sentence-transformers folders with no prompts: plain mean pooling.
  'glove-sif': { pooling: 'mean', prefix: () => '', maskInstruction: false },
  'minilm-shape': { pooling: 'mean', prefix: () => '', maskInstruction: false },
};

export interface OracleText {
  text: string;
  task: Task;
  /** the task description for instruction-aware models (default: WEB_SEARCH) */
  instruction?: string;
}

export interface OracleVector {
  vector: number[];
  /** the token ids the model saw (special tokens included) */
  ids: number[];
  /** leading tokens left out of the pooling mean */
  skip: number;
}

const tokenizers = new Map<string, Promise<PreTrainedTokenizer>>();
export function tokenizer(name: string): Promise<PreTrainedTokenizer> {
  let t = tokenizers.get(name);
  if (!t) tokenizers.set(name, (t = AutoTokenizer.from_pretrained(name)));
  return t;
}

const sessions = new Map<string, Promise<ort.InferenceSession>>();
function session(name: string): Promise<ort.InferenceSession> {
  let s = sessions.get(name);
  if (!s) sessions.set(name, (s = ort.InferenceSession.create(join(MODELS_DIR, name, 'onnx', 'model.onnx'))));
  return s;
}

export async function releaseOracles(): Promise<void> {
  const all = [...sessions.values()];
  sessions.clear();
  await Promise.all(all.map(async (s) => (await s).release()));
}

const readJson = (name: string, file: string) => JSON.parse(readFileSync(join(MODELS_DIR, name, file), 'utf8')) as Record<string, unknown>;

/** latent_attention.safetensors, F32 tensors by name (parsed here, not by src/models). */
function readSafetensors(path: string): Record<string, Float32Array> {
  const bytes = readFileSync(path);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string; data_offsets: [number, number] }>;
  const out: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(header)) {
    if (k === '__metadata__') continue;
    if (v.dtype !== 'F32') throw new Error(`${k}: ${v.dtype}, expected F32`);
    const [a, b] = v.data_offsets;
    out[k] = new Float32Array(Uint8Array.from(bytes.subarray(8 + n + a, 8 + n + b)).buffer);
  }
  return out;
}

let nvParams: ReturnType<typeof latentAttentionParams> | undefined;
function nvEmbedHead() {
  if (!nvParams) {
    const config = readJson('tiny-nv-embed', 'config.json')['latent_attention_config'] as LatentAttentionConfig;
    nvParams = latentAttentionParams(config, readSafetensors(join(MODELS_DIR, 'tiny-nv-embed', 'latent_attention.safetensors')));
  }
  return nvParams;
}

export function l2normalize(v: ArrayLike<number>): number[] {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  const n = Math.max(Math.sqrt(s), 1e-12);
  return Array.from(v, (x) => x / n);
}

/** The model's token ids for one input, special tokens included, and the pooling skip. */
export async function oracleTokens(name: FixtureName, t: OracleText): Promise<{ ids: number[]; skip: number }> {
  const fam = FAMILIES[name];
  const tok = await tokenizer(name);
  const prefix = fam.prefix(t.task, t.instruction ?? WEB_SEARCH);
  const ids = tok.encode(prefix + t.text);
  const skip = fam.maskInstruction && prefix ? tok.encode(prefix, { add_special_tokens: false }).length : 0;
  return { ids, skip };
}

/** [kvHeads, headDim] of a KV-cache export's past_key_values.* inputs (fed empty), or undefined. */
export async function pastShape(name: FixtureName): Promise<[number, number] | undefined> {
  const s = await session(name);
  const n = s.inputNames.find((x) => x.startsWith('past_key_values.'));
  if (!n) return undefined;
  const meta = s.inputMetadata.find((m) => m.name === n);
  const shape = meta && meta.isTensor ? meta.shape : [];
  const [, kvHeads, , headDim] = shape;
  if (typeof kvHeads !== 'number' || typeof headDim !== 'number') throw new Error(`${name}: ${n} has shape ${JSON.stringify(shape)}`);
  return [kvHeads, headDim];
}

/** last_hidden_state [1, T, H] of one unpadded sequence in onnxruntime-node. */
export async function hiddenAlone(name: FixtureName, ids: number[]): Promise<{ hidden: Float32Array; size: number }> {
  const s = await session(name);
  const T = ids.length;
  const i64 = (f: (t: number) => number) => new ort.Tensor('int64', BigInt64Array.from({ length: T }, (_, t) => BigInt(f(t))), [1, T]);
  const past = await pastShape(name);
  const feeds: Record<string, ort.Tensor> = {};
  for (const n of s.inputNames) {
    if (n === 'input_ids') feeds[n] = i64((t) => ids[t]!);
    else if (n === 'attention_mask') feeds[n] = i64(() => 1);
    else if (n === 'token_type_ids') feeds[n] = i64(() => 0);
    else if (n === 'position_ids') feeds[n] = i64((t) => t);
    else if (n.startsWith('past_key_values.') && past) feeds[n] = new ort.Tensor('float32', new Float32Array(0), [1, past[0], 0, past[1]]);
    else throw new Error(`${name}: unexpected input ${n}`);
  }
  const out = await s.run(feeds);
  const h = out['last_hidden_state'];
  if (!h) throw new Error(`${name}: no last_hidden_state`);
  const dims = h.dims as number[];
  if (dims[0] !== 1 || dims[1] !== T) throw new Error(`${name}: last_hidden_state dims ${JSON.stringify(dims)}`);
  const hidden = Float32Array.from(h.data as Float32Array);
  for (const t of Object.values(out)) t.dispose();
  return { hidden, size: dims[2]! };
}

/** The family's pooling (src/reference) of one unpadded sequence's hidden states, L2-normalized. */
export function poolAlone(name: FixtureName, hidden: Float32Array, size: number, skip: number): number[] {
  const T = hidden.length / size;
  const weights = Float32Array.from({ length: T }, (_, t) => (t < skip ? 0 : 1));
  const fam = FAMILIES[name];
  const pooled =
    fam.pooling === 'mean'
      ? maskedMeanPool(hidden, weights, 1, T, size)
      : fam.pooling === 'last-token'
        ? lastTokenPool(hidden, weights, 1, T, size)
        : latentAttentionPool(hidden, weights, 1, T, nvEmbedHead());
  return l2normalize(pooled);
}

/** Pooled + normalized vector of ids run alone in onnxruntime-node. */
export async function embedIds(name: FixtureName, ids: number[], skip: number): Promise<number[]> {
  const { hidden, size } = await hiddenAlone(name, ids);
  return poolAlone(name, hidden, size, skip);
}

/** (a) Each text alone in onnxruntime-node, pooled by src/reference, L2-normalized. */
export async function onnxRuntimeOracle(name: FixtureName, texts: OracleText[]): Promise<OracleVector[]> {
  const out: OracleVector[] = [];
  for (const t of texts) {
    const { ids, skip } = await oracleTokens(name, t);
    out.push({ vector: await embedIds(name, ids, skip), ids, skip });
  }
  return out;
}

/**
 * (b) transformers.js' feature-extraction pipeline ('mean' or 'last_token' pooling, normalize)
 * on the prompt-formatted texts. One text per call: its last_token pooling takes position T-1,
 * right only without padding or with left padding, and one call per text keeps padding out.
 */
export async function transformersJsOracle(name: FixtureName, texts: OracleText[]): Promise<number[][]> {
  const fam = FAMILIES[name];
  if (fam.pooling === 'latent-attention') throw new Error('transformers.js has no latent-attention pooling');
  const extractor = await pipeline('feature-extraction', name, { dtype: 'fp32' });
  try {
    const out: number[][] = [];
    for (const t of texts) {
      const input = fam.prefix(t.task, t.instruction ?? WEB_SEARCH) + t.text;
      const r = await extractor(input, { pooling: fam.pooling === 'mean' ? 'mean' : 'last_token', normalize: true });
      if (r.dims.length !== 2 || r.dims[0] !== 1) throw new Error(`transformers.js gave dims ${JSON.stringify(r.dims)}`);
      out.push(Array.from(r.data as Float32Array));
    }
    return out;
  } finally {
    await extractor.dispose();
  }
}

export interface Comparison {
  /** smallest cosine over the rows */
  minCosine: number;
  /** largest |a - b| over all values */
  maxAbsDiff: number;
}

export function compareRows(a: readonly (readonly number[])[], b: readonly (readonly number[])[]): Comparison {
  if (a.length !== b.length) throw new Error(`${a.length} rows vs ${b.length}`);
  let minCosine = Infinity;
  let maxAbsDiff = 0;
  a.forEach((x, i) => {
    const y = b[i]!;
    if (x.length !== y.length) throw new Error(`row ${i}: ${x.length} values vs ${y.length}`);
    let dot = 0, nx = 0, ny = 0;
    for (let k = 0; k < x.length; k++) {
      dot += x[k]! * y[k]!;
      nx += x[k]! * x[k]!;
      ny += y[k]! * y[k]!;
      maxAbsDiff = Math.max(maxAbsDiff, Math.abs(x[k]! - y[k]!));
    }
    minCosine = Math.min(minCosine, dot / Math.sqrt(nx * ny));
  });
  return { minCosine, maxAbsDiff };
}
