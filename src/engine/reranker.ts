/**
 * The reranking pipeline (DESIGN.md): (query, document) pairs → tokens → length-sorted batches →
 * ORT (logits stay on the GPU) → the yes/no score kernel → 4 bytes per document read back →
 * input order. A yes/no reranker's graph is edited when it loads so that only the last position
 * and the "yes"/"no" rows of its LM head are computed (src/models/lm-head.ts); where an export's
 * head is beyond that edit, the full logits are computed and the kernel reads the two it needs.
 * Shares the worker, the ORT environment, its GPUDevice and the global run lock with the embedder.
 */
import { openWeightCache, type CacheOptions, type CacheStats } from '../cache/weight-cache.ts';
import { DisposedError, ModelLoadError } from '../errors.ts';
import { loadModel, type LoadProgress } from '../models/folder.ts';
import { HeadEditUnsupported, pruneLmHead } from '../models/lm-head.ts';
import { preparePairs, rerankerSpec, type PreparedPair, type RerankerKind, type RerankerOverrides, type RerankerSpec, type RerankTemplate } from '../models/rerank.ts';
import type { ModelOverrides } from '../models/spec.ts';
import type { Dtype, FetchFile, LoadedModel } from '../models/types.ts';
import { yesNoScores } from '../reference/yes-no-score.ts';
import type { AdapterReport } from '../runtime/adapter.ts';
import { chooseBackend, type Backend, type BackendChoice, type DeviceRequest } from '../runtime/backend.ts';
import { Mutex } from '../runtime/mutex.ts';
import { configureOrt, ort, type OrtSettings } from '../runtime/ort.ts';
import { nextTask } from '../runtime/next-task.ts';
import { createModelSession, type ModelSession } from '../runtime/session.ts';
import { modelLimits, planBatches, type BatchingInfo, type BatchLimits } from './batching.ts';
import { DeviceGuard, forgetWeights } from './device-guard.ts';
import type { CpuNode } from '../runtime/webgpu-ops.ts';
import { hiddenToF32 } from './embed-runtime.ts';
import { checkDtype, dtypeOrderFor } from './embedder.ts';
import { buildFeeds, padBatch, type PaddedBatch } from './feeds.ts';
import { checkBatchSize, checkRerankArgs } from './rank.ts';
import { GpuScoreHead } from './score-head.ts';
import { cpuNodesWarning, type LoadWarning } from './warnings.ts';

export type RerankProgress = LoadProgress | LoadWarning | { type: 'rerank'; done: number; total: number };

/**
 * How a yes/no reranker's LM head runs: 'auto' edits the graph down to the two rows at the last
 * position and falls back to the full logits when the export's head is beyond the edit;
 * 'pruned' insists (a ModelLoadError otherwise); 'full-logits' never edits (for comparisons).
 */
export type HeadMode = 'auto' | 'pruned' | 'full-logits';

export interface RerankerEngineOptions {
  /** a model folder URL (Hugging Face layout) or a preset id ('qwen3-reranker-0.6b', 'bge-reranker-base', ...) */
  model: string;
  preset?: string;
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
  /** most tokens per (query, document) pair, template included */
  maxTokens: number;
  paddingSide: 'left' | 'right';
  /** why paddingSide is not the template's left (a GroupQueryAttention graph is right-padded) */
  paddingReason?: string;
  /**
   * 'pruned': the graph computes the yes/no logits at the last position only; 'full-logits': the
   * export's head could not be edited (see headReason) and [B, T, vocab] logits are computed;
   * 'classifier': a cross-encoder's own [B, labels] head.
   */
  head: 'pruned' | 'full-logits' | 'classifier';
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
  const runtime = await buildRuntime(model, rs, choice.backend, head);
  const warning = cpuNodesWarning(runtime.session.cpuNodes);
  if (warning) opts.onProgress?.(warning);
  const { limits, batching } = modelLimits(model.spec.graph, opts.limits, rs.paddingSide);
  return new Reranker(model, rs, runtime, choice, limits, batching, head, load, loadStats);
}

