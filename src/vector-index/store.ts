/**
 * Where the index scores its rows: on the GPU (gpu-store.ts) or in plain JavaScript
 * (cpu-store.ts). Both score a query in the storage's precision and return the best `k` slots
 * by (score descending, slot ascending); int8 and binary scores are bit-identical between the
 * two, float32 ones within a few ulps. The index then rescores those candidates in full
 * precision from the CPU rows (rescore.ts), the same code for both.
 */
import type { VectorStorage } from '../reference/index-score.ts';
import { matryoshka } from '../reference/matryoshka.ts';
import type { Run, VectorRows } from './rows.ts';

export type { VectorStorage };

/** The best slots, best first; removed and filtered-out slots never appear. */
export interface Candidates {
  slots: Uint32Array;
  scores: Float32Array;
}

export interface VectorStore {
  readonly device: 'webgpu' | 'cpu';
  /** Takes in rows.row(from) … rows.row(to - 1), just appended to the CPU rows. */
  append(from: number, to: number): Promise<void>;
  /** The CPU rows' live bitset changed (removals): the store reads it again before its next scan. */
  liveChanged(): void;
  /** The CPU rows were compacted by these runs: move the store's rows likewise. */
  compact(runs: readonly Run[]): Promise<void>;
  /** Drops everything and takes in all of the CPU rows again (import, a new device). */
  reset(): Promise<void>;
  /**
   * The best k allowed slots for a unit query. `allowed` (bit s of word s / 32) replaces the
   * live bitset when a filter is applied (it is live ∧ filter).
   */
  scan(query: Float32Array, k: number, allowed: Uint32Array | null, signal?: AbortSignal): Promise<Candidates>;
  /** the most rows it can hold (a GPU's buffer limits) */
  readonly maxRows: number;
  /** bytes the store holds besides the CPU rows (GPU buffers, or CPU codes) */
  readonly bytes: number;
  /** set when the store can no longer run (its GPU device was lost) */
  readonly lost?: string;
  destroy(): void;
}

/**
 * Quantizes unit rows with the Matryoshka kernel's CPU twin (bit-identical to the kernel, so
 * the CPU path holds the very codes the GPU path computes on the GPU).
 */
export function quantize(storage: 'int8' | 'binary', rows: Float32Array, dims: number): { codes: Uint32Array<ArrayBuffer>; scales?: Float32Array<ArrayBuffer> } {
  const n = rows.length / dims;
  // (the twin allocates its outputs, so their buffers are plain ArrayBuffers)
  if (storage === 'int8') return { codes: matryoshka(rows, n, dims, dims, { int8: true }).int8!.codes as Uint32Array<ArrayBuffer>, scales: int8Scales(rows, dims) };
  return { codes: matryoshka(rows, n, dims, dims, { binary: true }).binary! as Uint32Array<ArrayBuffer> };
}

/** The query in the rows' precision: int8 codes and its scale / 127², or sign bits. */
export function quantizeQuery(storage: 'int8' | 'binary', query: Float32Array): { codes: Uint32Array; qscale: number } {
  const { codes, scales } = quantize(storage, query, query.length);
  return { codes, qscale: scales ? Math.fround(scales[0]! / (127 * 127)) : 1 };
}

/**
 * Each row's int8 scale, max |x| / ‖x‖, as the Matryoshka kernel's CPU twin computes it (f64,
 * rounded once). The GPU path uploads these rather than the kernel's own, whose f32 division
 * and sqrt may differ by an ulp: with them the int8 scores of both paths are bit-identical.
 */
export function int8Scales(rows: Float32Array, dims: number): Float32Array<ArrayBuffer> {
  const n = rows.length / dims;
  const scales = new Float32Array(n);
  for (let r = 0; r < n; r++) {
    let sumsq = 0;
    let max = 0;
    for (let d = r * dims; d < (r + 1) * dims; d++) {
      const v = rows[d]!;
      sumsq += v * v;
      max = Math.max(max, Math.abs(v));
    }
    scales[r] = max / Math.max(Math.sqrt(sumsq), 1e-12);
  }
  return scales;
}
