/**
 * The reranking pipeline (DESIGN.md): (query, document) pairs → tokens → length-sorted batches →
 * ORT (logits stay on the GPU) → the yes/no score kernel → 4 bytes per document read back →
 * input order. A yes/no reranker's graph is edited when it loads so that only the last position
 * and the "yes"/"no" rows of its LM head are computed (src/models/onnx/lm-head.ts); where an export's
 * head is beyond that edit, the full logits are computed and the kernel reads the two it needs.
 * Shares the worker, the ORT environment, its GPUDevice and the global run lock with the embedder.
 */
import type { CacheOptions, CacheStats } from '../cache/weight-cache.ts';
import { DisposedError } from '../errors.ts';
import { loadModel } from '../models/folder.ts';
import type { HubOptions } from '../io/hub.ts';
import type { FetchFile } from '../io/types.ts';
import { percent, type LoadProgress, type ReadyProgress, type RerankBatchProgress } from '../models/progress.ts';
import { preparePairs, rerankerSpec, type PreparedPair, type RerankerKind, type RerankerOverrides, type RerankerSpec, type RerankTemplate } from '../models/rerank.ts';
import type { ModelOverrides } from '../models/spec.ts';
import type { Dtype, LoadedModel } from '../models/types.ts';
import type { AdapterReport } from '../runtime/adapter.ts';
import { chooseBackend, type Backend, type BackendChoice, type DeviceRequest } from '../runtime/backend.ts';
import { Mutex } from '../runtime/mutex.ts';
import { configureOrt, type OrtSettings } from '../runtime/ort.ts';
import { nextTask } from '../runtime/next-task.ts';
import { modelLimits, planBatches, type BatchingInfo, type BatchLimits } from './batching.ts';
import { DeviceGuard, forgetWeights } from './device-guard.ts';
import type { CpuNode } from '../runtime/webgpu-ops.ts';
import { checkDtype, dtypeOrderFor } from './embedder.ts';
import { openWeightCache } from './model-cache.ts';
import { checkBatchSize, checkRerankArgs } from './rank.ts';
import { buildScoreRuntime, runScoreBatch, type HeadKind, type HeadMode, type ScoreRuntime } from './score-runtime.ts';
import { checkSelfCheckOption, rerankSelfCheckAtLoad, type RerankSelfCheckInfo, type SelfCheckOption } from './self-check.ts';
import { cpuNodesWarning, type LoadWarning } from './warnings.ts';

/**
 * What a reranker's onProgress receives: the load's file events, 'warning's and 'ready' as an
 * embedder's (EmbedProgress), then per rerank() batch a 'rerank' event. See src/models/progress.ts.
 */
export type RerankProgress = LoadProgress | LoadWarning | ReadyProgress | RerankBatchProgress;

export type { HeadMode } from './score-runtime.ts';

export interface RerankerEngineOptions {
  /** a model folder URL (Hugging Face layout) or a preset id ('qwen3-reranker-0.6b', 'bge-reranker-base', ...) */
  model: string;
  preset?: string;
  /** a hub id's or preset id's revision (branch, tag or commit) */
  revision?: string;
  /** where hub ids' files come from, already resolved against the page by the client (src/io/hub.ts) */
  hub?: HubOptions;
  /** the folder's facts overridden (maxTokens, ...) and the reranker's (kind, template, yesToken, ...) */
  overrides?: ModelOverrides & RerankerOverrides;
  device?: DeviceRequest;
  dtype?: Dtype;
  fetchFile?: FetchFile;
  /** the IndexedDB weight cache: on by default where IndexedDB exists, off in Node; false turns it off (ignored with fetchFile) */
  cache?: false | CacheOptions;
  onProgress?: (e: RerankProgress) => void;
  limits?: Partial<BatchLimits>;
  ort?: OrtSettings;
  signal?: AbortSignal;
  head?: HeadMode;
  /** compare the WebGPU score of a probe pair with the wasm path's at load (self-check.ts); default as the embedder's */
  selfCheck?: SelfCheckOption;
}

export interface RerankCallOptions {
  /** yes/no rerankers: the task description (default: the model's, "Given a web search query, …") */
  instruction?: string;
  /** documents per batch, at most (default: the reranker's limit, 32) */
  batchSize?: number;
  signal?: AbortSignal;
  onProgress?: (e: RerankProgress) => void;
}

/** One call's scores in input order, in one buffer (transferred, never copied). */
export interface RerankBatchResult {
  scores: Float32Array;
  /** input indices of documents cut to fit the model's maximum */
  truncated: number[];
  /** tokens per pair as the model would take it uncut (template and special tokens included) */
  tokens: number[];
}

