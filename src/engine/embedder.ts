/**
 * The embedding pipeline (DESIGN.md): prompts → tokens → length-sorted batches → ORT (hidden
 * states stay on the GPU) → our pooling + Matryoshka kernels → [B, dims] read back → input order.
 * Runs wherever it is created: in the library's worker, in an app's own worker, or in Node.
 */
import type { CacheOptions, CacheStats } from '../cache/weight-cache.ts';
import { DisposedError, DtypeUnsupportedError } from '../errors.ts';
import { loadModel } from '../models/folder.ts';
import type { HubOptions } from '../io/hub.ts';
import type { FetchFile } from '../io/types.ts';
import { percent, type EmbedBatchProgress, type LoadProgress, type ReadyProgress } from '../models/progress.ts';
import type { ModelOverrides } from '../models/spec.ts';
import { chunkText, prepareTexts } from '../models/prepare.ts';
import type { Dtype, LoadedModel, MatryoshkaInfo, ModelSpec, PreparedText, Task } from '../models/types.ts';
import type { AdapterReport } from '../runtime/adapter.ts';
import { chooseBackend, type Backend, type BackendChoice, type DeviceRequest } from '../runtime/backend.ts';
import { Mutex } from '../runtime/mutex.ts';
import { configureOrt, type OrtSettings } from '../runtime/ort.ts';
import { nextTask } from '../runtime/next-task.ts';
import type { CpuNode } from '../runtime/webgpu-ops.ts';
import { modelLimits, planBatches, type BatchingInfo, type BatchLimits } from './batching.ts';
import { DeviceGuard, forgetWeights } from './device-guard.ts';
import { buildEmbedRuntime, runEmbedBatch, type EmbedRuntime } from './embed-runtime.ts';
import { openWeightCache } from './model-cache.ts';
import { checkSelfCheckOption, selfCheckAtLoad, type SelfCheckInfo, type SelfCheckOption } from './self-check.ts';
import { checkDimensions, checkTexts } from './validate.ts';
import { cpuNodesWarning, type LoadWarning } from './warnings.ts';

/**
 * What an embedder's onProgress receives: the load's file events (transformers.js' 'initiate',
 * 'download', 'progress', 'progress_total', 'done', and our 'cache_hit', 'verify'), 'warning's,
 * 'ready'; then per embed() batch an 'embed' event. See src/models/progress.ts.
 */
export type EmbedProgress = LoadProgress | LoadWarning | ReadyProgress | EmbedBatchProgress;