/** One model on one device: its session, how its logits read, and the GPU head. Rebuilt after a device loss. */
interface Runtime {
  session: ModelSession;
  head: RerankerInfo['head'];
  headReason?: string;
  gpu?: GpuScoreHead;
}

async function buildRuntime(model: LoadedModel, rs: RerankerSpec, backend: Backend, mode: HeadMode): Promise<Runtime> {
  const url = model.spec.baseUrl + model.spec.onnxFile;
  let session: ModelSession | undefined;
  let head: Runtime['head'] = rs.kind === 'yes-no' ? 'full-logits' : 'classifier';
  let headReason: string | undefined;
  if (rs.kind === 'yes-no' && mode !== 'full-logits') {
    try {
      // Left-padded: every row's last real token is at T-1, so the head reads that position only;
      // right-padded: the head keeps every position (2 logits each) and the score kernel reads
      // each row's last real token by the mask.
      const positions = rs.paddingSide === 'left' ? 'last' : 'all';
      const edit = pruneLmHead(model.onnx, { rows: [rs.yes!.id, rs.no!.id], externalData: model.externalData, positions });
      session = await createModelSession({ ...model, onnx: edit.onnx }, backend);
      await probePruned(session, model);
      head = 'pruned';
    } catch (e) {
      await session?.release().catch(() => undefined);
      session = undefined;
      headReason = `the LM head could not be reduced to the yes/no rows (${e instanceof Error ? e.message : String(e)}); the full logits are computed`;
      if (mode === 'pruned') throw new ModelLoadError(`${url}: ${headReason}. Pass head: 'auto' to run with the full logits.`, url, { cause: e });
      if (!(e instanceof HeadEditUnsupported) && !(e instanceof ModelLoadError)) headReason += ' (the edited graph did not run)';
    }
  } else if (mode === 'full-logits' && rs.kind === 'yes-no') {
    headReason = "head: 'full-logits' was asked for";
  }
  session ??= await createModelSession(model, backend);
  try {
    if (!session.outputNames.includes('logits')) {
      throw new ModelLoadError(`the model has no 'logits' output (it has ${session.outputNames.join(', ')}); a reranker scores from its logits`, url);
    }
    return { session, head, ...(headReason ? { headReason } : {}), ...(session.gpuDevice ? { gpu: new GpuScoreHead(session.gpuDevice) } : {}) };
  } catch (e) {
    await session.release();
    throw e;
  }
}

/** One token through the edited graph: it must run and give [1, 1, 2], or the edit is not trusted. */
async function probePruned(session: ModelSession, model: LoadedModel): Promise<void> {
  const padded = padBatch({ ids: [[model.tokenizer.padId]], padId: model.tokenizer.padId, side: 'left' });
  const out = await session.run(tensorsOf(buildFeeds(session.inputs, padded, model.spec.config)));
  try {
    const dims = out['logits']?.dims;
    if (!dims || dims.join() !== '1,1,2') throw new HeadEditUnsupported(`the edited graph gave logits [${dims?.join(', ')}], not [1, 1, 2]`);
    if (out['logits']!.location === 'gpu-buffer') await out['logits']!.getData(); // the GPU really ran it
  } finally {
    for (const t of Object.values(out)) t.dispose();
  }
}

function tensorsOf(feeds: ReturnType<typeof buildFeeds>): Record<string, ort.Tensor> {
  return Object.fromEntries(Object.entries(feeds).map(([k, f]) => [k, new ort.Tensor(f.type, f.data, f.dims)]));
}

class Reranker implements RerankerEngine {
  private readonly lock = new Mutex();
  private disposed = false;
  private readonly device: DeviceGuard<Runtime>;
  lastOutputBytes = 0;
  readonly info: RerankerInfo;

