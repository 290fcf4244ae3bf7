/**
 * The weight cache under the loader and the engine, in Node over fake-indexeddb (so the cache is
 * on, as in a browser): a fixture model folder loads once over HTTP and then with no request at
 * all, optional files included; a file the loader rejects is not served again; the engine's info
 * says where the files came from, and the embeddings are the same either way.
 */
import 'fake-indexeddb/auto';
import { createStore } from 'idb-keyval';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getMeta } from '../../src/cache/store.ts';
import { openWeightCache } from '../../src/engine/model-cache.ts';
import { expose, wrap } from 'comlink';
import { ModelLoadError, StorageQuotaError } from '../../src/errors.ts';
import { quotaError } from '../../src/cache/quota.ts';
import { registerTransferHandlers } from '../../src/worker/protocol.ts';
import { loadModel, type LoadProgress } from '../../src/models/folder.ts';
import { createEmbedder, listCachedModels, clearCache } from '../../src/index.ts';
import { sha256, startRangeServer, type RangeServer } from './helpers/range-server.ts';

let server: RangeServer;

beforeAll(async () => {
  server = await startRangeServer();
});
afterAll(async () => {
  await server.close();
});

describe('loadModel through the cache', () => {
  it('loads a folder once over HTTP, then with zero requests (remembered 404s included) and the same bytes', async () => {
    const store = createStore('loader-1', 'weights');
    const folder = server.url('/models/tiny-e5/');
    // an optional file the folder lacks
    server.files.set('/models/tiny-e5/sentence_bert_config.json', { status: 404, body: new TextEncoder().encode('Entry not found') });
    const first = openWeightCache({ model: folder }, { store, chunkSize: 1 << 20 })!;
    const a = await first.guard(loadModel(folder, { fetchFile: first.fetchFile }));
    const asked = server.requestsFor('/models/tiny-e5/');
    expect(asked.length).toBeGreaterThanOrEqual(4);
    expect(asked.some((r) => r.status === 404)).toBe(true); // the folder lacks some optional files
    expect(first.stats()).toMatchObject({ hits: 0, bytesFromCache: 0 });

    server.log.length = 0;
    const events: LoadProgress[] = [];
    const second = openWeightCache({ model: folder }, { store, chunkSize: 1 << 20 })!;
    const b = await second.guard(loadModel(folder, { fetchFile: second.fetchFile, onProgress: (e) => events.push(e) }));
    expect(server.log).toEqual([]);
    expect(sha256(b.onnx)).toBe(sha256(a.onnx)); // (toEqual on 4 MB of bytes takes seconds)
    expect(b.spec).toEqual(a.spec);
    expect(second.stats()).toMatchObject({ misses: 0, bytesFromNetwork: 0, bytesFromCache: first.stats().bytesFromNetwork });
    expect(second.stats().hits).toBe(first.stats().misses);
    // reading from the cache reports progress like a download does, each file a 'cache_hit', none a 'download'
    const onnx = events.filter((e) => e.status === 'progress' && e.file === 'onnx/model.onnx');
    expect(onnx.at(-1)).toMatchObject({ loaded: a.onnx.length, total: a.onnx.length, progress: 100 });
    const done = events.flatMap((e) => (e.status === 'done' && !e.missing ? [e.file] : []));
    expect(done.length).toBeGreaterThan(3);
    expect(events.flatMap((e) => (e.status === 'cache_hit' ? [e.file] : [])).sort()).toEqual([...done].sort());
    expect(events.some((e) => e.status === 'download')).toBe(false);
    server.files.clear();
  });

  it('forgets a stored file the loader rejected, so the next load asks the server again', async () => {
    const store = createStore('loader-2', 'weights');
    const folder = server.url('/models/tiny-e5/');
    const onnxUrl = `${folder}onnx/model.onnx`;
    server.files.set('/models/tiny-e5/onnx/model.onnx', { body: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]) });
    const cache = openWeightCache({ model: folder }, { store })!;
    await expect(cache.guard(loadModel(folder, { fetchFile: cache.fetchFile }))).rejects.toBeInstanceOf(ModelLoadError);
    expect(await getMeta(store, onnxUrl)).toBeUndefined();

    server.files.delete('/models/tiny-e5/onnx/model.onnx');
    server.log.length = 0;
    const again = openWeightCache({ model: folder }, { store })!;
    await again.guard(loadModel(folder, { fetchFile: again.fetchFile }));
    expect(server.requestsFor('/models/tiny-e5/onnx/model.onnx')).toHaveLength(1);
  });

  it('is off with cache: false, and refuses options it does not know', () => {
    expect(openWeightCache({ model: 'https://x/m/', cache: false })).toBeUndefined();
    expect(() => openWeightCache({ model: 'https://x/m/', cache: { verify: 'sha' as 'full' } })).toThrow(/cache\.verify must be 'size' or 'full'/);
    expect(() => openWeightCache({ model: 'https://x/m/', cache: { maxBytes: -1 } })).toThrow(/cache\.maxBytes/);
  });
});

describe('the engine with the cache on (in-process, wasm)', () => {
  it('says where a load came from, and a warm load gives the same vectors with no request', async () => {
    const folder = server.url('/models/tiny-e5/');
    server.log.length = 0;
    const cold = await createEmbedder({ model: folder, worker: false });
    const coldInfo = cold.info.cache!;
    expect(coldInfo.misses).toBeGreaterThan(0);
    expect(coldInfo.bytesFromNetwork).toBeGreaterThan(4_000_000);
    const v1 = await cold.embed(['hello cache'], { task: 'query' });
    await cold.dispose();

    server.log.length = 0;
    const warm = await createEmbedder({ model: folder, worker: false });
    expect(server.log).toEqual([]);
    expect(warm.info.cache).toEqual({ hits: coldInfo.misses, misses: 0, bytesFromNetwork: 0, bytesFromCache: coldInfo.bytesFromNetwork });
    const v2 = await warm.embed(['hello cache'], { task: 'query' });
    expect(Array.from(v2[0]!)).toEqual(Array.from(v1[0]!));
    await warm.dispose();

    expect((await listCachedModels()).map((m) => m.id)).toEqual([folder]);
    const off = await createEmbedder({ model: folder, worker: false, cache: false });
    expect(off.info.cache).toBeUndefined();
    await off.dispose();
    await clearCache(folder);
    expect(await listCachedModels()).toEqual([]);
  });
});

describe('StorageQuotaError across the worker boundary', () => {
  it('keeps its class, its message and the bytes needed and available', async () => {
    registerTransferHandlers();
    const { port1, port2 } = new MessageChannel();
    expose({ fail: () => Promise.reject(quotaError('https://x/m/onnx/model.onnx', 600e6, 100e6)) }, port1 as unknown as Worker);
    const remote = wrap<{ fail(): Promise<void> }>(port2 as unknown as Worker);
    const e = await remote.fail().catch((x: unknown) => x);
    port1.close();
    port2.close();
    expect(e).toBeInstanceOf(StorageQuotaError);
    expect(e).toMatchObject({ needed: 600e6, available: 100e6, url: 'https://x/m/onnx/model.onnx' });
    expect((e as Error).message).toMatch(/needs 600\.0 MB and 100\.0 MB is available/);
  });
});
