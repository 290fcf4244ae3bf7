/**
 * The last step of every search, on the CPU for both paths: the candidates the store picked in
 * its storage precision are scored again from the full-precision rows (an f64 dot product,
 * rounded to f32 once) and ordered by (score descending, slot ascending). A few hundred rows:
 * microseconds. Because this one function makes the final scores, the GPU and CPU paths return
 * the same hits with the same scores whenever their candidates agree.
 */
import { better } from '../reference/top-k.ts';
import type { VectorRows } from './rows.ts';

export interface Ranked {
  slot: number;
  score: number;
}

export function rescore(rows: VectorRows, query: Float32Array, slots: ArrayLike<number>): Ranked[] {
  const dims = rows.dims;
  const data = rows.data;
  const ranked: Ranked[] = [];
  for (let i = 0; i < slots.length; i++) {
    const slot = slots[i]!;
    let s = 0;
    const base = slot * dims;
    for (let d = 0; d < dims; d++) s += data[base + d]! * query[d]!;
    ranked.push({ slot, score: Math.fround(s) });
  }
  return ranked.sort((a, b) => (better(a.score, a.slot, b.score, b.slot) ? -1 : better(b.score, b.slot, a.score, a.slot) ? 1 : 0));
}

/** A unit-length f32 copy of v (f64 norm); a zero vector stays zero. */
export function unit(v: ArrayLike<number>): Float32Array {
  let norm = 0;
  for (let i = 0; i < v.length; i++) norm += v[i]! * v[i]!;
  const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  return Float32Array.from(v, (x) => x * inv);
}
