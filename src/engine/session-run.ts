/**
 * The ORT step of the engine core (core.ts), the same for both heads: a head's runtime is made on
 * a session whose inputs were checked (and released if the head cannot be made), and a batch of
 * token ids is padded, fed by the session's own input names and run, its outputs handed to the
 * head and disposed after. On the wasm path the head reads an output as f32 (hiddenToF32).
 *
 * @example
 * const scores = await runSession(session, model, { ids, side: 'left' }, { signal, explain }, async (outputs, padded) =>
 *   yesNoScores(await hiddenToF32(outputs['logits']!), padded.maskF32, shape));
 */
import type { LoadedModel } from '../models/types.ts';
import { halfToFloat } from '../reference/half-to-float.ts';
import type { ort } from '../runtime/ort.ts';
import type { ModelSession } from '../runtime/session.ts';
import type { StageClock } from './stage-clock.ts';
import { buildFeeds, checkModelInputs, padBatch, type BatchTokens, type PaddedBatch } from './feeds.ts';

/** How a batch runs: its signal, and `explain`, which turns a failure into what the caller reports (a lost device into GpuDeviceLostError). */
export interface BatchContext {
  signal?: AbortSignal | undefined;
  explain?: (e: unknown) => unknown;
  /** the call's stage clock: feeds, ORT's run and the head's read are timed into it */
  clock?: StageClock | undefined;
}

/** A head made on a new session: the model's inputs checked first; the session released when anything fails. */
export async function onSession<R>(session: ModelSession, model: LoadedModel, make: (session: ModelSession) => R | Promise<R>): Promise<R> {
  try {
    checkModelInputs(session.inputs, model.spec.baseUrl + model.spec.onnxFile);
    return await make(session);
  } catch (e) {
    await session.release();
    throw e;
  }
}

/**
 * One batch through the session: `rows` padded with the tokenizer's pad id, the feeds built for the
 * session's inputs, ORT's run (only `fetches`, when given), then `read` on the outputs and the
 * padded batch. A failed run is explained; the outputs are disposed once `read` is done.
 */
export async function runSession<T>(
  session: ModelSession,
  model: LoadedModel,
  rows: Omit<BatchTokens, 'padId'>,
  o: BatchContext & { fetches?: readonly string[] | undefined },
  read: (outputs: Record<string, ort.Tensor>, padded: PaddedBatch) => T | Promise<T>,
): Promise<T> {
  const time = <R>(stage: 'feeds' | 'run' | 'head', fn: () => R): R => (o.clock ? o.clock.time(stage, fn) : fn());
  const { padded, feeds } = time('feeds', () => {
    const padded = padBatch({ ...rows, padId: model.tokenizer.padId });
    return { padded, feeds: buildFeeds(session.inputs, padded, model.spec.config) };
  });
  let outputs: Record<string, ort.Tensor>;
  try {
    outputs = await time('run', () => session.run(feeds, o.signal, o.fetches));
  } catch (e) {
    throw o.explain ? o.explain(e) : e;
  }
  try {
    return await time('head', () => read(outputs, padded));
  } finally {
    for (const t of Object.values(outputs)) t.dispose();
  }
}

/** An output tensor's values as f32, wherever ORT keeps them (fp16 converted). */
export async function hiddenToF32(t: ort.Tensor): Promise<Float32Array> {
  const data = await t.getData();
  if (data instanceof Float32Array) return data;
  if (t.type === 'float16') {
    // ORT hands fp16 as Uint16Array bits, or as a Float16Array where the platform has one.
    return data instanceof Uint16Array ? Float32Array.from(data, halfToFloat) : Float32Array.from(data as ArrayLike<number>);
  }
  throw new Error(`hidden states of type ${t.type} are not supported`);
}
