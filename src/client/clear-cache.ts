/**
 * clearCache() on the main thread (IndexedDB belongs to the origin, so it sees what the worker
 * stored): the model string read into its folder (src/models/source.ts), then that folder's files
 * deleted (src/cache, which knows folders and files, not model strings). A module of its own, so
 * the page's bundle does not take in the cached FetchFile that only the engine uses.
 */
import { clearCachedFolder } from '../cache/manage.ts';
import { weightStore, type UseStore } from '../cache/store.ts';
import { resolveSource } from '../models/source.ts';

/**
 * Deletes a model's files from the weight cache (a model folder URL, a preset id, or a hub id,
 * read with configureHub()'s settings), or every model when none is given. A load in progress elsewhere finds the files gone and fetches them again.
 *
 * @example
 * await clearCache('multilingual-e5-small'); // one model
 * await clearCache('Xenova/all-MiniLM-L6-v2@main'); // a hub id at a revision ('main' when none)
 * await clearCache();                        // everything
 */
export async function clearCache(model?: string, store: UseStore = weightStore()): Promise<void> {
  return clearCachedFolder(model === undefined ? undefined : resolveSource(model).baseUrl, store);
}
