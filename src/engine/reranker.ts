/**
 * The reranking pipeline (DESIGN.md): (query, document) pairs → tokens → length-sorted batches →
 * ORT (logits stay on the GPU) → the yes/no score kernel → 4 bytes per document read back →
 * input order. A yes/no reranker's graph is edited when it loads so that only the last position
 * and the "yes"/"no" rows of its LM head are computed (src/models/onnx/lm-head.ts); where an export's
 * head is beyond that edit, the full logits are computed and the kernel reads the two it needs.
 * Shares the worker, the ORT environment, its GPUDevice and the global run lock with the embedder;
 * the load, the batch loop and device-loss recovery are the engine core's (core.ts), this file the
 * reranker's head over it (with score-runtime.ts).
 */
import type { LoadProgress, ReadyProgress, RerankBatchProgress } from '../models/progress.ts';
import { preparePairs, rerankerSpec, type RerankerKind, type RerankerOverrides, type RerankerSpec, type RerankTemplate } from '../models/rerank.ts';
import type { ModelOverrides } from '../models/spec.ts';
import { chooseEngineBackend, EngineCore, openEngine, type EngineHead, type EngineInfo, type EngineLoadOptions, type OpenedEngine } from './core.ts';
import { checkBatchSize, checkRerankArgs } from './rank.ts';
import { buildScoreRuntime, runScoreBatch, type HeadKind, type HeadMode, type ScoreRuntime } from './score-runtime.ts';
import { rerankSelfCheckAtLoad, type RerankSelfCheckInfo } from './self-check.ts';
import type { LoadWarning } from './warnings.ts';

/**
 * What a reranker's onProgress receives: the load's file events, 'warning's and 'ready' as an
 * embedder's (EmbedProgress), then per rerank() batch a 'rerank' event. See src/models/progress.ts.
 */
export type RerankProgress = LoadProgress | LoadWarning | ReadyProgress | RerankBatchProgress;

export type { HeadMode } from './score-runtime.ts';

export interface RerankerEngineOptions extends EngineLoadOptions {
  /** the folder's facts overridden (maxTokens, ...) and the reranker's (kind, template, yesToken, ...) */
  overrides?: ModelOverrides & RerankerOverrides;
  onProgress?: (e: RerankProgress) => void;
  /** how a yes/no reranker's LM head runs: 'auto' (default), 'pruned' or 'full-logits' (score-runtime.ts) */
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

export interface RerankerInfo extends EngineInfo<RerankSelfCheckInfo> {
  kind: RerankerKind;
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

/** The reranker's part in a load: its spec, read from the model's files with the caller's overrides. */
type RerankHead = EngineHead<ScoreRuntime, RerankSelfCheckInfo> & { rs: RerankerSpec };

export async function createRerankerEngine(opts: RerankerEngineOptions): Promise<RerankerEngine> {
  const choice = await chooseEngineBackend(opts);
  const mode = opts.head ?? 'auto';
  if (mode !== 'auto' && mode !== 'pruned' && mode !== 'full-logits') throw new RangeError(`head must be 'auto', 'pruned' or 'full-logits', got ${JSON.stringify(mode)}`);
  const { kind, template, defaultInstruction, yesToken, noToken, positiveLabel, ...modelOverrides } = opts.overrides ?? {};
  const rerankOverrides: RerankerOverrides = { kind, template, defaultInstruction, yesToken, noToken, positiveLabel };
  for (const k of Object.keys(rerankOverrides) as (keyof RerankerOverrides)[]) if (rerankOverrides[k] === undefined) delete rerankOverrides[k];
  const opened = await openEngine<ScoreRuntime, RerankSelfCheckInfo, RerankHead>(opts, choice, modelOverrides, (model) => {
    const rs = rerankerSpec(model, rerankOverrides, opts.preset);
    return {
      rs,
      task: 'text-classification',
      paddingSide: rs.paddingSide,
      // After a device loss the model is read again and edited again; a head that was pruned must be pruned again.
      build: (m, backend, old) => buildScoreRuntime(m, rs, backend, old?.head === 'pruned' ? 'pruned' : mode),
      selfCheck: (m, runtime) => rerankSelfCheckAtLoad(m, rs, runtime, mode, opts.selfCheck, opts.signal),
    };
  });
  return new Reranker(opened);
}

/** The scoring head over the engine core: (query, document) pairs in, one score per document out. */
class Reranker extends EngineCore<ScoreRuntime> implements RerankerEngine {
  private readonly rs: RerankerSpec;
  lastOutputBytes = 0;
  readonly info: RerankerInfo;

  constructor(opened: OpenedEngine<ScoreRuntime, RerankSelfCheckInfo, RerankHead>) {
    super(opened, 'this reranker was disposed; create a new one with createReranker()');
    const rs = (this.rs = opened.head.rs);
    const { spec } = opened.model;
    const runtime = this.runtime;
    this.info = {
      ...opened.info,
      kind: rs.kind,
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
    };
  }

  async rerank(query: string, documents: readonly string[], o: RerankCallOptions = {}): Promise<RerankBatchResult> {
    this.checkOpen();
    checkRerankArgs(query, documents);
    if (o.instruction !== undefined && typeof o.instruction !== 'string') throw new TypeError('instruction must be a string');
    const batchSize = checkBatchSize(o.batchSize);
    o.signal?.throwIfAborted();
    if (documents.length === 0) return { scores: new Float32Array(0), truncated: [], tokens: [] };

    const pairs = preparePairs(this.model, this.rs, query, documents, { instruction: o.instruction });
    const limits = { ...this.limits, ...(batchSize ? { maxBatchSize: batchSize } : {}) };
    if (this.runtime.head === 'full-logits') limits.maxBatchTokens = Math.min(limits.maxBatchTokens, this.fullLogitsTokenBudget());
    const scores = await this.runBatches(
      pairs.map((p) => p.ids.length),
      1,
      async (rt, batch, ctx) => {
        const out = await runScoreBatch(rt, this.model, this.rs, batch.map((i) => pairs[i]!), ctx);
        this.lastOutputBytes = out.outputBytes;
        return out.scores;
      },
      { limits, signal: o.signal, onBatch: (e) => o.onProgress?.({ status: 'rerank', ...e }) },
    );
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
}
