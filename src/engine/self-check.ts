/**
 * The self-check: before a model on WebGPU takes its first input, a probe (for an embedder a
 * sentence with the document prompt, for a reranker a query and a document in its template) runs
 * through the WebGPU session and our GPU head, and through a wasm session of the same ONNX bytes
 * with the CPU head of src/reference; the two results must agree. transformers.js#1728: q4/q8
 * EmbeddingGemma on WebGPU returned vectors at cosine ≈ 0 to the right ones, silently; and
 * onnxruntime-web 1.30's WebGPU GroupQueryAttention, measured here (Chromium, SwiftShader), is
 * right for a first pass of up to 17 tokens and wrong from 33 (a GQA Qwen3 reranker's fp32 score
 * 0.68 for PyTorch's 0.18), so the probe is longer than 32 tokens. It runs at load, while the
 * model's bytes are still in memory (the engine drops them once the session holds them), and the
 * wasm session is released after it unless it takes over ('fallback').
 *
 * Embedders: cosine ≥ 0.99. Both paths run the same weights, so a quantized file's own error is on
 * both sides; what remains is float arithmetic (f16 accumulation on the GPU, int8 activations in
 * ORT's CPU matmuls), which keeps a correct model's vectors above ~0.999 (1 − 2e-7 measured on
 * SwiftShader fp32), while broken kernels give ≈ 0 or noise. 0.99 leaves an order of magnitude of
 * margin in 1 − cosine on either side.
 * Rerankers: |score difference| ≤ 0.02 on the probe pair (a probability; fp32 paths agree to
 * ~1e-6, the broken GroupQueryAttention was 0.5 off).
 */
import { SelfCheckError } from '../errors.ts';
import { prepareTexts } from '../models/prepare.ts';
import type { BatchSensitivity } from '../models/onnx/batch-sensitivity.ts';
import type { Dtype, LoadedModel } from '../models/types.ts';
import { cosineSimilarity } from '../reference/cosine.ts';
import type { Backend } from '../runtime/backend.ts';
import { preparePairs, type RerankerSpec } from '../models/rerank.ts';
import { releaseRuntime } from './device-guard.ts';
import { buildEmbedRuntime, runEmbedBatch, type EmbedRuntime } from './embed-runtime.ts';
import { buildScoreRuntime, runScoreBatch, type HeadMode, type ScoreRuntime } from './score-runtime.ts';
import type { WarningBody } from './warnings.ts';

/**
 * What to do when the WebGPU result disagrees with the wasm path's: run on wasm instead
 * ('fallback'), throw a SelfCheckError ('error'), or keep WebGPU and warn ('warn'); false: no check.
 *
 * @example
 * await createEmbedder({ model, dtype: 'fp32', device: 'webgpu', selfCheck: 'warn' }); // checks fp32 too
 */
export type SelfCheckOption = 'fallback' | 'error' | 'warn' | false;

/**
 * What the self-check did, in `info.selfCheck`.
 *
 * @example
 * if (embedder.info.selfCheck.ran && !embedder.info.selfCheck.passed) console.warn(embedder.info.deviceReason);
 */
export type SelfCheckInfo =
  | {
      ran: true;
      /** between the WebGPU path's vector for the probe text and the wasm path's */
      cosine: number;
      threshold: number;
      passed: boolean;
      /** 'none' (passed), 'fallback' (the embedder runs on wasm), 'warn' (kept WebGPU) */
      action: 'none' | 'fallback' | 'warn';
      /** what the check added to the load */
      ms: number;
    }
  | { ran: false; reason: string };

export const SELF_CHECK_THRESHOLD = 0.99;

/**
 * The probe: plain words every family's tokenizer covers, and more than 32 tokens in all of them
 * (BERT's WordPiece, XLM-R's unigram, Qwen3's BPE: 41–46), since a kernel measured wrong only past
 * 32 tokens would pass a shorter one.
 */
export const PROBE_TEXT =
  'The quick brown fox jumps over the lazy dog by the river, while a small boat drifts past the old stone bridge ' +
  'and the children on the bank count the ducks, the clouds and the trains that pass.';

export function checkSelfCheckOption(value: unknown): asserts value is SelfCheckOption | undefined {
  if (value === undefined || value === false || value === 'fallback' || value === 'error' || value === 'warn') return;
  throw new RangeError(`selfCheck must be 'fallback', 'error', 'warn' or false, not ${JSON.stringify(value)}`);
}

/**
 * The action to check with, or why the check does not run: on by default for reduced dtypes on
 * WebGPU, and for any dtype when the graph has GroupQueryAttention (its WebGPU kernel was
 * measured wrong past 32 tokens, see above).
 */
