/**
 * The index's rows on the GPU: one buffer of rows (float32, or the Matryoshka kernel's int8
 * codes plus a buffer of scales, or its sign bits) and a bitset of live slots.
 *
 *  - Appends write only the new rows: float32 by queue.writeBuffer; int8 / binary through the
 *    Matryoshka kernel (the f32 rows go up once, the codes are made on the GPU and copied into
 *    place; on a CPU adapter such as SwiftShader, where that kernel's per-row barriers cost ~60×
 *    the plain loop, its bit-identical CPU twin makes them and they are written). When the rows
 *    outgrow the buffer, a buffer of twice the capacity is made and the old rows are copied GPU
 *    to GPU; nothing already there goes up again.
 *  - Removal clears live bits (tombstones): the score kernel gives those rows NONE, so they can
 *    never be hits. The bitset is uploaded whole before the next scan (capacity / 8 bytes).
 *    Compaction (the index decides when) copies the runs of live rows down, GPU to GPU.
 *  - A scan is one submission: score every row, top-k passes, copy k (score, slot) pairs to a
 *    mappable buffer; 8·k bytes come back.
 */
import { beginEncoding, scratchF32, submit, type Encoding } from '../gpu/encode.ts';
import { encodeIndexScore, isCpuAdapter, lanesFor, rowWords, type VectorStorage } from '../gpu/index-score.ts';
import { encodeMatryoshka } from '../gpu/matryoshka.ts';
import { encodeTopK, TOP_K_MAX } from '../gpu/top-k.ts';
import { readBackOnce, storageUsage, uploadF32, type ReadbackPart } from '../gpu/transfer.ts';
import { NONE, topKBySort } from '../reference/top-k.ts';
import type { Run, VectorRows } from './rows.ts';
import { int8Scales, quantize, quantizeQuery, type Candidates, type VectorStore } from './store.ts';

/** rows quantized per Matryoshka dispatch when appending (bounds the f32 upload buffer) */
const APPEND_BATCH = 16_384;
const MIN_CAPACITY = 256;

export class GpuStore implements VectorStore {
  readonly device = 'webgpu' as const;
  private capacity = 0;
  private count = 0;
  private vectors?: GPUBuffer;
  private scales?: GPUBuffer;
  private live?: GPUBuffer;
  private liveDirty = true;
  private readonly words: number;
  lost?: string;

  /** invocations per row in the scan (lanesFor(device): 32 on a GPU, 1 on a CPU adapter) */
  readonly lanes: number;
  /** int8 / binary codes made by the Matryoshka kernel (default), or by its CPU twin (default on a CPU adapter) */
  readonly quantizeOnGpu: boolean;

  constructor(
    readonly gpu: GPUDevice,
    private readonly rows: VectorRows,
    readonly storage: VectorStorage,
    options: { lanes?: number; quantizeOnGpu?: boolean } = {},
  ) {
    this.words = rowWords(storage, rows.dims);
    this.lanes = options.lanes ?? lanesFor(gpu);
    this.quantizeOnGpu = options.quantizeOnGpu ?? !isCpuAdapter(gpu);
    gpu.lost.then((info) => {
      this.lost = `${info.reason}: ${info.message}`;
    });
  }

  private get rowBytes(): number {
    return this.words * 4;
  }

  get bytes(): number {
    return (this.vectors?.size ?? 0) + (this.scales?.size ?? 0) + (this.live?.size ?? 0);
  }

  /** The most rows one buffer may hold on this device (its buffer and binding limits). */
  get maxRows(): number {
    const limit = Math.min(this.gpu.limits.maxBufferSize, this.gpu.limits.maxStorageBufferBindingSize);
    return Math.floor(limit / this.rowBytes);
  }

