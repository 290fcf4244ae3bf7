/**
 * The engine core: what the embedder and the reranker do alike, each of them a head over it.
 *
 * A load (chooseEngineBackend, then openEngine): ORT configured, the backend chosen and the dtype
 * checked for it; the model read by one load closure through the weight cache (kept, to read it
 * again after a device loss); the head's runtime built, its CPU-node warning and its self-check;
 * the model's batch limits; 'ready'. A call (EngineCore.runBatches): the head's items (texts or
 * their windows; query-document pairs) cut into length-sorted batches (batching.ts), each batch
 * run under the engine's lock on the current runtime (rebuilt first after a device loss,
 * device-guard.ts), through ORT (session-run.ts) and the head, and the head's rows put back in
 * input order. dispose() waits for the batch in flight, then frees the head and the session.
 *
 * Why the cut is here: the two engines differed only in what they prepare (prompts and windows;
 * pairs in a template), what reads ORT's outputs (pooling + Matryoshka; the yes/no score) and what
 * their info says, while the load closure, the device-loss wiring, the lock, the batch loop and
 * disposal were written twice. Those are here once. A head is its runtime file (embed-runtime.ts,
 * score-runtime.ts: session, output reading, GPU and CPU heads) and its engine class (embedder.ts,
 * reranker.ts: options, preparation, info), which extends EngineCore; neither head imports the other.
 *
 * @example
 * const choice = await chooseEngineBackend(opts);
 * const opened = await openEngine(opts, choice, opts.overrides, (model) => ({ task: 'feature-extraction', paddingSide: model.spec.paddingSide, build, selfCheck }));
 * class Embedder extends EngineCore<EmbedRuntime> { embed(texts) { return this.runBatches(lengths, dims, (rt, batch, ctx) => runEmbedBatch(rt, this.model, batch.map(...), dims, ctx)); } }
 */
import type { CacheOptions, CacheStats } from '../cache/weight-cache.ts';
import { DisposedError, DtypeUnsupportedError } from '../errors.ts';
import { loadModel } from '../models/folder.ts';
import type { HubOptions } from '../io/hub.ts';
import type { FetchFile } from '../io/types.ts';
import { percent, type LoadProgress, type ReadyProgress } from '../models/progress.ts';
import { configHiddenSize, type ModelOverrides } from '../models/spec.ts';
import type { Dtype, LoadedModel, PaddingSide } from '../models/types.ts';
import type { AdapterReport } from '../runtime/adapter.ts';
import { chooseBackend, type Backend, type BackendChoice, type DeviceRequest } from '../runtime/backend.ts';
import { Mutex } from '../runtime/mutex.ts';
import { nextTask } from '../runtime/next-task.ts';
import { configureOrt, hintModel, wasmThreads, type OrtSettings } from '../runtime/ort.ts';
import { warmStart, type WarmStart } from '../runtime/warm-start.ts';
import type { CpuNode } from '../runtime/webgpu-ops.ts';
import { fitBindingLimit, modelLimits, planBatches, type BatchingInfo, type BatchLimits } from './batching.ts';
import { DeviceGuard, forgetWeights, type GuardedRuntime } from './device-guard.ts';
import { openWeightCache } from './model-cache.ts';
import { checkSelfCheckOption, type SelfCheckOption, type SelfCheckOutcome } from './self-check.ts';
import type { BatchContext } from './session-run.ts';
import { StageClock } from './stage-clock.ts';
import { cpuNodesWarning, type LoadWarning } from './warnings.ts';

