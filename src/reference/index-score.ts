/**
 * CPU twins of kernels/index-score-{f32,int8,binary}.wgsl: one score per stored row against a
 * query, NONE where the row's bit in `allowed` is 0. They score a range of rows into `out`, so
 * the index's CPU path can scan in slices and yield to the page between them.
 *
 * int8 and binary scores are integer sums and correctly rounded f32 products, bit-identical to
 * the kernels'. float32 accumulates in f64 and rounds once: the kernel's f32 sums (32 lanes,
 * each in order, then added in lane order) differ from it by a few ulps.
 */
import { NONE } from './top-k.ts';

/** How an index keeps its vectors for scanning: full f32, the Matryoshka kernel's int8 codes, or its sign bits. */
export type VectorStorage = 'float32' | 'int8' | 'binary';

/**
 * 32-bit words per stored row: float32 rows are padded to whole vec4s (the kernel reads
 * vec4<f32>), int8 rows are ceil(dims / 4) words and binary rows ceil(dims / 32) words, the
 * Matryoshka kernel's layouts (src/gpu/matryoshka.ts).
 */
export function rowWords(storage: VectorStorage, dims: number): number {
  if (storage === 'float32') return Math.ceil(dims / 4) * 4;
  if (storage === 'int8') return Math.ceil(dims / 4);
  return Math.ceil(dims / 32);
}

export interface ScoreRange {
  /** rows [from, to) */
  from: number;
  to: number;
  /** bit r of word r / 32; null: every row */
  allowed: Uint32Array | null;
  /** out[r - from] = score of row r */
  out: Float32Array;
}

const isAllowed = (allowed: Uint32Array | null, r: number) => !allowed || ((allowed[r >>> 5]! >>> (r & 31)) & 1) === 1;

/** float32 rows of `dims` values (row-major, no padding) · the query. */
export function scoreFloat32(vectors: Float32Array, dims: number, query: Float32Array, range: ScoreRange): void {
  const { from, to, allowed, out } = range;
  for (let r = from; r < to; r++) {
    if (!isAllowed(allowed, r)) {
      out[r - from] = NONE;
      continue;
    }
    let s = 0;
    const base = r * dims;
    for (let d = 0; d < dims; d++) s += vectors[base + d]! * query[d]!;
    out[r - from] = s;
  }
}

/**
 * int8 codes (Matryoshka layout: `words` u32 per row, byte k of word j = dimension 4j + k) ·
 * the query's codes, times the row's scale and qscale (query scale / 127²).
 */
export function scoreInt8(codes: Int8Array, scales: Float32Array, words: number, query: Int8Array, qscale: number, range: ScoreRange): void {
  const { from, to, allowed, out } = range;
  const width = words * 4;
  const qs = Math.fround(qscale);
  for (let r = from; r < to; r++) {
    if (!isAllowed(allowed, r)) {
      out[r - from] = NONE;
      continue;
    }
    let s = 0;
    const base = r * width;
    for (let i = 0; i < width; i++) s += codes[base + i]! * query[i]!;
    // each product of two f32s is exact in f64: rounding it once is the kernel's f32 multiply
    out[r - from] = Math.fround(Math.fround(Math.fround(s) * scales[r]!) * qs);
  }
}

/** Binary sign bits (`words` u32 per row): (dims − 2 · Hamming distance) / dims. */
export function scoreBinary(bits: Uint32Array, words: number, dims: number, query: Uint32Array, range: ScoreRange): void {
  const { from, to, allowed, out } = range;
  const inv = Math.fround(1 / dims);
  for (let r = from; r < to; r++) {
    if (!isAllowed(allowed, r)) {
      out[r - from] = NONE;
      continue;
    }
    let h = 0;
    const base = r * words;
    for (let j = 0; j < words; j++) h += popcount(bits[base + j]! ^ query[j]!);
    out[r - from] = Math.fround((dims - 2 * h) * inv);
  }
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}