export function selfCheckPlan(
  option: SelfCheckOption | undefined,
  backend: Backend,
  dtype: Dtype,
  graph?: Pick<BatchSensitivity, 'groupQueryAttention'>,
): { mode: Exclude<SelfCheckOption, false> } | { skip: string } {
  if (option === false) return { skip: 'selfCheck: false' };
  if (backend !== 'webgpu') return { skip: 'the model runs on wasm, the path the check compares with' };
  if (option) return { mode: option };
  if (dtype === 'fp32' && !graph?.groupQueryAttention) return { skip: "off by default for fp32 (pass selfCheck: 'fallback' | 'error' | 'warn' to run it)" };
  return { mode: 'fallback' };
}

/** The two paths of one model for the check: the probe's result on a runtime, the wasm runtime, its release. */
interface CrossCheck<R> {
  run(rt: R, signal?: AbortSignal): Promise<Float32Array>;
  buildWasm(): Promise<R>;
  release(rt: R): Promise<void>;
  /** how far apart the two results are, and whether that passes */
  distance(gpu: Float32Array, cpu: Float32Array): { value: number; passed: boolean };
  /** the finding, for messages: "result for a probe text at cosine 0.1234 to the wasm path's" */
  found(value: number): string;
  /** the thing a caller gets wrong when the check fails: 'vectors', 'scores' */
  results: string;
}

interface CheckReport {
  value: number;
  passed: boolean;
  action: 'none' | 'fallback' | 'warn';
  ms: number;
}

interface CheckOutcome<R> {
  runtime: R;
  report?: CheckReport;
  skipped?: string;
  deviceReason?: string;
  warning?: WarningBody;
}

/**
 * Runs the probe through `gpu` and through a wasm runtime of the same model, and acts on the
 * result. `gpu` is released when the wasm runtime takes over, and when this throws (a
 * SelfCheckError in mode 'error', an abort). A wasm reference that cannot be loaded at all (no
 * memory for a second copy, an op the wasm provider lacks, ...) leaves the model on WebGPU,
 * unchecked, with a warning.
 */
async function crossCheck<R>(
  c: CrossCheck<R>,
  gpu: R,
  mode: Exclude<SelfCheckOption, false>,
  dtype: Dtype,
  fail: (message: string, value: number) => SelfCheckError,
  signal?: AbortSignal,
): Promise<CheckOutcome<R>> {
  const t0 = performance.now();
  let wasm: R | undefined;
  let kept = false;
  try {
    const onGpu = await c.run(gpu, signal);
    try {
      wasm = await c.buildWasm();
    } catch (e) {
      const skipped = `the wasm reference could not be loaded (${e instanceof Error ? e.message : String(e)})`;
      // Said out loud: an unchecked reduced dtype on WebGPU is the case the check exists for (transformers.js#1728).
      const warning: WarningBody = { status: 'warning', code: 'self-check', message: `The self-check could not run, so this model's ${dtype} result on WebGPU is unchecked: ${skipped}.` };
      return { runtime: gpu, skipped, warning };
    }
    const { value, passed } = c.distance(onGpu, await c.run(wasm, signal));
    const ms = Math.round(performance.now() - t0);
    if (passed) return { runtime: gpu, report: { value, passed, action: 'none', ms } };

    const what = `the self-check found this model's WebGPU ${c.found(value)} on the same ONNX file: its ${dtype} file computes wrongly on this GPU`;
    if (mode === 'error') {
      throw fail(`${what[0]!.toUpperCase()}${what.slice(1)}. Load it with device: 'wasm', another dtype (e.g. 'fp32'), or selfCheck: 'fallback' to run it on wasm.`, value);
    }
    if (mode === 'fallback') {
      kept = true;
      await c.release(gpu);
      return {
        runtime: wasm,
        report: { value, passed, action: 'fallback', ms },
        deviceReason: `${what}; it runs on wasm instead (selfCheck: 'fallback')`,
        warning: { status: 'warning', code: 'self-check', message: `${what}; webgpu-embed runs it on wasm instead (selfCheck: 'fallback').` },
      };
    }
    return {
      runtime: gpu,
      report: { value, passed, action: 'warn', ms },
      warning: { status: 'warning', code: 'self-check', message: `${what}; it stays on WebGPU (selfCheck: 'warn'), so its ${c.results} may be wrong. Use selfCheck: 'fallback', device: 'wasm' or another dtype.` },
    };
  } catch (e) {
    await c.release(gpu).catch(() => undefined);
    throw e;
  } finally {
    if (wasm !== undefined && !kept) await c.release(wasm).catch(() => undefined);
  }
}

/** What a load's self-check hands the engine: the embedder's (the default types) or the reranker's. */
export interface SelfCheckOutcome<R = EmbedRuntime, I = SelfCheckInfo> {
  /** the runtime to run with: the WebGPU one, or the wasm one after a fallback */
  runtime: R;
  info: I;
  /** why the device changed, after a fallback */
  deviceReason?: string;
  warning?: WarningBody;
}

