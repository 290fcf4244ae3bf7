/**
 * TypeScript side of kernels/top-k.wgsl: the best k entries of n by (key descending, id
 * ascending). Each pass keeps k of every 2048 entries; passes repeat over the survivors until
 * one chunk is left (n = 100,000, k = 10: 49 chunks → 490 entries → 10).
 */
import { dispatch, gridOf, scratchF32, uniforms, unusedBinding, type Encoding } from './encode.ts';

/** The most entries one top-k keeps (half a chunk, so every pass at least halves the entries). */
export const TOP_K_MAX = 1024;
const CHUNK = 2048;

export interface TopKArgs {
  /** [n] f32 keys (scores) */
  keys: GPUBuffer;
  /** [n] u32 ids; left out, an entry's id is its position */
  ids?: GPUBuffer;
  n: number;
  /** 1 ≤ k ≤ TOP_K_MAX */
  k: number;
}

/** Where the k best entries are, best first; past the real entries, padding (NONE, 0xffffffff). */
export interface TopKResult {
  keys: GPUBuffer;
  ids: GPUBuffer;
  count: number;
}

/**
 * Appends the top-k passes; the result's buffers are scratch buffers of the encoding.
 *
 * @example
 * const top = encodeTopK(enc, { keys: scores, n: rows, k: 10 });
 * enc.encoder.copyBufferToBuffer(top.ids, 0, staging, 0, top.count * 4);
 */
export function encodeTopK(enc: Encoding, a: TopKArgs): TopKResult {
  if (!Number.isInteger(a.k) || a.k < 1 || a.k > TOP_K_MAX) throw new RangeError(`top-k: k must be an integer in [1, ${TOP_K_MAX}], got ${a.k}`);
  if (!Number.isInteger(a.n) || a.n < 1) throw new RangeError(`top-k: n must be a positive integer, got ${a.n}`);
  if (a.keys.size < a.n * 4 || (a.ids && a.ids.size < a.n * 4)) throw new RangeError(`top-k: inputs hold fewer than ${a.n} entries`);
  const run = 2 ** Math.ceil(Math.log2(a.k));
  let keys = a.keys;
  let ids = a.ids;
  let n = a.n;
  for (;;) {
    const chunks = Math.ceil(n / CHUNK);
    const outKeys = scratchF32(enc, chunks * a.k, 'top-k keys');
    const outIds = scratchF32(enc, chunks * a.k, 'top-k ids');
    const shape = uniforms(enc, [n, a.k, run, ids ? 0 : 1]);
    dispatch(enc, 'topK', [shape, keys, ids ?? unusedBinding(enc), outKeys, outIds], gridOf(chunks));
    if (chunks === 1) return { keys: outKeys, ids: outIds, count: a.k };
    keys = outKeys;
    ids = outIds;
    n = chunks * a.k;
  }
}
