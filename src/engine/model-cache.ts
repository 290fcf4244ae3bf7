/**
 * The weight cache for a model string, as the engine opens it per load: the string read into its
 * folder, revision and preset pins (src/models/source.ts), then the cache for that folder
 * (src/cache, which knows folders and files, not model strings).
 */
import type { CachedFetchFileOptions, CacheOptions } from '../cache/options.ts';
import { cacheOptions, openFolderCache, type WeightCache } from '../cache/weight-cache.ts';
import type { HubOptions } from '../io/hub.ts';
import { resolveSource } from '../models/source.ts';

/**
 * The cache for one model, or undefined when it is off (`cache: false`, no IndexedDB here and no
 * `cache.dir`, or a local file: folder).
 * `internals` are the tests' knobs (a store of their own, a small chunk size, ...).
 *
 * @example
 * const cache = openWeightCache({ model: 'multilingual-e5-small', cache: { maxBytes: 2e9 } });
 * const model = await cache.guard(loadModel('multilingual-e5-small', { fetchFile: cache.fetchFile }));
 */
export function openWeightCache(
  o: { model: string; preset?: string; revision?: string; hub?: HubOptions; cache?: false | CacheOptions },
  internals: Partial<CachedFetchFileOptions> = {},
): WeightCache | undefined {
  const options = cacheOptions(o.cache);
  if (!options) return undefined;
  // The same folder, preset and revision the loader resolves: a hub id at two revisions is two
  // folders and two keys, never one set of files.
  const { baseUrl, preset, revision } = resolveSource(o.model, { preset: o.preset, revision: o.revision, hub: o.hub });
  // a folder on this machine's disk (Node) is read where it is: copying it into a cache saves nothing
  if (baseUrl.startsWith('file:')) return undefined;
  const sha256: Record<string, string> = {};
  for (const file of Object.values(preset?.dtypes ?? {})) {
    for (const [path, hash] of Object.entries(file?.sha256 ?? {})) sha256[new URL(path, baseUrl).href] = hash;
  }
  return openFolderCache({ baseUrl, ...(revision ? { revision } : {}), sha256 }, options, internals);
}
