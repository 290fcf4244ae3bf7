/**
 * The embedding pipeline (DESIGN.md): prompts → tokens → length-sorted batches → ORT (hidden
 * states stay on the GPU) → our pooling + Matryoshka kernels → [B, dims] read back → input order.
 * Runs wherever it is created: in the library's worker, in an app's own worker, or in Node. The
 * load, the batch loop and device-loss recovery are the engine core's (core.ts); this file is the
 * embedder's head over it (with embed-runtime.ts): its options, prompts and windows, and info.
 */
import type { EmbedBatchProgress, LoadProgress, ReadyProgress } from '../models/progress.ts';
import type { ModelOverrides } from '../models/spec.ts';
import { chunkText, prepareTexts } from '../models/prepare.ts';
import type { MatryoshkaInfo, ModelSpec, PreparedText, Task } from '../models/types.ts';
import type { BatchLimits } from './batching.ts';
import { chooseEngineBackend, EngineCore, openEngine, type EngineInfo, type EngineLoadOptions, type OpenedEngine } from './core.ts';
import { buildEmbedRuntime, runEmbedBatch, type EmbedRuntime } from './embed-runtime.ts';
import { selfCheckAtLoad, type SelfCheckInfo } from './self-check.ts';
import { StageClock, type CallTimings } from './stage-clock.ts';
import { embedPassages, type EmbeddedPassages, type PassageCallOptions } from './passages.ts';
import { checkDimensions, checkTexts } from './validate.ts';
import type { LoadWarning } from './warnings.ts';

/**
 * What an embedder's onProgress receives: the load's file events (transformers.js' 'initiate',
 * 'download', 'progress', 'progress_total', 'done', and our 'cache_hit', 'verify'), 'warning's,
 * 'ready'; then per embed() batch an 'embed' event. See src/models/progress.ts.
 */
export type EmbedProgress = LoadProgress | LoadWarning | ReadyProgress | EmbedBatchProgress;

export interface EmbedderEngineOptions extends EngineLoadOptions {
  /** what the model's own files say, overridden: pooling, normalize, prompts, maxTokens, matryoshka, ... */
  overrides?: ModelOverrides;
  onProgress?: (e: EmbedProgress) => void;
}

export interface EmbedCallOptions {
  task?: Task;
  instruction?: string;
  /** Matryoshka output size; the model's full width by default */
  dimensions?: number;
  signal?: AbortSignal;
  /** a text longer than the model's maximum: cut it (default, reported) or embed overlapping windows and average them */
  longText?: 'truncate' | 'chunk';
  /** tokens shared by neighbouring windows when longText is 'chunk' (default 32) */
  chunkOverlap?: number;
  onProgress?: (e: EmbedProgress) => void;
}

/** One call's vectors, row-major in one buffer (so it can be transferred, never copied). */
export interface EmbedBatchResult {
  data: Float32Array;
  dimensions: number;
  count: number;
  /** input indices of texts cut to the model's maximum (longText 'truncate') */
  truncated: number[];
  /** tokens per text as the model saw them (special tokens included) */
  tokens: number[];
}

export interface EmbedderInfo extends EngineInfo<SelfCheckInfo> {
  /** the full output width; embed() takes any `dimensions` from 1 to it */
  dimensions: number;
  /** whether the model was trained for Matryoshka truncation, and at which sizes (a preset or overrides.matryoshka says so): an app can warn below the full width otherwise */
  matryoshka: MatryoshkaInfo;
  pooling: ModelSpec['pooling'];
  normalize: boolean;
  maxTokens: number;
  paddingSide: ModelSpec['paddingSide'];
  /** why paddingSide differs from what the tokenizer says (a GroupQueryAttention graph is right-padded) */
  paddingReason?: string;
  prompts: ModelSpec['prompts'];
}

export interface EmbedderEngine {
  readonly info: EmbedderInfo;
  embed(texts: readonly string[], opts?: EmbedCallOptions): Promise<EmbedBatchResult>;
  /** tokens per text as embed() would see it (prompt and special tokens included, before any cut) */
  countTokens(texts: readonly string[], opts?: Pick<EmbedCallOptions, 'task' | 'instruction'>): number[];
  /** documents → passages of at most opts.passageTokens tokens and their vectors, each passage tokenized once (passages.ts) */
  embedPassages(texts: readonly string[], opts: PassageCallOptions): Promise<EmbeddedPassages>;
  dispose(): Promise<void>;
  /** GPU scratch buffers alive now (0 after dispose) */
  readonly liveGpuBuffers: number;
  /** bytes read back from the GPU by the last batch */
  readonly lastReadbackBytes: number;
  /** where the last embed() call's time went, by stage (stage-clock.ts) */
  readonly lastCall?: CallTimings | undefined;
  /** what embedder.stats() answers, in this thread or from the worker */
  stats(): { liveGpuBuffers: number; lastReadbackBytes: number; lastCall?: CallTimings };
}

export async function createEmbedderEngine(opts: EmbedderEngineOptions): Promise<EmbedderEngine> {
  const choice = await chooseEngineBackend(opts);
  const opened = await openEngine<EmbedRuntime, SelfCheckInfo>(opts, choice, opts.overrides, (model) => ({
    task: 'feature-extraction',
    paddingSide: model.spec.paddingSide,
    build: buildEmbedRuntime,
    selfCheck: (m, runtime) => selfCheckAtLoad(m, runtime, opts.selfCheck, opts.signal),
    // the pooling kernels bind a batch's hidden states [B, T, H] f32 whole
    rowBytes: 4 * Math.max(Number(model.spec.config.hidden_size) || 0, model.spec.dimensions, model.spec.latentAttention?.hiddenDim ?? 0),
  }));
  return new Embedder(opened);
}


