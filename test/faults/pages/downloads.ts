/**
 * Page side of the download faults: loads through the public API with the engine in this page
 * (worker: false), so the bytes onnxruntime-web receives can be hashed (InferenceSession.create is
 * wrapped), the weight cache with a small chunk size (`cache: { chunkSize }`),
 * and direct access to its IndexedDB store to damage it.
 */
import { createStore, del, get, set } from 'idb-keyval';
import { clearCache, createEmbedder, embed, releaseSharedEmbedders, type CacheOptions, type CacheStats } from '../../../src/index.ts';
import { identityModel } from '../../../src/models/onnx/identity-model.ts';
import { runtimeFor } from '../../../src/runtime/ort.ts';
import { bounded, describeOutcome, errorInfo, fixtureUrl, maxDiff, rng, sha256, type ErrorInfo } from './common.ts';

export const TEXTS = ['A man is eating food.', 'The girl is carrying a baby.'];

/** SHA-256 of every model given to onnxruntime-web in this page, in order. */
const received: { hash: string; size: number }[] = [];
let wrapped = false;
/** Wraps InferenceSession.create of the build device 'wasm' runs on (the plain wasm build, src/runtime/ort.ts). */
async function wrapOrt(): Promise<void> {
  if (wrapped) return;
  wrapped = true;
  const ort = await runtimeFor('wasm');
  const IS = ort.InferenceSession as unknown as { create: (...a: unknown[]) => Promise<unknown> };
  const create = IS.create.bind(IS);
  const warmStart = identityModel();
  IS.create = async (model: unknown, ...rest: unknown[]) => {
    // the load's warm start (src/runtime/warm-start.ts: a one-node model, no byte of the download) is not the model
    const isWarmStart = model instanceof Uint8Array && model.length === warmStart.length && model.every((b, i) => b === warmStart[i]);
    if (isWarmStart) return create(model, ...rest);
    if (model instanceof Uint8Array) received.push({ hash: await sha256(model), size: model.length });
    else if (model instanceof ArrayBuffer) received.push({ hash: await sha256(new Uint8Array(model)), size: model.byteLength });
    else received.push({ hash: `not bytes: ${typeof model}`, size: 0 });
    return create(model, ...rest);
  };
}

export interface HashedLoad {
  /** what onnxruntime-web received during this load */
  models: { hash: string; size: number }[];
  cache?: CacheStats;
  vectors: number[][];
  error?: ErrorInfo;
}

/** createEmbedder (in this page, wasm) + embed TEXTS + dispose, recording the bytes ORT got. */
export async function load(name: string, cache: false | CacheOptions = {}): Promise<HashedLoad> {
  await wrapOrt();
  const from = received.length;
  try {
    const e = await createEmbedder({ model: fixtureUrl(name), device: 'wasm', worker: false, cache });
    try {
      const v = await e.embed(TEXTS);
      return { models: received.slice(from), ...(e.info.cache ? { cache: e.info.cache } : {}), vectors: v.map((x) => Array.from(x)) };
    } finally {
      await e.dispose();
    }
  } catch (err) {
    return { models: received.slice(from), vectors: [], error: errorInfo(err) };
  }
}

/**
 * Starts a load in the library's worker and returns at once; the bytes of `file` downloaded so far
 * go to window.__progress (the tab is closed while it runs).
 */
export function startLoad(name: string, file: string, chunkSize: number): void {
  const w = window as unknown as { __progress: number; __loadError?: string };
  w.__progress = 0;
  void createEmbedder({
    model: fixtureUrl(name),
    device: 'wasm',
    cache: { chunkSize },
    onProgress: (e) => {
      if (e.status === 'progress' && e.file === file) w.__progress = e.loaded;
    },
  }).catch((e) => (w.__loadError = String(e)));
}

export function clear(name?: string): Promise<void> {
  return clearCache(name ? fixtureUrl(name) : undefined);
}

const store = () => createStore('webgpu-embed', 'weights');
const keyOf = (name: string, file: string) => new URL(file, fixtureUrl(name)).href;

export interface Meta {
  complete: boolean;
  chunks: (string | null)[];
  size: number;
  chunkSize: number;
}

export async function meta(name: string, file: string): Promise<Meta | undefined> {
  return get(['file', keyOf(name, file)], store());
}

export type Damage = 'garbage' | 'truncate' | 'longer' | 'empty' | 'missing';

/**
 * Damages chunk `index` of a stored file: random bytes of the same length ('garbage': only the
 * full check can see it), cut to a random shorter length, random bytes appended, emptied, or the
 * chunk deleted. Returns the chunk's original length.
 */
