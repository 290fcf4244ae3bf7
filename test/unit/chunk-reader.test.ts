/**
 * The chunk reader's protocol (src/cache/chunk-reader.ts and its worker) in Node, over
 * fake-indexeddb, with the worker's module run in this process behind a stand-in `Worker` whose
 * messages are cloned (buffers transferred) as postMessage would: the chunks come in order and
 * whole; the reader never runs more than 4 chunks ahead of a slow asker; a reader that fails
 * midway leaves the rest to this thread; a closed read stops the reader; a chunk missing from the
 * store reaches the checks as such. (test/browser/chunk-reader.test.ts runs the real worker in
 * Chromium.)
 */
import 'fake-indexeddb/auto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { chunkReaderSeams, chunkReaderStats, chunkSource, type ReaderReply, type ReaderRequest } from '../../src/cache/chunk-reader.ts';
import { readChunks } from '../../src/cache/chunks.ts';
import { idbStore, putChunk, type FileMeta, type UseStore } from '../../src/cache/store.ts';
import { bytesOf, sha256 } from './helpers/range-server.ts';

const CHUNK = 1000;

/** What crossed between the asker and the reader's worker. */
const traffic = { replies: 0, delivered: 0, taken: 0, cancels: 0, maxAhead: 0 };
/** the live stand-in worker (the reader's module is loaded once and talks to whichever is live) */
let live: FakeWorker | undefined;
/** fail the live worker once it has delivered this many replies */
let failAfter = Infinity;

const scope = {
  onmessage: null as ((e: { data: ReaderRequest }) => void) | null,
  postMessage(m: ReaderReply, transfer: Transferable[] = []) {
    const w = live;
    if (!w || w.ended) return;
    const data = structuredClone(m, { transfer });
    traffic.replies++;
    traffic.maxAhead = Math.max(traffic.maxAhead, traffic.replies - traffic.taken);
    setTimeout(() => {
      if (w.ended) return;
      if (traffic.delivered >= failAfter) return w.fail();
      traffic.delivered++;
      w.onmessage?.({ data } as MessageEvent<ReaderReply>);
    }, 0);
  },
};

class FakeWorker {
  onmessage: ((e: MessageEvent<ReaderReply>) => void) | null = null;
  onerror: ((e: Event) => void) | null = null;
  onmessageerror: ((e: Event) => void) | null = null;
  ended = false;
  private ready: Promise<unknown>;
  constructor(url: string | URL) {
    live = this;
    // the reader's module, run here: it listens on `self`
    this.ready = import(/* @vite-ignore */ String(url));
  }
  postMessage(m: ReaderRequest) {
    if (m.type === 'taken') traffic.taken++;
    if (m.type === 'cancel') traffic.cancels++;
    const data = structuredClone(m);
    void this.ready.then(() => setTimeout(() => !this.ended && scope.onmessage?.({ data }), 0));
  }
  terminate() {
    this.ended = true;
  }
  fail() {
    this.ended = true;
    this.onerror?.(new Event('error'));
  }
}

let store: UseStore;
let dbCount = 0;

beforeAll(() => {
  (globalThis as unknown as { self: unknown }).self = scope;
  (globalThis as unknown as { Worker: unknown }).Worker = FakeWorker;
});
afterAll(() => {
  chunkReaderSeams.reset();
  delete (globalThis as unknown as { self?: unknown }).self;
  delete (globalThis as unknown as { Worker?: unknown }).Worker;
});
beforeEach(() => {
  chunkReaderSeams.reset();
  store = idbStore(`chunk-reader-test-${++dbCount}`, 'weights');
  Object.assign(traffic, { replies: 0, delivered: 0, taken: 0, cancels: 0, maxAhead: 0 });
  Object.assign(chunkReaderStats, { fromReader: 0, inThread: 0, readerFailures: 0 });
  failAfter = Infinity;
});

