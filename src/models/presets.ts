/**
 * Known models, by id: where their folder is and what the folder's own files lack (the
 * Xenova/onnx-community copies carry no sentence-transformers files, so no pooling, no Normalize,
 * no prompts). A plain table of records. The loader lets the folder's own files win over a
 * preset, and the caller's options win over both (src/models/spec.ts).
 *
 * Where the facts come from (checked through the hub's file listings and model cards as found
 * by search, not by downloading):
 *   - E5 (small/base/large), bge-small-en-v1.5, all-MiniLM-L6-v2: file names and sizes from the
 *     repos' onnx/ listings (huggingface.co/<repo>/tree/main/onnx), verified.
 *   - multilingual-e5-large-instruct: intfloat's own repo ships onnx/model.onnx + model.onnx_data
 *     (fp32 only), verified; no Xenova/onnx-community copy was found.
 *   - Qwen3-Embedding-0.6B: sizes from MODELS.md (onnx-community/Qwen3-Embedding-0.6B-ONNX);
 *     the repo listing itself could not be checked here. UNVERIFIED.
 *   - Qwen3-Embedding-4B / -8B: the onnx-community repo names follow the 0.6B's pattern and the
 *     sizes are estimates (4-bit weights + fp16 embeddings); external data is left to the
 *     loader's probe. UNVERIFIED: a 404 on load means the repo is named or laid out otherwise.
 */
import type { Dtype, PaddingSide, Pooling, Task } from './types.ts';

/** One ONNX file of a preset: its approximate download and its external data files. */
export interface PresetFile {
  /** approximate download in MB, ONNX file and external data together */
  sizeMB: number;
  /** external data files relative to the folder; left out: probe '<onnx>_data' like a plain folder */
  externalData?: string[];
  /**
   * SHA-256 (hex) of files of this dtype, by path relative to the folder ('onnx/model.onnx'): the
   * weight cache checks a download against it before storing it (the hub lists it as the LFS oid).
   */
  sha256?: Record<string, string>;
}

export interface ModelPreset {
  /** the folder URL, ending in '/' */
  url: string;
  /**
   * The folder's content version (a hub commit): part of the weight cache's key, so a preset
   * whose revision changes is downloaded again rather than served from a stale cache.
   */
  revision?: string;
  /** the dtypes the folder has, each with its file facts */
  dtypes: Partial<Record<Dtype, PresetFile>>;
  /** the dtype used when the caller names none */
  defaultDtype: Dtype;
  pooling: Pooling;
  normalize: boolean;
  /** the full output width */
  dimensions: number;
  /** Matryoshka: any output size from min up to dimensions */
  matryoshka?: { min: number };
  /** the most tokens one input may have, special tokens included */
  maxTokens: number;
  paddingSide: PaddingSide;
  /** per task, the text put before the input; '{instruction}' is replaced by the instruction */
  prompts: Partial<Record<Task, string>>;
  defaultInstruction?: string;
  /**
   * Append the end-of-text token (config.json eos_token_id) when the tokenizer does not: the
   * last-token pooling of Qwen3-Embedding must see it, and older copies of its tokenizer.json
   * did not add it.
   */
  appendEos?: boolean;
  /** a reranker (rerank() / createReranker()), and how it scores: see src/models/rerank.ts */
  reranker?: { kind: 'yes-no' | 'cross-encoder' };
}

const HF = 'https://huggingface.co';
const WEB_SEARCH = 'Given a web search query, retrieve relevant passages that answer the query';
const QWEN3_PROMPTS = { query: 'Instruct: {instruction}\nQuery:' } as const;
const E5_PROMPTS = { query: 'query: ', document: 'passage: ' } as const;

