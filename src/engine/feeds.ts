/**
 * The ONNX inputs for one batch, built from the session's own input names, so one code path
 * serves BERT-style encoders (input_ids, attention_mask, token_type_ids) and decoder exports
 * (position_ids and the empty past_key_values.* of a KV-cache export).
 */
import { ModelInputsError } from '../errors.ts';
import type { PaddingSide } from '../models/types.ts';

export interface BatchTokens {
  /** token ids per text (special tokens included) */
  ids: readonly (readonly number[])[];
  padId: number;
  side: PaddingSide;
  /** token types per text (cross-encoders' query 0 / document 1); zeros when left out */
  typeIds?: readonly (readonly number[])[];
}

export interface PaddedBatch {
  batch: number;
  tokens: number;
  /** [B*T] int64 token ids */
  inputIds: BigInt64Array;
  /** [B*T] 0/1 as int64 (ONNX) */
  attentionMask: BigInt64Array;
  /** [B*T] 0/1 as f32: the pooling weights before any per-text skip */
  maskF32: Float32Array;
  /** [B*T] position of each real token counted over real tokens only (0 at padded slots) */
  positionIds: BigInt64Array;
  /** [B*T] token types as int64, when the texts came with them */
  tokenTypeIds?: BigInt64Array;
  /** per row: the slot of its first real token */
  starts: number[];
  lengths: number[];
}

export function padBatch({ ids, padId, side, typeIds }: BatchTokens): PaddedBatch {
  const batch = ids.length;
  const tokens = Math.max(1, ...ids.map((r) => r.length));
  const n = batch * tokens;
  const inputIds = new BigInt64Array(n).fill(BigInt(padId));
  const attentionMask = new BigInt64Array(n);
  const maskF32 = new Float32Array(n);
  const positionIds = new BigInt64Array(n);
  const tokenTypeIds = typeIds ? new BigInt64Array(n) : undefined;
  const starts: number[] = [];
  const lengths: number[] = [];
  ids.forEach((row, b) => {
    const start = side === 'left' ? tokens - row.length : 0;
    starts.push(start);
    lengths.push(row.length);
    for (let j = 0; j < row.length; j++) {
      const k = b * tokens + start + j;
      inputIds[k] = BigInt(row[j]!);
      attentionMask[k] = 1n;
      maskF32[k] = 1;
      // Positions count real tokens only, so a text's vector never depends on its batch's padding (MODELS.md).
      positionIds[k] = BigInt(j);
      if (tokenTypeIds) tokenTypeIds[k] = BigInt(typeIds![b]?.[j] ?? 0);
    }
  });
  return { batch, tokens, inputIds, attentionMask, maskF32, positionIds, starts, lengths, ...(tokenTypeIds ? { tokenTypeIds } : {}) };
}

export interface InputMeta {
  name: string;
  /** ONNX element type as ORT names it ('int64', 'float32', 'float16', ...) */
  type?: string;
  /** declared dims: numbers or symbolic names */
  shape?: readonly (number | string)[];
}

export interface FeedTensor {
  type: 'int64' | 'float32' | 'float16';
  data: BigInt64Array | Float32Array | Uint16Array;
  dims: number[];
}

/** The inputs buildFeeds fills. */
const KNOWN_INPUTS = ['input_ids', 'attention_mask', 'token_type_ids', 'position_ids'];
const isPast = (name: string) => /^past_key_values\.\d+\.(key|value)$/.test(name);

/**
 * At load: a graph with an input buildFeeds cannot fill is a ModelInputsError listing them all,
 * rather than a failure at the first batch (or, worse, a silent zero tensor).
 */
export function checkModelInputs(inputs: readonly InputMeta[], url: string): void {
  const unknown = inputs.map((i) => i.name).filter((n) => !KNOWN_INPUTS.includes(n) && !isPast(n));
  if (!unknown.length) return;
  throw new ModelInputsError(
    `${url} has input${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `'${n}'`).join(', ')} that webgpu-embed does not know how to fill ` +
      `(it fills ${KNOWN_INPUTS.join(', ')} and empty past_key_values.N.key / .value); re-export the model without ${unknown.length > 1 ? 'them' : 'it'} ` +
      '(optimum: task feature-extraction, or text-generation-with-past for a decoder).',
    url,
    unknown,
  );
}

/**
 * Feeds for every input the session declares. Unknown inputs are an error naming them, rather
 * than a silent zero tensor: a model we do not understand should say so.
 */
export function buildFeeds(inputs: readonly InputMeta[], p: PaddedBatch, config: Record<string, unknown>): Record<string, FeedTensor> {
  const dims = [p.batch, p.tokens];
  const feeds: Record<string, FeedTensor> = {};
  for (const input of inputs) {
    const { name } = input;
    if (name === 'input_ids') feeds[name] = { type: 'int64', data: p.inputIds, dims };
    else if (name === 'attention_mask') feeds[name] = { type: 'int64', data: p.attentionMask, dims };
    else if (name === 'token_type_ids') feeds[name] = { type: 'int64', data: p.tokenTypeIds ?? new BigInt64Array(p.batch * p.tokens), dims };
    else if (name === 'position_ids') feeds[name] = { type: 'int64', data: p.positionIds, dims };
    else if (isPast(name)) feeds[name] = emptyPast(input, p.batch, config);
    else throw new ModelInputsError(`the model has an input named '${name}' that webgpu-embed does not know how to fill`, undefined, [name]);
  }
  return feeds;
}

/** An empty KV cache entry [B, kv_heads, 0, head_dim], as a KV-cache export wants for a first pass. */
function emptyPast(input: InputMeta, batch: number, config: Record<string, unknown>): FeedTensor {
  const kvHeads = Number(config.num_key_value_heads ?? config.num_attention_heads);
  const headDim = Number(config.head_dim ?? Number(config.hidden_size) / Number(config.num_attention_heads));
  const declared = input.shape;
  const heads = typeof declared?.[1] === 'number' ? declared[1] : kvHeads;
  const dim = typeof declared?.[3] === 'number' ? declared[3] : headDim;
  if (!Number.isInteger(heads) || !Number.isInteger(dim)) {
    throw new Error(`cannot size the empty ${input.name}: config.json lacks num_key_value_heads / head_dim`);
  }
  const type = input.type === 'float16' ? 'float16' : 'float32';
  return { type, data: type === 'float16' ? new Uint16Array(0) : new Float32Array(0), dims: [batch, heads, 0, dim] };
}