export interface EmbedderEngineOptions {
  /** a model folder URL (Hugging Face layout) or a preset id */
  model: string;
  /** apply a preset's facts to a folder given by URL (a self-hosted copy of a known model) */
  preset?: string;
  /** a hub id's or preset id's revision (branch, tag or commit) */
  revision?: string;
  /** where hub ids' files come from, already resolved against the page by the client (src/io/hub.ts) */
  hub?: HubOptions;
  /** what the model's own files say, overridden: pooling, normalize, prompts, maxTokens, matryoshka, ... */
  overrides?: ModelOverrides;
  device?: DeviceRequest;
  dtype?: Dtype;
  /** how model files are read (the network by default; the weight cache plugs in here) */
  fetchFile?: FetchFile;
  /** the IndexedDB weight cache: on by default where IndexedDB exists, off in Node; false turns it off (ignored with fetchFile) */
  cache?: false | CacheOptions;
  onProgress?: (e: EmbedProgress) => void;
  /** batch size and padded-token budget per batch */
  limits?: Partial<BatchLimits>;
  ort?: OrtSettings;
  signal?: AbortSignal;
  /** compare the WebGPU result with the wasm path's at load; default 'fallback' for a reduced dtype on WebGPU (self-check.ts) */
  selfCheck?: SelfCheckOption;
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

export interface EmbedderInfo {
  model: string;
  device: Backend;
  /** why this device: requested, or what 'auto' found */
  deviceReason: string;
  adapter: AdapterReport;
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
  dtype: Dtype;
  /** why this dtype: asked for, or the device's choice among the model's files (a preset's default gives way to what the device runs) */
  dtypeReason: string;
  prompts: ModelSpec['prompts'];
  /** where this load's files came from (the weight cache); absent when the cache is off */
  cache?: CacheStats;
  /** whether the WebGPU result was checked against the wasm path's at load, and what came of it */
  selfCheck: SelfCheckInfo;
  /** the most texts per batch, and why when a model needs fewer than asked (dynamic int8: one) */
  batching: BatchingInfo;
  /** on WebGPU: the nodes ORT runs on the CPU for want of a WebGPU kernel (empty when none) */
  cpuNodes?: CpuNode[];
}

export interface EmbedderEngine {
  readonly info: EmbedderInfo;
  embed(texts: readonly string[], opts?: EmbedCallOptions): Promise<EmbedBatchResult>;
  /** tokens per text as embed() would see it (prompt and special tokens included, before any cut) */
  countTokens(texts: readonly string[], opts?: Pick<EmbedCallOptions, 'task' | 'instruction'>): number[];
  dispose(): Promise<void>;
  /** GPU scratch buffers alive now (0 after dispose) */
  readonly liveGpuBuffers: number;
  /** bytes read back from the GPU by the last batch */
  readonly lastReadbackBytes: number;
}

export async function createEmbedderEngine(opts: EmbedderEngineOptions): Promise<EmbedderEngine> {
  configureOrt(opts.ort);
  checkSelfCheckOption(opts.selfCheck);
  const choice = await chooseBackend(opts.device ?? 'auto');
  checkDtype(opts.dtype, choice);
  const cache = opts.fetchFile ? undefined : openWeightCache(opts);
  const fetchFile = opts.fetchFile ?? cache?.fetchFile;
  const load = (signal?: AbortSignal) => {
    const loading = loadModel(opts.model, {
      ...opts.overrides,
      ...(opts.preset ? { preset: opts.preset } : {}),
      ...(opts.revision ? { revision: opts.revision } : {}),
      ...(opts.hub ? { hub: opts.hub } : {}),
      ...(opts.dtype ? { dtype: opts.dtype } : { dtypeOrder: dtypeOrderFor(choice) }),
      ...(fetchFile ? { fetchFile } : {}),
      ...(signal ? { signal } : {}),
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    });
    return cache ? cache.guard(loading) : loading;
  };
  const model = await load(opts.signal);
  const loadStats = cache?.stats();
  const onDevice = await buildEmbedRuntime(model, choice.backend);
  const cpuNodes = cpuNodesWarning(onDevice.session.cpuNodes);
  // While the model's bytes are still here: the WebGPU result against the wasm path's (self-check.ts).
  const checked = await selfCheckAtLoad(model, onDevice, opts.selfCheck, opts.signal);
  for (const w of [cpuNodes, checked.warning]) if (w) opts.onProgress?.({ ...w, name: opts.model });
  const device = { ...choice, reason: checked.deviceReason ?? choice.reason };
  const { limits, batching } = modelLimits(model.spec.graph, opts.limits, model.spec.paddingSide);
  const embedder = new Embedder(model, checked.runtime, device, limits, load, { selfCheck: checked.info, batching, ...(loadStats ? { cache: loadStats } : {}) });
  opts.onProgress?.({ status: 'ready', name: opts.model, model: opts.model, task: 'feature-extraction' });
  return embedder;
}

/**
 * The ONNX files to prefer when the caller names no dtype. WebGPU runs fp16 files only with the
 * adapter's 'shader-f16'; the wasm path runs int8 (q8) fastest, as transformers.js defaults.
 */
export function dtypeOrderFor(choice: BackendChoice): Dtype[] {
  if (choice.backend !== 'webgpu') return ['q8', 'fp32', 'q4', 'fp16', 'q4f16']; // wasm, and onnxruntime-node's CPU alike
  if (choice.adapter.features?.includes('shader-f16')) return ['fp16', 'q4f16', 'fp32', 'q4', 'q8'];
  return ['fp32', 'q4', 'q8'];
}

/** fp16 files run on WebGPU only with 'shader-f16': say so before downloading, not as a shader error mid-run. */
export function checkDtype(dtype: Dtype | undefined, choice: BackendChoice): void {
  if (choice.backend !== 'webgpu' || (dtype !== 'fp16' && dtype !== 'q4f16' && dtype !== 'q2f16')) return;
  if (choice.adapter.features?.includes('shader-f16')) return;
  throw new DtypeUnsupportedError(
    `dtype '${dtype}' runs on WebGPU only with the adapter's 'shader-f16' feature, which this adapter lacks: ` +
      `use dtype '${dtype === 'fp16' ? 'fp32' : dtype === 'q2f16' ? 'q2' : 'q4'}', leave dtype out (webgpu-embed picks one that runs), or use device 'wasm'.`,
  );
}

/**
 * A batch's hidden states [B, T, H] f32 are bound whole by the pooling kernels: the padded-token
 * budget is capped so they fit the device's binding limit (ORT's device keeps WebGPU's default
 * 128 MiB unless the adapter's larger limit was requested).
 */
function fitLimits(limits: BatchLimits, spec: ModelSpec, device: GPUDevice | undefined): BatchLimits {
  if (!device) return limits;
  const width = Math.max(Number(spec.config.hidden_size) || 0, spec.dimensions, spec.latentAttention?.hiddenDim ?? 0);
  const fit = Math.floor(device.limits.maxStorageBufferBindingSize / (width * 4));
  return { ...limits, maxBatchTokens: Math.max(1, Math.min(limits.maxBatchTokens, fit)) };
}

class Embedder implements EmbedderEngine {
  private readonly lock = new Mutex();
  private disposed = false;
  private readonly device: DeviceGuard<EmbedRuntime>;

  readonly info: EmbedderInfo;

