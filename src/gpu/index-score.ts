/**
 * TypeScript side of kernels/index-score-{f32,int8,binary}.wgsl: one score per stored row of a
 * vector index against a query, rows removed or filtered out scoring NONE.
 */
import { rowWords, type VectorStorage } from '../reference/index-score.ts';
import { dispatch, f32Bits, gridOf, uniforms, type Encoding } from './encode.ts';

export { rowWords, type VectorStorage };

export interface IndexScoreArgs {
  storage: VectorStorage;
  /** rows to score: scores[r] for r < rows */
  rows: number;
  dims: number;
  /** [capacity, rowWords] as rowWords() lays them out */
  vectors: GPUBuffer;
  /** int8: [capacity] f32 per-row scales */
  scales?: GPUBuffer;
  /** the query in the rows' layout: float32 [rowWords] f32 (padding 0); int8 codes; binary bits */
  query: GPUBuffer;
  /** int8: the query's scale / 127² */
  qscale?: number;
  /** bitset over rows (bit r of word r / 32): 0 scores NONE */
  allowed: GPUBuffer;
  /** [rows] f32 out */
  scores: GPUBuffer;
  /** invocations per row, a power of two ≤ 256 (default: lanesFor(device)) */
  lanes?: number;
}

const WORKGROUP = 256;

/**
 * Invocations per row for a device: 32 on a GPU, so a row's reads are coalesced; 1 on a CPU
 * adapter (SwiftShader), where a row per invocation with no barrier scans ~15× faster.
 */
export function lanesFor(device: GPUDevice): number {
  return isCpuAdapter(device) ? 1 : 32;
}

/** The device is a software adapter (SwiftShader): its "GPU" work runs on the CPU's cores. */
export function isCpuAdapter(device: GPUDevice): boolean {
  const info = (device as { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  return Boolean(info?.isFallbackAdapter || info?.architecture === 'swiftshader');
}

/**
 * Appends the scoring dispatch.
 *
 * @example
 * encodeIndexScore(enc, { storage: 'float32', rows: n, dims: 256, vectors, query, allowed, scores });
 */
export function encodeIndexScore(enc: Encoding, a: IndexScoreArgs): void {
  const words = rowWords(a.storage, a.dims);
  const need = (buf: GPUBuffer, bytes: number, what: string) => {
    if (buf.size < bytes) throw new RangeError(`index score: ${what} buffer holds ${buf.size} bytes, needs ${bytes} for ${a.rows} rows of ${a.dims} (${a.storage})`);
  };
  if (a.rows < 1) throw new RangeError('index score: no rows to score');
  need(a.vectors, a.rows * words * 4, 'vectors');
  need(a.query, words * 4, 'query');
  need(a.allowed, Math.ceil(a.rows / 32) * 4, 'allowed');
  need(a.scores, a.rows * 4, 'scores');
  const lanes = a.lanes ?? lanesFor(enc.device);
  if (!Number.isInteger(Math.log2(lanes)) || lanes < 1 || lanes > WORKGROUP) throw new RangeError(`index score: lanes must be a power of two from 1 to ${WORKGROUP}, got ${lanes}`);
  const grid = gridOf(Math.ceil(a.rows / (WORKGROUP / lanes)));
  const constants = { LANES: lanes };
  if (a.storage === 'float32') {
    dispatch(enc, 'indexScoreF32', [uniforms(enc, [a.rows, words / 4, 0, 0]), a.vectors, a.query, a.allowed, a.scores], grid, constants);
  } else if (a.storage === 'int8') {
    if (!a.scales || a.qscale === undefined) throw new RangeError('index score: int8 rows need their scales and the query scale');
    need(a.scales, a.rows * 4, 'scales');
    dispatch(enc, 'indexScoreInt8', [uniforms(enc, [a.rows, words, f32Bits(a.qscale), 0]), a.vectors, a.scales, a.query, a.allowed, a.scores], grid, constants);
  } else {
    dispatch(enc, 'indexScoreBinary', [uniforms(enc, [a.rows, words, a.dims, f32Bits(1 / a.dims)]), a.vectors, a.query, a.allowed, a.scores], grid, constants);
  }
}
