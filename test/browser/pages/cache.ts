/**
 * Page-side helpers for the weight cache tests: loads through the public API (engine in its
 * worker), the management API, and direct access to the cache's IndexedDB store to damage it.
 */
import { createStore, get, set } from 'idb-keyval';
import { clearCache, createEmbedder, listCachedModels, type CacheOptions, type CacheStats, type CachedModel } from '../../../src/index.ts';
import { fixtureUrl } from './embed.ts';

export const TEXTS = ['A man is eating food.', 'A man is eating a piece of bread.', 'The girl is carrying a baby.'];

export interface CachedLoad {
  cache: CacheStats | undefined;
  vectors: number[][];
  /** createEmbedder() until the first vectors are back */
  ms: number;
  error?: { name: string; message: string };
}

/** Creates an embedder (worker, wasm), embeds TEXTS, disposes. */
export async function load(name: string, cache?: false | CacheOptions, dtype?: 'fp32'): Promise<CachedLoad> {
  const t0 = performance.now();
  try {
    // The test driver sends an argument left out as null (JSON); null is no cache option.
    const e = await createEmbedder({ model: fixtureUrl(name), device: 'wasm', ...(cache != null ? { cache } : {}), ...(dtype ? { dtype } : {}) });
    const v = await e.embed(TEXTS);
    const ms = performance.now() - t0;
    await e.dispose();
    return { cache: e.info.cache, vectors: v.map((x) => Array.from(x)), ms };
  } catch (err) {
    const e = err as Error;
    return { cache: undefined, vectors: [], ms: performance.now() - t0, error: { name: e.name, message: e.message } };
  }
}

/** Starts a load and returns at once; its progress goes to window.__progress (bytes of the file named). */
export function startLoad(name: string, file: string, dtype?: 'fp32'): void {
  const w = window as unknown as { __progress: number };
  w.__progress = 0;
  void createEmbedder({
    model: fixtureUrl(name),
    device: 'wasm',
    ...(dtype ? { dtype } : {}),
    onProgress: (e) => {
      if (e.status === 'progress' && e.file === file) w.__progress = e.loaded;
    },
  }).catch(() => {});
}

export function list(): Promise<CachedModel[]> {
  return listCachedModels();
}

export function clear(model?: string): Promise<void> {
  return clearCache(model);
}

const store = () => createStore('webgpu-embed', 'weights');

/** Damages chunk `index` of a stored file of a fixture: flips a byte, or cuts it short. */
export async function damageChunk(name: string, file: string, index: number, how: 'flip' | 'truncate'): Promise<number> {
  const key = new URL(file, fixtureUrl(name)).href;
  const chunk = (await get(['chunk', key, index], store())) as Uint8Array | undefined;
  if (!chunk) throw new Error(`no chunk ${index} of ${key} in the store`);
  const damaged = how === 'flip' ? chunk.slice() : chunk.slice(0, chunk.length >> 1);
  if (how === 'flip') damaged[1234] = damaged[1234]! ^ 0x55;
  await set(['chunk', key, index], damaged, store());
  return chunk.length;
}

/** The stored record of a fixture's file (for checks). */
export async function meta(name: string, file: string): Promise<{ complete: boolean; chunks: (string | null)[]; size: number } | undefined> {
  return get(['file', new URL(file, fixtureUrl(name)).href], store());
}

/** load(), counting the calls to navigator.storage.persist() it makes. */
export async function loadCountingPersist(name: string, cache: CacheOptions): Promise<{ asked: number; persisted: boolean; error?: unknown }> {
  const storage = navigator.storage;
  const original = storage.persist.bind(storage);
  let asked = 0;
  storage.persist = () => (asked++, original());
  try {
    const r = await load(name, cache);
    return { asked, persisted: await storage.persisted(), ...(r.error ? { error: r.error } : {}) };
  } finally {
    storage.persist = original;
  }
}