  constructor(
    private readonly model: LoadedModel,
    runtime: EmbedRuntime,
    choice: BackendChoice,
    private readonly limits: BatchLimits,
    reload: (signal?: AbortSignal) => Promise<LoadedModel>,
    loadInfo: Pick<EmbedderInfo, 'selfCheck' | 'cache' | 'batching'>,
  ) {
    const { spec } = model;
    this.info = {
      model: spec.id,
      device: runtime.session.backend,
      deviceReason: choice.reason,
      adapter: choice.adapter,
      dimensions: spec.dimensions,
      matryoshka: spec.matryoshka,
      pooling: spec.pooling,
      normalize: spec.normalize,
      maxTokens: spec.maxTokens,
      paddingSide: spec.paddingSide,
      ...(spec.paddingReason ? { paddingReason: spec.paddingReason } : {}),
      dtype: spec.dtype,
      dtypeReason: spec.dtypeReason,
      prompts: spec.prompts,
      ...loadInfo,
      ...(runtime.session.cpuNodes ? { cpuNodes: runtime.session.cpuNodes } : {}),
    };
    // After a device loss the model is read again and its session and head rebuilt on the same backend.
    this.device = new DeviceGuard(runtime, reload, (fresh, old) => buildEmbedRuntime(fresh, old.session.backend), () => this.disposed);
    forgetWeights(model);
  }

  private get runtime(): EmbedRuntime {
    return this.device.current;
  }

  get recoveries(): number {
    return this.device.recoveries;
  }

  get liveGpuBuffers(): number {
    return this.runtime.gpu?.liveBuffers ?? 0;
  }

  get lastReadbackBytes(): number {
    return this.runtime.gpu?.lastReadbackBytes ?? 0;
  }

  async embed(texts: readonly string[], o: EmbedCallOptions = {}): Promise<EmbedBatchResult> {
    if (this.disposed) throw new DisposedError('this embedder was disposed; create a new one with createEmbedder()');
    checkTexts(texts);
    const { spec } = this.model;
    const dims = checkDimensions(o.dimensions, spec);
    if (o.longText !== undefined && o.longText !== 'truncate' && o.longText !== 'chunk') {
      throw new RangeError(`longText must be 'truncate' or 'chunk', got ${JSON.stringify(o.longText)}`);
    }
    o.signal?.throwIfAborted();
    if (texts.length === 0) return { data: new Float32Array(0), dimensions: dims, count: 0, truncated: [], tokens: [] };

    // Each text becomes one item, or several overlapping windows when chunking.
    const items: { owner: number; prep: PreparedText }[] = [];
    const prepared = prepareTexts(this.model, texts, { ...(o.task ? { task: o.task } : {}), ...(o.instruction !== undefined ? { instruction: o.instruction } : {}) });
    prepared.forEach((prep, i) => {
      if (o.longText === 'chunk' && prep.truncated) {
        for (const w of chunkText(this.model, texts[i]!, { task: o.task, instruction: o.instruction, overlap: o.chunkOverlap ?? 32 })) items.push({ owner: i, prep: w });
      } else items.push({ owner: i, prep });
    });

    const rows = new Float32Array(items.length * dims);
    const batches = planBatches(items.map((it) => it.prep.ids.length), this.limits);
    let done = 0;
    for (const batch of batches) {
      // The running call stops at the next batch boundary; queued calls leave the queue at once.
      if (o.signal && done > 0) await nextTask();
      const out = await this.lock.run(() => this.runBatch(batch.map((i) => items[i]!.prep), dims, o.signal), o.signal);
      batch.forEach((item, r) => rows.set(out.subarray(r * dims, (r + 1) * dims), item * dims));
      done += batch.length;
      o.onProgress?.({ status: 'embed', name: spec.id, done, total: items.length, progress: percent(done, items.length) });
    }

    const data = items.length === texts.length ? rows : averageWindows(rows, items, texts.length, dims, spec.normalize);
    return {
      data,
      dimensions: dims,
      count: texts.length,
      truncated: prepared.flatMap((p, i) => (p.truncated && o.longText !== 'chunk' ? [i] : [])),
      tokens: prepared.map((p) => p.fullLength),
    };
  }

  countTokens(texts: readonly string[], o: Pick<EmbedCallOptions, 'task' | 'instruction'> = {}): number[] {
    if (this.disposed) throw new DisposedError('this embedder was disposed; create a new one with createEmbedder()');
    const opts = { ...(o.task ? { task: o.task } : {}), ...(o.instruction !== undefined ? { instruction: o.instruction } : {}) };
    return prepareTexts(this.model, texts, opts).map((p) => p.fullLength);
  }

  private async runBatch(texts: PreparedText[], dims: number, signal?: AbortSignal): Promise<Float32Array> {
    signal?.throwIfAborted();
    const runtime = await this.device.ready(signal);
    return runEmbedBatch(runtime, this.model, texts, dims, { signal, explain: (e) => this.device.explain(e) });
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    // Let the batch in flight finish with its buffers before they go.
    await this.lock.run(async () => undefined).catch(() => undefined);
    await this.device.release();
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

/**
 * Once the session and head are built, the ONNX bytes and the head's weights live in ORT and on
 * the GPU: the JS copies go, so the page holds about one copy of the model, not two.
 */
