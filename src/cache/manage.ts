/**
 * The cache as a user manages it: which models are stored, how big they are and when they were
 * last used; clearing one model or all; and least-recently-used eviction under a size cap. Runs on
 * any thread: IndexedDB belongs to the origin, so the main thread sees what the worker stored.
 */
import { allMetas, allModels, clearStore, deleteModel, storedBytes, type FileMeta, type UseStore } from './store.ts';

export interface CachedModel {
  /** the model folder URL (a preset's folder for a preset) */
  id: string;
  /** bytes stored, partial downloads included */
  bytes: number;
  /** files stored complete */
  files: number;
  /** when a load last used it (ms since the epoch, as Date.now()) */
  lastUsed: number;
}

/**
 * The models in a record store, most recently used first (the public listCachedModels(),
 * src/client/clear-cache.ts, picks the store).
 *
 * @example
 * for (const m of await listStoredModels(weightStore())) console.log(m.id, `${(m.bytes / 1e6).toFixed(0)} MB`, new Date(m.lastUsed));
 */
export async function listStoredModels(store: UseStore): Promise<CachedModel[]> {
  const [metas, records] = await Promise.all([allMetas(store), allModels(store)]);
  const byModel = new Map<string, CachedModel>();
  for (const m of metas) {
    const entry = byModel.get(m.model) ?? { id: m.model, bytes: 0, files: 0, lastUsed: records.get(m.model)?.lastUsed ?? m.storedAt };
    entry.bytes += storedBytes(m);
    if (m.kind === 'bytes' && m.complete) entry.files++;
    byModel.set(m.model, entry);
  }
  return [...byModel.values()].filter((m) => m.bytes > 0 || m.files > 0).sort((a, b) => b.lastUsed - a.lastUsed);
}

/**
 * Deletes a model folder's files from the weight cache (every file under `baseUrl`), or every
 * model's when `baseUrl` is undefined. The public clearCache() (src/client/clear-cache.ts) reads
 * the model string into its folder first.
 *
 * @example
 * await clearCachedFolder('https://host/models/e5-small/', weightStore());
 */
export async function clearCachedFolder(baseUrl: string | undefined, store: UseStore): Promise<void> {
  if (baseUrl === undefined) return clearStore(store);
  const keys = (await allMetas(store)).filter((m) => m.model === baseUrl || m.url.startsWith(baseUrl)).map((m) => m.key);
  await deleteModel(store, baseUrl, keys);
}

/**
 * Makes room for `needed` more bytes under `maxBytes` by deleting whole models, least recently
 * used first, never `keep` (the model being loaded). Returns whether the bytes now fit.
 */
export async function evictFor(store: UseStore, needed: number, maxBytes: number, keep: string): Promise<boolean> {
  const [metas, records] = await Promise.all([allMetas(store), allModels(store)]);
  let total = metas.reduce((n, m) => n + storedBytes(m), 0);
  if (total + needed <= maxBytes) return true;
  const byModel = new Map<string, FileMeta[]>();
  for (const m of metas) byModel.set(m.model, [...(byModel.get(m.model) ?? []), m]);
  const lru = [...byModel.keys()].filter((id) => id !== keep).sort((a, b) => lastUsed(a) - lastUsed(b));
  function lastUsed(id: string): number {
    return records.get(id)?.lastUsed ?? Math.max(...byModel.get(id)!.map((m) => m.storedAt));
  }
  for (const id of lru) {
    if (total + needed <= maxBytes) break;
    const files = byModel.get(id)!;
    await deleteModel(store, id, files.map((m) => m.key));
    total -= files.reduce((n, m) => n + storedBytes(m), 0);
  }
  return total + needed <= maxBytes;
}
