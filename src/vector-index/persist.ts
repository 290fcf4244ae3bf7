/**
 * Saved indexes in IndexedDB: their own database and store (idb-keyval's createStore), one
 * entry per index name holding the export blob's bytes, so save() / load() and export() /
 * import() share one format.
 */
import { createStore, del, get, keys, set, type UseStore } from 'idb-keyval';

const DB_NAME = 'webgpu-embed-indexes';
const STORE_NAME = 'indexes';

let store: UseStore | undefined;
const indexStore = (): UseStore => (store ??= createStore(DB_NAME, STORE_NAME));

export async function saveBlob(name: string, bytes: Uint8Array): Promise<void> {
  // the exact bytes, as their own ArrayBuffer (a view's larger buffer would be stored whole)
  await set(name, bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes.buffer : bytes.slice().buffer, indexStore());
}

export async function loadBlob(name: string): Promise<Uint8Array | undefined> {
  const v = await get<ArrayBuffer>(name, indexStore());
  return v ? new Uint8Array(v) : undefined;
}

/**
 * The names of the indexes saved in this origin (by index.save()).
 *
 * @example
 * if ((await listSavedIndexes()).includes('docs')) await index.load('docs');
 */
export async function listSavedIndexes(): Promise<string[]> {
  return (await keys(indexStore())).map(String);
}

/**
 * Deletes a saved index (nothing happens when there is none by that name).
 *
 * @example
 * await deleteSavedIndex('docs');
 */
export async function deleteSavedIndex(name: string): Promise<void> {
  await del(name, indexStore());
}