export interface RerankerInfo {
  model: string;
  kind: RerankerKind;
  device: Backend;
  deviceReason: string;
  adapter: AdapterReport;
  dtype: Dtype;
  /** why this dtype: asked for, or the device's choice among the model's files */
  dtypeReason: string;
  /** most tokens per (query, document) pair, template included */
  maxTokens: number;
  paddingSide: 'left' | 'right';
  /** why paddingSide is not the template's left (a GroupQueryAttention graph is right-padded) */
  paddingReason?: string;
  /**
   * 'pruned': the graph computes the yes/no logits only (at the last position; at every position,
   * 2 a token, when right-padded); 'full-logits': the export's head could not be edited (see
   * headReason) and [B, T, vocab] logits are computed; 'classifier': a cross-encoder's own [B, labels] head.
   */
  head: HeadKind;
  headReason?: string;
  /** 'softmax(yes, no)' (yes/no), 'sigmoid' (one logit) or 'softmax' (two labels, the positive one's probability) */
  scoring: 'softmax(yes, no)' | 'sigmoid' | 'softmax';
  yesId?: number;
  noId?: number;
  positiveLabel?: number;
  defaultInstruction?: string;
  template?: RerankTemplate;
  /** where this load's files came from (the weight cache); absent when the cache is off */
  cache?: CacheStats;
  /** on WebGPU: the nodes ORT runs on the CPU for want of a WebGPU kernel (empty when none) */
  cpuNodes?: CpuNode[];
  /** the most pairs per batch, and why when a model needs fewer than asked (dynamic int8: one) */
  batching: BatchingInfo;
  /** what the load's self-check did (WebGPU against wasm on a probe pair) */
  selfCheck: RerankSelfCheckInfo;
}

export interface RerankerEngine {
  readonly info: RerankerInfo;
  rerank(query: string, documents: readonly string[], opts?: RerankCallOptions): Promise<RerankBatchResult>;
  dispose(): Promise<void>;
  /** GPU scratch buffers of ours alive now (0 after dispose) */
  readonly liveGpuBuffers: number;
  /** bytes read back from the GPU by the last batch: 4 per document */
  readonly lastReadbackBytes: number;
  /** bytes of ORT's output tensors in the last batch (GPU buffers on WebGPU): the logits and anything else the graph outputs */
  readonly lastOutputBytes: number;
}

/** Full [B, T, vocab] logits per batch are capped at this many bytes (the pruned head needs no cap). */
const FULL_LOGITS_BYTES = 256 * 2 ** 20;

