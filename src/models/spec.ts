/**
 * Decides a model's facts (pooling, prompts, sizes, padding) from its folder's JSON files, a
 * preset and the caller's overrides. Precedence: overrides > the folder's own files > preset >
 * a default from the architecture; maxTokens is the smallest limit any source states.
 * Pure: no fetching here (src/models/folder.ts fetches).
 */
import { ModelLoadError } from '../errors.ts';
import type { OnnxValueInfo } from './onnx/onnx-graph.ts';
import type { ModelPreset } from './presets.ts';
import { promptsFromSentenceTransformers } from './prompts.ts';
import type { MatryoshkaInfo, ModelSpec, PaddingSide, Pooling, PoolingName, Task } from './types.ts';

/** The JSON files of a folder that decide its facts; optional ones are undefined when absent. */
export interface FolderFiles {
  config: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
  /** modules.json */
  modules?: unknown;
  /** 1_Pooling/config.json (or the Pooling module's path from modules.json) */
  pooling?: Record<string, unknown>;
  /** config_sentence_transformers.json */
  sentenceTransformers?: Record<string, unknown>;
  /** sentence_bert_config.json */
  sentenceBert?: Record<string, unknown>;
  /** latent_attention.safetensors was found (and config.json has latent_attention_config) */
  hasLatentAttention: boolean;
  /**
   * The ONNX file's graph outputs, once it is read (before that, undefined): an output named
   * POOLED_OUTPUT means the graph pools by itself, and its static width is the model's width.
   */
  graph?: { file: string; outputs: OnnxValueInfo[] };
}

/**
 * The output of a graph that pools by itself: sentence-transformers' name for the pipeline's
 * vector (optimum's sentence-transformers export, onnx-community/embeddinggemma-300m-ONNX).
 */
export const POOLED_OUTPUT = 'sentence_embedding';

/** What a caller may set over the folder and the preset. */
export interface ModelOverrides {
  /** 'mean' | 'cls' | 'last-token' | 'latent-attention', or the ecosystem's spellings ('last_token', 'first_token', 'eos', 'latent_attention', ...) */
  pooling?: PoolingName;
  normalize?: boolean;
  /** per task; merged over the folder's and the preset's prompts */
  prompts?: Partial<Record<Task, string>>;
  defaultInstruction?: string;
  /** at most the model's position embeddings */
  maxTokens?: number;
  paddingSide?: PaddingSide;
  /**
   * The model was trained for Matryoshka truncation: every size from `min` up to the full width,
   * or the listed `sizes`. Reported in `info.matryoshka`; `dimensions` takes any size from 1 to the
   * full width on any model, this only says which sizes keep the model's quality.
   */
  matryoshka?: { min: number } | { sizes: number[] };
}

export type SpecFacts = Pick<
  ModelSpec,
  'pooling' | 'normalize' | 'dimensions' | 'matryoshka' | 'maxTokens' | 'paddingSide' | 'prompts' | 'defaultInstruction' | 'maskInstruction'
>;

/**
 * Pooling names as the ecosystem writes them → ours: transformers.js' feature-extraction pipeline
 * ('cls' / 'first_token', 'last_token' / 'eos', 'mean'), sentence-transformers' pooling modes
 * ('lasttoken'), and snake_case for NV-Embed's head. `info.pooling` keeps our spelling.
 */
export const POOLING_ALIASES: Readonly<Record<PoolingName, Pooling>> = {
  mean: 'mean',
  cls: 'cls',
  first_token: 'cls',
  'last-token': 'last-token',
  last_token: 'last-token',
  lasttoken: 'last-token',
  eos: 'last-token',
  'latent-attention': 'latent-attention',
  latent_attention: 'latent-attention',
  graph: 'graph',
};

/** Pooling modes other libraries compute and this one does not, with what they are. */
const POOLING_NOT_HERE: Record<string, string> = {
  none: "transformers.js' token vectors, unpooled",
  max: "sentence-transformers' max over tokens",
  weightedmean: "sentence-transformers' position-weighted mean",
  mean_sqrt_len_tokens: "sentence-transformers' sum over √length",
};

/**
 * Our name for a pooling name (undefined stays undefined); an unknown name is a RangeError listing
 * the names, one we know but do not compute says so.
 *
 * @example canonicalPooling('last_token'); // 'last-token'
 */
export function canonicalPooling(name: unknown, option = 'overrides.pooling'): Pooling | undefined {
  if (name === undefined) return undefined;
  if (typeof name !== 'string') throw new TypeError(`${option} must be a string such as 'mean', got ${name === null ? 'null' : `a ${typeof name}`}.`);
  if (Object.hasOwn(POOLING_ALIASES, name)) return POOLING_ALIASES[name as PoolingName];
  const names = Object.keys(POOLING_ALIASES).map((k) => `'${k}'`).join(', ');
  if (Object.hasOwn(POOLING_NOT_HERE, name)) throw new RangeError(`${option} '${name}' (${POOLING_NOT_HERE[name]}) is not computed by this library: pass one of ${names}.`);
  throw new RangeError(`${option} must be one of ${names}, got ${JSON.stringify(name)}.`);
}

