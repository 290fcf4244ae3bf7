/**
 * The weight cache (src/cache) in Node over fake-indexeddb, against a local HTTP server that
 * counts requests and honours Range: chunked storage, reads with no request, integrity failures
 * detected and repaired, resumed downloads, servers without Range, quota, LRU eviction, stale
 * revisions, remembered 404s, and one download for concurrent loads.
 */
import 'fake-indexeddb/auto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStore, get, set } from 'idb-keyval';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCachedFetchFile } from '../../src/cache/cached-fetch-file.ts';
import type { CachedFetchFileOptions } from '../../src/cache/options.ts';
import type { LockManagerLike } from '../../src/cache/locks.ts';
import { listStoredModels as listCachedModels } from '../../src/cache/manage.ts';
import { clearModel as clearCache } from '../../src/client/clear-cache.ts';
import { createSha256 } from '../../src/cache/sha256.ts';
import { diskStore } from '../../src/cache/disk-store.ts';
import { allMetas, getChunk, getMeta, putChunk, putMeta, type FileMeta, type UseStore } from '../../src/cache/store.ts';
import { ModelFileIsHtmlError, ModelFileNotFoundError, ModelLoadError, StorageQuotaError } from '../../src/errors.ts';
import type { FileStage } from '../../src/io/types.ts';
import { bytesOf, sha256, startRangeServer, type RangeServer } from './helpers/range-server.ts';

const CHUNK = 1024;
/** The same rules over both record stores: IndexedDB (browsers) and a folder on the disk (Node's cache.dir, the CLI's --cache-dir). */
const STORE_KINDS = ['IndexedDB', 'disk'] as const;
let server: RangeServer;
let store: UseStore;
let dbCount = 0;

