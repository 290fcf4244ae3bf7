/**
 * The weight cache as an engine uses it: on by default where IndexedDB exists (browsers, workers),
 * off where it does not (Node) unless `cache.dir` names a folder for it (disk-store.ts); files keyed under the model's folder with its revision (a preset's
 * pinned commit, a hub id's revision) and a preset's SHA-256s; and a load that fails on a stored file forgets that file, so bytes the
 * loader rejected are not served again. The folder comes resolved (src/engine/model-cache.ts reads
 * the model string): the cache knows folders and files, not model strings or presets.
 */
import { ModelLoadError } from '../errors.ts';
import type { FetchFile } from '../io/types.ts';
import { createCachedFetchFile } from './cached-fetch-file.ts';
import { startChunkReader } from './chunk-reader.ts';
import type { CachedFetchFileOptions, CacheOptions, CacheStats } from './options.ts';
import { diskStore } from './disk-store.ts';
import { allMetas, deleteFile, getMeta, weightStore } from './store.ts';

export type { CacheOptions, CacheStats } from './options.ts';

export interface WeightCache {
  fetchFile: FetchFile;
  /** where the files read so far came from (a copy) */
  stats(): CacheStats;
  /**
   * Awaits a load; when it fails, the file its error names is forgotten if it came from the cache
   * (bytes the loader rejected, a remembered 404 of a required file), and so are the model's
   * remembered 404s: the next load asks the server again.
   */
  guard<T>(load: Promise<T>): Promise<T>;
}

/** A model folder as the cache keys it. */
export interface CacheFolder {
  /** the folder URL, ending in '/' */
  baseUrl: string;
  /** the folder's content version (a preset's pinned commit, a hub id's revision), part of every file's key */
  revision?: string;
  /** file URL → the SHA-256 its bytes must have (a preset's pins) */
  sha256: Record<string, string>;
}

/** The checked cache options, or undefined when the cache is off (`cache: false`, or no IndexedDB here and no `dir`). */
export function cacheOptions(cache: false | CacheOptions | undefined): CacheOptions | undefined {
  if (cache === false || (typeof indexedDB === 'undefined' && cache?.dir === undefined)) return undefined;
  return checkCacheOptions(cache ?? {});
}

/**
 * The cache for one model folder. `internals` are the tests' knobs (a store of their own, a small chunk size, ...).
 *
 * @example
 * const cache = openFolderCache({ baseUrl: 'https://host/models/e5-small/', sha256: {} }, { maxBytes: 2e9 });
 * const model = await cache.guard(loadModel('https://host/models/e5-small/', { fetchFile: cache.fetchFile }));
 */
export function openFolderCache(folder: CacheFolder, options: CacheOptions, internals: Partial<CachedFetchFileOptions> = {}): WeightCache {
  const { baseUrl, revision, sha256 } = folder;
  const store = internals.store ?? (options.dir !== undefined ? diskStore(options.dir) : weightStore());
  startChunkReader(store);
  const key = (url: string) => (revision ? `${url}@${revision}` : url);
  const fetchFile = createCachedFetchFile({
    ...options,
    model: baseUrl,
    ...(revision ? { revision } : {}),
    sha256,
    ...internals,
    store,
  });

  const forget = async (err: unknown) => {
    const url = err instanceof ModelLoadError ? err.url : undefined;
    const named = url ? await getMeta(store, key(url)) : undefined;
    if (named?.complete) await deleteFile(store, named.key);
    const remembered = (await allMetas(store)).filter((m) => m.model === baseUrl && m.kind !== 'bytes');
    for (const m of remembered) await deleteFile(store, m.key);
  };

  return {
    fetchFile,
    stats: () => ({ ...fetchFile.stats }),
    guard: async (load) => {
      try {
        return await load;
      } catch (err) {
        await forget(err).catch(() => {});
        throw err;
      }
    },
  };
}

function checkCacheOptions(c: CacheOptions): CacheOptions {
  if (typeof c !== 'object' || c === null) throw new TypeError(`cache must be false or an object of options, got ${JSON.stringify(c)}.`);
  if (c.maxBytes !== undefined && !(typeof c.maxBytes === 'number' && c.maxBytes >= 0)) {
    throw new RangeError(`cache.maxBytes must be a number of bytes (>= 0), got ${JSON.stringify(c.maxBytes)}.`);
  }
  if (c.verify !== undefined && c.verify !== 'size' && c.verify !== 'full') {
    throw new RangeError(`cache.verify must be 'size' or 'full', got ${JSON.stringify(c.verify)}.`);
  }
  if (c.chunkSize !== undefined && !(Number.isSafeInteger(c.chunkSize) && c.chunkSize >= 1024)) {
    throw new RangeError(`cache.chunkSize must be a whole number of bytes (at least 1024), got ${JSON.stringify(c.chunkSize)}.`);
  }
  if (c.dir !== undefined && (typeof c.dir !== 'string' || c.dir.trim() === '')) {
    throw new TypeError(`cache.dir must be a folder path (Node), got ${JSON.stringify(c.dir)}.`);
  }
  if (c.onQuotaExceeded !== undefined && c.onQuotaExceeded !== 'error' && c.onQuotaExceeded !== 'memory') {
    throw new RangeError(`cache.onQuotaExceeded must be 'error' or 'memory', got ${JSON.stringify(c.onQuotaExceeded)}.`);
  }
  return c;
}