/** Integer-valued tokenizer_config model_max_length above this is transformers' "no limit" sentinel (int(1e30)). */
const NO_LIMIT = 1e9;

/**
 * @example
 * resolveSpecFacts({ config, tokenizerConfig, pooling: poolingJson, hasLatentAttention: false }, undefined, {}, url);
 * // { pooling: 'mean', normalize: true, dimensions: 384, maxTokens: 512, paddingSide: 'right', ... }
 */
export function resolveSpecFacts(files: FolderFiles, preset: ModelPreset | undefined, overrides: ModelOverrides, baseUrl: string): SpecFacts {
  const { config } = files;
  const latent = asRecord(config.latent_attention_config);

  // A graph that outputs the pooled vector wins over the folder's Pooling module: pooling its token
  // states again would skip whatever the graph does after pooling (EmbeddingGemma's Dense layers).
  const pooled = files.graph?.outputs.find((o) => o.name === POOLED_OUTPUT);
  const pooling =
    canonicalPooling(overrides.pooling) ??
    (pooled ? 'graph' : undefined) ??
    (files.hasLatentAttention ? 'latent-attention' : undefined) ??
    poolingFromFile(files.pooling, baseUrl) ??
    preset?.pooling ??
    defaultPooling(config);
  const graphWidth = pooling === 'graph' && files.graph ? pooledWidth(files.graph, pooled, baseUrl) : undefined;

  const dimensions =
    graphWidth ??
    (pooling === 'graph' ? preset?.dimensions : undefined) ??
    (pooling === 'latent-attention' ? num(latent?.latent_dim) : undefined) ??
    configHiddenSize(config) ??
    num(files.pooling?.word_embedding_dimension) ??
    preset?.dimensions;
  if (dimensions === undefined) {
    throw new ModelLoadError(`${baseUrl}config.json states no hidden_size: cannot tell the model's output width. Add hidden_size to config.json.`, `${baseUrl}config.json`);
  }

  const hasNormalizeModule = Array.isArray(files.modules) && files.modules.some((m) => /\.Normalize$/.test(String(asRecord(m)?.type ?? '')));
  // A folder with no sentence-transformers files says nothing: retrieval compares by cosine, so unit vectors.
  const saysNothing = files.modules === undefined && preset === undefined && latent === undefined;
  const normalize = overrides.normalize ?? (hasNormalizeModule || preset?.normalize === true || latent?.output_normalize === true || saysNothing);

  const positions = positionLimit(config);
  const limits = [
    num(files.sentenceBert?.max_seq_length),
    tokenizerLimit(files.tokenizerConfig.model_max_length),
    positions,
    preset?.maxTokens,
  ].filter((n): n is number => n !== undefined && n > 0);
  let maxTokens = limits.length ? Math.min(...limits) : 512;
  if (overrides.maxTokens !== undefined) {
    if (!Number.isInteger(overrides.maxTokens) || overrides.maxTokens < 2) throw new RangeError(`maxTokens must be an integer ≥ 2, got ${overrides.maxTokens}.`);
    if (positions !== undefined && overrides.maxTokens > positions) {
      throw new RangeError(`maxTokens ${overrides.maxTokens} is more than this model's ${positions} positions: pass at most ${positions}.`);
    }
    maxTokens = overrides.maxTokens;
  }

  const paddingSide =
    overrides.paddingSide ??
    side(files.tokenizerConfig.padding_side) ??
    side(config.padding_side) ??
    preset?.paddingSide ??
    (pooling === 'last-token' ? 'left' : 'right');

  const matryoshka = matryoshkaInfo(overrides.matryoshka, preset?.matryoshka, dimensions);
  const fromFolder = promptsFromSentenceTransformers(files.sentenceTransformers?.prompts);
  const prompts = { ...preset?.prompts, ...fromFolder.prompts, ...overrides.prompts };
  const defaultInstruction = overrides.defaultInstruction ?? fromFolder.defaultInstruction ?? preset?.defaultInstruction;

  return {
    pooling,
    normalize,
    dimensions,
    matryoshka,
    maxTokens,
    paddingSide,
    prompts,
    ...(defaultInstruction === undefined ? {} : { defaultInstruction }),
    maskInstruction: config.is_mask_instruction === true,
  };
}

/**
 * The width of the graph's pooled output [batch, width] when the graph states it (undefined when it
 * is symbolic: the engine then checks the width it gets); an error when there is no such output.
 */
