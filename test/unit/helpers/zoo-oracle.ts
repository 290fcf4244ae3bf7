/**
 * The oracle for a zoo model's ONNX file, written from MODELS.md and the sentence-transformers
 * conventions, not from src/models: the input (prompt + text, as given) is tokenized with
 * @huggingface/tokenizers from the folder's own tokenizer.json, cut to the model's maximum as
 * sentence-transformers cuts (the end of the text goes, the special tokens stay), run ALONE
 * (batch 1, no padding) on onnxruntime-node's CPU provider — or on onnxruntime-web's wasm build,
 * the runtime the library itself uses, called bare — pooled on the CPU by src/reference (masked
 * mean, or the first token for CLS) and L2-normalized in float64.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import * as ort from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { maskedMeanPool } from '../../../src/reference/masked-mean.ts';
import { firstTokenPool } from '../../../src/reference/token-pooling.ts';
import { DTYPE_FILES, zooFolder, type ZooDtype, type ZooModel, type ZooReference } from './zoo-reference.ts';

export interface OracleEmbedding {
  vector: number[];
  /** tokens the model saw, special tokens included */
  tokens: number;
  /** the input was longer than the model's maximum and was cut */
  truncated: boolean;
}

export interface ZooOracle {
  embed(input: string): Promise<OracleEmbedding>;
  release(): Promise<void>;
}

/**
 * float16 outputs (onnxruntime-node hands them over as Uint16Array bits in Node 20, which has no
 * Float16Array) → float32, by moving the fields into float32's layout: normals and zeros by the
 * exponent's rebias, subnormals (exactly representable in float32) by their value.
 */
function asFloat32(t: ort.Tensor): Float32Array {
  if (t.type === 'float32') return Float32Array.from(t.data as Float32Array);
  if (t.type !== 'float16') throw new Error(`hidden states of type ${t.type}`);
  if (!(t.data instanceof Uint16Array)) return Float32Array.from(t.data as ArrayLike<number>);
  const out = new Float32Array(t.data.length);
  const bits = new Uint32Array(out.buffer);
  t.data.forEach((h, i) => {
    const sign = (h & 0x8000) << 16;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) out[i] = (sign ? -1 : 1) * frac * 2 ** -24;
    else bits[i] = sign | ((exp === 0x1f ? 0xff : exp + 112) << 23) | (frac << 13);
  });
  return out;
}

export function l2normalize64(v: ArrayLike<number>): number[] {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  const n = Math.sqrt(s);
  return Array.from(v, (x) => x / n);
}

/**
 * Token ids of `input`, special tokens included, at most `maxTokens`. The tokenizer's template
 * is taken to be `first $A last` ([CLS] … [SEP] for BERT, <s> … </s> for XLM-R): checked on the
 * input itself before any cut.
 */
export function encodeTruncated(tokenizer: Tokenizer, input: string, maxTokens: number): { ids: number[]; truncated: boolean } {
  const specials = tokenizer.encode('').ids;
  const body = tokenizer.encode(input, { add_special_tokens: false }).ids;
  const whole = tokenizer.encode(input).ids;
  if (specials.length !== 2 || whole.join() !== [specials[0], ...body, specials[1]].join()) {
    throw new Error(`the tokenizer's template is not "first text last" (specials ${JSON.stringify(specials)})`);
  }
  if (whole.length <= maxTokens) return { ids: whole, truncated: false };
  return { ids: [specials[0]!, ...body.slice(0, maxTokens - 2), specials[1]!], truncated: true };
}

export function loadTokenizer(model: ZooModel): Tokenizer {
  const read = (f: string) => JSON.parse(readFileSync(join(zooFolder(model), f), 'utf8')) as object;
  return new Tokenizer(read('tokenizer.json'), read('tokenizer_config.json'));
}

export type OracleRuntime = 'onnxruntime-node' | 'onnxruntime-web';

async function openSession(path: string, runtime: OracleRuntime): Promise<ort.InferenceSession> {
  // onnxruntime-node finds an external-data file (model.onnx_data) beside the model by itself.
  if (runtime === 'onnxruntime-node') return ort.InferenceSession.create(path);
  const data = `${path}_data`;
  const externalData = existsSync(data) ? [{ path: data.slice(data.lastIndexOf('/') + 1), data: new Uint8Array(readFileSync(data)) }] : [];
  // the two packages' sessions and tensors have the same shape (onnxruntime-common)
  return (await ortWeb.InferenceSession.create(new Uint8Array(readFileSync(path)), { externalData })) as unknown as ort.InferenceSession;
}

export async function openZooOracle(
  model: ZooModel,
  dtype: ZooDtype,
  ref: Pick<ZooReference, 'pooling' | 'maxTokens'>,
  runtime: OracleRuntime = 'onnxruntime-node',
): Promise<ZooOracle> {
  const tokenizer = loadTokenizer(model);
  const session = await openSession(join(zooFolder(model), 'onnx', DTYPE_FILES[dtype]), runtime);
  const Tensor = runtime === 'onnxruntime-node' ? ort.Tensor : (ortWeb.Tensor as unknown as typeof ort.Tensor);
  const output = ['last_hidden_state', 'token_embeddings'].find((n) => session.outputNames.includes(n));
  if (!output) throw new Error(`${model} ${dtype}: no last_hidden_state among ${session.outputNames.join(', ')}`);
  return {
    async embed(input) {
      const { ids, truncated } = encodeTruncated(tokenizer, input, ref.maxTokens);
      const T = ids.length;
      const i64 = (f: (t: number) => number) => new Tensor('int64', BigInt64Array.from({ length: T }, (_, t) => BigInt(f(t))), [1, T]);
      const feeds: Record<string, ort.Tensor> = {};
      for (const n of session.inputNames) {
        if (n === 'input_ids') feeds[n] = i64((t) => ids[t]!);
        else if (n === 'attention_mask') feeds[n] = i64(() => 1);
        else if (n === 'token_type_ids') feeds[n] = i64(() => 0);
        else throw new Error(`${model} ${dtype}: unexpected input ${n}`);
      }
      const out = await session.run(feeds, [output]);
      const h = out[output]!;
      const [b, t, size] = h.dims as number[];
      if (b !== 1 || t !== T || !size) throw new Error(`${model} ${dtype}: ${output} dims ${JSON.stringify(h.dims)}`);
      const hidden = asFloat32(h);
      h.dispose();
      const mask = new Float32Array(T).fill(1);
      const pooled = ref.pooling === 'cls' ? firstTokenPool(hidden, mask, 1, T, size) : maskedMeanPool(hidden, mask, 1, T, size);
      return { vector: l2normalize64(pooled), tokens: T, truncated };
    },
    release: () => session.release(),
  };
}
