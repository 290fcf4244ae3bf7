/**
 * createIndex(): semantic search in the page. Documents are split into passages that fit the
 * model, embedded through the embedder (in its worker), and kept as unit vectors: on the CPU in
 * full precision, and on the index's own GPUDevice in the chosen storage (float32, int8 or
 * binary), where one kernel scores every passage and a GPU top-k returns only the best. The
 * candidates are rescored in full precision, one hit per document.
 *
 * The index runs in the page (main thread), with a GPUDevice of its own: search work on the GPU
 * is asynchronous (the thread encodes a few commands and reads back 8 bytes per candidate), the
 * page keeps its documents, metadata and filter functions, and the embedder's worker stays free
 * to embed. Where there is no WebGPU (or the embedder runs on wasm) the same search runs as a
 * JavaScript loop that yields to the page every ~8 ms.
 */
import { checkOptions } from '../client/option-check.ts';
import { ADD_RULES, CREATE_INDEX_RULES, INDEX_SEARCH_RULES } from '../client/option-rules.ts';
import { checkDimensions } from '../engine/validate.ts';
import { DisposedError, GpuDeviceLostError, IndexFormatError, WebGPUUnavailableError } from '../errors.ts';
import type { VectorStorage } from '../reference/index-score.ts';
import { probeAdapter, requestDevice } from '../runtime/adapter.ts';
import { Mutex } from '../runtime/mutex.ts';
import { CpuStore } from './cpu-store.ts';
import { decodeIndex, encodeIndex, type StoredDocument } from './format.ts';
import type { GpuStore } from './gpu-store.ts';
import { embedDocuments, type PassageRange } from './passages.ts';
import { loadBlob, saveBlob } from './persist.ts';
import { rescore, unit } from './rescore.ts';
import { VectorRows } from './rows.ts';
import type { VectorStore } from './store.ts';
import type { AddOptions, CreateIndexOptions, IndexDocument, IndexEmbedder, IndexSearchOptions, IndexStats, SearchHit, VectorIndex } from './types.ts';

export type {
  AddOptions,
  CreateIndexOptions,
  IndexDocument,
  IndexEmbedder,
  IndexProgress,
  IndexSearchOptions,
  IndexStats,
  SearchHit,
  VectorIndex,
  VectorStorage,
} from './types.ts';

interface Doc<M> {
  id: string;
  text: string;
  metadata: M | undefined;
  passages: PassageRange[];
  /** slot of the first passage; a document's passages hold consecutive slots */
  first: number;
}

/** Compaction runs when this many slots are tombstones, and at least a quarter of all. */
const COMPACT_MIN = 64;
const DEFAULT_PASSAGE_TOKENS = 256;

/**
 * Creates an empty index over an embedder.
 *
 * @example
 * const embedder = await createEmbedder({ model: 'multilingual-e5-small' });
 * const index = await createIndex({ embedder, storage: 'int8' });
 * await index.add([{ id: 'bread', text: 'Knead the dough for ten minutes…', metadata: { section: 'cooking' } }]);
 * const [hit] = await index.search('how long do I knead dough?');
 * hit.passage; // { index: 0, start: 0, end: 34, text: 'Knead the dough for ten minutes…' }
 */
export async function createIndex<M = unknown>(options: CreateIndexOptions): Promise<VectorIndex<M>> {
  checkOptions(options, CREATE_INDEX_RULES, 'createIndex()');
  const { embedder } = options ?? {};
  if (!embedder || typeof embedder.embed !== 'function' || typeof embedder.countTokens !== 'function' || !embedder.info) {
    throw new TypeError('createIndex needs { embedder }: an embedder from createEmbedder()');
  }
  const dimensions = checkDimensions(options.dimensions, embedder.info);
  const storage = options.storage ?? 'float32';
  if (!['float32', 'int8', 'binary'].includes(storage)) throw new RangeError(`storage must be 'float32', 'int8' or 'binary', not ${JSON.stringify(storage)}`);
  const maxTokens = embedder.info.maxTokens;
  const passageTokens = options.passageTokens ?? Math.min(DEFAULT_PASSAGE_TOKENS, maxTokens);
  if (!Number.isInteger(passageTokens) || passageTokens < 2 || passageTokens > maxTokens) {
    throw new RangeError(`passageTokens must be an integer from 2 to the model's maxTokens (${maxTokens}), got ${passageTokens}`);
  }
  const gpu = await chooseDevice(options.device ?? 'auto', embedder);
  if (gpu.device) gpu.Store = (await import('./gpu-store.ts')).GpuStore;
  return new Index<M>(embedder, dimensions, storage, options.name ?? 'default', passageTokens, gpu);
}