/**
 * The embedder's self-check as a load runs it: planned from the option, the runtime's backend, the
 * dtype and the graph; when it runs, `runtime` may come back as a wasm runtime (the WebGPU one
 * released); when it throws (a SelfCheckError, an abort), `runtime` has been released.
 *
 * @example
 * const { runtime, info, deviceReason, warning } = await selfCheckAtLoad(model, gpuRuntime, opts.selfCheck);
 */
export async function selfCheckAtLoad(model: LoadedModel, runtime: EmbedRuntime, option: SelfCheckOption | undefined, signal?: AbortSignal): Promise<SelfCheckOutcome> {
  const plan = selfCheckPlan(option, runtime.session.backend, model.spec.dtype, model.spec.graph);
  if ('skip' in plan) return { runtime, info: { ran: false, reason: plan.skip } };
  const probe = prepareTexts(model, [PROBE_TEXT], { task: 'document' });
  const dims = model.spec.dimensions;
  const out = await crossCheck<EmbedRuntime>(
    {
      run: (rt, s) => runEmbedBatch(rt, model, probe, dims, { signal: s }),
      buildWasm: () => buildEmbedRuntime(model, 'wasm'),
      release: releaseRuntime,
      distance: (a, b) => {
        const cosine = cosineSimilarity(a, b);
        return { value: cosine, passed: cosine >= SELF_CHECK_THRESHOLD };
      },
      found: (cosine) => `result for a probe text at cosine ${cosine.toFixed(4)} to the wasm path's (below ${SELF_CHECK_THRESHOLD})`,
      results: 'vectors',
    },
    runtime,
    plan.mode,
    model.spec.dtype,
    (message, cosine) => new SelfCheckError(message, cosine, SELF_CHECK_THRESHOLD),
    signal,
  );
  const { report, skipped, ...rest } = out;
  if (!report) return { ...rest, info: { ran: false, reason: skipped! } };
  const { value, ...r } = report;
  return { ...rest, info: { ran: true, cosine: value, threshold: SELF_CHECK_THRESHOLD, ...r } };
}

/** A reranker's self-check: the largest |WebGPU score − wasm score| on the probe pair passes at or below this. */
export const RERANK_SELF_CHECK_THRESHOLD = 0.02;

/** The reranker's probe: a query and a document, with the model's template (over 32 tokens for Qwen3's). */
export const PROBE_QUERY = 'Which river runs through the old town, and where can one cross it on foot?';

/** What the reranker's self-check did, in `info.selfCheck`: as the embedder's, with the score difference for the cosine. */
export type RerankSelfCheckInfo =
  | { ran: true; scoreDifference: number; threshold: number; passed: boolean; action: 'none' | 'fallback' | 'warn'; ms: number }
  | { ran: false; reason: string };

export type RerankSelfCheckOutcome = SelfCheckOutcome<ScoreRuntime, RerankSelfCheckInfo>;

/**
 * The reranker's self-check as a load runs it: the probe pair's score through the WebGPU runtime and
 * through a wasm runtime built the same way (the same head mode); as selfCheckAtLoad otherwise.
 */
export async function rerankSelfCheckAtLoad(
  model: LoadedModel,
  rs: RerankerSpec,
  runtime: ScoreRuntime,
  headMode: HeadMode,
  option: SelfCheckOption | undefined,
  signal?: AbortSignal,
): Promise<RerankSelfCheckOutcome> {
  const plan = selfCheckPlan(option, runtime.session.backend, model.spec.dtype, model.spec.graph);
  if ('skip' in plan) return { runtime, info: { ran: false, reason: plan.skip } };
  const pairs = preparePairs(model, rs, PROBE_QUERY, [PROBE_TEXT], {});
  const out = await crossCheck<ScoreRuntime>(
    {
      run: async (rt, s) => (await runScoreBatch(rt, model, rs, pairs, { signal: s })).scores,
      buildWasm: () => buildScoreRuntime(model, rs, 'wasm', runtime.head === 'pruned' ? 'pruned' : headMode),
      release: releaseRuntime,
      distance: (a, b) => {
        const d = Math.abs(a[0]! - b[0]!);
        return { value: d, passed: d <= RERANK_SELF_CHECK_THRESHOLD };
      },
      found: (d) => `score for a probe pair ${d.toFixed(4)} away from the wasm path's (more than ${RERANK_SELF_CHECK_THRESHOLD})`,
      results: 'scores',
    },
    runtime,
    plan.mode,
    model.spec.dtype,
    (message, d) => new SelfCheckError(message, undefined, RERANK_SELF_CHECK_THRESHOLD, d),
    signal,
  );
  const { report, skipped, ...rest } = out;
  if (!report) return { ...rest, info: { ran: false, reason: skipped! } };
  const { value, ...r } = report;
  return { ...rest, info: { ran: true, scoreDifference: value, threshold: RERANK_SELF_CHECK_THRESHOLD, ...r } };
}