export async function createRerankerEngine(opts: RerankerEngineOptions): Promise<RerankerEngine> {
  configureOrt(opts.ort);
  checkSelfCheckOption(opts.selfCheck);
  const choice = await chooseBackend(opts.device ?? 'auto');
  checkDtype(opts.dtype, choice);
  const head = opts.head ?? 'auto';
  if (head !== 'auto' && head !== 'pruned' && head !== 'full-logits') throw new RangeError(`head must be 'auto', 'pruned' or 'full-logits', got ${JSON.stringify(head)}`);
  const { kind, template, defaultInstruction, yesToken, noToken, positiveLabel, ...modelOverrides } = opts.overrides ?? {};
  const rerankOverrides: RerankerOverrides = { kind, template, defaultInstruction, yesToken, noToken, positiveLabel };
  for (const k of Object.keys(rerankOverrides) as (keyof RerankerOverrides)[]) if (rerankOverrides[k] === undefined) delete rerankOverrides[k];
  // The same weight cache as the embedder's (src/cache): a warm load makes no request.
  const cache = opts.fetchFile ? undefined : openWeightCache(opts);
  const fetchFile = opts.fetchFile ?? cache?.fetchFile;
  const load = (signal?: AbortSignal) => {
    const loading = loadModel(opts.model, {
      ...modelOverrides,
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
  const rs = rerankerSpec(model, rerankOverrides, opts.preset);
  const onDevice = await buildScoreRuntime(model, rs, choice.backend, head);
  const cpuNodes = cpuNodesWarning(onDevice.session.cpuNodes);
  // While the model's bytes are still here: the WebGPU score of a probe pair against the wasm path's (self-check.ts).
  const checked = await rerankSelfCheckAtLoad(model, rs, onDevice, head, opts.selfCheck, opts.signal);
  for (const w of [cpuNodes, checked.warning]) if (w) opts.onProgress?.({ ...w, name: opts.model });
  const device = { ...choice, reason: checked.deviceReason ?? choice.reason };
  const { limits, batching } = modelLimits(model.spec.graph, opts.limits, rs.paddingSide);
  const reranker = new Reranker(model, rs, checked.runtime, device, limits, batching, head, load, { selfCheck: checked.info, ...(loadStats ? { cache: loadStats } : {}) });
  opts.onProgress?.({ status: 'ready', name: opts.model, model: opts.model, task: 'text-classification' });
  return reranker;
}

class Reranker implements RerankerEngine {
  private readonly lock = new Mutex();
  private disposed = false;
  private readonly device: DeviceGuard<ScoreRuntime>;
  lastOutputBytes = 0;
  readonly info: RerankerInfo;

  constructor(
    private readonly model: LoadedModel,
    private readonly rs: RerankerSpec,
    runtime: ScoreRuntime,
    choice: BackendChoice,
    private readonly limits: BatchLimits,
    batching: BatchingInfo,
    mode: HeadMode,
    reload: (signal?: AbortSignal) => Promise<LoadedModel>,
    loadInfo: Pick<RerankerInfo, 'selfCheck' | 'cache'>,
  ) {
    const { spec } = model;
    this.info = {
      model: spec.id,
      kind: rs.kind,
      device: runtime.session.backend,
      deviceReason: choice.reason,
      adapter: choice.adapter,
      dtype: spec.dtype,
      dtypeReason: spec.dtypeReason,
      maxTokens: rs.maxTokens,
      paddingSide: rs.paddingSide,
      ...(rs.paddingSide !== 'left' && rs.kind === 'yes-no' && spec.paddingReason ? { paddingReason: spec.paddingReason } : {}),
      head: runtime.head,
      ...(runtime.headReason ? { headReason: runtime.headReason } : {}),
      scoring: rs.kind === 'yes-no' ? 'softmax(yes, no)' : rs.labels === 2 ? 'softmax' : 'sigmoid',
      ...(rs.yes ? { yesId: rs.yes.id, noId: rs.no!.id } : {}),
      ...(rs.kind === 'cross-encoder' && rs.labels === 2 ? { positiveLabel: rs.positiveLabel! } : {}),
      ...(rs.defaultInstruction !== undefined ? { defaultInstruction: rs.defaultInstruction } : {}),
      ...(rs.template ? { template: rs.template } : {}),
      ...loadInfo,
      ...(runtime.session.cpuNodes ? { cpuNodes: runtime.session.cpuNodes } : {}),
      batching,
    };
    // After a device loss the model is read again, edited again, and its session and head rebuilt.
    this.device = new DeviceGuard(runtime, reload, (fresh, old) => buildScoreRuntime(fresh, rs, old.session.backend, old.head === 'pruned' ? 'pruned' : mode), () => this.disposed);
    forgetWeights(model);
  }

  private get runtime(): ScoreRuntime {
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

  async rerank(query: string, documents: readonly string[], o: RerankCallOptions = {}): Promise<RerankBatchResult> {
    if (this.disposed) throw new DisposedError('this reranker was disposed; create a new one with createReranker()');
    checkRerankArgs(query, documents);
    if (o.instruction !== undefined && typeof o.instruction !== 'string') throw new TypeError('instruction must be a string');
    const batchSize = checkBatchSize(o.batchSize);
    o.signal?.throwIfAborted();
    if (documents.length === 0) return { scores: new Float32Array(0), truncated: [], tokens: [] };

    const pairs = preparePairs(this.model, this.rs, query, documents, { instruction: o.instruction });
    const scores = new Float32Array(documents.length);
    const limits = { ...this.limits, ...(batchSize ? { maxBatchSize: batchSize } : {}) };
    if (this.runtime.head === 'full-logits') limits.maxBatchTokens = Math.min(limits.maxBatchTokens, this.fullLogitsTokenBudget());
    const batches = planBatches(pairs.map((p) => p.ids.length), limits);
    let done = 0;
    for (const batch of batches) {
      // The running call stops at the next batch boundary; queued calls leave the queue at once.
      if (o.signal && done > 0) await nextTask();
      const out = await this.lock.run(() => this.runBatch(batch.map((i) => pairs[i]!), o.signal), o.signal);
      batch.forEach((item, r) => (scores[item] = out[r]!));
      done += batch.length;
      o.onProgress?.({ status: 'rerank', name: this.model.spec.id, done, total: documents.length, progress: percent(done, documents.length) });
    }
    return {
      scores,
      truncated: pairs.flatMap((p, i) => (p.truncated ? [i] : [])),
      tokens: pairs.map((p) => p.fullLength),
    };
  }

  /** Tokens per batch whose full logits fit FULL_LOGITS_BYTES (and the device's binding limit). */
  private fullLogitsTokenBudget(): number {
    const vocab = Number(this.model.spec.config.vocab_size) || 151669;
    const binding = this.runtime.gpu?.device.limits.maxStorageBufferBindingSize ?? Infinity;
    return Math.max(1, Math.floor(Math.min(FULL_LOGITS_BYTES, binding) / (vocab * 4)));
  }

  private async runBatch(pairs: PreparedPair[], signal?: AbortSignal): Promise<Float32Array> {
    signal?.throwIfAborted();
    const runtime = await this.device.ready(signal);
    const { scores, outputBytes } = await runScoreBatch(runtime, this.model, this.rs, pairs, { signal, explain: (e) => this.device.explain(e) });
    this.lastOutputBytes = outputBytes;
    return scores;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.lock.run(async () => undefined).catch(() => undefined);
    await this.device.release();
  }
}
