/**
 * Proves that page code can use the library's runtime dependencies by their bare names, as
 * the library's own modules will (Vite resolves them to node_modules; nothing pre-bundled).
 */
import * as Comlink from 'comlink';
import { createStore, get, set } from 'idb-keyval';
import { Tokenizer } from '@huggingface/tokenizers';

export async function bareImports(): Promise<Record<string, string>> {
  const store = createStore('harness-check', 'kv');
  await set('k', 42, store);
  return {
    comlink: typeof Comlink.wrap,
    idbKeyval: String(await get('k', store)),
    tokenizers: typeof Tokenizer,
  };
}