interface DeviceChoice {
  device?: GPUDevice;
  /** the index made the device, and destroys it on dispose (and replaces it after a loss) */
  own: boolean;
  /**
   * The GPU store's class, loaded only when there is a device: the kernels' WGSL and the GPU
   * code stay out of the page's bundle where the CPU path serves (a chunk of their own).
   */
  Store?: typeof GpuStore;
}

async function chooseDevice(request: NonNullable<CreateIndexOptions['device']>, embedder: IndexEmbedder): Promise<DeviceChoice> {
  if (typeof request === 'object' && request && 'queue' in request) return { device: request, own: false };
  // 'wasm' is the embedder's word for "not WebGPU"; the index's CPU path is a JavaScript loop, hence also 'cpu'.
  if (request === 'cpu' || request === 'wasm') return { own: false };
  if (request !== 'auto' && request !== 'webgpu') throw new RangeError(`device must be 'auto', 'webgpu', 'wasm' (or 'cpu') or a GPUDevice, not ${JSON.stringify(request)}`);
  if (request === 'auto' && embedder.info.device !== 'webgpu') return { own: false };
  const device = await newDevice();
  if (device) return { device, own: true };
  if (request === 'webgpu') {
    throw new WebGPUUnavailableError("createIndex: device 'webgpu' was requested but this page has no WebGPU adapter; use device 'auto' or 'wasm' (the same search as a JavaScript loop)");
  }
  return { own: false };
}

async function newDevice(): Promise<GPUDevice | undefined> {
  const { adapter } = await probeAdapter();
  return adapter ? requestDevice(adapter) : undefined;
}

class Index<M> implements VectorIndex<M> {
  private readonly rows: VectorRows;
  private store: VectorStore;
  private readonly docs = new Map<string, Doc<M>>();
  private slotDoc: Doc<M>[] = [];
  private readonly lock = new Mutex();
  private nextId = 0;
  private disposed = false;
  /** a store call failed half way: the store is rebuilt from the CPU rows before the next one */
  private stale = false;

  constructor(
    private readonly embedder: IndexEmbedder,
    readonly dimensions: number,
    readonly storage: VectorStorage,
    readonly name: string,
    private readonly passageTokens: number,
    private gpu: DeviceChoice,
  ) {
    this.rows = new VectorRows(dimensions);
    this.store = this.makeStore();
  }

  private makeStore(): VectorStore {
    const { device, Store } = this.gpu;
    return device && Store ? new Store(device, this.rows, this.storage) : new CpuStore(this.rows, this.storage);
  }

  get device(): 'webgpu' | 'cpu' {
    return this.store.device;
  }

  get size(): number {
    return this.docs.size;
  }

  has(id: string): boolean {
    return this.docs.has(id);
  }

  get(id: string): { id: string; text: string; metadata: M | undefined } | undefined {
    const d = this.docs.get(id);
    return d && { id: d.id, text: d.text, metadata: d.metadata };
  }

  private alive(): void {
    if (this.disposed) throw new DisposedError('this index was disposed; create a new one with createIndex()');
  }

  async add(documents: readonly (string | IndexDocument<M>)[], o: AddOptions = {}): Promise<string[]> {
    this.alive();
    checkOptions(o, ADD_RULES, 'index.add()');
    const docs = this.normalizeDocuments(documents);
    o.signal?.throwIfAborted();
    if (docs.length === 0) return [];
    const { ranges, vectors } = await embedDocuments(this.embedder, docs.map((d) => d.text), this.passageTokens, this.dimensions, o);

    return this.lock.run(async () => {
      this.alive();
      const n = vectors.length / this.dimensions;
      await this.maintain(this.rows.count + n > this.store.maxRows);
      const room = this.store.maxRows - this.rows.count;
      if (n > room) {
        throw new RangeError(
          `the index's GPU buffer holds ${this.store.maxRows} passages of this size on this device and has room for ${room} more, not ${n}: ` +
            `use storage 'int8' (4× smaller) or 'binary' (32×), fewer dimensions, or several indexes`,
        );
      }
      for (const d of docs) if (this.docs.has(d.id)) this.removeDoc(this.docs.get(d.id)!);
      const from = this.rows.count;
      this.rows.append(vectors);
      let slot = from;
      docs.forEach((d, i) => {
        const doc: Doc<M> = { ...d, passages: ranges[i]!, first: slot };
        this.docs.set(d.id, doc);
        for (let p = 0; p < doc.passages.length; p++) this.slotDoc[slot++] = doc;
      });
      this.store.liveChanged();
      await this.guard(() => this.store.append(from, this.rows.count));
      return docs.map((d) => d.id);
    }, o.signal);
  }

