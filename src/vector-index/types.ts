/**
 * The vector index's public types: createIndex()'s options, documents, hits, and the index's
 * interface (index.ts implements it).
 */
import type { Embedder } from '../client/embedder.ts';
import type { VectorStorage } from '../reference/index-score.ts';

export type { VectorStorage };

/** What the index needs of an embedder (createEmbedder() gives one). */
export type IndexEmbedder = Pick<Embedder, 'info' | 'embed' | 'countTokens'>;

export interface CreateIndexOptions {
  embedder: IndexEmbedder;
  /** Matryoshka size the passages and queries are embedded at; the model's full width by default */
  dimensions?: number;
  /** how vectors are kept for scanning: 'float32' (default), 'int8' (4× smaller) or 'binary' (32×, Hamming); candidates are rescored in float32 */
  storage?: VectorStorage;
  /**
   * Where the scan runs. 'auto' (default): WebGPU when the embedder runs on WebGPU, else the CPU;
   * 'webgpu'; 'wasm' (the embedder's word: no GPU) or its alias 'cpu' (what runs: a JavaScript
   * loop on the CPU), so one device setting serves embedder and index; or a GPUDevice to share.
   * `index.device` reports 'webgpu' or 'cpu'.
   */
  device?: 'auto' | 'webgpu' | 'wasm' | 'cpu' | GPUDevice;
  /** the key save() and load() use in IndexedDB (default 'default') */
  name?: string;
  /** most tokens in one passage, prompt and special tokens included (default min(256, the model's maxTokens)) */
  passageTokens?: number;
}

export interface IndexDocument<M = unknown> {
  /** left out: the index makes one ('0', '1', …); an id already in the index is replaced */
  id?: string;
  text: string;
  /** anything JSON can hold: returned with hits, seen by filters, written by export() */
  metadata?: M;
}

/** index.add()'s progress, in the shape of the embedder's 'embed' events, counted over all passages of the call. */
export interface IndexProgress {
  status: 'embed';
  /** the embedder's model (its info.model) */
  name: string;
  /** passages embedded so far, of `total` */
  done: number;
  total: number;
  /** 0–100 */
  progress: number;
}

export interface AddOptions {
  signal?: AbortSignal;
  onProgress?: (e: IndexProgress) => void;
  /** passages per embed() call (default 256) */
  batchSize?: number;
}

export interface IndexSearchOptions<M = unknown> {
  /** documents returned (default 10) */
  topK?: number;
  /** keeps the documents it returns true for; evaluated once per document, before the scan */
  filter?: (metadata: M | undefined, id: string) => boolean;
  signal?: AbortSignal;
  /** the query instruction, for instruction-aware models */
  instruction?: string;
  /** passages rescored in full precision (default by storage: float32 2·topK + 10, int8 4·topK + 20, binary 40·topK + 100) */
  candidates?: number;
}

/** One document, found by its best passage. */
export interface SearchHit<M = unknown> {
  id: string;
  /** cosine of the query and the passage, in full precision */
  score: number;
  /** the document's whole text */
  document: string;
  metadata: M | undefined;
  /** the passage that matched: document.slice(start, end) is its text */
  passage: { index: number; start: number; end: number; text: string };
}

export interface IndexStats {
  documents: number;
  passages: number;
  /** removed passages still holding a slot (masked in the scan until compaction) */
  removed: number;
  /** slots the CPU rows have room for */
  capacity: number;
  device: 'webgpu' | 'cpu';
  storage: VectorStorage;
  dimensions: number;
  /** full-precision rows on the CPU */
  cpuBytes: number;
  /** GPU buffers (webgpu), or int8 / binary codes (cpu) */
  storeBytes: number;
}

export interface VectorIndex<M = unknown> {
  readonly dimensions: number;
  readonly storage: VectorStorage;
  /** where the scan runs */
  readonly device: 'webgpu' | 'cpu';
  readonly name: string;
  /** documents in the index */
  readonly size: number;
  add(documents: readonly (string | IndexDocument<M>)[], options?: AddOptions): Promise<string[]>;
  search(query: string | Float32Array, options?: IndexSearchOptions<M>): Promise<SearchHit<M>[]>;
  /** removes documents by id; returns how many were there */
  remove(ids: string | readonly string[]): number;
  has(id: string): boolean;
  get(id: string): { id: string; text: string; metadata: M | undefined } | undefined;
  /** writes the index to IndexedDB under `name` (default: the index's name) */
  save(name?: string): Promise<void>;
  /** replaces the index's contents with the one saved under `name`; false when there is none */
  load(name?: string): Promise<boolean>;
  /** the index as one binary blob (format.ts): ship it next to a site's pages, import() it there */
  export(): Uint8Array<ArrayBuffer>;
  /** replaces the index's contents with an exported blob */
  import(blob: Uint8Array | ArrayBuffer | Blob): Promise<void>;
  stats(): IndexStats;
  /** frees the GPU buffers (and the index's own GPUDevice), once the call in flight is done */
  dispose(): Promise<void>;
}
