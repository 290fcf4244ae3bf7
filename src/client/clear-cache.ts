/**
 * The weight cache as an app manages it, on the main thread (IndexedDB belongs to the origin, so
 * it sees what the worker stored) or in Node (a `cache.dir` folder): which models are stored, and
 * clearing one or all. A model string is read into its folder (src/models/source.ts), then that
 * folder's files deleted (src/cache, which knows folders and files, not model strings). A module of
 * its own, so the page's bundle does not take in the cached FetchFile that only the engine uses.
 */
import { diskStore } from '../cache/disk-store.ts';
import { clearCachedFolder, listStoredModels, type CachedModel } from '../cache/manage.ts';
import { weightStore, type UseStore } from '../cache/store.ts';
import { resolveSource } from '../models/source.ts';

/** Which weight cache: the origin's IndexedDB (default), or in Node a folder (`cache: { dir }`, the CLI's --cache-dir). */
export interface CacheLocation {
  /** Node: the folder a load's `cache: { dir }` named */
  dir?: string;
}

function storeAt(where: CacheLocation = {}): UseStore {
  if (typeof where !== 'object' || where === null) throw new TypeError(`the cache location must be an object { dir? }, got ${JSON.stringify(where)}`);
  return where.dir !== undefined ? diskStore(where.dir) : weightStore();
}

/**
 * The models in the weight cache, most recently used first.
 *
 * @example
 * for (const m of await listCachedModels()) console.log(m.id, `${(m.bytes / 1e6).toFixed(0)} MB`, new Date(m.lastUsed));
 * await listCachedModels({ dir: '/home/me/.cache/webgpu-embed/models' }); // Node
 */
export function listCachedModels(where?: CacheLocation): Promise<CachedModel[]> {
  return listStoredModels(storeAt(where));
}

/**
 * Deletes a model's files from the weight cache (a model folder URL, a preset id, or a hub id,
 * read with configureHub()'s settings), or every model when none is given. A load in progress elsewhere finds the files gone and fetches them again.
 *
 * @example
 * await clearCache('multilingual-e5-small'); // one model
 * await clearCache('Xenova/all-MiniLM-L6-v2@main'); // a hub id at a revision ('main' when none)
 * await clearCache();                        // everything
 * await clearCache(undefined, { dir: '/home/me/.cache/webgpu-embed/models' }); // Node: a cache folder
 */
export function clearCache(model?: string, where?: CacheLocation): Promise<void> {
  return clearModel(model, storeAt(where));
}

/** clearCache() on a given record store (the tests' own). */
export async function clearModel(model: string | undefined, store: UseStore): Promise<void> {
  return clearCachedFolder(model === undefined ? undefined : resolveSource(model).baseUrl, store);
}