  /** Grows the buffers to hold `needed` rows: twice the capacity, the old rows copied GPU to GPU. */
  private grow(enc: Encoding, needed: number): void {
    if (needed <= this.capacity) return;
    if (needed > this.maxRows) {
      throw new RangeError(
        `the index needs ${needed} rows of ${this.rowBytes} bytes, more than this GPU's buffer limit (${this.maxRows} rows): ` +
          `use storage 'int8' (4× smaller) or 'binary' (32×), fewer dimensions, or split the corpus into several indexes.`,
      );
    }
    const capacity = Math.min(this.maxRows, Math.max(needed, this.capacity * 2, MIN_CAPACITY));
    const vectors = this.gpu.createBuffer({ label: 'index rows', size: capacity * this.rowBytes, usage: storageUsage() });
    const scales = this.storage === 'int8' ? this.gpu.createBuffer({ label: 'index scales', size: capacity * 4, usage: storageUsage() }) : undefined;
    if (this.vectors && this.count > 0) {
      enc.encoder.copyBufferToBuffer(this.vectors, 0, vectors, 0, this.count * this.rowBytes);
      if (this.scales && scales) enc.encoder.copyBufferToBuffer(this.scales, 0, scales, 0, this.count * 4);
    }
    for (const old of [this.vectors, this.scales, this.live]) if (old) enc.temporaries.push(old);
    this.vectors = vectors;
    this.scales = scales;
    this.live = this.gpu.createBuffer({ label: 'index live', size: Math.ceil(capacity / 32) * 4, usage: storageUsage() });
    this.liveDirty = true;
    this.capacity = capacity;
  }

  async append(from: number, to: number): Promise<void> {
    if (from !== this.count) throw new Error(`gpu store: append from ${from}, but it holds ${this.count} rows`);
    if (to <= from) return;
    const enc = beginEncoding(this.gpu, 'index append');
    this.grow(enc, to);
    await submit(enc);
    const dims = this.rows.dims;
    if (this.storage === 'float32') {
      const src = this.rows.data.subarray(from * dims, to * dims);
      this.gpu.queue.writeBuffer(this.vectors!, from * this.rowBytes, this.words === dims ? src : padRows(src, dims, this.words));
    } else {
      for (let start = from; start < to; start += APPEND_BATCH) {
        const end = Math.min(to, start + APPEND_BATCH);
        if (this.quantizeOnGpu) await this.quantizeWithKernel(start, end);
        else this.writeCodes(start, end);
      }
    }
    this.count = to;
    this.liveDirty = true;
  }

  /** Rows [start, end) quantized by the Matryoshka kernel's CPU twin and written into place. */
  private writeCodes(start: number, end: number): void {
    const dims = this.rows.dims;
    const q = quantize(this.storage as 'int8' | 'binary', this.rows.data.subarray(start * dims, end * dims), dims);
    this.gpu.queue.writeBuffer(this.vectors!, start * this.rowBytes, q.codes);
    if (q.scales) this.gpu.queue.writeBuffer(this.scales!, start * 4, q.scales);
  }

  /** Rows [start, end) through the Matryoshka kernel, its codes copied into place. */
  private async quantizeWithKernel(start: number, end: number): Promise<void> {
    const dims = this.rows.dims;
    const batch = end - start;
    const enc = beginEncoding(this.gpu, 'index quantize');
    const input = uploadF32(this.gpu, this.rows.data.subarray(start * dims, end * dims), 'index rows f32');
    enc.temporaries.push(input);
    const output = scratchF32(enc, batch * dims, 'index rows normalized');
    const codes = scratchF32(enc, batch * this.words, 'index codes');
    if (this.storage === 'int8') {
      encodeMatryoshka(enc, { input, output, batch, hidden: dims, dims, int8: { codes, scales: scratchF32(enc, batch, 'index scales') } });
      this.gpu.queue.writeBuffer(this.scales!, start * 4, int8Scales(this.rows.data.subarray(start * dims, end * dims), dims));
    } else {
      encodeMatryoshka(enc, { input, output, batch, hidden: dims, dims, binary: codes });
    }
    enc.encoder.copyBufferToBuffer(codes, 0, this.vectors!, start * this.rowBytes, batch * this.rowBytes);
    await submit(enc);
  }

  liveChanged(): void {
    this.liveDirty = true;
  }

  private syncLive(): void {
    if (!this.liveDirty || !this.live) return;
    const words = Math.ceil(this.count / 32);
    if (words > 0) this.gpu.queue.writeBuffer(this.live, 0, this.rows.live, 0, words);
    this.liveDirty = false;
  }

