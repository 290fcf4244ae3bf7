/**
 * Known models, by id: where their folder is and what the folder's own files lack (the
 * Xenova/onnx-community copies carry no sentence-transformers files, so no pooling, no Normalize,
 * no prompts). A plain table of records. The loader lets the folder's own files win over a
 * preset, and the caller's options win over both (src/models/spec.ts).
 *
 * How the file facts were checked (issue #18). Nothing can be downloaded from the hub on the
 * machines this is built on, so every fact below comes from a public page or project, named in
 * the comment above its preset:
 *   - hub tree pages (huggingface.co/<repo>/tree/<commit>/onnx): which files a commit holds, and
 *     their sizes as the hub shows them;
 *   - hub blob pages and commit diffs: the Git LFS pointer of a file, whose `oid sha256:` IS the
 *     SHA-256 of the file's bytes;
 *   - other projects that download these files and check them against a pinned SHA-256 and byte
 *     count (a hash they verify on every download is as good as the pointer);
 *   - model cards.
 * What no source showed is marked UNVERIFIED, never guessed into a pin.
 *
 * Revisions. Where a tree page shows a commit's onnx/ folder, the preset pins that commit: its
 * `url` resolves at the commit (…/resolve/<commit>/) and `revision` names it, so the files, their
 * SHA-256 pins and the weight cache's key all describe the same bytes, and the vectors do not
 * change under a user when the repository does. A preset on `main` pins no SHA-256: main can move,
 * and a pinned hash would then refuse a legitimately updated file.
 *
 * Sizes are MB = 10^6 bytes (the unit the hub shows), the ONNX file and its external data together.
 */
import type { Dtype, PaddingSide, Pooling, Task } from './types.ts';

/** One ONNX file of a preset: its approximate download and its external data files. */
export interface PresetFile {
  /** approximate download in MB (10^6 bytes), ONNX file and external data together */
  sizeMB: number;
  /** external data files relative to the folder; left out: the ONNX file's own external_data entries decide */
  externalData?: string[];
  /**
   * SHA-256 (hex) of files of this dtype, by path relative to the folder ('onnx/model.onnx'): the
   * weight cache checks a download against it before storing it (the hub lists it as the LFS oid).
   */
  sha256?: Record<string, string>;
}

