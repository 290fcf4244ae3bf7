/**
 * The weight cache's options: the public ones an app passes (`createEmbedder({ cache: { ... } })`,
 * plain data, so they cross to the worker as they are), what a load reports, and the knobs the
 * engine and the tests add.
 */
import type { LockManagerLike } from './locks.ts';
import type { StorageManagerLike } from './quota.ts';
import type { UseStore } from './store.ts';

/** The weight cache's options, as an app passes them (`createEmbedder({ cache: { ... } })`). */
export interface CacheOptions {
  /** keep the cache under this many bytes by deleting the least recently used models first */
  maxBytes?: number;
  /** ask the server whether each file changed (If-None-Match with the stored ETag; 304 keeps the cache): one small request per file */
  revalidate?: boolean;
  /** 'size' (default) checks every stored chunk's length on read; 'full' also its SHA-256 */
  verify?: 'size' | 'full';
  /** ask the browser to keep the cache under storage pressure (navigator.storage.persist(), from the main thread) */
  persist?: boolean;
  /** when storage is short: 'error' (default) throws StorageQuotaError; 'memory' loads the model without caching it */
  onQuotaExceeded?: 'error' | 'memory';
  /**
   * bytes per stored chunk (default 16 MiB): a cut download resumes from its last whole chunk, and
   * each chunk has its own SHA-256; smaller chunks lose less on a cut and cost more records
   */
  chunkSize?: number;
  /**
   * Node: keep the cache in this folder (files, chunks and records, as src/cache/disk-store.ts
   * lays them out) instead of IndexedDB, which Node lacks; the CLI's --cache-dir. Without it, Node
   * loads have no cache. Not for browsers.
   */
  dir?: string;
}

/** Where one load's files came from. */
export interface CacheStats {
  /** files served from the cache (no download) */
  hits: number;
  /** files that needed the network (downloaded, resumed or repaired) */
  misses: number;
  bytesFromNetwork: number;
  bytesFromCache: number;
}

/** The engine's and the tests' knobs besides the public options. */
export interface CachedFetchFileOptions extends CacheOptions {
  /** the model folder the files belong to (listing, clearing, eviction); each file's directory by default */
  model?: string;
  /** a preset's pinned revision: part of every key */
  revision?: string;
  /** SHA-256 (hex) that files must have, by absolute URL */
  sha256?: Record<string, string>;
  store?: UseStore;
  fetch?: typeof fetch;
  /** Web Locks stand-in; navigator.locks, else an in-process lock, by default */
  locks?: LockManagerLike;
  /** navigator.storage stand-in; null: none */
  storage?: StorageManagerLike | null;
  /** how many times one call resumes a cut download before giving up (default 2) */
  retries?: number;
}
