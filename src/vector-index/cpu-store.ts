/**
 * The index's CPU path, where there is no WebGPU (the embedder runs on wasm, or no
 * navigator.gpu): the same scores as the kernels (src/reference/index-score.ts) and the same
 * order (score descending, slot ascending), from a plain JavaScript loop. float32 reads the CPU
 * rows themselves; int8 and binary keep the Matryoshka codes of every row, made by the
 * kernel's CPU twin. The scan runs in slices of about 8 ms and yields to the page between them,
 * so a search over 100k rows never holds the main thread for long.
 */
import { rowWords, scoreBinary, scoreFloat32, scoreInt8, type VectorStorage } from '../reference/index-score.ts';
import { TopSelector, topKBySort } from '../reference/top-k.ts';
import { nextTask } from '../runtime/next-task.ts';
import type { Run, VectorRows } from './rows.ts';
import { quantize, quantizeQuery, type Candidates, type VectorStore } from './store.ts';

const SLICE_MS = 8;
const BLOCK_ROWS = 1024;
const SORT_ABOVE = 4096;

export class CpuStore implements VectorStore {
  readonly device = 'cpu' as const;
  readonly maxRows = Infinity;
  /** int8: codes as bytes (rowWords · 4 per row); binary: sign bits */
  private codes = new Uint32Array(0);
  private scales = new Float32Array(0);
  private count = 0;
  private readonly words: number;

  constructor(
    private readonly rows: VectorRows,
    readonly storage: VectorStorage,
  ) {
    this.words = rowWords(storage, rows.dims);
  }

  get bytes(): number {
    return this.storage === 'float32' ? 0 : this.codes.byteLength + this.scales.byteLength;
  }

  async append(from: number, to: number): Promise<void> {
    if (from !== this.count) throw new Error(`cpu store: append from ${from}, but it holds ${this.count} rows`);
    if (this.storage !== 'float32' && to > from) {
      if (to * this.words > this.codes.length) {
        const capacity = Math.max(to, (this.codes.length / this.words) * 2, 64);
        const codes = new Uint32Array(capacity * this.words);
        codes.set(this.codes.subarray(0, from * this.words));
        this.codes = codes;
        const scales = new Float32Array(this.storage === 'int8' ? capacity : 0);
        scales.set(this.scales.subarray(0, this.storage === 'int8' ? from : 0));
        this.scales = scales;
      }
      // in blocks, yielding to the page between slices (a 100k-row import quantizes for seconds)
      let sliceStart = performance.now();
      for (let start = from; start < to; start += BLOCK_ROWS) {
        const end = Math.min(to, start + BLOCK_ROWS);
        const q = quantize(this.storage, this.rows.data.subarray(start * this.rows.dims, end * this.rows.dims), this.rows.dims);
        this.codes.set(q.codes, start * this.words);
        if (q.scales) this.scales.set(q.scales, start);
        if (performance.now() - sliceStart > SLICE_MS) {
          await nextTask();
          sliceStart = performance.now();
        }
      }
    }
    this.count = to;
  }

  liveChanged(): void {}

  async compact(runs: readonly Run[]): Promise<void> {
    const w = this.words;
    for (const r of runs) {
      if (r.from === r.to) continue;
      if (this.storage !== 'float32') this.codes.copyWithin(r.to * w, r.from * w, (r.from + r.length) * w);
      if (this.storage === 'int8') this.scales.copyWithin(r.to, r.from, r.from + r.length);
    }
    const last = runs[runs.length - 1];
    this.count = last ? last.to + last.length : 0;
  }

  async reset(): Promise<void> {
    this.codes = new Uint32Array(0);
    this.scales = new Float32Array(0);
    this.count = 0;
    await this.append(0, this.rows.count);
  }

  async scan(query: Float32Array, k: number, allowed: Uint32Array | null, signal?: AbortSignal): Promise<Candidates> {
    signal?.throwIfAborted();
    const n = this.count;
    const kk = Math.max(1, Math.min(k, n));
    // a selector costs O(k) per entry that enters: for k near n, keep every score and sort once
    const all = kk > SORT_ABOVE ? new Float32Array(n) : undefined;
    const top = new TopSelector(all ? 1 : kk);
    const mask = allowed ?? this.rows.live;
    const out = new Float32Array(BLOCK_ROWS);
    const q = this.storage === 'float32' ? undefined : quantizeQuery(this.storage, query);
    const qBytes = q && this.storage === 'int8' ? new Int8Array(q.codes.buffer) : undefined;
    const codeBytes = this.storage === 'int8' ? new Int8Array(this.codes.buffer) : undefined;
    let sliceStart = performance.now();
    for (let from = 0; from < n; from += BLOCK_ROWS) {
      const to = Math.min(n, from + BLOCK_ROWS);
      const range = { from, to, allowed: mask, out };
      if (this.storage === 'float32') scoreFloat32(this.rows.data, this.rows.dims, query, range);
      else if (this.storage === 'int8') scoreInt8(codeBytes!, this.scales, this.words, qBytes!, q!.qscale, range);
      else scoreBinary(this.codes, this.words, this.rows.dims, q!.codes, range);
      if (all) all.set(out.subarray(0, to - from), from);
      else {
        for (let r = from; r < to; r++) {
          if (mask[r >>> 5]! & (1 << (r & 31))) top.push(out[r - from]!, r);
        }
      }
      if (performance.now() - sliceStart > SLICE_MS) {
        await nextTask();
        signal?.throwIfAborted();
        sliceStart = performance.now();
      }
    }
    if (all) {
      const sorted = topKBySort(all, kk);
      return { slots: sorted.ids, scores: sorted.keys };
    }
    return { slots: top.ids.slice(0, top.size), scores: Float32Array.from(top.keys.subarray(0, top.size)) };
  }

  destroy(): void {
    this.codes = new Uint32Array(0);
    this.scales = new Float32Array(0);
  }
}
