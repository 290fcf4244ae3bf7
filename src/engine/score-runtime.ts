/**
 * The reranker's head: a reranker's model on one device (its ONNX session, the yes/no head pruned
 * where the export allows it, src/models/onnx/lm-head.ts; how its logits read; the GPU score head), and
 * what reads one batch's logits, to one score per (query, document) pair. The reranker runs its
 * batches here through the engine core (core.ts; the ORT step is session-run.ts) and its
 * self-check runs a probe pair through a WebGPU and a wasm runtime of the same model.
 */
import { ModelLoadError } from '../errors.ts';
import { HeadEditUnsupported, pruneLmHead } from '../models/onnx/lm-head.ts';
import type { PreparedPair, RerankerSpec } from '../models/rerank.ts';
import type { LoadedModel } from '../models/types.ts';
import { yesNoScores } from '../reference/yes-no-score.ts';
import type { Backend } from '../runtime/backend.ts';
import type { ort } from '../runtime/ort.ts';
import { createModelSession, type ModelSession } from '../runtime/session.ts';
import type { PaddedBatch } from './feeds.ts';
import { GpuScoreHead } from './score-head.ts';
import { hiddenToF32, onSession, runSession, type BatchContext } from './session-run.ts';

/**
 * How a yes/no reranker's LM head runs: 'auto' edits the graph down to the two rows at the last
 * position and falls back to the full logits when the export's head is beyond the edit;
 * 'pruned' insists (a ModelLoadError otherwise); 'full-logits' never edits (for comparisons).
 */
export type HeadMode = 'auto' | 'pruned' | 'full-logits';

/**
 * 'pruned': the graph computes the yes/no logits only; 'full-logits': the export's head could not
 * be edited and [B, T, vocab] logits are computed; 'classifier': a cross-encoder's own [B, labels] head.
 */
export type HeadKind = 'pruned' | 'full-logits' | 'classifier';

/** One model on one device: its session, how its logits read, and the GPU head. Rebuilt after a device loss. */
export interface ScoreRuntime {
  session: ModelSession;
  head: HeadKind;
  headReason?: string;
  gpu?: GpuScoreHead;
}

export async function buildScoreRuntime(model: LoadedModel, rs: RerankerSpec, backend: Backend, mode: HeadMode): Promise<ScoreRuntime> {
  const url = model.spec.baseUrl + model.spec.onnxFile;
  let session: ModelSession | undefined;
  let head: HeadKind = rs.kind === 'yes-no' ? 'full-logits' : 'classifier';
  let headReason: string | undefined;
  if (rs.kind === 'yes-no' && mode !== 'full-logits') {
    try {
      // Left-padded: every row's last real token is at T-1, so the head reads that position only;
      // right-padded: the head keeps every position (2 logits each) and the score kernel reads
      // each row's last real token by the mask.
      const positions = rs.paddingSide === 'left' ? 'last' : 'all';
      const edit = pruneLmHead(model.onnx, { rows: [rs.yes!.id, rs.no!.id], externalData: model.externalData, positions });
      session = await createModelSession({ ...model, onnx: edit.onnx, onnxGraph: edit.graph }, backend);
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
  return onSession(session ?? (await createModelSession(model, backend)), model, (session) => {
    if (!session.outputNames.includes('logits')) {
      throw new ModelLoadError(`the model has no 'logits' output (it has ${session.outputNames.join(', ')}); a reranker scores from its logits`, url);
    }
    return { session, head, ...(headReason ? { headReason } : {}), ...(session.gpuDevice ? { gpu: new GpuScoreHead(session.gpuDevice) } : {}) };
  });
}

/** One token through the edited graph: it must run and give [1, 1, 2], or the edit is not trusted. */
async function probePruned(session: ModelSession, model: LoadedModel): Promise<void> {
  await runSession(session, model, { ids: [[model.tokenizer.padId]], side: 'left' }, {}, async (out) => {
    const dims = out['logits']?.dims;
    if (!dims || dims.join() !== '1,1,2') throw new HeadEditUnsupported(`the edited graph gave logits [${dims?.join(', ')}], not [1, 1, 2]`);
    if (out['logits']!.location === 'gpu-buffer') await out['logits']!.getData(); // the GPU really ran it
  });
}

/**
 * One batch of prepared pairs through the runtime: one score per pair, in the pairs' order, and
 * the bytes of ORT's outputs. `explain` turns a failure into the caller's error (a lost device).
 */
export async function runScoreBatch(
  rt: ScoreRuntime,
  model: LoadedModel,
  rs: RerankerSpec,
  pairs: readonly PreparedPair[],
  { signal, explain = (e) => e }: BatchContext = {},
): Promise<{ scores: Float32Array; outputBytes: number }> {
  const { session, gpu } = rt;
  const rows = { ids: pairs.map((p) => p.ids), side: rs.paddingSide, ...(pairs[0]?.typeIds ? { typeIds: pairs.map((p) => p.typeIds!) } : {}) };
  return runSession(session, model, rows, { signal, explain }, async (outputs, padded) => {
    const outputBytes = Object.values(outputs).reduce((n, t) => n + tensorBytes(t), 0);
    const logits = outputs['logits']!;
    const read = readShape(rt.head, rs, logits, padded);
    if (logits.type !== 'float32' && logits.type !== 'float16') throw new Error(`logits are ${logits.type}; expected float32 or float16`);
    if (gpu) {
      const scores = await gpu.run({ logits: logits.gpuBuffer as GPUBuffer, logitsType: logits.type, ...read }).catch((e: unknown) => Promise.reject(explain(e)));
      return { scores, outputBytes };
    }
    return { scores: yesNoScores(await hiddenToF32(logits), read.mask, read), outputBytes };
  });
}

/** Where the score's logits lie in this output: [B, T, V] (full), [B, 1, 2] or [B, T, 2] (pruned), [B, labels] (classifier). */
function readShape(head: HeadKind, rs: RerankerSpec, logits: ort.Tensor, p: PaddedBatch): { batch: number; tokens: number; vocab: number; mask: Float32Array; yes: number; no?: number } {
  const dims = logits.dims as number[];
  if (dims[0] !== p.batch || (dims.length !== 2 && dims.length !== 3)) throw new Error(`logits have dims [${dims}], expected [${p.batch}, T, V] or [${p.batch}, labels]`);
  const tokens = dims.length === 3 ? dims[1]! : 1;
  const vocab = dims.at(-1)!;
  if (tokens !== 1 && tokens !== p.tokens) throw new Error(`logits have ${tokens} positions for a batch of ${p.tokens}`);
  const mask = tokens === 1 ? new Float32Array(p.batch).fill(1) : p.maskF32;
  if (head === 'pruned') return { batch: p.batch, tokens, vocab, mask, yes: 0, no: 1 };
  if (rs.kind === 'yes-no') return { batch: p.batch, tokens, vocab, mask, yes: rs.yes!.id, no: rs.no!.id };
  if (vocab === 1) return { batch: p.batch, tokens, vocab, mask, yes: 0 };
  if (vocab === 2) return { batch: p.batch, tokens, vocab, mask, yes: rs.positiveLabel!, no: 1 - rs.positiveLabel! };
  throw new Error(`the classifier gives ${vocab} labels; a relevance cross-encoder gives 1 or 2`);
}

function tensorBytes(t: ort.Tensor): number {
  if (t.location === 'gpu-buffer') return (t.gpuBuffer as GPUBuffer).size;
  const count = t.dims.reduce((a, b) => a * b, 1);
  return count * (t.type === 'float16' ? 2 : t.type === 'int64' ? 8 : 4);
}