/** The load options both engines take (EmbedderEngineOptions and RerankerEngineOptions add their own). */
export interface EngineLoadOptions {
  /** a model folder URL (Hugging Face layout), a hub id, or a preset id ('multilingual-e5-small', 'qwen3-reranker-0.6b', ...) */
  model: string;
  /** apply a preset's facts to a folder given by URL (a self-hosted copy of a known model) */
  preset?: string;
  /** a hub id's or preset id's revision (branch, tag or commit) */
  revision?: string;
  /** where hub ids' files come from, already resolved against the page by the client (src/io/hub.ts) */
  hub?: HubOptions;
  device?: DeviceRequest;
  dtype?: Dtype;
  /** how model files are read (the network by default; the weight cache plugs in here) */
  fetchFile?: FetchFile;
  /** the IndexedDB weight cache: on by default where IndexedDB exists, off in Node unless cache.dir names a folder; false turns it off (ignored with fetchFile) */
  cache?: false | CacheOptions;
  /** the load's events (each engine's options add its per-batch events) */
  onProgress?: (e: LoadProgress | LoadWarning | ReadyProgress) => void;
  /** batch size and padded-token budget per batch */
  limits?: Partial<BatchLimits>;
  ort?: OrtSettings;
  signal?: AbortSignal;
  /** compare the WebGPU result with the wasm path's at load; default 'fallback' for a reduced dtype on WebGPU (self-check.ts) */
  selfCheck?: SelfCheckOption;
}

/** Where a load's time went (`info.loadTimings`), in ms. */
export interface LoadTimings {
  filesMs: number;
  tokenizerMs: number;
  graphMs: number;
  sessionMs: number;
  selfCheckMs: number;
  totalMs: number;
}

/** What every engine's `info` says (EmbedderInfo and RerankerInfo add their head's facts). */
export interface EngineInfo<C> {
  model: string;
  device: Backend;
  /** why this device: requested, what 'auto' found, or the self-check's fallback */
  deviceReason: string;
  adapter: AdapterReport;
  dtype: Dtype;
  /** why this dtype: asked for, or the device's choice among the model's files (a preset's default gives way to what the device runs) */
  dtypeReason: string;
  /** where this load's files came from (the weight cache); absent when the cache is off */
  cache?: CacheStats;
  /** whether the WebGPU result was checked against the wasm path's at load, and what came of it */
  selfCheck: C;
  /** the most items per batch, and why when a model needs fewer than asked (dynamic int8: one) */
  batching: BatchingInfo;
  /** on WebGPU: the nodes ORT runs on the CPU for want of a WebGPU kernel (empty when none) */
  cpuNodes?: CpuNode[];
  /**
   * where the load's time went, in ms: reading the files (from the weight cache or the network,
   * checks included), building the tokenizer, reading the ONNX graph, creating onnxruntime's
   * session (its wasm starting, on the first load in a worker, and its graph optimizations), the
   * self-check; totalMs is the load in the engine once its device is chosen (a worker's start is what the caller's clock adds)
   */
  loadTimings: LoadTimings;
  /** on wasm: the threads onnxruntime-web runs on (0: its own default, in Node) */
  threads?: number;
  /** on wasm: why that many (a page that is not cross-origin isolated gets one, and the headers to add) */
  threadsReason?: string;
}

/** A head's runtime as the core sees it: the session and, on WebGPU, the GPU head with its scratch pool. */
export interface HeadRuntime extends GuardedRuntime {
  gpu?: { readonly device: GPUDevice; readonly liveBuffers: number; readonly lastReadbackBytes: number; destroy(): void };
}

/** A head's part in a load, made once the model is read (a reranker's spec comes from the model's files). */
export interface EngineHead<R extends HeadRuntime, C> {
  /** the 'ready' event's task, as transformers.js' pipeline() names it */
  task: ReadyProgress['task'];
  /** how the head's batches are padded (modelLimits holds a GroupQueryAttention graph to right padding) */
  paddingSide: PaddingSide;
  /** the runtime for a model on a backend: at load, and after a device loss (`old`: the runtime the loss took, released) */
  build(model: LoadedModel, backend: Backend, old?: R): Promise<R>;
  /** the load's self-check (self-check.ts), while the model's bytes are still here */
  selfCheck(model: LoadedModel, runtime: R): Promise<SelfCheckOutcome<R, C>>;
  /** bytes per padded token of what the head's kernels bind whole on the GPU (fitBindingLimit caps a batch's tokens by it) */
  rowBytes?: number;
}

