/**
 * The weight store's layout: one IndexedDB database ('webgpu-embed') with one object store
 * ('weights'), through idb-keyval's createStore. Keys are arrays, so that one key range covers a
 * file's chunks or all file records:
 *
 *   ['file', key]          FileMeta: what the file is, its size, a SHA-256 per stored chunk
 *   ['chunk', key, index]  Uint8Array: bytes [index * chunkSize, (index + 1) * chunkSize) of the file
 *   ['model', folderUrl]   ModelRecord: when the model was last used (for listing and LRU eviction)
 *
 * `key` is the file's URL, with '@' and the preset's pinned revision when there is one. A chunk
 * and the meta that lists it are written in one transaction, and `complete` is set only once every
 * chunk is in: a reader never sees a file that claims bytes it does not have.
 */
import { createStore, promisifyRequest, type UseStore as IdbStore } from 'idb-keyval';

/**
 * The same records kept elsewhere than IndexedDB, with the same atomicity (a meta never lists a
 * chunk that is not there): a folder on the disk in Node (disk-store.ts). The functions below take
 * either and answer alike, so the cache's rules (chunk hashes, complete last, pins, resumes) are
 * written once for both.
 */
export interface RecordStore {
  getMeta(key: string): Promise<FileMeta | undefined>;
  putMeta(meta: FileMeta): Promise<void>;
  putChunk(meta: FileMeta, index: number, bytes: Uint8Array): Promise<void>;
  getChunk(key: string, index: number): Promise<Uint8Array | undefined>;
  deleteFile(key: string): Promise<void>;
  dropChunks(meta: FileMeta, indices: number[]): Promise<void>;
  allMetas(): Promise<FileMeta[]>;
  allModels(): Promise<Map<string, ModelRecord>>;
  touchModel(model: string, when: number): Promise<void>;
  deleteModel(model: string, keys: string[]): Promise<void>;
  clear(): Promise<void>;
}

/** Where the cache keeps its records: an idb-keyval store (IndexedDB), or a RecordStore. */
export type UseStore = IdbStore | RecordStore;

export const DB_NAME = 'webgpu-embed';
export const STORE_NAME = 'weights';

export interface FileMeta {
  /** the store key: the URL, plus '@revision' when a preset pins one */
  key: string;
  url: string;
  /** the model folder URL the file belongs to (ends in '/') */
  model: string;
  /** 'bytes': a file in chunks; 'missing': the server answered 404; 'html': it answered a web page */
  kind: 'bytes' | 'missing' | 'html';
  /** the file's size in bytes (0 for 'missing' and 'html') */
  size: number;
  chunkSize: number;
  /** SHA-256 (hex) of each chunk; null where the chunk is not stored (yet) */
  chunks: (string | null)[];
  /** every chunk is stored (and the pinned SHA-256, if any, matched) */
  complete: boolean;
  /** validators from the response that brought the bytes: for Range resumes and revalidation */
  etag?: string;
  lastModified?: string;
  /** the server said Accept-Ranges: bytes */
  ranges: boolean;
  /** the whole file's SHA-256 (hex), checked against a preset's pin before the file was marked complete */
  sha256?: string;
  /** the content type of an 'html' answer */
  contentType?: string;
  storedAt: number;
}

export interface ModelRecord {
  lastUsed: number;
}

let defaultStore: IdbStore | undefined;

/** The database and object store behind each store made by `idbStore` (the chunk reader opens the same one in its worker). */
const idbNames = new WeakMap<IdbStore, IdbNames>();

export interface IdbNames {
  db: string;
  store: string;
}

/** An idb-keyval store whose names are remembered, so that chunk-reader.ts can read its chunks in a worker of its own. */
export function idbStore(db: string, store: string): IdbStore {
  const s = createStore(db, store);
  idbNames.set(s, { db, store });
  return s;
}

/** The names of a store made by `idbStore`; undefined for any other store. */
export function idbStoreNames(store: UseStore): IdbNames | undefined {
  return typeof store === 'function' ? idbNames.get(store) : undefined;
}

/** The library's store (created on first use; idb-keyval opens the database lazily). */
export function weightStore(): IdbStore {
  return (defaultStore ??= idbStore(DB_NAME, STORE_NAME));
}

const fileKey = (key: string) => ['file', key];
const chunkKey = (key: string, index: number) => ['chunk', key, index];
const modelKey = (model: string) => ['model', model];
// Array keys sort element by element, numbers before strings before arrays: [p, []] bounds every key that starts with p.
const prefix = (...p: IDBValidKey[]) => IDBKeyRange.bound(p, [...p, []]);