  private normalizeDocuments(documents: readonly (string | IndexDocument<M>)[]): { id: string; text: string; metadata: M | undefined }[] {
    if (!Array.isArray(documents)) throw new TypeError('add() takes an array of texts or of { id?, text, metadata? }');
    const seen = new Set<string>();
    return documents.map((d, i) => {
      const doc = typeof d === 'string' ? { text: d } : d;
      if (!doc || typeof doc.text !== 'string') throw new TypeError(`documents[${i}] needs a text string`);
      if (doc.id !== undefined && (typeof doc.id !== 'string' || !doc.id)) throw new TypeError(`documents[${i}].id must be a non-empty string`);
      let id = doc.id;
      while (id === undefined || (doc.id === undefined && (this.docs.has(id) || seen.has(id)))) id = String(this.nextId++);
      if (seen.has(id)) throw new RangeError(`documents[${i}] repeats the id ${JSON.stringify(id)} of an earlier document in this call`);
      seen.add(id);
      return { id, text: doc.text, metadata: doc.metadata };
    });
  }

  async search(query: string | Float32Array, o: IndexSearchOptions<M> = {}): Promise<SearchHit<M>[]> {
    this.alive();
    checkOptions(o, INDEX_SEARCH_RULES, 'index.search()');
    const topK = o.topK ?? 10;
    if (!Number.isInteger(topK) || topK < 1) throw new RangeError(`topK must be a positive integer, got ${topK}`);
    if (o.filter !== undefined && typeof o.filter !== 'function') throw new TypeError('filter must be a function (metadata, id) => boolean');
    if (o.candidates !== undefined && (!Number.isInteger(o.candidates) || o.candidates < 1)) throw new RangeError(`candidates must be a positive integer, got ${o.candidates}`);
    let q: Float32Array;
    if (typeof query === 'string') {
      const opts = { task: 'query' as const, dimensions: this.dimensions, ...(o.signal ? { signal: o.signal } : {}), ...(o.instruction !== undefined ? { instruction: o.instruction } : {}) };
      q = unit((await this.embedder.embed([query], opts))[0]!);
    } else if (query instanceof Float32Array && query.length === this.dimensions) {
      q = unit(query);
    } else {
      throw new TypeError(`search() takes a query text or a Float32Array of ${this.dimensions} values`);
    }

    return this.lock.run(async () => {
      this.alive();
      await this.maintain();
      const { allowed, count } = this.allowedSlots(o.filter);
      if (count === 0) return [];
      let k = Math.min(count, o.candidates ?? defaultCandidates(this.storage, topK));
      for (;;) {
        const found = await this.guard(() => this.store.scan(q, k, allowed, o.signal));
        const hits = this.bestPerDocument(rescore(this.rows, q, found.slots), topK);
        // a document appears once: widen the scan until topK documents, or every passage, are in
        if (hits.length >= topK || k >= count) return hits;
        k = Math.min(count, k * 2);
      }
    }, o.signal);
  }

  /** live ∧ filter over slots, or null (the live bitset) without a filter; and how many are allowed. */
  private allowedSlots(filter: IndexSearchOptions<M>['filter']): { allowed: Uint32Array | null; count: number } {
    if (!filter) return { allowed: null, count: this.rows.liveCount };
    const allowed = new Uint32Array(Math.max(1, Math.ceil(this.rows.count / 32)));
    let count = 0;
    for (const d of this.docs.values()) {
      if (!filter(d.metadata, d.id)) continue;
      for (let s = d.first; s < d.first + d.passages.length; s++) allowed[s >>> 5]! |= 1 << (s & 31);
      count += d.passages.length;
    }
    return { allowed, count };
  }

  private bestPerDocument(ranked: { slot: number; score: number }[], topK: number): SearchHit<M>[] {
    const hits: SearchHit<M>[] = [];
    const seen = new Set<Doc<M>>();
    for (const { slot, score } of ranked) {
      const doc = this.slotDoc[slot]!;
      if (seen.has(doc)) continue;
      seen.add(doc);
      const index = slot - doc.first;
      const { start, end } = doc.passages[index]!;
      hits.push({ id: doc.id, score, document: doc.text, metadata: doc.metadata, passage: { index, start, end, text: doc.text.slice(start, end) } });
      if (hits.length === topK) break;
    }
    return hits;
  }

  remove(ids: string | readonly string[]): number {
    this.alive();
    let removed = 0;
    for (const id of typeof ids === 'string' ? [ids] : ids) {
      const doc = this.docs.get(id);
      if (!doc) continue;
      this.removeDoc(doc);
      removed++;
    }
    if (removed) this.store.liveChanged();
    return removed;
  }

  /** Tombstones: the slots' live bits are cleared (the scan masks them); compaction comes later. */
  private removeDoc(doc: Doc<M>): void {
    for (let s = doc.first; s < doc.first + doc.passages.length; s++) this.rows.kill(s);
    this.docs.delete(doc.id);
  }