/** A model loaded, its runtime built and checked: what an engine is constructed from. */
export interface OpenedEngine<R extends HeadRuntime, C, H extends EngineHead<R, C> = EngineHead<R, C>> {
  model: LoadedModel;
  runtime: R;
  head: H;
  limits: BatchLimits;
  info: EngineInfo<C>;
  /** reads the model again (from the weight cache or the network), after a device loss */
  reload: (signal?: AbortSignal) => Promise<LoadedModel>;
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

/** A load's first steps, before any download: ORT's settings, the self-check option, the backend, the dtype for it. */
export async function chooseEngineBackend(opts: EngineLoadOptions): Promise<BackendChoice> {
  configureOrt(opts.ort);
  checkSelfCheckOption(opts.selfCheck);
  const choice = await chooseBackend(opts.device ?? 'auto');
  checkDtype(opts.dtype, choice);
  return choice;
}

/**
 * The rest of a load: the model read (through the weight cache unless the caller reads the files),
 * the head made for it (`headFor`), its runtime built and self-checked, warnings sent, the batch
 * limits set, 'ready' sent. `overrides` are the model's facts as the caller overrides them.
 */
export async function openEngine<R extends HeadRuntime, C, H extends EngineHead<R, C> = EngineHead<R, C>>(
  opts: EngineLoadOptions,
  choice: BackendChoice,
  overrides: ModelOverrides | undefined,
  headFor: (model: LoadedModel) => H,
): Promise<OpenedEngine<R, C, H>> {
  const started = performance.now();
  // The same weight cache for both engines (src/cache): a warm load makes no request.
  const cache = opts.fetchFile ? undefined : openWeightCache(opts);
  const fetchFile = opts.fetchFile ?? cache?.fetchFile;
  const reload = (signal?: AbortSignal, onConfig?: (config: Record<string, unknown>) => void) => {
    const loading = loadModel(opts.model, {
      ...(onConfig ? { onConfig } : {}),
      ...overrides,
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
  const t0 = performance.now();
  // onnxruntime's wasm starts while the weights are read (warm-start.ts), once config.json says
  // how wide the model is (its threads depend on it, ort.ts threadsFor)
  let warm: WarmStart | undefined;
  const onConfig = (config: Record<string, unknown>) => {
    if (choice.backend !== 'wasm') return;
    hintModel(configHiddenSize(config));
    warm ??= warmStart(choice.backend);
  };
  let model: LoadedModel;
  try {
    model = await reload(opts.signal, onConfig);
  } catch (e) {
    await warm?.release();
    throw e;
  }
  const t1 = performance.now();
  const cacheStats = cache?.stats();
  const head = headFor(model);
  const onDevice = await head.build(model, choice.backend).finally(() => warm?.release());
  const t2 = performance.now();
  const cpuNodes = cpuNodesWarning(onDevice.session.cpuNodes);
  // While the model's bytes are still here: the WebGPU result against the wasm path's (self-check.ts).
  const checked = await head.selfCheck(model, onDevice);
  const t3 = performance.now();
  const { tokenizer: tokenizerMs = 0, graph: graphMs = 0 } = model.loadMs ?? {};
  const loadTimings: LoadTimings = { filesMs: t1 - t0 - tokenizerMs - graphMs, tokenizerMs, graphMs, sessionMs: t2 - t1, selfCheckMs: t3 - t2, totalMs: t3 - started };
  for (const w of [cpuNodes, checked.warning]) if (w) opts.onProgress?.({ ...w, name: opts.model });
  const { runtime } = checked;
  const modelFit = modelLimits(model.spec.graph, opts.limits, head.paddingSide);
  const { batching } = modelFit;
  const limits = fitBindingLimit(modelFit.limits, head.rowBytes, runtime.session.gpuDevice);
  const { spec } = model;
  const info: EngineInfo<C> = {
    model: spec.id,
    device: runtime.session.backend,
    deviceReason: checked.deviceReason ?? choice.reason,
    adapter: choice.adapter,
    dtype: spec.dtype,
    dtypeReason: spec.dtypeReason,
    selfCheck: checked.info,
    batching,
    loadTimings,
    ...(cacheStats ? { cache: cacheStats } : {}),
    ...(runtime.session.cpuNodes ? { cpuNodes: runtime.session.cpuNodes } : {}),
    ...(runtime.session.backend === 'wasm' ? await wasmThreads().then((t) => ({ threads: t.threads, threadsReason: t.reason })) : {}),
  };
  opts.onProgress?.({ status: 'ready', name: opts.model, model: opts.model, task: head.task });
  return { model, runtime, head, limits, info, reload };
}

/** What a head's batch progress event says besides its status ('embed', 'rerank'). */
export interface BatchDone {
  name: string;
  done: number;
  total: number;
  progress: number;
}

/**
 * The base of the embedder and the reranker: one model's runtime behind the device guard, the
 * lock its batches take turns on, the batch loop, the GPU head's stats, and disposal.
 */
export class EngineCore<R extends HeadRuntime> {
  private readonly lock = new Mutex();
  private disposed = false;
  private readonly guard: DeviceGuard<R>;
  protected readonly model: LoadedModel;
  protected readonly limits: BatchLimits;

  /** `disposedMessage`: what a call after dispose() throws, as a DisposedError */
  constructor(
    opened: OpenedEngine<R, unknown>,
    private readonly disposedMessage: string,
  ) {
    this.model = opened.model;
    this.limits = opened.limits;
    // After a device loss the model is read again and the head's runtime rebuilt on the same backend.
    this.guard = new DeviceGuard(opened.runtime, opened.reload, (fresh, old) => opened.head.build(fresh, old.session.backend, old), () => this.disposed);
    forgetWeights(opened.model);
  }

  /** the runtime batches run on now (a new one after a device loss) */
  protected get runtime(): R {
    return this.guard.current;
  }

  /** how many times the runtime was rebuilt after a device loss */
  get recoveries(): number {
    return this.guard.recoveries;
  }

  /** GPU scratch buffers of ours alive now (0 after dispose) */
  get liveGpuBuffers(): number {
    return this.runtime.gpu?.liveBuffers ?? 0;
  }

  /** bytes read back from the GPU by the last batch */
  get lastReadbackBytes(): number {
    return this.runtime.gpu?.lastReadbackBytes ?? 0;
  }

  /** A call after dispose() is a DisposedError. */
  protected checkOpen(): void {
    if (this.disposed) throw new DisposedError(this.disposedMessage);
  }

  /**
   * Items of these token lengths through the head, `width` floats each: planned into batches
   * (planBatches, within `limits`, the model's by default), each run by `run` on the current
   * runtime under the lock, the rows put back in input order; `onBatch` after each batch.
   */
  protected async runBatches(
    lengths: readonly number[],
    width: number,
    run: (rt: R, batch: number[], ctx: BatchContext) => Promise<Float32Array>,
    o: { limits?: BatchLimits; signal?: AbortSignal | undefined; onBatch?: (e: BatchDone) => void; clock?: StageClock } = {},
  ): Promise<Float32Array> {
    const { signal } = o;
    const clock = o.clock ?? new StageClock();
    const rows = new Float32Array(lengths.length * width);
    let done = 0;
    for (const batch of clock.time('plan', () => planBatches(lengths, o.limits ?? this.limits))) {
      // The running call stops at the next batch boundary; queued calls leave the queue at once.
      if (signal && done > 0) await clock.time('wait', nextTask);
      const asked = performance.now();
      const out = await this.lock.run(async () => {
        clock.add('wait', performance.now() - asked);
        signal?.throwIfAborted();
        const runtime = await this.guard.ready(signal);
        return run(runtime, batch, { signal, explain: (e) => this.guard.explain(e), clock });
      }, signal);
      clock.time('gather', () => batch.forEach((item, r) => rows.set(out.subarray(r * width, (r + 1) * width), item * width)));
      clock.batch();
      done += batch.length;
      o.onBatch?.({ name: this.model.spec.id, done, total: lengths.length, progress: percent(done, lengths.length) });
    }
    return rows;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    // Let the batch in flight finish with its buffers before they go.
    await this.lock.run(async () => undefined).catch(() => undefined);
    await this.guard.release();
  }
}