function pooledWidth(graph: NonNullable<FolderFiles['graph']>, pooled: OnnxValueInfo | undefined, baseUrl: string): number | undefined {
  const url = baseUrl + graph.file;
  if (!pooled) {
    throw new ModelLoadError(
      `pooling 'graph' needs a graph that outputs ${POOLED_OUTPUT}, and ${url} outputs ${graph.outputs.map((o) => o.name).join(', ') || 'nothing'}: ` +
        `pass { pooling: 'mean' | 'cls' | 'last-token' } to pool its token states, or load an export with ${POOLED_OUTPUT}.`,
      url,
    );
  }
  if (pooled.dims && pooled.dims.length !== 2) {
    throw new ModelLoadError(`${url}'s ${POOLED_OUTPUT} has ${pooled.dims.length} dimensions [${pooled.dims.join(', ')}]; a pooled output is [batch, width].`, url);
  }
  const width = pooled.dims?.[1];
  return typeof width === 'number' && width > 0 ? width : undefined;
}

/**
 * Whether the model was trained for Matryoshka truncation, and at which sizes: overrides first,
 * then the preset. A size list keeps the full width (always a trained size); sizes must be
 * integers from 1 to the full width.
 */
function matryoshkaInfo(override: ModelOverrides['matryoshka'], fromPreset: { min: number } | undefined, full: number): MatryoshkaInfo {
  const given = override ?? fromPreset;
  if (!given) return { trained: false };
  const source = override ? 'overrides' : 'preset';
  if (typeof given !== 'object' || given === null) throw new TypeError(`overrides.matryoshka must be { min } or { sizes }, got ${JSON.stringify(given)}.`);
  if ('sizes' in given) {
    const { sizes } = given;
    if (!Array.isArray(sizes) || sizes.length === 0 || !sizes.every((d) => Number.isInteger(d) && d >= 1 && d <= full)) {
      throw new RangeError(`overrides.matryoshka.sizes must be a non-empty array of integers from 1 to the model's ${full} dimensions, got ${JSON.stringify(sizes)}.`);
    }
    return { trained: true, sizes: [...new Set([...sizes, full])].sort((a, b) => a - b), source };
  }
  if (!(Number.isInteger(given.min) && given.min >= 1)) throw new RangeError(`matryoshka.min must be a positive integer, got ${given.min}`);
  return { trained: true, sizes: { min: Math.min(given.min, full), max: full }, source };
}

/** The pooling sentence-transformers' Pooling module config asks for; a mode we lack is an error. */
function poolingFromFile(file: Record<string, unknown> | undefined, baseUrl: string): Pooling | undefined {
  if (!file) return undefined;
  const modes: [string, Pooling | undefined][] = [
    ['pooling_mode_cls_token', 'cls'],
    ['pooling_mode_mean_tokens', 'mean'],
    ['pooling_mode_lasttoken', 'last-token'],
    ['pooling_mode_max_tokens', undefined],
    ['pooling_mode_mean_sqrt_len_tokens', undefined],
    ['pooling_mode_weightedmean_tokens', undefined],
  ];
  const on = modes.filter(([key]) => file[key] === true);
  if (on.length === 0) return undefined;
  const [, pooling] = on[0]!;
  if (on.length > 1 || pooling === undefined) {
    throw new ModelLoadError(
      `${baseUrl}1_Pooling/config.json asks for ${on.map(([k]) => k).join(' + ')}, which this library does not compute: pass { pooling: 'mean' | 'cls' | 'last-token' } to choose one.`,
      `${baseUrl}1_Pooling/config.json`,
    );
  }
  return pooling;
}

/** Decoder-only (causal LM) embedders pool their last token; encoders the mean. */
function defaultPooling(config: Record<string, unknown>): Pooling {
  const archs = Array.isArray(config.architectures) ? config.architectures.map(String) : [];
  const causal = archs.some((a) => /ForCausalLM$/.test(a)) || /^(qwen2|qwen3|llama|mistral|gemma\d?|phi3?)$/.test(String(config.model_type ?? ''));
  return causal ? 'last-token' : 'mean';
}

/** The most positions the model's embeddings have (RoBERTa-style models offset theirs by 2). */
function positionLimit(config: Record<string, unknown>): number | undefined {
  const n = num(config.max_position_embeddings) ?? num(asRecord(config.text_config)?.max_position_embeddings);
  if (n === undefined) return undefined;
  return /^(roberta|xlm-roberta|camembert)$/.test(String(config.model_type ?? '')) ? n - 2 : n;
}

function tokenizerLimit(value: unknown): number | undefined {
  const n = num(value);
  return n !== undefined && n < NO_LIMIT ? n : undefined;
}

function side(value: unknown): PaddingSide | undefined {
  return value === 'left' || value === 'right' ? value : undefined;
}

/** The model's hidden size as config.json states it (a multimodal config in its text_config). */
export function configHiddenSize(config: Record<string, unknown>): number | undefined {
  return num(config.hidden_size) ?? num(asRecord(config.text_config)?.hidden_size);
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