/** The embedding head over the engine core: prompts and windows in, [count, dims] vectors out. */
class Embedder extends EngineCore<EmbedRuntime> implements EmbedderEngine {
  readonly info: EmbedderInfo;
  /** where the last embed() call's time went, by stage (stage-clock.ts); undefined before the first call */
  lastCall?: CallTimings;

  constructor(opened: OpenedEngine<EmbedRuntime, SelfCheckInfo>) {
    super(opened, 'this embedder was disposed; create a new one with createEmbedder()');
    const { spec } = opened.model;
    this.info = {
      ...opened.info,
      dimensions: spec.dimensions,
      matryoshka: spec.matryoshka,
      pooling: spec.pooling,
      normalize: spec.normalize,
      maxTokens: spec.maxTokens,
      paddingSide: spec.paddingSide,
      ...(spec.paddingReason ? { paddingReason: spec.paddingReason } : {}),
      prompts: spec.prompts,
    };
  }

  async embed(texts: readonly string[], o: EmbedCallOptions = {}): Promise<EmbedBatchResult> {
    this.checkOpen();
    checkTexts(texts);
    const { spec } = this.model;
    const dims = checkDimensions(o.dimensions, spec);
    if (o.longText !== undefined && o.longText !== 'truncate' && o.longText !== 'chunk') {
      throw new RangeError(`longText must be 'truncate' or 'chunk', got ${JSON.stringify(o.longText)}`);
    }
    o.signal?.throwIfAborted();
    if (texts.length === 0) return { data: new Float32Array(0), dimensions: dims, count: 0, truncated: [], tokens: [] };

    // Each text becomes one item, or several overlapping windows when chunking.
    const clock = new StageClock();
    const items: { owner: number; prep: PreparedText }[] = [];
    const prepared = clock.time('tokenize', () => prepareTexts(this.model, texts, { ...(o.task ? { task: o.task } : {}), ...(o.instruction !== undefined ? { instruction: o.instruction } : {}) }));
    prepared.forEach((prep, i) => {
      if (o.longText === 'chunk' && prep.truncated) {
        for (const w of chunkText(this.model, texts[i]!, { task: o.task, instruction: o.instruction, overlap: o.chunkOverlap ?? 32 })) items.push({ owner: i, prep: w });
      } else items.push({ owner: i, prep });
    });

    const rows = await this.runBatches(
      items.map((it) => it.prep.ids.length),
      dims,
      (rt, batch, ctx) => runEmbedBatch(rt, this.model, batch.map((i) => items[i]!.prep), dims, ctx),
      { signal: o.signal, onBatch: (e) => o.onProgress?.({ status: 'embed', ...e }), clock },
    );

    const data = items.length === texts.length ? rows : averageWindows(rows, items, texts.length, dims, spec.normalize);
    this.lastCall = clock.done();
    return {
      data,
      dimensions: dims,
      count: texts.length,
      truncated: prepared.flatMap((p, i) => (p.truncated && o.longText !== 'chunk' ? [i] : [])),
      tokens: prepared.map((p) => p.fullLength),
    };
  }

  stats() {
    return { liveGpuBuffers: this.liveGpuBuffers, lastReadbackBytes: this.lastReadbackBytes, ...(this.lastCall ? { lastCall: this.lastCall } : {}) };
  }

  countTokens(texts: readonly string[], o: Pick<EmbedCallOptions, 'task' | 'instruction'> = {}): number[] {
    this.checkOpen();
    const opts = { ...(o.task ? { task: o.task } : {}), ...(o.instruction !== undefined ? { instruction: o.instruction } : {}) };
    return prepareTexts(this.model, texts, opts).map((p) => p.fullLength);
  }

  embedPassages(texts: readonly string[], o: PassageCallOptions): Promise<EmbeddedPassages> {
    this.checkOpen();
    return embedPassages(
      {
        model: this.model,
        embed: (passages, dims, onBatch) =>
          this.runBatches(
            passages.map((p) => p.ids.length),
            dims,
            (rt, batch, ctx) => runEmbedBatch(rt, this.model, batch.map((i) => passages[i]!), dims, ctx),
            { signal: o.signal, onBatch: (e) => onBatch(e.done) },
          ),
      },
      texts,
      o,
    );
  }
}

/** Chunked texts: each text's vector is the mean of its windows' vectors, weighted by window length, re-normalized. */
function averageWindows(rows: Float32Array, items: { owner: number; prep: PreparedText }[], count: number, dims: number, normalize: boolean): Float32Array {
  const out = new Float32Array(count * dims);
  const weight = new Float64Array(count);
  const acc = new Float64Array(count * dims);
  items.forEach((it, i) => {
    const w = it.prep.ids.length;
    weight[it.owner]! += w;
    for (let d = 0; d < dims; d++) acc[it.owner * dims + d]! += w * rows[i * dims + d]!;
  });
  for (let t = 0; t < count; t++) {
    let norm = 0;
    for (let d = 0; d < dims; d++) norm += (acc[t * dims + d]! / weight[t]!) ** 2;
    const denom = normalize ? Math.max(Math.sqrt(norm), 1e-12) : 1;
    for (let d = 0; d < dims; d++) out[t * dims + d] = acc[t * dims + d]! / weight[t]! / denom;
  }
  return out;
}
