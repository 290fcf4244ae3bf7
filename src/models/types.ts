/**
 * What the models layer hands the engine: a model resolved from its folder (Hugging Face +
 * sentence-transformers layout), a preset and the user's options, plus its tokenizer.
 */

import type { BatchSensitivity } from './onnx/batch-sensitivity.ts';
import type { OnnxGraph } from './onnx/onnx-graph.ts';

/**
 * How token states become one vector (`info.pooling` reports one of these). 'graph': the ONNX graph does it itself and outputs the vector
 * as `sentence_embedding` (sentence-transformers' whole pipeline exported, e.g. EmbeddingGemma's
 * mean + two Dense layers + Normalize): webgpu-embed pools nothing, it only truncates (Matryoshka)
 * and normalizes that output. A graph with that output gets 'graph' unless the caller overrides it.
 */
export type Pooling = 'mean' | 'cls' | 'last-token' | 'latent-attention' | 'graph';
/**
 * The pooling names an app may pass (overrides.pooling): ours, and the spellings of transformers.js
 * ('last_token', 'first_token', 'eos') and sentence-transformers ('lasttoken'), each meaning one of
 * ours (src/models/spec.ts POOLING_ALIASES).
 */
export type PoolingName = Pooling | 'last_token' | 'lasttoken' | 'eos' | 'first_token' | 'latent_attention';
/**
 * Which ONNX file of a folder runs, by transformers.js' names: 'fp32' → onnx/model.onnx, 'fp16' →
 * model_fp16, 'q8' → model_quantized (dynamic int8), 'int8' → model_int8, 'uint8' → model_uint8,
 * 'q4' → model_q4 (MatMulNBits), 'q4f16' → model_q4f16, 'bnb4' → model_bnb4 (MatMulBnb4),
 * 'q2' → model_q2 and 'q2f16' → model_q2f16 (2-bit MatMulNBits).
 */
export type Dtype = 'fp32' | 'fp16' | 'q8' | 'int8' | 'uint8' | 'q4' | 'q4f16' | 'bnb4' | 'q2' | 'q2f16';
/**
 * The `dtype` option, as transformers.js takes it: a file's dtype, 'auto' (the engine's choice for
 * the device: the same as leaving dtype out), or a per-file map. A map's keys are ONNX file base
 * names; a folder here holds one graph, onnx/model*.onnx, whose key is 'model' (the key
 * transformers.js uses for it too), so `{ model: 'q8' }` is `'q8'` and `{}` is 'auto'.
 */
export type DtypeOption = Dtype | 'auto' | { model?: Dtype | 'auto' };
export type Task = 'query' | 'document';
export type PaddingSide = 'left' | 'right';

export interface ModelSpec {
  /** what the user passed: a folder URL or a preset id */
  id: string;
  /** the folder URL, ending in '/' */
  baseUrl: string;
  /** config.json as read */
  config: Record<string, unknown>;
  pooling: Pooling;
  /** L2-normalize the pooled vector (sentence-transformers' Normalize module, or the preset) */
  normalize: boolean;
  /** the model's full output width (hidden size, the latent head's output, or the graph's sentence_embedding width) */
  dimensions: number;
  /** whether the model was trained to be cut to fewer dimensions (any size from 1 to `dimensions` is allowed either way) */
  matryoshka: MatryoshkaInfo;
  /** the most tokens one input may have, special tokens included */
  maxTokens: number;
  paddingSide: PaddingSide;
  /** why paddingSide is not what the folder's files say: the graph decided it (GroupQueryAttention needs right padding) */
  paddingReason?: string;
  /** what in the loaded graph makes batching change a result (src/models/onnx/batch-sensitivity.ts) */
  graph: BatchSensitivity;
  /** text prepended per task (E5: 'query: ' / 'passage: '); may contain '{instruction}' */
  prompts: Partial<Record<Task, string>>;
  /** the instruction used when a prompt has '{instruction}' and the caller gave none */
  defaultInstruction?: string;
  /** NV-Embed: the prompt's (instruction's) tokens are left out of the pooling mean */
  maskInstruction: boolean;
  /** ONNX file chosen for the dtype, relative to baseUrl (e.g. 'onnx/model_fp16.onnx') */
  onnxFile: string;
  /** external data files next to it (e.g. 'onnx/model.onnx_data'), relative to baseUrl */
  externalDataFiles: string[];
  dtype: Dtype;
  /** why this dtype: asked for, or chosen for the device from the preset's or the folder's files */
  dtypeReason: string;
  /** NV-Embed's latent-attention head, when the folder has latent_attention.safetensors */
  latentAttention?: LatentAttentionSpec;
}