export interface ModelPreset {
  /** the folder URL, ending in '/' (…/resolve/<revision>/ when a revision is pinned) */
  url: string;
  /**
   * The folder's content version (a hub commit): part of the weight cache's key, so a preset
   * whose revision changes is downloaded again rather than served from a stale cache.
   */
  revision?: string;
  /** the dtypes the folder has, each with its file facts */
  dtypes: Partial<Record<Dtype, PresetFile>>;
  /** the dtype the preset prefers where the device runs it well (chooseDtype decides per device) */
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
/** A folder at a pinned commit: the bytes its SHA-256 pins describe. */
const pinned = (repo: string, commit: string) => ({ url: `${HF}/${repo}/resolve/${commit}/`, revision: commit });
const WEB_SEARCH = 'Given a web search query, retrieve relevant passages that answer the query';
const QWEN3_PROMPTS = { query: 'Instruct: {instruction}\nQuery:' } as const;
const E5_PROMPTS = { query: 'query: ', document: 'passage: ' } as const;

const TABLE = {
  // onnx-community/Qwen3-Embedding-0.6B-ONNX at c25a394d… (the commit several projects pin as the
  // repository's head; none was found at another commit of this repo):
  //   - fp32: onnx/model.onnx + onnx/model.onnx_data. The file pair: a download listing of the repo
  //     (aifocal/akidb automatosx/tmp/QWEN3-ONNX-DOWNLOAD-COMPLETE.md, Nov 2025, "2.3 GB") and
  //     projects loading model.onnx with model.onnx_data; teloa's asset manifest lists the pair as
  //     its fp32 variant. Size: 595,776,512 parameters × 4 bytes (the Teradata export's card) ≈ 2383
  //     MB plus the graph; the exact bytes and SHA-256: UNVERIFIED.
  //   - fp16: onnx/model_fp16.onnx + onnx/model_fp16.onnx_data (the same listing, "1.1 GB", and a
  //     Rust project that pins c25a394d as "the commit that actually publishes onnx/model_fp16.onnx
  //     and its companion onnx/model_fp16.onnx_data"). Size ≈ 2 bytes per parameter; SHA-256
  //     UNVERIFIED. (This preset used to say fp16 had no external data: the load would have failed.)
  //   - q8 (model_quantized): 613,527,631 bytes, SHA-256 87cd124e… — a design note and a model
  //     catalog that both pin c25a394d and these values.
  //   - int8 (model_int8): 613,527,539 bytes, SHA-256 6d0ea863… — memd's model download code
  //     (URL at c25a394d, hash checked on download) and another project's asset list (same hash).
  //   - q4 (model_q4): 914,121,462 bytes, SHA-256 8be554b3…; bnb4 (model_bnb4): 886,593,402 bytes,
  //     SHA-256 043b1fad… — teloa's asset test, both at c25a394d.
  //   - uint8 (model_uint8, "585 MB") and q4f16 (model_q4f16, "541 MB"): the download listing above
  //     (sizes in MiB there) and projects fetching model_uint8 from main. Their presence AT c25a394d
  //     is inferred (the same conversion's q4, bnb4, int8 and fp16 are there), not seen: UNVERIFIED.
  //   Inputs input_ids, attention_mask, position_ids and 28 empty past_key_values pairs [B,8,0,128],
  //   output last_hidden_state (MODELS.md; memd's loader feeds exactly these). transformers.js'
  //   card for this repo names dtypes fp32, fp16, q8.
  'qwen3-embedding-0.6b': {
    ...pinned('onnx-community/Qwen3-Embedding-0.6B-ONNX', 'c25a394dd583836952667c12f008335071b3f43d'),
    dtypes: {
      fp32: { sizeMB: 2383, externalData: ['onnx/model.onnx_data'] },
      fp16: { sizeMB: 1192, externalData: ['onnx/model_fp16.onnx_data'] },
      q8: { sizeMB: 614, externalData: [], sha256: { 'onnx/model_quantized.onnx': '87cd124e0ef1fd1f223ebc283efccbaeac386d0b08344701c46975d0657b591f' } },
      int8: { sizeMB: 614, externalData: [], sha256: { 'onnx/model_int8.onnx': '6d0ea863f78b4a84afa3c7fcba1ec341572b5e28121aef77b7092b1dfdf679c7' } },
      uint8: { sizeMB: 614, externalData: [] },
      q4: { sizeMB: 914, externalData: [], sha256: { 'onnx/model_q4.onnx': '8be554b37368134c3f38613c6f6ad0b7bb5f3a6465ab87574dbc0dcf24daa428' } },
      bnb4: { sizeMB: 887, externalData: [], sha256: { 'onnx/model_bnb4.onnx': '043b1fad2d02dc5c59de13deb8b059aab093b1e3f85d5554edb73dc2e0abacd1' } },
      q4f16: { sizeMB: 567, externalData: [] },
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
  // qwen3-embedding-4b / -8b were removed: they named onnx/model_q4f16.onnx in
  // onnx-community/Qwen3-Embedding-{4B,8B}-ONNX, and those repositories publish only an fp32 export
  // (16.1 GB / 30.3 GB, "There is no fp16, q8 or q4 variant": amem's model guide, which lists the
  // hub sizes; MODELS.md reports the same). 16-30 GB of fp32 cannot be held by a browser (wasm's
  // 4 GB memory; a GPU buffer per weight of that model), and their external data chunking is
  // unknown, so no preset could load them. A quantized ONNX export would bring them back.

  // EmbeddingGemma-300m (onnx-community/embeddinggemma-300m-ONNX). Its graph pools by itself: inputs
  // input_ids + attention_mask, outputs last_hidden_state and sentence_embedding [B, 768] (mean,
  // Dense 768→3072→768, Normalize), so pooling 'graph'. Evidence, as found by search (the hub could
  // not be reached from here):
  //   - file names: the repository's squash commit 75a84c7 (mirrored on a hub proxy) adds
  //     onnx/model, model_fp16, model_no_gather_q4, model_q4, model_q4f16 and model_quantized, each
  //     .onnx + .onnx_data, and no sentence-transformers files (hence the prompts here);
  //   - the card: "EmbeddingGemma activations do not support fp16 or its derivatives. Please use
  //     fp32, q8, or q4", and `_, sentence_embedding = session.run(None, inputs)`: fp16 and q4f16 are
  //     left out (they compute wrongly), model_no_gather_q4 too (no dtype names it; its embedding is
  //     a one-hot MatMul for runtimes without GatherBlockQuantized, a third-party note says);
  //   - prompts: google/embeddinggemma-300m's config_sentence_transformers.json, as quoted by
  //     transformers' convert_gemma3_weights.py ("query": "task: search result | query: ",
  //     "document": "title: none | text: ") and the card's own example; 2048 tokens (the card,
  //     sentence_bert_config.json's max_seq_length); Matryoshka 512 / 256 / 128 (the card);
  //     right padding (convert_gemma3_weights.py: padding_side "right" for the embedding variant);
  //   - sizes: a third-party project's pins (fp32 model.onnx 479,932 + model.onnx_data
  //     1,234,521,088 bytes; q8 315 MiB, q4 207 MiB on disk), not the hub's listing: UNVERIFIED, and
  //     so are SHA-256s (that project's are not pinned here: a wrong pin would refuse the real file).
  // transformers.js#1728: q4 / q8 of this model returned vectors at cosine ≈ 0 on WebGPU, silently;
  // the self-check (on by default for every dtype but fp32 on WebGPU) falls back to wasm then.
  'embeddinggemma-300m': {
    url: `${HF}/onnx-community/embeddinggemma-300m-ONNX/resolve/main/`,
    dtypes: {
      fp32: { sizeMB: 1235, externalData: ['onnx/model.onnx_data'] },
      q8: { sizeMB: 330, externalData: ['onnx/model_quantized.onnx_data'] },
      q4: { sizeMB: 217, externalData: ['onnx/model_q4.onnx_data'] },
    },
    // The smallest file both devices run (WebGPU natively, wasm with its 4-bit table rewritten),
    // and self-checked on WebGPU; fp32 is the one to ask for where quality comes first (a
    // third-party measurement: q4 at cosine 0.97 to fp32, q8 at 0.994, UNVERIFIED).
    defaultDtype: 'q4',
    pooling: 'graph',
    normalize: true,
    dimensions: 768,
    matryoshka: { min: 128 },
    maxTokens: 2048,
    paddingSide: 'right',
    prompts: { query: 'task: search result | query: ', document: 'title: none | text: ' },
  },

  // Xenova/multilingual-e5-small at 97cb8f96… (tree page of that commit): onnx/model.onnx 470 MB,
  // model_fp16.onnx 235 MB, model_quantized.onnx 118 MB, no external data (a BertModel export,
  // inputs input_ids, attention_mask, token_type_ids). SHA-256 from the blob pages at 97cb8f96:
  // fp16 0e0fe349…, q8 f80102d3… (ChatPanel/multilingual-e5-small, a byte-for-byte copy of the
  // repo at 761b726d, lists the same q8 hash). fp32's hash: UNVERIFIED.
  'multilingual-e5-small': {
    ...pinned('Xenova/multilingual-e5-small', '97cb8f96eaed1a1f0dac821239943e854fce9c36'),
    dtypes: {
      fp32: { sizeMB: 470, externalData: [] },
      fp16: { sizeMB: 235, externalData: [], sha256: { 'onnx/model_fp16.onnx': '0e0fe349c99ea21c6f3aa273af21f7fb753c1e1174ef1647032029c2be3251c3' } },
      q8: { sizeMB: 118, externalData: [], sha256: { 'onnx/model_quantized.onnx': 'f80102d3f2a1229f387d3c81909990d8945513e347b0eab049f7de3c6f98c193' } },
    },
    defaultDtype: 'fp16',
    pooling: 'mean',
    normalize: true,
    dimensions: 384,
    maxTokens: 512,
    paddingSide: 'right',
    prompts: E5_PROMPTS,
  },
  // Xenova/multilingual-e5-base, main (tree page: last onnx/ commit f80d24a; its full hash was not
  // found, so no revision and no SHA-256 pin): model.onnx 1.11 GB, model_fp16.onnx 555 MB,
  // model_quantized.onnx 279 MB, no external data. SHA-256s: UNVERIFIED.
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
  // Xenova/multilingual-e5-large, main (tree page: last onnx/ commit a450f1b, full hash not found):
  // model.onnx 546 kB + model.onnx_data 2.24 GB, model_fp16.onnx 1.12 GB (one file),
  // model_quantized.onnx 562 MB. The q8 file's blob page at 661f5147 (the only earlier onnx/
  // commit) shows SHA-256 0a8d65db9a36f810ba5da15249f13145fcdc7890e6656f1fd38cd8b7c4db1fca; not
  // pinned, since main is not pinned. Other hashes: UNVERIFIED.
  'multilingual-e5-large': {
    url: `${HF}/Xenova/multilingual-e5-large/resolve/main/`,
    dtypes: {
      fp32: { sizeMB: 2241, externalData: ['onnx/model.onnx_data'] },
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
  // intfloat/multilingual-e5-large-instruct at 1a50ec20… (tree page of that commit): onnx/model.onnx
  // 686 kB + onnx/model.onnx_data 2.24 GB, fp32 only (onnx/ also holds its own config and tokenizer;
  // the loader reads the root's, which carry modules.json and 1_Pooling). No Xenova/onnx-community
  // copy was found. SHA-256s: UNVERIFIED.
  'multilingual-e5-large-instruct': {
    ...pinned('intfloat/multilingual-e5-large-instruct', '1a50ec20f8e2fffa5fdc52d5c5c72e2911a66f7a'),
    dtypes: { fp32: { sizeMB: 2241, externalData: ['onnx/model.onnx_data'] } },
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
  // Xenova/bge-small-en-v1.5 at b7ad92a4… (tree page of that commit; onnx/ has two commits, 50d3402
  // and b7ad92a): model.onnx 133 MB, model_fp16.onnx 66.7 MB, model_quantized.onnx 34 MB. SHA-256
  // of model.onnx from its blob page (last changed in 50d3402): 828e1496…. fp16 and q8 hashes:
  // UNVERIFIED.
  'bge-small-en-v1.5': {
    ...pinned('Xenova/bge-small-en-v1.5', 'b7ad92a45a298ac620504489f28ecb6ac66ad67c'),
    dtypes: {
      fp32: { sizeMB: 133, externalData: [], sha256: { 'onnx/model.onnx': '828e1496d7fabb79cfa4dcd84fa38625c0d3d21da474a00f08db0f559940cf35' } },
      fp16: { sizeMB: 66.7, externalData: [] },
      q8: { sizeMB: 34, externalData: [] },
    },
    defaultDtype: 'fp32',
    pooling: 'cls',
    normalize: true,
    dimensions: 384,
    maxTokens: 512,
    paddingSide: 'right',
    // The model card's instruction for short retrieval queries; passages go in raw.
    prompts: { query: 'Represent this sentence for searching relevant passages: ' },
  },
  // Xenova/all-MiniLM-L6-v2 at cb3d6801… (tree page of that commit; onnx/ history d24513c, 08a308f,
  // da5f6ea, b93c588, cb3d680): model.onnx 90.4 MB, model_fp16.onnx 45.3 MB, model_quantized.onnx
  // 23 MB, model_int8.onnx 23 MB. SHA-256s:
  //   - model.onnx 759c3cd2… (90,387,606 bytes): blob page at da5f6ea (last change 08a308f) of
  //     Supabase/all-MiniLM-L6-v2, a duplicate sharing those commits, and the same LFS pointer in
  //     sentence-transformers/all-MiniLM-L6-v2's PR #23, which copied the file;
  //   - model_fp16.onnx 2cdb5e58…: blob page at cb3d680;
  //   - model_quantized.onnx afdb6f1a…: blob page (last change da5f6ea), and several projects that
  //     pin it at 751bff37 (the later head, whose onnx/ listing was not seen).
  //   model_int8.onnx's hash: UNVERIFIED.
  'all-minilm-l6-v2': {
    ...pinned('Xenova/all-MiniLM-L6-v2', 'cb3d680149bf9a3209564e1b27ab3bb355b65707'),
    dtypes: {
      fp32: { sizeMB: 90.4, externalData: [], sha256: { 'onnx/model.onnx': '759c3cd2b7fe7e93933ad23c4c9181b7396442a2ed746ec7c1d46192c469c46e' } },
      fp16: { sizeMB: 45.3, externalData: [], sha256: { 'onnx/model_fp16.onnx': '2cdb5e58291813b6d6e248ed69010100246821a367fa17b1b81ae9483744533d' } },
      q8: { sizeMB: 23, externalData: [], sha256: { 'onnx/model_quantized.onnx': 'afdb6f1a0e45b715d0bb9b11772f032c399babd23bfc31fed1c170afc848bdb1' } },
      int8: { sizeMB: 23, externalData: [] },
    },
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
  // onnx-community/Qwen3-Reranker-0.6B-ONNX, main: its card lists onnx/model_quantized.onnx (dynamic
  // int8, MatMul/Gemm only) and onnx/model_q4.onnx (MatMulNBits, block 32), "fp32 and fp16 variants
  // are not provided"; graph optimized at ORT level 2 (GroupQueryAttention fused). No tree page,
  // commit or hash was found: sizes are estimates (the fp32 embedding, 151,669 × 1024, stays
  // unquantized), UNVERIFIED. maxTokens 8192 as Qwen's example. (The loader right-pads GQA graphs
  // whatever paddingSide says: folder.ts graphPadding.)
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
  // Xenova/bge-reranker-base at b4ea4663… (tree page of that commit): onnx/model.onnx 1.11 GB and
  // model_quantized.onnx 279 MB. An fp16 file (556 MB) exists only in the repo's refs/pr/3, not
  // listed. SHA-256s: UNVERIFIED.
  'bge-reranker-base': {
    ...pinned('Xenova/bge-reranker-base', 'b4ea4663edc07ce975fadca89e44383333d7269f'),
    dtypes: { fp32: { sizeMB: 1110, externalData: [] }, q8: { sizeMB: 279, externalData: [] } },
    defaultDtype: 'q8',
    pooling: 'cls',
    normalize: false,
    dimensions: 768,
    maxTokens: 512,
    paddingSide: 'right',
    prompts: {},
    reranker: { kind: 'cross-encoder' },
  },
  // Xenova/ms-marco-MiniLM-L-6-v2 at fec3517f… (tree page of that commit): onnx/model.onnx 91 MB,
  // model_fp16.onnx 45.6 MB (not listed here before), model_quantized.onnx 23.1 MB. SHA-256s:
  // UNVERIFIED.
  'ms-marco-minilm-l-6-v2': {
    ...pinned('Xenova/ms-marco-MiniLM-L-6-v2', 'fec3517fe1016cfeee39338ef98ba76fc449dbcc'),
    dtypes: { fp32: { sizeMB: 91, externalData: [] }, fp16: { sizeMB: 45.6, externalData: [] }, q8: { sizeMB: 23.1, externalData: [] } },
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

// ---- Which of a preset's files a device gets (issue #18) ----------------------------------------

/** The device a dtype is chosen for: the backend, and on WebGPU whether the adapter has 'shader-f16'. */
export interface DtypeDevice {
  backend: 'webgpu' | 'wasm' | 'cpu';
  /** the adapter's 'shader-f16' feature (ignored on wasm) */
  shaderF16: boolean;
}

/** A preset's dtype for a device, and why: the engine shows the reason in `info`. */
export interface DtypeChoice {
  dtype: Dtype;
  reason: string;
}

/**
 * An fp32 file larger than this (MB) gives way to a smaller file the device runs natively: a
 * multi-GB download that must then sit in memory whole (wasm has 4 GB in all; WebGPU one buffer
 * per weight) is not a default anyone should get silently. 2000: above every small encoder's fp32
 * (e5-base and bge-reranker-base 1110 MB stay fp32), below Qwen3-Embedding-0.6B's 2383 MB and
 * multilingual-e5-large's 2241 MB.
 */
export const LARGE_FP32_MB = 2000;

const F16_DTYPES: readonly Dtype[] = ['fp16', 'q4f16'];
/** DynamicQuantizeLinear + MatMulInteger files: onnxruntime-web's WebGPU provider runs those on its CPU (src/runtime/webgpu-ops.ts). */
const DYNAMIC_INT8: readonly Dtype[] = ['q8', 'int8', 'uint8'];

/**
 * The dtypes a device runs, best first (`preferred`), and those it runs only when nothing else
 * exists (`lastResort`):
 *   - WebGPU with 'shader-f16': the float16 files first (half the bytes, native on the GPU), then
 *     fp32, the 4-bit files (MatMulNBits / MatMulBnb4 run on WebGPU), the dynamic int8 ones last
 *     (their integer matmuls fall back to the CPU);
 *   - WebGPU without it: the same less fp16 / q4f16, which it cannot run at all;
 *   - wasm: int8 first, as transformers.js defaults (the CPU's fastest kernels), then fp32 and the
 *     4-bit files; fp16 / q4f16 only as a last resort: onnxruntime's CPU provider has few float16
 *     kernels, so such a graph runs mostly through casts, slowly, if at all.
 * Matches the engine's dtypeOrderFor for the dtypes both list.
 */
export function dtypePreference(device: DtypeDevice): { preferred: Dtype[]; lastResort: Dtype[] } {
  if (device.backend !== 'webgpu') return { preferred: ['q8', 'int8', 'uint8', 'fp32', 'q4', 'bnb4'], lastResort: ['fp16', 'q4f16'] };
  if (device.shaderF16) return { preferred: ['fp16', 'q4f16', 'fp32', 'q4', 'bnb4', 'q8', 'int8', 'uint8'], lastResort: [] };
  return { preferred: ['fp32', 'q4', 'bnb4', 'q8', 'int8', 'uint8'], lastResort: [] };
}

/**
 * The dtype a preset runs in on a device when the caller names none, and the reason, for `info`.
 * The preset's default wins only where the device runs it natively; otherwise the first file of
 * the device's order (dtypePreference) the preset has. An fp32 file over LARGE_FP32_MB gives way
 * to the next file the device runs natively, and the reason says so. A pure function of its inputs.
 *
 * @example
 * chooseDtype(PRESETS['multilingual-e5-small'], { backend: 'wasm', shaderF16: false });
 * // { dtype: 'q8', reason: "q8 (118 MB) on wasm: fp16, the preset's default, is for WebGPU with 'shader-f16' …" }
 * chooseDtype(PRESETS['qwen3-embedding-0.6b'], { backend: 'webgpu', shaderF16: false });
 * // { dtype: 'q4', reason: "q4 (914 MB) on WebGPU without 'shader-f16': … fp32 is 2383 MB …" }
 */
export function chooseDtype(preset: ModelPreset, device: DtypeDevice): DtypeChoice {
  const { preferred, lastResort } = dtypePreference(device);
  const where = device.backend !== 'webgpu' ? device.backend : `WebGPU ${device.shaderF16 ? 'with' : 'without'} 'shader-f16'`;
  return pick(preset, preferred, lastResort, where, (d) => unsuitable(d, device));
}

/**
 * chooseDtype for a device known only by the engine's dtype order (LoadModelOptions.dtypeOrder,
 * best first, the dtypes it can run): fp16 / q4f16 count as native only when the order starts
 * with one of them (WebGPU with 'shader-f16'); anywhere else in an order they are a last resort.
 * The loader uses it when an engine passes its order rather than a chosen dtype.
 */
export function chooseDtypeInOrder(preset: ModelPreset, order: readonly Dtype[]): DtypeChoice {
  const f16Native = F16_DTYPES.includes(order[0]!);
  const lastResort = f16Native ? [] : order.filter((d) => F16_DTYPES.includes(d));
  const preferred = order.filter((d) => !lastResort.includes(d));
  return pick(preset, preferred, lastResort, 'this device', (d) =>
    lastResort.includes(d) ? "is a last resort in this device's order" : "is not in this device's order",
  );
}

/** Why a dtype is not the device's own choice. */
function unsuitable(dtype: Dtype, device: DtypeDevice): string {
  if (F16_DTYPES.includes(dtype)) {
    return device.backend !== 'webgpu'
      ? "is for WebGPU with 'shader-f16': onnxruntime's CPU provider has few float16 kernels, so on the CPU it would run slowly, if at all"
      : "needs the adapter's 'shader-f16' feature, which this adapter lacks";
  }
  return 'does not run on this device';
}

function pick(preset: ModelPreset, preferred: readonly Dtype[], lastResort: readonly Dtype[], where: string, whyNot: (d: Dtype) => string): DtypeChoice {
  const has = (d: Dtype) => preset.dtypes[d] !== undefined;
  const mb = (d: Dtype) => preset.dtypes[d]?.sizeMB ?? 0;
  const native = preferred.filter(has);
  const fallback = lastResort.filter(has);
  const def = preset.defaultDtype;
  const files = Object.keys(preset.dtypes).join(', ');
  if (!native.length && !fallback.length) {
    // Nothing fits: the preset's default, and the loader or the engine says why it cannot run.
    return { dtype: def, reason: `none of the folder's files (${files}) runs on ${where}; trying the preset's default ${def}` };
  }
  let dtype: Dtype;
  /** how the choice was made, in order; joined with '; ' */
  const why: string[] = [];
  if (native.includes(def)) {
    dtype = def;
    why.push("the preset's default");
  } else if (native.length) {
    dtype = native[0]!;
    why.push(`${def}, the preset's default, ${whyNot(def)}`, `${dtype} is the first of the folder's files (${files}) this device runs well`);
  } else {
    dtype = fallback[0]!;
    why.push(`the folder has only ${files}, and ${dtype} ${whyNot(dtype)}: taken as the last resort`);
  }
  if (dtype === 'fp32' && mb('fp32') > LARGE_FP32_MB) {
    const smaller = native.find((d) => d !== 'fp32' && mb(d) < mb('fp32'));
    if (smaller) {
      why.pop(); // not fp32 after all: what made fp32 the pick is replaced by why it is not
      why.push(`fp32${dtype === def ? ", the preset's default," : ''} is ${mb('fp32')} MB (over ${LARGE_FP32_MB}), so the smaller ${smaller}; pass dtype 'fp32' for full precision`);
      dtype = smaller;
    } else {
      why.push(`it is ${mb('fp32')} MB and the folder has no smaller file`);
    }
  }
  if (where.startsWith('WebGPU') && DYNAMIC_INT8.includes(dtype)) {
    why.push('its int8 matmuls (MatMulInteger) run on the CPU beside WebGPU (info.cpuNodes)');
  }
  return { dtype, reason: `${dtype} (${mb(dtype)} MB) on ${where}: ${why.join('; ')}` };
}