const TABLE = {
  'qwen3-embedding-0.6b': {
    url: `${HF}/onnx-community/Qwen3-Embedding-0.6B-ONNX/resolve/main/`,
    dtypes: {
      fp32: { sizeMB: 2300, externalData: ['onnx/model.onnx_data'] },
      fp16: { sizeMB: 1100, externalData: [] },
      q8: { sizeMB: 585, externalData: [] },
      q4f16: { sizeMB: 541, externalData: [] },
    },
    defaultDtype: 'q4f16',
    pooling: 'last-token',
    normalize: true,
    dimensions: 1024,
    matryoshka: { min: 32 },
    maxTokens: 32768,
    paddingSide: 'left',
    prompts: QWEN3_PROMPTS,
    defaultInstruction: WEB_SEARCH,
    appendEos: true,
  },
  'qwen3-embedding-4b': {
    url: `${HF}/onnx-community/Qwen3-Embedding-4B-ONNX/resolve/main/`,
    dtypes: { q4f16: { sizeMB: 2800 } },
    defaultDtype: 'q4f16',
    pooling: 'last-token',
    normalize: true,
    dimensions: 2560,
    matryoshka: { min: 32 },
    maxTokens: 32768,
    paddingSide: 'left',
    prompts: QWEN3_PROMPTS,
    defaultInstruction: WEB_SEARCH,
    appendEos: true,
  },
  'qwen3-embedding-8b': {
    url: `${HF}/onnx-community/Qwen3-Embedding-8B-ONNX/resolve/main/`,
    dtypes: { q4f16: { sizeMB: 5200 } },
    defaultDtype: 'q4f16',
    pooling: 'last-token',
    normalize: true,
    dimensions: 4096,
    matryoshka: { min: 32 },
    maxTokens: 32768,
    paddingSide: 'left',
    prompts: QWEN3_PROMPTS,
    defaultInstruction: WEB_SEARCH,
    appendEos: true,
  },
  'multilingual-e5-small': {
    url: `${HF}/Xenova/multilingual-e5-small/resolve/main/`,
    dtypes: { fp32: { sizeMB: 470, externalData: [] }, fp16: { sizeMB: 235, externalData: [] }, q8: { sizeMB: 118, externalData: [] } },
    defaultDtype: 'fp16',
    pooling: 'mean',
    normalize: true,
    dimensions: 384,
    maxTokens: 512,
    paddingSide: 'right',
    prompts: E5_PROMPTS,
  },
  'multilingual-e5-base': {
    url: `${HF}/Xenova/multilingual-e5-base/resolve/main/`,
    dtypes: { fp32: { sizeMB: 1110, externalData: [] }, fp16: { sizeMB: 555, externalData: [] }, q8: { sizeMB: 279, externalData: [] } },
    defaultDtype: 'fp16',
    pooling: 'mean',
    normalize: true,
    dimensions: 768,
    maxTokens: 512,
    paddingSide: 'right',
    prompts: E5_PROMPTS,
  },
  'multilingual-e5-large': {
    url: `${HF}/Xenova/multilingual-e5-large/resolve/main/`,
    dtypes: {
      fp32: { sizeMB: 2240, externalData: ['onnx/model.onnx_data'] },
      fp16: { sizeMB: 1120, externalData: [] },
      q8: { sizeMB: 562, externalData: [] },
    },
    defaultDtype: 'fp16',
    pooling: 'mean',
    normalize: true,
    dimensions: 1024,
    maxTokens: 512,
    paddingSide: 'right',
    prompts: E5_PROMPTS,
  },
  'multilingual-e5-large-instruct': {
    url: `${HF}/intfloat/multilingual-e5-large-instruct/resolve/main/`,
    dtypes: { fp32: { sizeMB: 2240, externalData: ['onnx/model.onnx_data'] } },
    defaultDtype: 'fp32',
    pooling: 'mean',
    normalize: true,
    dimensions: 1024,
    maxTokens: 512,
    paddingSide: 'right',
    // Queries carry the task; documents go in raw (the model card's usage).
    prompts: { query: 'Instruct: {instruction}\nQuery: ', document: '' },
    defaultInstruction: WEB_SEARCH,
  },
  'bge-small-en-v1.5': {
    url: `${HF}/Xenova/bge-small-en-v1.5/resolve/main/`,
    dtypes: { fp32: { sizeMB: 133, externalData: [] }, fp16: { sizeMB: 67, externalData: [] }, q8: { sizeMB: 34, externalData: [] } },
    defaultDtype: 'fp32',
    pooling: 'cls',
    normalize: true,
    dimensions: 384,
    maxTokens: 512,
    paddingSide: 'right',
    // The model card's instruction for short retrieval queries; passages go in raw.
    prompts: { query: 'Represent this sentence for searching relevant passages: ' },
  },
  'all-minilm-l6-v2': {
    url: `${HF}/Xenova/all-MiniLM-L6-v2/resolve/main/`,
    dtypes: { fp32: { sizeMB: 90, externalData: [] }, fp16: { sizeMB: 45, externalData: [] }, q8: { sizeMB: 23, externalData: [] } },
    defaultDtype: 'fp32',
    pooling: 'mean',
    normalize: true,
    dimensions: 384,
    // sentence-transformers' max_seq_length: it was trained on 128-token inputs, cut at 256.
    maxTokens: 256,
    paddingSide: 'right',
    prompts: {},
  },
  // ---- rerankers (rerank() / createReranker()); pooling, normalize and prompts are unused by them.
  // Qwen3-Reranker-0.6B: the onnx-community card lists onnx/model_quantized.onnx (int8) and
  // onnx/model_q4.onnx (MatMulNBits, block 32), no fp32/fp16. Sizes are estimates (the fp32
  // embedding, 151,669 x 1024, stays unquantized): UNVERIFIED. maxTokens 8192 as Qwen's example.
  'qwen3-reranker-0.6b': {
    url: `${HF}/onnx-community/Qwen3-Reranker-0.6B-ONNX/resolve/main/`,
    dtypes: { q8: { sizeMB: 1100, externalData: [] }, q4: { sizeMB: 900, externalData: [] } },
    defaultDtype: 'q4',
    pooling: 'last-token',
    normalize: false,
    dimensions: 1024,
    maxTokens: 8192,
    paddingSide: 'left',
    prompts: {},
    reranker: { kind: 'yes-no' },
  },
  // Cross-encoders, in the transformers.js layout of the Xenova copies (onnx/model.onnx and
  // model_quantized.onnx); sizes from the fp32 weights (XLM-R base 278M, MiniLM-L6 22.7M): UNVERIFIED.
  'bge-reranker-base': {
    url: `${HF}/Xenova/bge-reranker-base/resolve/main/`,
    dtypes: { fp32: { sizeMB: 1110, externalData: [] }, q8: { sizeMB: 280, externalData: [] } },
    defaultDtype: 'q8',
    pooling: 'cls',
    normalize: false,
    dimensions: 768,
    maxTokens: 512,
    paddingSide: 'right',
    prompts: {},
    reranker: { kind: 'cross-encoder' },
  },
  'ms-marco-minilm-l-6-v2': {
    url: `${HF}/Xenova/ms-marco-MiniLM-L-6-v2/resolve/main/`,
    dtypes: { fp32: { sizeMB: 91, externalData: [] }, q8: { sizeMB: 23, externalData: [] } },
    defaultDtype: 'fp32',
    pooling: 'cls',
    normalize: false,
    dimensions: 384,
    maxTokens: 512,
    paddingSide: 'right',
    prompts: {},
    reranker: { kind: 'cross-encoder' },
  },
} satisfies Record<string, ModelPreset>;

export type PresetId = keyof typeof TABLE;

/** The presets by id. */
export const PRESETS: Readonly<Record<PresetId, ModelPreset>> = TABLE;

/** The preset for an id (case-insensitive), or undefined. */
export function findPreset(id: string): { id: PresetId; preset: ModelPreset } | undefined {
  const key = id.trim().toLowerCase();
  return Object.hasOwn(PRESETS, key) ? { id: key as PresetId, preset: PRESETS[key as PresetId] } : undefined;
}