/**
 * Whether a model was trained for Matryoshka truncation (`info.matryoshka`). Every embedder takes
 * any `dimensions` from 1 to its full width, as sentence-transformers' truncate_dim does; a model
 * trained for it (a preset or `overrides.matryoshka` says so) keeps its quality at the trained
 * sizes, any other model loses some, by how much only an evaluation tells: an app can warn.
 *
 * @example
 * const { matryoshka } = embedder.info;
 * if (!matryoshka.trained) console.warn('this model was not trained for Matryoshka truncation');
 */
export type MatryoshkaInfo =
  | { trained: false }
  | {
      trained: true;
      /** the trained sizes: every integer from min to max (Qwen3-Embedding: 32 to 1024), or these, ascending, the full width included */
      sizes: { min: number; max: number } | number[];
      /** what says so: the preset, or overrides.matryoshka */
      source: 'preset' | 'overrides';
    };

export interface LatentAttentionSpec {
  numLatents: number;
  heads: number;
  headDim: number;
  /** latent_dim: the width of the latents and of the head's output */
  latentDim: number;
  /** hidden_dim: the width of the transformer's hidden states */
  hiddenDim: number;
  /** tensor name (as in MODELS.md) → values, converted to f32 */
  weights: Record<string, Float32Array>;
  /** tensor name → its shape as stored (torch Linear layout [out, in]) */
  shapes?: Record<string, number[]>;
}

/** A text ready for the model: token ids with special tokens, and how to pool it. */
export interface PreparedText {
  /** token ids, special tokens included, at most maxTokens */
  ids: number[];
  /** real tokens at the start left out of the pooling mean (NV-Embed's instruction), else 0 */
  poolSkip: number;
  /** the text had more tokens than maxTokens and was cut */
  truncated: boolean;
  /** how many tokens the whole text had (before any cut) */
  fullLength: number;
}

export interface TextTokenizer {
  /** token ids of a string; with special tokens (the model's post-processor) unless told otherwise */
  encode(text: string, opts?: { addSpecialTokens?: boolean }): number[];
  /** the text of some ids, special tokens left out (for showing a chunk; normalization such as lowercasing is not undone) */
  decode?(ids: number[]): string;
  /** the padding token id (0 when the model has none: padded slots are masked anyway) */
  readonly padId: number;
  /** the special tokens the post-processor puts before and after a single text */
  readonly head: number[];
  readonly tail: number[];
  /** the id of a token by its text in the vocabulary ('yes' → 9693 for Qwen3), if it has one */
  tokenId?(token: string): number | undefined;
  /** what the post-processor puts around a pair of texts (cross-encoders), when it was found */
  readonly pair?: PairTemplate;
}

/**
 * The special tokens around a pair of texts and each part's token type, as the tokenizer's
 * post-processor writes them: BERT `[CLS] a [SEP] b [SEP]` with types 0…0 1…1, XLM-R
 * `<s> a </s></s> b </s>` all 0.
 */
export interface PairTemplate {
  head: number[];
  middle: number[];
  tail: number[];
  types: { head: number[]; first: number; middle: number[]; second: number; tail: number[] };
}

export interface LoadedModel {
  spec: ModelSpec;
  tokenizer: TextTokenizer;
  /** the ONNX bytes and external data, for onnxruntime-web */
  onnx: Uint8Array;
  externalData: { path: string; data: Uint8Array }[];
  /**
   * `onnx`'s graph as read once at load (src/models/onnx/onnx-graph.ts readGraph), for whatever
   * else needs its nodes or outputs (the session's CPU-only nodes, the wasm rewrite); undefined
   * when our reader cannot walk the file, which onnxruntime then reports. Whoever replaces `onnx`
   * with an edited graph replaces this with the edited graph's.
   */
  onnxGraph: OnnxGraph | undefined;
  /** ms spent at load building the tokenizer and reading the graph (the rest of loadModel is reading files) */
  loadMs?: { tokenizer: number; graph: number };
}