  /**
   * Before any work under the lock: a store whose device was lost is rebuilt from the CPU rows
   * (on a new device of the index's own, else on the CPU), and tombstones are compacted once
   * they are a quarter of the slots (or now, when `compactNow`: an add needs their room).
   */
  private async maintain(compactNow = false): Promise<void> {
    if (this.store.lost) {
      this.store.destroy();
      // a device of our own is replaced; one the page gave us cannot be: the CPU path takes over
      this.gpu = this.gpu.own ? { ...this.gpu, device: await newDevice() } : { own: false };
      this.store = this.makeStore();
      this.stale = true;
    }
    const removed = this.rows.removed;
    if ((removed >= COMPACT_MIN && removed * 4 >= this.rows.count) || (compactNow && removed > 0)) {
      const runs = this.rows.liveRuns();
      this.rows.compact(runs);
      this.renumber();
      if (!this.stale) await this.guard(() => this.store.compact(runs));
    }
    if (this.stale) {
      await this.guard(() => this.store.reset());
      this.stale = false;
    }
  }

  /** Slots after compaction: documents keep their order (the Map's, which is slot order). */
  private renumber(): void {
    this.slotDoc = [];
    let slot = 0;
    for (const d of this.docs.values()) {
      d.first = slot;
      for (let p = 0; p < d.passages.length; p++) this.slotDoc[slot++] = d;
    }
  }

  /** A store call that failed because its device was lost says so; the next call recovers. */
  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      this.stale = true;
      if (!this.store.lost) throw e;
      throw new GpuDeviceLostError(`the index's GPU device was lost (${this.store.lost}); the next call rebuilds it from the CPU rows`, { cause: e });
    }
  }

  export(): Uint8Array<ArrayBuffer> {
    this.alive();
    const d = this.dimensions;
    const vectors = new Float32Array(this.rows.liveCount * d);
    const documents: StoredDocument[] = [];
    let row = 0;
    for (const doc of this.docs.values()) {
      const n = doc.passages.length;
      vectors.set(this.rows.data.subarray(doc.first * d, (doc.first + n) * d), row * d);
      row += n;
      documents.push({ id: doc.id, text: doc.text, ...(doc.metadata !== undefined ? { metadata: doc.metadata } : {}), passages: doc.passages });
    }
    return encodeIndex({ dimensions: d, model: this.embedder.info.model, documents, vectors });
  }

  async import(blob: Uint8Array | ArrayBuffer | Blob): Promise<void> {
    this.alive();
    const bytes = blob instanceof Uint8Array ? blob : blob instanceof ArrayBuffer ? new Uint8Array(blob) : new Uint8Array(await (blob as Blob).arrayBuffer());
    const snapshot = decodeIndex(bytes);
    if (snapshot.dimensions !== this.dimensions) {
      throw new IndexFormatError(`the blob's vectors have ${snapshot.dimensions} dimensions, this index ${this.dimensions}: create the index with dimensions: ${snapshot.dimensions}`);
    }
    await this.lock.run(async () => {
      this.alive();
      this.docs.clear();
      this.rows.clear();
      this.rows.append(snapshot.vectors);
      for (const s of snapshot.documents) this.docs.set(s.id, { id: s.id, text: s.text, metadata: s.metadata as M | undefined, passages: s.passages, first: 0 });
      this.renumber();
      this.stale = false;
      await this.guard(() => this.store.reset());
    });
  }

  async save(name = this.name): Promise<void> {
    await saveBlob(name, this.export());
  }

  async load(name = this.name): Promise<boolean> {
    this.alive();
    const bytes = await loadBlob(name);
    if (!bytes) return false;
    await this.import(bytes);
    return true;
  }

  stats(): IndexStats {
    return {
      documents: this.docs.size,
      passages: this.rows.liveCount,
      removed: this.rows.removed,
      capacity: this.rows.capacity,
      device: this.store.device,
      storage: this.storage,
      dimensions: this.dimensions,
      cpuBytes: this.rows.data.byteLength,
      storeBytes: this.store.bytes,
    };
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    // after the call in flight, which still uses the buffers
    await this.lock.run(async () => undefined).catch(() => undefined);
    this.store.destroy();
    if (this.gpu.own) this.gpu.device?.destroy();
  }
}

/** Candidates rescored per search: enough that quantization's misorderings rarely cost a true top-k hit. */
function defaultCandidates(storage: VectorStorage, topK: number): number {
  if (storage === 'int8') return 4 * topK + 20;
  if (storage === 'binary') return 40 * topK + 100;
  return 2 * topK + 10;
}