  async compact(runs: readonly Run[]): Promise<void> {
    if (!this.vectors) return;
    const enc = beginEncoding(this.gpu, 'index compact');
    const vectors = this.gpu.createBuffer({ label: 'index rows', size: this.vectors.size, usage: storageUsage() });
    const scales = this.scales ? this.gpu.createBuffer({ label: 'index scales', size: this.scales.size, usage: storageUsage() }) : undefined;
    let count = 0;
    for (const r of runs) {
      enc.encoder.copyBufferToBuffer(this.vectors, r.from * this.rowBytes, vectors, r.to * this.rowBytes, r.length * this.rowBytes);
      if (this.scales && scales) enc.encoder.copyBufferToBuffer(this.scales, r.from * 4, scales, r.to * 4, r.length * 4);
      count = r.to + r.length;
    }
    enc.temporaries.push(this.vectors, ...(this.scales ? [this.scales] : []));
    this.vectors = vectors;
    this.scales = scales;
    this.count = count;
    this.liveDirty = true;
    await submit(enc);
  }

  async reset(): Promise<void> {
    this.destroy();
    this.capacity = 0;
    this.count = 0;
    await this.append(0, this.rows.count);
  }

  async scan(query: Float32Array, k: number, allowed: Uint32Array | null, signal?: AbortSignal): Promise<Candidates> {
    signal?.throwIfAborted();
    const n = this.count;
    if (n === 0 || k < 1) return { slots: new Uint32Array(0), scores: new Float32Array(0) };
    this.syncLive();
    const enc = beginEncoding(this.gpu, 'index search');
    const dims = this.rows.dims;
    let queryBuf: GPUBuffer;
    let qscale: number | undefined;
    if (this.storage === 'float32') {
      queryBuf = uploadF32(this.gpu, this.words === dims ? query : padRows(query, dims, this.words), 'index query');
    } else {
      const q = quantizeQuery(this.storage, query);
      queryBuf = uploadWords(this.gpu, q.codes, 'index query');
      qscale = q.qscale;
    }
    enc.temporaries.push(queryBuf);
    let allowedBuf = this.live!;
    if (allowed) {
      allowedBuf = uploadWords(this.gpu, allowed.subarray(0, Math.ceil(n / 32)), 'index filter');
      enc.temporaries.push(allowedBuf);
    }
    const scores = scratchF32(enc, n, 'index scores');
    encodeIndexScore(enc, {
      storage: this.storage,
      rows: n,
      dims,
      vectors: this.vectors!,
      ...(this.scales ? { scales: this.scales } : {}),
      query: queryBuf,
      ...(qscale !== undefined ? { qscale } : {}),
      allowed: allowedBuf,
      scores,
      lanes: this.lanes,
    });
    // Past TOP_K_MAX candidates (rare: a huge topK) the scores come back whole and the CPU picks.
    const whole = Math.min(k, n) > TOP_K_MAX;
    const kk = Math.min(k, n);
    let parts: ReadbackPart[];
    if (whole) {
      parts = [{ source: scores, bytes: n * 4 }];
    } else {
      const top = encodeTopK(enc, { keys: scores, n, k: kk });
      parts = [{ source: top.keys, bytes: kk * 4 }, { source: top.ids, bytes: kk * 4 }];
    }
    const data = await readBackOnce(enc, parts, 'index readback');
    if (whole) {
      const all = topKBySort(new Float32Array(data), kk);
      return { slots: all.ids, scores: all.keys };
    }
    return realEntries(new Float32Array(data, 0, kk), new Uint32Array(data, kk * 4, kk));
  }

  destroy(): void {
    for (const b of [this.vectors, this.scales, this.live]) b?.destroy();
    this.vectors = this.scales = this.live = undefined;
  }
}

/** The entries before the first NONE (removed, filtered out, or padding). */
function realEntries(keys: Float32Array, ids: Uint32Array): Candidates {
  const none = Math.fround(NONE);
  let n = 0;
  while (n < keys.length && keys[n] !== none) n++;
  return { slots: ids.slice(0, n), scores: keys.slice(0, n) };
}

/** Rows of `dims` values spread to rows of `width` (zeros after). */
function padRows(src: Float32Array, dims: number, width: number): Float32Array<ArrayBuffer> {
  const n = src.length / dims;
  const out = new Float32Array(n * width);
  for (let r = 0; r < n; r++) out.set(src.subarray(r * dims, (r + 1) * dims), r * width);
  return out;
}

/** A storage buffer holding these 32-bit words. */
function uploadWords(device: GPUDevice, words: Uint32Array, label: string): GPUBuffer {
  const buffer = device.createBuffer({ label, size: Math.max(4, words.byteLength), usage: storageUsage(), mappedAtCreation: true });
  new Uint32Array(buffer.getMappedRange()).set(words);
  buffer.unmap();
  return buffer;
}
