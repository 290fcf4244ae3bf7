/**
 * The self-check: before an embedder on WebGPU takes its first text, one probe sentence (with the
 * model's document prompt) runs through the WebGPU session and our GPU head, and through a wasm
 * session of the same ONNX bytes with the CPU pooling of src/reference; the two vectors must agree.
 * transformers.js#1728: q4/q8 EmbeddingGemma on WebGPU returned vectors at cosine ≈ 0 to the right
 * ones, silently. It runs at load, while the model's bytes are still in memory (the engine drops
 * them once the session holds them), and the wasm session is released after it unless it takes
 * over ('fallback').
 *
 * Threshold 0.99: both paths run the same weights, so a quantized file's own error is on both
 * sides; what remains is float arithmetic (f16 accumulation on the GPU, int8 activations in ORT's
 * CPU matmuls), which keeps a correct model's vectors above ~0.999 (1 − 2e-7 measured on
 * SwiftShader fp32), while broken kernels give ≈ 0 or noise. 0.99 leaves an order of magnitude of
 * margin in 1 − cosine on either side.
 */
import { SelfCheckError } from '../errors.ts';
import { prepareTexts } from '../models/prepare.ts';
import type { Dtype, LoadedModel } from '../models/types.ts';
import { cosineSimilarity } from '../reference/cosine.ts';
import type { Backend } from '../runtime/backend.ts';
import { buildEmbedRuntime, releaseEmbedRuntime, runEmbedBatch, type EmbedRuntime } from './embed-runtime.ts';
import type { LoadWarning } from './warnings.ts';

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

/** The probe: short, plain, every family's tokenizer covers it. */
export const PROBE_TEXT = 'The quick brown fox jumps over the lazy dog by the river.';

export function checkSelfCheckOption(value: unknown): asserts value is SelfCheckOption | undefined {
  if (value === undefined || value === false || value === 'fallback' || value === 'error' || value === 'warn') return;
  throw new RangeError(`selfCheck must be 'fallback', 'error', 'warn' or false, not ${JSON.stringify(value)}`);
}

/** The action to check with, or why the check does not run: on by default for reduced dtypes on WebGPU. */
export function selfCheckPlan(option: SelfCheckOption | undefined, backend: Backend, dtype: Dtype): { mode: Exclude<SelfCheckOption, false> } | { skip: string } {
  if (option === false) return { skip: 'selfCheck: false' };
  if (backend !== 'webgpu') return { skip: 'the model runs on wasm, the path the check compares with' };
  if (option) return { mode: option };
  if (dtype === 'fp32') return { skip: "off by default for fp32 (pass selfCheck: 'fallback' | 'error' | 'warn' to run it)" };
  return { mode: 'fallback' };
}

/**
 * The self-check as a load runs it: planned from the option, the runtime's backend and the dtype;
 * when it runs, `runtime` may come back as a wasm runtime (the WebGPU one released); when it
 * throws (a SelfCheckError, an abort), `runtime` has been released.
 *
 * @example
 * const { runtime, info, deviceReason, warning } = await selfCheckAtLoad(model, gpuRuntime, opts.selfCheck);
 */
export async function selfCheckAtLoad(model: LoadedModel, runtime: EmbedRuntime, option: SelfCheckOption | undefined, signal?: AbortSignal): Promise<SelfCheckOutcome> {
  const plan = selfCheckPlan(option, runtime.session.backend, model.spec.dtype);
  if ('skip' in plan) return { runtime, info: { ran: false, reason: plan.skip } };
  try {
    return await runSelfCheck(model, runtime, plan.mode, signal);
  } catch (e) {
    await releaseEmbedRuntime(runtime);
    throw e;
  }
}

export interface SelfCheckOutcome {
  /** the runtime to embed with: the WebGPU one, or the wasm one after a fallback */
  runtime: EmbedRuntime;
  info: SelfCheckInfo;
  /** why the device changed, after a fallback */
  deviceReason?: string;
  warning?: LoadWarning;
}

/**
 * Runs the probe text through `gpu` and through a wasm runtime of the same model, and acts on the
 * result; `gpu` is released when the wasm runtime takes over, and stays the caller's when this
 * throws (a SelfCheckError in mode 'error'). A wasm reference that cannot be loaded at all (no
 * memory for a second copy, ...) leaves the embedder on WebGPU, unchecked.
 */
async function runSelfCheck(model: LoadedModel, gpu: EmbedRuntime, mode: Exclude<SelfCheckOption, false>, signal?: AbortSignal): Promise<SelfCheckOutcome> {
  const t0 = performance.now();
  const probe = prepareTexts(model, [PROBE_TEXT], { task: 'document' });
  const dims = model.spec.dimensions;
  const onGpu = await runEmbedBatch(gpu, model, probe, dims, { signal });
  let wasm: EmbedRuntime;
  try {
    wasm = await buildEmbedRuntime(model, 'wasm');
  } catch (e) {
    return { runtime: gpu, info: { ran: false, reason: `the wasm reference could not be loaded (${e instanceof Error ? e.message : String(e)})` } };
  }
  let kept = false;
  try {
    const onCpu = await runEmbedBatch(wasm, model, probe, dims, { signal });
    const cosine = cosineSimilarity(onGpu, onCpu);
    const passed = cosine >= SELF_CHECK_THRESHOLD;
    const report = { ran: true as const, cosine, threshold: SELF_CHECK_THRESHOLD, passed, ms: Math.round(performance.now() - t0) };
    if (passed) return { runtime: gpu, info: { ...report, action: 'none' } };

    const what =
      `the self-check found this model's WebGPU result for a probe text at cosine ${cosine.toFixed(4)} to the wasm path's on the same ` +
      `ONNX file (below ${SELF_CHECK_THRESHOLD}): its ${model.spec.dtype} file computes wrongly on this GPU`;
    if (mode === 'error') {
      throw new SelfCheckError(`${what[0]!.toUpperCase()}${what.slice(1)}. Load it with device: 'wasm', another dtype (e.g. 'fp32'), or selfCheck: 'fallback' to run it on wasm.`, cosine, SELF_CHECK_THRESHOLD);
    }
    if (mode === 'fallback') {
      kept = true;
      await releaseEmbedRuntime(gpu);
      return {
        runtime: wasm,
        info: { ...report, action: 'fallback' },
        deviceReason: `${what}; it runs on wasm instead (selfCheck: 'fallback')`,
        warning: { type: 'warning', code: 'self-check', message: `${what}; webgpu-embed runs it on wasm instead (selfCheck: 'fallback').` },
      };
    }
    return {
      runtime: gpu,
      info: { ...report, action: 'warn' },
      warning: { type: 'warning', code: 'self-check', message: `${what}; it stays on WebGPU (selfCheck: 'warn'), so its vectors may be wrong. Use selfCheck: 'fallback', device: 'wasm' or another dtype.` },
    };
  } finally {
    if (!kept) await releaseEmbedRuntime(wasm).catch(() => undefined);
  }
}