  constructor(
    private readonly model: LoadedModel,
    private readonly rs: RerankerSpec,
    runtime: Runtime,
    choice: BackendChoice,
    private readonly limits: BatchLimits,
    batching: BatchingInfo,
    mode: HeadMode,
    reload: (signal?: AbortSignal) => Promise<LoadedModel>,
    cacheStats?: CacheStats,
  ) {
    const { spec } = model;
    this.info = {
      model: spec.id,
      kind: rs.kind,
      device: runtime.session.backend,
      deviceReason: choice.reason,
      adapter: choice.adapter,
      dtype: spec.dtype,
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
      ...(cacheStats ? { cache: cacheStats } : {}),
      ...(runtime.session.cpuNodes ? { cpuNodes: runtime.session.cpuNodes } : {}),
      batching,
    };
    // After a device loss the model is read again, edited again, and its session and head rebuilt.
    this.device = new DeviceGuard(runtime, reload, (fresh, old) => buildRuntime(fresh, rs, old.session.backend, old.head === 'pruned' ? 'pruned' : mode), () => this.disposed);
    forgetWeights(model);
  }

  private get runtime(): Runtime {
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
      o.onProgress?.({ type: 'rerank', done, total: documents.length });
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
    const { session, gpu } = await this.device.ready(signal);
    const { tokenizer, spec } = this.model;
    const padded = padBatch({
      ids: pairs.map((p) => p.ids),
      padId: tokenizer.padId,
      side: this.rs.paddingSide,
      ...(pairs[0]?.typeIds ? { typeIds: pairs.map((p) => p.typeIds!) } : {}),
    });
    let outputs: Record<string, ort.Tensor>;
    try {
      outputs = await session.run(tensorsOf(buildFeeds(session.inputs, padded, spec.config)), signal);
    } catch (e) {
      throw this.device.explain(e);
    }
    try {
      this.lastOutputBytes = Object.values(outputs).reduce((n, t) => n + outputBytes(t), 0);
      const logits = outputs['logits']!;
      const read = this.readShape(logits, padded);
      if (logits.type !== 'float32' && logits.type !== 'float16') throw new Error(`logits are ${logits.type}; expected float32 or float16`);
      if (gpu) {
        return await gpu
          .run({ logits: logits.gpuBuffer as GPUBuffer, logitsType: logits.type, ...read })
          .catch((e: unknown) => Promise.reject(this.device.explain(e)));
      }
      return yesNoScores(await hiddenToF32(logits), read.mask, read);
    } finally {
      for (const t of Object.values(outputs)) t.dispose();
    }
  }

  /** Where the score's logits lie in this output: [B, T, V] (full), [B, 1, 2] (pruned), [B, labels] (classifier). */
  private readShape(logits: ort.Tensor, p: PaddedBatch): { batch: number; tokens: number; vocab: number; mask: Float32Array; yes: number; no?: number } {
    const dims = logits.dims as number[];
    if (dims[0] !== p.batch || (dims.length !== 2 && dims.length !== 3)) throw new Error(`logits have dims [${dims}], expected [${p.batch}, T, V] or [${p.batch}, labels]`);
    const tokens = dims.length === 3 ? dims[1]! : 1;
    const vocab = dims.at(-1)!;
    if (tokens !== 1 && tokens !== p.tokens) throw new Error(`logits have ${tokens} positions for a batch of ${p.tokens}`);
    const mask = tokens === 1 ? new Float32Array(p.batch).fill(1) : p.maskF32;
    const { rs } = this;
    if (this.runtime.head === 'pruned') return { batch: p.batch, tokens, vocab, mask, yes: 0, no: 1 };
    if (rs.kind === 'yes-no') return { batch: p.batch, tokens, vocab, mask, yes: rs.yes!.id, no: rs.no!.id };
    if (vocab === 1) return { batch: p.batch, tokens, vocab, mask, yes: 0 };
    if (vocab === 2) return { batch: p.batch, tokens, vocab, mask, yes: rs.positiveLabel!, no: 1 - rs.positiveLabel! };
    throw new Error(`the classifier gives ${vocab} labels; a relevance cross-encoder gives 1 or 2`);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.lock.run(async () => undefined).catch(() => undefined);
    await this.device.release();
  }
}

function outputBytes(t: ort.Tensor): number {
  if (t.location === 'gpu-buffer') return (t.gpuBuffer as GPUBuffer).size;
  const count = t.dims.reduce((a, b) => a * b, 1);
  return count * (t.type === 'float16' ? 2 : t.type === 'int64' ? 8 : 4);
}

/** Once the session is built the ONNX bytes live in ORT: the JS copy goes. */