/** A complete file of `size` bytes stored in CHUNK-byte chunks. */
async function storeFile(key: string, size: number): Promise<{ meta: FileMeta; bytes: Uint8Array }> {
  const bytes = bytesOf(size, 7);
  const n = Math.ceil(size / CHUNK);
  const meta: FileMeta = { key, url: key, model: 'https://host/m/', kind: 'bytes', size, chunkSize: CHUNK, chunks: new Array(n).fill(null), complete: false, ranges: true, storedAt: 0 };
  for (let i = 0; i < n; i++) {
    const chunk = bytes.slice(i * CHUNK, Math.min(size, (i + 1) * CHUNK));
    meta.chunks[i] = sha256(chunk);
    await putChunk(store, meta, i, chunk);
  }
  meta.complete = true;
  return { meta, bytes };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the chunk reader', () => {
  it('delivers every chunk of a file, in order, byte for byte, through its worker', async () => {
    const { meta, bytes } = await storeFile('https://host/m/model.onnx', 10 * CHUNK - 123);
    const r = await readChunks(store, meta, true, undefined, () => {});
    expect(r.bad).toEqual([]);
    expect(r.buffer).toEqual(bytes);
    expect(chunkReaderStats).toEqual({ fromReader: 10, inThread: 0, readerFailures: 0 });
    expect(traffic.replies).toBe(10);
  });

  it('reads a file of one chunk in this thread, and a store it cannot name too', async () => {
    const one = await storeFile('https://host/m/config.json', 500);
    expect((await readChunks(store, one.meta, true, undefined, () => {})).buffer).toEqual(one.bytes);
    expect(chunkReaderStats).toMatchObject({ fromReader: 0, inThread: 1 });
    // the same records behind a plain idb-keyval handle (not made by idbStore): no names for the worker
    const { createStore } = await import('idb-keyval');
    const plain = createStore(`chunk-reader-test-${dbCount}`, 'weights');
    const many = await storeFile('https://host/m/model.onnx', 5 * CHUNK);
    expect((await readChunks(plain, many.meta, true, undefined, () => {})).buffer).toEqual(many.bytes);
    expect(chunkReaderStats).toMatchObject({ fromReader: 0, inThread: 6 });
  });

  it('runs at most 4 chunks ahead of an asker that is slow to take them', async () => {
    const { meta, bytes } = await storeFile('https://host/m/model.onnx', 20 * CHUNK);
    const indices = meta.chunks.map((_, i) => i);
    const source = chunkSource(store, meta.key, indices);
    const got: Uint8Array[] = [];
    for (let i = 0; i < indices.length; i++) {
      await sleep(15); // the asker is busy: the reader fills its window and waits
      got.push((await source.next()) as Uint8Array);
    }
    await source.close();
    expect(traffic.maxAhead).toBe(4);
    expect(Buffer.concat(got)).toEqual(Buffer.from(bytes));
  });

  it('reads in this thread what a reader that failed midway did not deliver', async () => {
    const { meta, bytes } = await storeFile('https://host/m/model.onnx', 12 * CHUNK);
    failAfter = 5;
    const r = await readChunks(store, meta, true, undefined, () => {});
    expect(r.bad).toEqual([]);
    expect(r.buffer).toEqual(bytes);
    expect(chunkReaderStats.readerFailures).toBe(1);
    expect(chunkReaderStats.fromReader).toBe(5);
    expect(chunkReaderStats.inThread).toBe(7);
    // the next read starts no reader (it failed here) and reads in this thread
    const again = await readChunks(store, meta, false, undefined, () => {});
    expect(again.buffer).toEqual(bytes);
    expect(chunkReaderStats.inThread).toBe(19);
  });

  it('stops the reader when a read is closed early', async () => {
    const { meta } = await storeFile('https://host/m/model.onnx', 40 * CHUNK);
    const source = chunkSource(store, meta.key, meta.chunks.map((_, i) => i));
    await source.next();
    await source.next();
    await source.close();
    await sleep(100);
    expect(traffic.cancels).toBe(1);
    expect(traffic.replies).toBeLessThanOrEqual(2 + 4);
  });

  it('a chunk missing from the store reaches the checks as missing (and is re-fetched by the cache)', async () => {
    const { meta } = await storeFile('https://host/m/model.onnx', 6 * CHUNK);
    const { del } = await import('idb-keyval');
    await del(['chunk', meta.key, 3], store as Parameters<typeof del>[1]);
    const r = await readChunks(store, meta, false, undefined, () => {});
    expect(r.bad).toEqual([3]);
    expect(r.have).toEqual([true, true, true, false, true, true]);
    expect(chunkReaderStats.fromReader).toBe(6);
  });
});