export function getMeta(store: UseStore, key: string): Promise<FileMeta | undefined> {
  if (typeof store !== 'function') return store.getMeta(key);
  return store('readonly', (s) => promisifyRequest(s.get(fileKey(key))));
}

export function putMeta(store: UseStore, meta: FileMeta): Promise<void> {
  if (typeof store !== 'function') return store.putMeta(meta);
  return store('readwrite', (s) => {
    s.put(meta, fileKey(meta.key));
    return promisifyRequest(s.transaction).then(() => undefined);
  });
}

/** One chunk and the meta that lists it, atomically. `bytes` must own its buffer (a put clones the whole underlying ArrayBuffer). */
export function putChunk(store: UseStore, meta: FileMeta, index: number, bytes: Uint8Array): Promise<void> {
  if (typeof store !== 'function') return store.putChunk(meta, index, bytes);
  return store('readwrite', (s) => {
    s.put(bytes, chunkKey(meta.key, index));
    s.put(meta, fileKey(meta.key));
    return promisifyRequest(s.transaction).then(() => undefined);
  });
}

export function getChunk(store: UseStore, key: string, index: number): Promise<unknown> {
  if (typeof store !== 'function') return store.getChunk(key, index);
  return store('readonly', (s) => promisifyRequest(s.get(chunkKey(key, index))));
}

/** Removes a file: its meta and every chunk, in one transaction. */
export function deleteFile(store: UseStore, key: string): Promise<void> {
  if (typeof store !== 'function') return store.deleteFile(key);
  return store('readwrite', (s) => {
    s.delete(fileKey(key));
    s.delete(prefix('chunk', key));
    return promisifyRequest(s.transaction).then(() => undefined);
  });
}

/** Drops some chunks of a file and writes its meta (which no longer lists them), in one transaction. */
export function dropChunks(store: UseStore, meta: FileMeta, indices: number[]): Promise<void> {
  if (typeof store !== 'function') return store.dropChunks(meta, indices);
  return store('readwrite', (s) => {
    for (const i of indices) s.delete(chunkKey(meta.key, i));
    s.put(meta, fileKey(meta.key));
    return promisifyRequest(s.transaction).then(() => undefined);
  });
}

/** Every file record (small: no chunk bytes are read). */
export function allMetas(store: UseStore): Promise<FileMeta[]> {
  if (typeof store !== 'function') return store.allMetas();
  return store('readonly', (s) => promisifyRequest(s.getAll(prefix('file')) as IDBRequest<FileMeta[]>));
}

/** Every model record, by folder URL. */
export async function allModels(store: UseStore): Promise<Map<string, ModelRecord>> {
  if (typeof store !== 'function') return store.allModels();
  const [keys, values] = await store('readonly', (s) =>
    Promise.all([promisifyRequest(s.getAllKeys(prefix('model'))), promisifyRequest(s.getAll(prefix('model')) as IDBRequest<ModelRecord[]>)]),
  );
  return new Map(keys.map((k, i) => [(k as string[])[1]!, values[i]!]));
}

export function touchModel(store: UseStore, model: string, when = Date.now()): Promise<void> {
  if (typeof store !== 'function') return store.touchModel(model, when);
  return store('readwrite', (s) => {
    s.put({ lastUsed: when } satisfies ModelRecord, modelKey(model));
    return promisifyRequest(s.transaction).then(() => undefined);
  });
}

/** Removes a model: its record and the given files with their chunks, in one transaction. */
export function deleteModel(store: UseStore, model: string, keys: string[]): Promise<void> {
  if (typeof store !== 'function') return store.deleteModel(model, keys);
  return store('readwrite', (s) => {
    s.delete(modelKey(model));
    for (const key of keys) {
      s.delete(fileKey(key));
      s.delete(prefix('chunk', key));
    }
    return promisifyRequest(s.transaction).then(() => undefined);
  });
}

export function clearStore(store: UseStore): Promise<void> {
  if (typeof store !== 'function') return store.clear();
  return store('readwrite', (s) => {
    s.clear();
    return promisifyRequest(s.transaction).then(() => undefined);
  });
}

/** Bytes a file holds in the store now (its stored chunks). */
export function storedBytes(meta: FileMeta): number {
  if (meta.kind !== 'bytes') return 0;
  let n = 0;
  meta.chunks.forEach((hash, i) => {
    if (hash !== null) n += Math.min(meta.chunkSize, meta.size - i * meta.chunkSize);
  });
  return n;
}