beforeAll(async () => {
  server = await startRangeServer();
});
afterAll(async () => {
  await server.close();
});
for (const kind of STORE_KINDS) {
describe(`the weight cache on ${kind}`, () => {
  beforeEach(() => {
    // idb-keyval caches a store per createStore call: a fresh database (or folder) per test keeps tests apart.
    store = kind === 'IndexedDB' ? createStore(`cache-test-${++dbCount}`, 'weights') : diskStore(mkdtempSync(join(tmpdir(), 'webgpu-embed-cache-')));
    server.files.clear();
    server.log.length = 0;
    server.ranges = true;
  });

  /** Serves `size` deterministic bytes at /<model>/<file> and returns the URL and the bytes. */
  function serve(path: string, size: number, seed = 1): { url: string; bytes: Uint8Array } {
    const bytes = bytesOf(size, seed);
    server.files.set(path, { body: bytes });
    return { url: server.url(path), bytes };
  }

  function cached(opts: CachedFetchFileOptions = {}) {
    return createCachedFetchFile({ store, chunkSize: CHUNK, storage: null, ...opts });
  }

  const requests = (path: string) => server.log.filter((r) => r.path === path);

  /** A stored record as it lies in the store, and damage done to it behind the cache's back. */
  const rawChunk = async (url: string, index: number) =>
    (typeof store === 'function' ? await get(['chunk', url, index], store) : await getChunk(store, url, index)) as Uint8Array;
  const damageChunk = async (url: string, index: number, value: Uint8Array | string) => {
    if (typeof store === 'function') return set(['chunk', url, index], value, store);
    const bytes = typeof value === 'string' ? new TextEncoder().encode(value) : value; // a file holds bytes: a string becomes the wrong length
    return putChunk(store, (await getMeta(store, url))!, index, bytes);
  };
  const damageMeta = async (url: string, meta: FileMeta) => (typeof store === 'function' ? set(['file', url], meta, store) : putMeta(store, meta));

  describe('storing and reading', () => {
    it('stores a file of several chunks, each with its SHA-256, and reads it back with no request', async () => {
      const { url, bytes } = serve('/m/onnx/model.onnx', 10 * CHUNK + 300);
      const first = cached();
      expect(sha256(await first(url))).toBe(sha256(bytes));
      expect(first.stats).toEqual({ hits: 0, misses: 1, bytesFromNetwork: bytes.length, bytesFromCache: 0 });

      const meta = (await getMeta(store, url))!;
      expect(meta).toMatchObject({ kind: 'bytes', size: bytes.length, chunkSize: CHUNK, complete: true });
      expect(meta.chunks).toHaveLength(11);
      for (let i = 0; i < 11; i++) {
        const chunk = await rawChunk(url, i);
        expect(chunk).toBeInstanceOf(Uint8Array);
        // a chunk is stored as its own small buffer, never as a view of the whole file
        expect(chunk.buffer.byteLength).toBe(chunk.length);
        expect(meta.chunks[i]).toBe(sha256(bytes.subarray(i * CHUNK, (i + 1) * CHUNK)));
      }

      server.log.length = 0;
      const progress: [number, number | undefined][] = [];
      const second = cached();
      const again = await second(url, { onBytes: (d, t) => progress.push([d, t]) });
      expect(server.log).toEqual([]);
      expect(again).toEqual(bytes);
      expect(second.stats).toEqual({ hits: 1, misses: 0, bytesFromNetwork: 0, bytesFromCache: bytes.length });
      expect(progress.length).toBeGreaterThan(5); // reading reports progress too, chunk by chunk
      expect(progress.at(-1)).toEqual([bytes.length, bytes.length]);
    });

    it('reports download progress per received piece, ending at the file size', async () => {
      const { url, bytes } = serve('/m/big.bin', 300_000);
      const progress: [number, number | undefined][] = [];
      await cached()(url, { onBytes: (d, t) => progress.push([d, t]) });
      expect(progress.every(([, t]) => t === bytes.length)).toBe(true);
      expect(progress.at(-1)![0]).toBe(bytes.length);
      for (let i = 1; i < progress.length; i++) expect(progress[i]![0]).toBeGreaterThanOrEqual(progress[i - 1]![0]);
    });

    it('stores a body of unknown length (no Content-Length) whole, and serves it later with no request', async () => {
      const bytes = bytesOf(5000, 7);
      const chunkedFetch: typeof fetch = async (input, init) => {
        const res = await fetch(input, init);
        // the same body as a stream with no length: what a chunked or compressed answer looks like
        const headers = new Headers(res.headers);
        headers.delete('content-length');
        return new Response(res.body, { status: res.status, headers });
      };
      server.files.set('/m/stream.bin', { body: bytes });
      const url = server.url('/m/stream.bin');
      expect(await cached({ fetch: chunkedFetch })(url)).toEqual(bytes);
      server.log.length = 0;
      expect(await cached()(url)).toEqual(bytes);
      expect(server.log).toEqual([]);
    });

    it('remembers a 404 and a web page, so a warm load asks for neither again', async () => {
      server.files.set('/m/index.html', { body: new TextEncoder().encode('<!doctype html><p>app</p>'), type: 'text/html' });
      const missing = server.url('/m/modules.json');
      const page = server.url('/m/index.html');
      await expect(cached()(missing)).rejects.toBeInstanceOf(ModelFileNotFoundError);
      await expect(cached()(page)).rejects.toBeInstanceOf(ModelFileIsHtmlError);
      server.log.length = 0;
      await expect(cached()(missing)).rejects.toBeInstanceOf(ModelFileNotFoundError);
      await expect(cached()(page)).rejects.toBeInstanceOf(ModelFileIsHtmlError);
      expect(server.log).toEqual([]);
    });

    it('loads from the network as if there were no cache where IndexedDB cannot be opened', async () => {
      const { url, bytes } = serve('/m/onnx/model.onnx', 3000);
      const broken: UseStore = () => Promise.reject(new DOMException('A mutation operation was attempted on a database that did not allow mutations.', 'InvalidStateError'));
      const f = createCachedFetchFile({ store: broken, storage: null });
      expect(await f(url)).toEqual(bytes);
      expect(f.stats).toMatchObject({ misses: 1, bytesFromNetwork: 3000 });
    });

    it('does not store a server error', async () => {
      server.files.set('/m/busy.bin', { status: 503, body: new TextEncoder().encode('busy') });
      await expect(cached()(server.url('/m/busy.bin'))).rejects.toThrow(/503.*try again later/);
      expect(await allMetas(store)).toEqual([]);
    });
  });

  describe("where a file's bytes come from (onStage: the loader's 'download' / 'cache_hit' / 'verify' events)", () => {
    /** the stages one call tells, in order */
    async function stagesOf(f: ReturnType<typeof cached>, url: string): Promise<FileStage[]> {
      const stages: FileStage[] = [];
      await f(url, { onStage: (s) => stages.push(s) });
      return stages;
    }

    it('a download, then a cache hit with no request; verify: full adds the chunk check, a pinned hash its check after the download', async () => {
      const { url } = serve('/m/onnx/model.onnx', 4 * CHUNK + 7);
      expect(await stagesOf(cached(), url)).toEqual([{ stage: 'download' }]);
      server.log.length = 0;
      expect(await stagesOf(cached(), url)).toEqual([{ stage: 'cache_hit' }]);
      expect(await stagesOf(cached({ verify: 'full' }), url)).toEqual([{ stage: 'cache_hit' }, { stage: 'verify', check: 'chunk-hashes' }]);
      expect(server.log).toEqual([]);

      const pinned = serve('/m/onnx/model_fp16.onnx', 2 * CHUNK, 3);
      expect(await stagesOf(cached({ sha256: { [pinned.url]: sha256(pinned.bytes) } }), pinned.url)).toEqual([{ stage: 'download' }, { stage: 'verify', check: 'sha256' }]);
    });

    it('a damaged chunk found while reading the cache is a cache hit, then a download (each told once, though the file is looked up twice)', async () => {
      const { url } = serve('/m/onnx/model.onnx', 6 * CHUNK);
      await cached()(url);
      const chunk = await rawChunk(url, 2);
      chunk[0] = chunk[0]! ^ 0xff;
      await damageChunk(url, 2, chunk);
      expect(await stagesOf(cached({ verify: 'full' }), url)).toEqual([{ stage: 'cache_hit' }, { stage: 'verify', check: 'chunk-hashes' }, { stage: 'download' }]);
    });

    it('no stage for a file the cache remembers as missing, nor for a 404; a download where IndexedDB cannot be opened', async () => {
      const missing = server.url('/m/modules.json');
      const stages: FileStage[] = [];
      await expect(cached()(missing, { onStage: (s) => stages.push(s) })).rejects.toBeInstanceOf(ModelFileNotFoundError);
      await expect(cached()(missing, { onStage: (s) => stages.push(s) })).rejects.toBeInstanceOf(ModelFileNotFoundError);
      expect(stages).toEqual([]);

      const { url } = serve('/m/onnx/model.onnx', 3000);
      const broken: UseStore = () => Promise.reject(new DOMException('no database', 'InvalidStateError'));
      expect(await stagesOf(createCachedFetchFile({ store: broken, storage: null }), url)).toEqual([{ stage: 'download' }]);
    });
  });

  describe('integrity', () => {
    it('finds a flipped byte (verify: full), deletes that chunk alone and fetches it again with a Range request', async () => {
      const { url, bytes } = serve('/m/onnx/model.onnx', 8 * CHUNK);
      await cached()(url);
      const chunk = await rawChunk(url, 3);
      chunk[100] = chunk[100]! ^ 0xff;
      await damageChunk(url, 3, chunk);

      server.log.length = 0;
      const f = cached({ verify: 'full' });
      const got = await f(url);
      expect(sha256(got)).toBe(sha256(bytes));
      expect(requests('/m/onnx/model.onnx')).toMatchObject([{ status: 206, range: `bytes=${3 * CHUNK}-${4 * CHUNK - 1}` }]);
      expect(f.stats).toMatchObject({ misses: 1, bytesFromNetwork: CHUNK, bytesFromCache: 7 * CHUNK });
      // repaired in the store: the next full check passes with no request
      server.log.length = 0;
      expect(sha256(await cached({ verify: 'full' })(url))).toBe(sha256(bytes));
      expect(server.log).toEqual([]);
    });

    it('finds a truncated or missing chunk with the cheap check (the default) and refetches it', async () => {
      const { url, bytes } = serve('/m/onnx/model.onnx', 6 * CHUNK + 10);
      await cached()(url);
      const chunk = await rawChunk(url, 2);
      await damageChunk(url, 2, chunk.slice(0, 500));
      await damageChunk(url, 6, 'not bytes');

      server.log.length = 0;
      expect(sha256(await cached()(url))).toBe(sha256(bytes));
      expect(requests('/m/onnx/model.onnx').map((r) => r.range)).toEqual([`bytes=${2 * CHUNK}-${3 * CHUNK - 1}`, `bytes=${6 * CHUNK}-`]);
    });

    it('deletes a record that does not add up (truncated chunk list, complete with a chunk missing) and downloads the file again', async () => {
      const { url, bytes } = serve('/m/onnx/model.onnx', 5 * CHUNK);
      await cached()(url);
      const meta = (await getMeta(store, url))!;
      await damageMeta(url, { ...meta, chunks: meta.chunks.slice(0, 3) } satisfies FileMeta);
      server.log.length = 0;
      expect(sha256(await cached()(url))).toBe(sha256(bytes));
      expect(requests('/m/onnx/model.onnx')).toMatchObject([{ status: 200 }]);
      expect(requests('/m/onnx/model.onnx')[0]!.range).toBeUndefined();

      await damageMeta(url, { ...(await getMeta(store, url))!, chunks: [null, ...meta.chunks.slice(1)] });
      server.log.length = 0;
      expect(sha256(await cached()(url))).toBe(sha256(bytes));
      expect(requests('/m/onnx/model.onnx')).toMatchObject([{ status: 200 }]);
    });

    it("checks a preset's pinned SHA-256 before storing: a mismatch fails and stores nothing", async () => {
      const { url, bytes } = serve('/m/onnx/model.onnx', 3 * CHUNK + 5);
      const wrong = '0'.repeat(64);
      await expect(cached({ sha256: { [url]: wrong } })(url)).rejects.toThrow(/SHA-256 .* pins 0000/);
      expect(await getMeta(store, url)).toBeUndefined();

      expect(sha256(await cached({ sha256: { [url]: sha256(bytes) } })(url))).toBe(sha256(bytes));
      expect((await getMeta(store, url))!.sha256).toBe(sha256(bytes));
    });

    it('hashes incrementally exactly like node:crypto (the pinned-file hash)', () => {
      for (const size of [0, 1, 55, 56, 63, 64, 65, 127, 128, 1000, 70_000]) {
        const b = bytesOf(size, size + 3);
        const h = createSha256();
        for (let at = 0; at < size; at += 37) h.update(b.subarray(at, at + 37));
        expect(h.digest(), `size ${size}`).toBe(sha256(b));
      }
    });
  });

  describe('resuming', () => {
    it('continues a cut download in a later load from its last stored chunk with Range: bytes=N- (If-Range), byte for byte', async () => {
      const { url, bytes } = serve('/m/onnx/model.onnx', 9 * CHUNK + 77);
      server.cut('/m/onnx/model.onnx', 3 * CHUNK + 500);
      await expect(cached({ retries: 0 })(url)).rejects.toThrow(ModelLoadError);
      const partial = (await getMeta(store, url))!;
      expect(partial.complete).toBe(false);
      expect(partial.chunks.map((h) => h !== null)).toEqual([true, true, true, false, false, false, false, false, false, false]);

      server.log.length = 0;
      const f = cached();
      const got = await f(url);
      expect(sha256(got)).toBe(sha256(bytes));
      const etag = server.log[0]!.ifRange;
      expect(requests('/m/onnx/model.onnx')).toEqual([{ path: '/m/onnx/model.onnx', status: 206, range: `bytes=${3 * CHUNK}-`, ifRange: etag, sent: bytes.length - 3 * CHUNK }]);
      expect(etag).toMatch(/^"[0-9a-f]+"$/);
      expect(f.stats).toMatchObject({ misses: 1, bytesFromCache: 3 * CHUNK, bytesFromNetwork: bytes.length - 3 * CHUNK });
      expect((await getMeta(store, url))!.complete).toBe(true);
    });

    it('resumes within the same call when the connection drops (two cuts, two Range requests)', async () => {
      const { url, bytes } = serve('/m/onnx/model.onnx', 12 * CHUNK);
      server.cut('/m/onnx/model.onnx', 2 * CHUNK + 100, 2);
      const got = await cached()(url);
      expect(sha256(got)).toBe(sha256(bytes));
      expect(requests('/m/onnx/model.onnx').map((r) => [r.status, r.range])).toEqual([
        [200, undefined],
        [206, `bytes=${2 * CHUNK}-`],
        [206, `bytes=${4 * CHUNK}-`],
      ]);
    });

    it('starts over cleanly on a server without Range support (200 to the Range request)', async () => {
      server.ranges = false;
      const { url, bytes } = serve('/m/onnx/model.onnx', 7 * CHUNK + 1);
      server.cut('/m/onnx/model.onnx', 4 * CHUNK + 1);
      await expect(cached({ retries: 0 })(url)).rejects.toThrow(ModelLoadError);
      server.log.length = 0;
      const got = await cached()(url);
      expect(sha256(got)).toBe(sha256(bytes));
      expect(requests('/m/onnx/model.onnx').map((r) => [r.status, r.sent])).toEqual([[200, bytes.length]]);
      const meta = (await getMeta(store, url))!;
      expect(meta.complete).toBe(true);
      for (let i = 0; i < meta.chunks.length; i++) expect(meta.chunks[i]).toBe(sha256(bytes.subarray(i * CHUNK, (i + 1) * CHUNK)));
    });

    it('starts over when the file changed between the cut and the resume (If-Range fails: 200 with the new file)', async () => {
      const { url } = serve('/m/onnx/model.onnx', 6 * CHUNK, 1);
      server.cut('/m/onnx/model.onnx', 2 * CHUNK + 1);
      await expect(cached({ retries: 0 })(url)).rejects.toThrow(ModelLoadError);
      const { bytes: changed } = serve('/m/onnx/model.onnx', 6 * CHUNK, 2);
      server.log.length = 0;
      expect(sha256(await cached()(url))).toBe(sha256(changed));
      expect(requests('/m/onnx/model.onnx').map((r) => r.status)).toEqual([200]);
    });
  });

  describe('revisions', () => {
    it('serves a stored file without asking; with revalidate, a 304 keeps it and a changed ETag downloads the new file', async () => {
      const { url, bytes } = serve('/m/config.json', 2000, 1);
      await cached()(url);
      const { bytes: changed } = serve('/m/config.json', 2100, 2);

      server.log.length = 0;
      expect(await cached()(url)).toEqual(bytes); // stale, by design: a warm load makes no request
      expect(server.log).toEqual([]);

      const f = cached({ revalidate: true });
      expect(await f(url)).toEqual(changed);
      expect(requests('/m/config.json')).toMatchObject([{ status: 200, ifNoneMatch: expect.stringMatching(/^"/) }]);
      expect(f.stats.misses).toBe(1);

      server.log.length = 0;
      const g = cached({ revalidate: true });
      expect(await g(url)).toEqual(changed);
      expect(requests('/m/config.json')).toMatchObject([{ status: 304 }]);
      expect(g.stats).toMatchObject({ hits: 1, bytesFromNetwork: 0 });
    });

    it("keys files by a preset's pinned revision: a new revision downloads again and replaces the old one", async () => {
      const { url, bytes } = serve('/m/onnx/model.onnx', 3000);
      await cached({ revision: 'aaa' })(url);
      server.log.length = 0;
      await cached({ revision: 'aaa' })(url);
      expect(server.log).toEqual([]);
      expect(await cached({ revision: 'bbb' })(url)).toEqual(bytes);
      expect(server.log).toHaveLength(1);
      expect((await allMetas(store)).map((m) => m.key)).toEqual([`${url}@bbb`]);
    });
  });

  describe('room', () => {
    it('evicts the least recently used models to stay under maxBytes, and serves a file larger than the cap from memory', async () => {
      const a = serve('/a/w.bin', 3000, 1);
      const b = serve('/b/w.bin', 3000, 2);
      const c = serve('/c/w.bin', 3000, 3);
      const max = { maxBytes: 7000 };
      await cached({ ...max, model: server.url('/a/') })(a.url);
      await new Promise((r) => setTimeout(r, 5));
      await cached({ ...max, model: server.url('/b/') })(b.url);
      await new Promise((r) => setTimeout(r, 5));
      await cached({ ...max, model: server.url('/a/') })(a.url); // a is used again: b is now the oldest
      await new Promise((r) => setTimeout(r, 5));
      await cached({ ...max, model: server.url('/c/') })(c.url);
      expect((await listCachedModels(store)).map((m) => m.id)).toEqual([server.url('/c/'), server.url('/a/')]);

      const big = serve('/d/w.bin', 8000, 4);
      expect(await cached({ ...max, model: server.url('/d/') })(big.url)).toEqual(big.bytes);
      expect((await listCachedModels(store)).map((m) => m.id)).toEqual([server.url('/c/'), server.url('/a/')]);
    });

    it('says how much room is needed and available when the storage estimate is short; memory mode still returns the bytes', async () => {
      const { url, bytes } = serve('/m/onnx/model.onnx', 5000);
      const storage = { estimate: async () => ({ quota: 1000, usage: 900 }) };
      const err = await cached({ storage })(url).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StorageQuotaError);
      expect(err).toMatchObject({ needed: 5000, available: 100, url });
      expect((err as Error).message).toMatch(/needs 5000 bytes and 100 bytes is available.*clearCache\(\).*persist: true.*onQuotaExceeded: 'memory'/);

      expect(await cached({ storage, onQuotaExceeded: 'memory' })(url)).toEqual(bytes);
      expect(await allMetas(store)).toEqual([]);
    });

    it("turns IndexedDB's QuotaExceededError (the disk's ENOSPC) into StorageQuotaError, or (memory mode) finishes in memory and leaves nothing half-stored", async () => {
      const { url, bytes } = serve('/m/onnx/model.onnx', 6 * CHUNK);
      // a store whose fourth chunk write hits the quota
      let puts = 0;
      const inner = store;
      const full: UseStore =
        typeof inner !== 'function'
          ? {
              ...inner,
              putChunk: (meta, index, chunk) =>
                ++puts === 4 ? Promise.reject(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })) : inner.putChunk(meta, index, chunk),
            }
          : (mode, cb) =>
        inner(mode, (s) =>
          cb(
            new Proxy(s, {
              get(target, p) {
                if (p === 'put') {
                  return (value: unknown, key: IDBValidKey) => {
                    if (Array.isArray(key) && key[0] === 'chunk' && ++puts === 4) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
                    return target.put(value, key);
                  };
                }
                const v = Reflect.get(target, p, target);
                return typeof v === 'function' ? v.bind(target) : v;
              },
            }),
          ),
        );
      const err = await createCachedFetchFile({ store: full, chunkSize: CHUNK, storage: null })(url).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StorageQuotaError);
      expect(await allMetas(store)).toEqual([]);

      puts = 0;
      const got = await createCachedFetchFile({ store: full, chunkSize: CHUNK, storage: null, onQuotaExceeded: 'memory' })(url);
      expect(sha256(got)).toBe(sha256(bytes));
      expect(await allMetas(store)).toEqual([]);
    });

    it('asks for persistent storage once when persist is set', async () => {
      const { url } = serve('/m/a.bin', 100);
      const { url: url2 } = serve('/m/b.bin', 100);
      let asked = 0;
      const f = cached({ persist: true, storage: { persist: async () => (asked++, true) } });
      await f(url);
      await f(url2);
      expect(asked).toBe(1);
    });
  });

  describe('sharing', () => {
    it('two loads of one file at once download it once (in-process lock where there are no Web Locks)', async () => {
      const { url, bytes } = serve('/m/onnx/model.onnx', 20 * CHUNK);
      const [x, y] = await Promise.all([cached()(url), cached()(url)]);
      expect(x).toEqual(bytes);
      expect(y).toEqual(bytes);
      expect(requests('/m/onnx/model.onnx')).toHaveLength(1);
    });

    it('takes a Web Lock per file when the platform has navigator.locks: the second tab waits, then reads the cache', async () => {
      const { url, bytes } = serve('/m/onnx/model.onnx', 20 * CHUNK);
      const asked: string[] = [];
      const held = new Map<string, Promise<unknown>>();
      // A stand-in for navigator.locks: exclusive by name, in request order.
      const locks: LockManagerLike = {
        request(name, options, callback) {
          asked.push(`${name} ${options.mode}`);
          const before = held.get(name) ?? Promise.resolve();
          const run = before.catch(() => {}).then(() => callback({ name }));
          held.set(name, run);
          return run;
        },
      };
      const tabA = cached({ locks });
      const tabB = cached({ locks });
      const [x, y] = await Promise.all([tabA(url), tabB(url)]);
      expect(x).toEqual(bytes);
      expect(y).toEqual(bytes);
      expect(asked).toEqual([`webgpu-embed:${url} exclusive`, `webgpu-embed:${url} exclusive`]);
      expect(requests('/m/onnx/model.onnx')).toHaveLength(1);
      expect(tabA.stats.misses + tabB.stats.misses).toBe(1);
      expect(tabA.stats.hits + tabB.stats.hits).toBe(1);
    });

    it('stops waiting for the lock when the signal aborts', async () => {
      const { url, bytes } = serve('/m/onnx/model.onnx', 4 * CHUNK);
      const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
      const slow: typeof fetch = async (input, init) => (await sleep(300), fetch(input, init));
      const first = cached({ fetch: slow })(url);
      await sleep(50);
      const controller = new AbortController();
      const second = cached()(url, { signal: controller.signal });
      await sleep(50);
      const t0 = performance.now();
      controller.abort(new DOMException('stop', 'AbortError'));
      await expect(second).rejects.toMatchObject({ name: 'AbortError' });
      expect(performance.now() - t0).toBeLessThan(100);
      expect(await first).toEqual(bytes);
    });
  });

  describe('management', () => {
    it('lists models with bytes, complete files and last use; clears one model or all', async () => {
      const a1 = serve('/a/config.json', 500, 1);
      const a2 = serve('/a/onnx/model.onnx', 2500, 2);
      const b1 = serve('/b/onnx/model.onnx', 1500, 3);
      const aModel = server.url('/a/');
      const bModel = server.url('/b/');
      await cached({ model: aModel })(a1.url);
      await cached({ model: aModel })(a2.url);
      await expect(cached({ model: aModel })(server.url('/a/modules.json'))).rejects.toThrow(ModelFileNotFoundError);
      const before = Date.now();
      await new Promise((r) => setTimeout(r, 5));
      await cached({ model: bModel })(b1.url);

      const list = await listCachedModels(store);
      expect(list.map(({ id, bytes, files }) => ({ id, bytes, files }))).toEqual([
        { id: bModel, bytes: 1500, files: 1 },
        { id: aModel, bytes: 3000, files: 2 },
      ]);
      expect(list[0]!.lastUsed).toBeGreaterThan(before);

      await clearCache(aModel.slice(0, -1), store); // a folder URL with or without its trailing slash
      expect((await listCachedModels(store)).map((m) => m.id)).toEqual([bModel]);
      expect((await allMetas(store)).every((m) => m.model === bModel)).toBe(true);

      await clearCache(undefined, store);
      expect(await listCachedModels(store)).toEqual([]);
    });
  });
});
}
