/**
 * add()'s documents → passages → unit rows. An embedder from createEmbedder() does it in one
 * call (src/engine/passages.ts: split and embedded in the engine, one worker round trip, each
 * passage tokenized once); any other embedder the index is given goes the long way, the same
 * split over countTokens() rounds and then embed() calls of `batchSize` passages, with the same
 * passages and vectors.
 */
import { passageCallOf } from '../client/passage-call.ts';
import type { EmbedProgress } from '../engine/embedder.ts';
import { splitPassages, type PassageRange } from '../engine/passages.ts';
import { percent } from '../models/progress.ts';
import { unit } from './rescore.ts';
import type { AddOptions, IndexEmbedder } from './types.ts';

export type { PassageRange };

/** Each document's passages, and their unit rows in one buffer (documents in order, then their passages). */
export interface DocumentPassages {
  ranges: PassageRange[][];
  vectors: Float32Array;
}

const DEFAULT_BATCH = 256;

/**
 * Splits documents into passages of at most `passageTokens` tokens and embeds them as documents
 * at `dimensions`, reporting progress over all passages.
 *
 * @example
 * const { ranges, vectors } = await embedDocuments(embedder, ['Knead the dough…'], 256, 384, { batchSize: 64 });
 */
export async function embedDocuments(embedder: IndexEmbedder, texts: string[], passageTokens: number, dimensions: number, o: AddOptions): Promise<DocumentPassages> {
  const batchSize = o.batchSize ?? DEFAULT_BATCH;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  const report = (done: number, total: number) => o.onProgress?.({ status: 'embed', name: embedder.info.model, done, total, progress: percent(done, total) });
  const call = passageCallOf(embedder);
  if (!call) return embedLongWay(embedder, texts, passageTokens, dimensions, batchSize, o, report);

  const r = await call(texts, {
    passageTokens,
    dimensions,
    batchSize,
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.onProgress ? { onProgress: (e) => report(e.done, e.total) } : {}),
  });
  const count = r.data.length / dimensions;
  if (r.dimensions !== dimensions || count !== r.passages.reduce((n, list) => n + list.length, 0)) {
    throw new Error(`the embedder returned ${count} vectors of ${r.dimensions} for its passages of ${dimensions}`);
  }
  for (let i = 0; i < count; i++) r.data.set(unit(r.data.subarray(i * dimensions, (i + 1) * dimensions)), i * dimensions);
  return { ranges: r.passages, vectors: r.data };
}

/** The split over countTokens() rounds, then embed() in batches (task 'document'), as unit f32 rows. */
async function embedLongWay(
  embedder: IndexEmbedder,
  texts: string[],
  passageTokens: number,
  d: number,
  batch: number,
  o: AddOptions,
  report: (done: number, total: number) => void,
): Promise<DocumentPassages> {
  const count = (pieces: string[]) => embedder.countTokens(pieces, { task: 'document' });
  const ranges = await splitPassages(texts, count, passageTokens);
  const passages = texts.flatMap((t, i) => ranges[i]!.map((r) => t.slice(r.start, r.end)));
  const out = new Float32Array(passages.length * d);
  // the embedder's own per-batch events, counted over all passages; each count reported once
  let reported = 0;
  const progress = (done: number) => {
    if (done <= reported) return;
    reported = done;
    report(done, passages.length);
  };
  for (let start = 0; start < passages.length; start += batch) {
    o.signal?.throwIfAborted();
    const chunk = passages.slice(start, start + batch);
    const onProgress = o.onProgress ? (e: EmbedProgress) => e.status === 'embed' && progress(start + e.done) : undefined;
    const vs = await embedder.embed(chunk, { task: 'document', dimensions: d, ...(o.signal ? { signal: o.signal } : {}), ...(onProgress ? { onProgress } : {}) });
    if (vs.length !== chunk.length || vs.dimensions !== d) throw new Error(`the embedder returned ${vs.length} vectors of ${vs.dimensions} for ${chunk.length} passages of ${d}`);
    vs.forEach((v, i) => out.set(unit(v), (start + i) * d));
    progress(start + chunk.length);
  }
  return { ranges, vectors: out };
}
