/**
 * The embedder's head: what runs one embedding model on one backend, and what reads one batch's
 * outputs. The ORT session (made and run by session-run.ts), then our GPU head (pooling +
 * Matryoshka on ORT's hidden-state buffer, [B, dims] read back) on WebGPU, or the CPU twins of the
 * kernels on wasm. The embedder runs every batch here through the engine core (core.ts); the
 * self-check runs its probe text through a WebGPU runtime and a wasm one of the same model.
 */
import { ModelLoadError } from '../errors.ts';
import { createLatentAttention } from '../gpu/latent-attention.ts';
import { POOLED_OUTPUT } from '../models/spec.ts';
import type { LoadedModel, PreparedText } from '../models/types.ts';
import { latentAttentionParams, type LatentAttentionParams } from '../reference/latent-attention.ts';
import type { Backend } from '../runtime/backend.ts';
import { createModelSession, type ModelSession } from '../runtime/session.ts';
import { cpuHead } from './cpu-head.ts';
import { GpuHead } from './gpu-head.ts';
import { poolingWeights } from './pooling-weights.ts';
import { hiddenToF32, onSession, runSession, type BatchContext } from './session-run.ts';
import { testHooks } from './test-hooks.ts';

/**
 * The graph outputs that carry the token states [B, T, H], first found wins: optimum's and
 * transformers.js' exports name it last_hidden_state, optimum's export of a sentence-transformers
 * model token_embeddings, and onnxruntime-genai's model builder hidden_states (its documented way to get
 * embeddings from a decoder: --extra_options exclude_lm_head=true, which renames the logits output;
 * the zoo's qwen3-embedding-gqa-shape is such an export).
 */
const HIDDEN_OUTPUTS = ['last_hidden_state', 'token_embeddings', 'hidden_states'];

/** One model on one device: its session and the head after it. Rebuilt after a device loss. */
export interface EmbedRuntime {
  session: ModelSession;
  /** the output the head reads: the token states, or the graph's own pooled vectors (pooling 'graph') */
  hiddenOutput: string;
  gpu?: GpuHead;
  cpuLatent?: LatentAttentionParams;
}

/** The session and head for a loaded model (whose bytes and head weights must still be there). */
export async function buildEmbedRuntime(model: LoadedModel, backend: Backend): Promise<EmbedRuntime> {
  return onSession(await createModelSession(model, backend), model, async (session) => {
    const { spec } = model;
    const wanted = spec.pooling === 'graph' ? [POOLED_OUTPUT] : HIDDEN_OUTPUTS;
    const hiddenOutput = wanted.find((n) => session.outputNames.includes(n));
    if (!hiddenOutput) {
      throw new ModelLoadError(
        spec.pooling === 'graph'
          ? `the model has no ${POOLED_OUTPUT} output (it has ${session.outputNames.join(', ')}), and its pooling is 'graph'`
          : `the model has no token-state output (${HIDDEN_OUTPUTS.join(', ')}; it has ${session.outputNames.join(', ')}); webgpu-embed pools token states itself`,
        spec.baseUrl + spec.onnxFile,
      );
    }
    const la = spec.latentAttention;
    const laConfig = la && {
      num_latents_value: la.numLatents,
      num_cross_heads: la.heads,
      cross_dim_head: la.headDim,
      latent_dim: la.latentDim,
      hidden_dim: la.hiddenDim,
      output_normalize: spec.normalize,
    };
    if (session.gpuDevice) {
      const latent = la && laConfig ? await createLatentAttention(session.gpuDevice, laConfig, la.weights) : undefined;
      return { session, hiddenOutput, gpu: new GpuHead(session.gpuDevice, spec.pooling, latent) };
    }
    return { session, hiddenOutput, ...(la && laConfig ? { cpuLatent: latentAttentionParams(laConfig, la.weights) } : {}) };
  });
}

/**
 * One batch of prepared texts through a runtime: [B × dims] row-major, in the texts' order.
 * `explain` turns a failure into what the caller reports (a lost device into GpuDeviceLostError).
 */
export async function runEmbedBatch(rt: EmbedRuntime, model: LoadedModel, texts: PreparedText[], dims: number, o: BatchContext = {}): Promise<Float32Array> {
  const explain = o.explain ?? ((e: unknown) => e);
  const { session, hiddenOutput, gpu, cpuLatent } = rt;
  const { spec } = model;
  const graphPooled = spec.pooling === 'graph';
  // A graph that pools by itself: only its vectors, so its [B, T, H] token states are not handed
  // out too (on wasm they would be copied out of ORT's memory for nothing).
  const run = { signal: o.signal, explain, clock: o.clock, fetches: graphPooled ? [hiddenOutput] : undefined };
  return runSession(session, model, { ids: texts.map((t) => t.ids), side: spec.paddingSide }, run, async (outputs, padded) => {
    const hidden = outputs[hiddenOutput]!;
    // The graph's own vectors are [B, width]: to the head, B rows of one token each, nothing to pool.
    const [batch, tokens, size] = (graphPooled ? [hidden.dims[0], 1, hidden.dims[1]] : hidden.dims) as [number, number, number];
    if (graphPooled ? hidden.dims.length !== 2 || batch !== padded.batch || size !== spec.dimensions : batch !== padded.batch || tokens !== padded.tokens) {
      throw new Error(`${hiddenOutput} has dims [${hidden.dims}], expected [${padded.batch}, ${graphPooled ? spec.dimensions : `${padded.tokens}, H`}]`);
    }
    const weights = graphPooled ? new Float32Array(0) : poolingWeights(padded, texts.map((t) => t.poolSkip));
    const shape = { batch, tokens, size, weights, dims, normalize: spec.normalize };
    if (gpu) {
      if (hidden.type !== 'float32' && hidden.type !== 'float16') throw new Error(`${hiddenOutput} is ${hidden.type}; expected float32 or float16`);
      const rows = await gpu.run({ ...shape, hidden: hidden.gpuBuffer as GPUBuffer, hiddenType: hidden.type }).catch((e: unknown) => Promise.reject(explain(e)));
      return testHooks()?.corruptWebGpuOutput ? rows.map((x) => -x) : rows;
    }
    return cpuHead(spec.pooling, { ...shape, hidden: await hiddenToF32(hidden) }, cpuLatent);
  });
}