export async function damageChunk(name: string, file: string, index: number, how: Damage, seed: number): Promise<number> {
  const key = keyOf(name, file);
  const chunk = (await get(['chunk', key, index], store())) as Uint8Array | undefined;
  if (!chunk) throw new Error(`no chunk ${index} of ${key} in the store`);
  const r = rng(seed);
  const random = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
  if (how === 'missing') {
    await del(['chunk', key, index], store());
    return chunk.length;
  }
  let damaged: Uint8Array;
  if (how === 'garbage') damaged = random(chunk.length);
  else if (how === 'truncate') damaged = chunk.slice(0, Math.floor(r() * chunk.length));
  else if (how === 'longer') damaged = Uint8Array.from([...chunk, ...random(1 + Math.floor(r() * 4096))]);
  else damaged = new Uint8Array(0);
  await set(['chunk', key, index], damaged, store());
  return chunk.length;
}

/** Fills this origin's storage with junk (a database of its own) until `bytes` are stored or the quota refuses more. */
export async function fillOrigin(bytes: number): Promise<{ stored: number; refused: boolean }> {
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const r = indexedDB.open('fault-junk', 1);
    r.onupgradeneeded = () => r.result.createObjectStore('junk');
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
  let stored = 0;
  const piece = 1024 * 1024;
  try {
    for (let i = 0; stored < bytes; i++) {
      const n = Math.min(piece, bytes - stored);
      // random bytes: nothing in the stack can compress them away
      const data = new Uint8Array(n);
      for (let o = 0; o < n; o += 65536) crypto.getRandomValues(data.subarray(o, Math.min(n, o + 65536)));
      const ok = await new Promise<boolean>((resolve) => {
        const tx = db.transaction('junk', 'readwrite');
        tx.objectStore('junk').put(data, i);
        tx.oncomplete = () => resolve(true);
        tx.onerror = tx.onabort = () => resolve(false);
      });
      if (!ok) return { stored, refused: true };
      stored += n;
    }
    return { stored, refused: false };
  } finally {
    db.close();
  }
}

/** Deletes the junk (every connection to it is closed, so the delete is not blocked). */
export async function emptyJunk(): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const r = indexedDB.deleteDatabase('fault-junk');
    r.onsuccess = () => resolve();
    r.onerror = () => reject(r.error);
    r.onblocked = () => reject(new Error('deleting the junk database was blocked'));
  });
}

export async function estimate(): Promise<{ usage?: number; quota?: number }> {
  const e = await navigator.storage.estimate();
  return { usage: e.usage, quota: e.quota };
}

export interface QuotaTrial {
  /** the load that found no room: its error (or 'resolved', or a hang) */
  refused: ErrorInfo | string;
  /** embed() with cache: { onQuotaExceeded: 'memory' }: its difference from a load without the cache, or what went wrong */
  memory: number | string;
  /** what the cache holds of the model file afterwards (nothing half-stored) */
  after?: Meta;
}

/** Vectors of TEXTS from a load without the cache, in the worker. */
export async function reference(name: string): Promise<number[][]> {
  const e = await createEmbedder({ model: fixtureUrl(name), device: 'wasm', cache: false });
  try {
    return (await e.embed(TEXTS)).map((v) => Array.from(v));
  } finally {
    await e.dispose();
  }
}

/**
 * With the origin out of room (a tiny quota, or a filled origin): a load through the worker must
 * fail with StorageQuotaError; embed() with onQuotaExceeded 'memory' must answer, equal to a load
 * without the cache.
 */
export async function quotaTrial(name: string, reference: number[][]): Promise<QuotaTrial> {
  const model = fixtureUrl(name);
  const refused = await bounded(async () => {
    const e = await createEmbedder({ model, device: 'wasm' });
    await e.dispose();
  }, 60_000);
  const out: QuotaTrial = { refused: refused.ok === false ? refused.error : describeOutcome(refused), memory: '' };
  const memory = await bounded(() => embed(TEXTS, { model, device: 'wasm', cache: { onQuotaExceeded: 'memory' } }), 60_000);
  await releaseSharedEmbedders();
  if (!memory.ok || memory.ok === 'hang') out.memory = `embed() in memory mode: ${describeOutcome(memory)}`;
  else out.memory = maxDiff(memory.value, reference);
  const m = await meta(name, 'onnx/model.onnx');
  if (m) out.after = m;
  return out;
}
