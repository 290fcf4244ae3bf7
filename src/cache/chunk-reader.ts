/**
 * Where a stored file's chunks are read: by a small worker of its own (chunk-reader.worker.ts)
 * where this context can start one and the store is the library's IndexedDB store, else in this
 * thread, one chunk ahead.
 *
 * Why a worker: an IndexedDB result is turned back into bytes on the thread that asked for it
 * (in Chromium ~30 ms of that thread per 16 MiB chunk), and during a warm load the engine's
 * thread is busy starting onnxruntime (module, wasm, compiles) while the weights are read, so
 * each result waited for that work and the next read waited for the result. In the reader's
 * thread the reads go on meanwhile, and the chunks arrive as transferred buffers (no copy).
 *
 * The reader is started when a folder's cache is opened (`startChunkReader`), so that it is up
 * by the time a large file is read; it is used for files of more than one chunk (a small file
 * read in this thread costs less than the hop); it ends after IDLE_MS without work. If it cannot
 * start (no nested workers, a Content Security Policy that refuses it) or fails, the chunks it
 * has not delivered are read in this thread: the reader is only ever a faster way to the same
 * bytes, which are checked as before (chunks.ts).
 */
import { getChunk, idbStoreNames, type UseStore } from './store.ts';

export type ReaderRequest =
  | { type: 'read'; id: number; db: string; store: string; key: string; indices: number[] }
  /** the asker took one more chunk of the job: the reader may read one more ahead */
  | { type: 'taken'; id: number }
  | { type: 'cancel'; id: number };

export interface ReaderReply {
  id: number;
  index: number;
  /** the stored value (a Uint8Array whose buffer was transferred), or what the store held instead */
  value: unknown;
}

/** The chunks of one file, in the order asked. */
export interface ChunkSource {
  /** the next chunk's stored value (undefined where it could not be read) */
  next(): Promise<unknown>;
  /** stops reading what was not taken (a read already asked of this thread's store is waited for) */
  close(): Promise<void>;
}

/** How the chunks of this context's loads were read (for the tests and the benchmark). */
export const chunkReaderStats = { fromReader: 0, inThread: 0, readerFailures: 0 };

/**
 * Test seams: the reader's script URL (a test points it at a missing file to see the fallback), and
 * `reset()`, which ends the reader now (the next read starts one).
 */
export const chunkReaderSeams = {
  url: undefined as string | URL | undefined,
  reset(): void {
    if (reader && reader !== 'unavailable') reader.worker.terminate();
    reader = undefined;
  },
};

/** ms without a job after which the reader's worker is ended */
const IDLE_MS = 10_000;

interface ReaderJob {
  arrived: unknown[];
  waiting: ((v: { value: unknown } | 'failed') => void) | undefined;
  failed: boolean;
}

interface Reader {
  worker: Worker;
  jobs: Map<number, ReaderJob>;
  idle: ReturnType<typeof setTimeout> | undefined;
}

let reader: Reader | 'unavailable' | undefined;
let nextId = 1;

function canStart(): boolean {
  return typeof Worker !== 'undefined' && typeof indexedDB !== 'undefined';
}

function start(): Reader | 'unavailable' {
  if (!canStart()) return 'unavailable';
  let worker: Worker;
  try {
    // The literal form bundlers recognise (Vite, webpack 5, Rollup): the app bundles this worker
    // as it bundles the engine's (vite.config.ts rewrites it to './chunk-reader.js' in dist/).
    worker = chunkReaderSeams.url
      ? new Worker(chunkReaderSeams.url, { type: 'module', name: 'webgpu-embed-chunks' })
      : new Worker(new URL('./chunk-reader.worker.ts', import.meta.url), { type: 'module', name: 'webgpu-embed-chunks' });
  } catch {
    return 'unavailable';
  }
  const r: Reader = { worker, jobs: new Map(), idle: undefined };
  worker.onmessage = (e: MessageEvent<ReaderReply>) => {
    const job = r.jobs.get(e.data.id);
    if (!job) return;
    if (job.waiting) {
      const w = job.waiting;
      job.waiting = undefined;
      w({ value: e.data.value });
    } else job.arrived.push(e.data.value);
  };
  const fail = (ev: Event) => {
    ev.preventDefault();
    chunkReaderStats.readerFailures++;
    if (reader === r) reader = 'unavailable';
    worker.terminate();
    for (const job of r.jobs.values()) {
      job.failed = true;
      job.waiting?.('failed');
      job.waiting = undefined;
    }
    r.jobs.clear();
  };
  worker.onerror = fail;
  worker.onmessageerror = fail;
  return r;
}

function idleLater(r: Reader): void {
  clearTimeout(r.idle);
  r.idle = setTimeout(() => {
    if (r.jobs.size || reader !== r) return;
    r.worker.terminate();
    reader = undefined;
  }, IDLE_MS);
}

/** Starts the reader for a store it can read (the library's IndexedDB store), so that it is up before a large file is read. */
export function startChunkReader(store: UseStore): void {
  if (!idbStoreNames(store) || reader) return;
  reader = start();
  if (reader !== 'unavailable') idleLater(reader);
}

/** The chunks `indices` of the stored file `key`, in that order. */
export function chunkSource(store: UseStore, key: string, indices: number[]): ChunkSource {
  const names = idbStoreNames(store);
  if (names && indices.length > 1) {
    reader ??= start();
    if (reader !== 'unavailable') return fromReader(reader, store, names, key, indices);
  }
  return inThread(store, key, indices);
}

/** Read here, each next chunk requested while the current one is checked. */
function inThread(store: UseStore, key: string, indices: number[], from = 0): ChunkSource {
  const read = (n: number) => {
    chunkReaderStats.inThread++;
    return getChunk(store, key, indices[n]!).catch(() => undefined);
  };
  let n = from;
  let ahead = n < indices.length ? read(n) : undefined;
  return {
    next() {
      const value = ahead ?? Promise.resolve(undefined);
      n++;
      ahead = n < indices.length ? read(n) : undefined;
      return value;
    },
    async close() {
      const pending = ahead;
      ahead = undefined;
      await pending;
    },
  };
}

function fromReader(r: Reader, store: UseStore, names: { db: string; store: string }, key: string, indices: number[]): ChunkSource {
  const id = nextId++;
  const job: ReaderJob = { arrived: [], waiting: undefined, failed: false };
  r.jobs.set(id, job);
  clearTimeout(r.idle);
  r.worker.postMessage({ type: 'read', id, db: names.db, store: names.store, key, indices } satisfies ReaderRequest);
  let taken = 0;
  let rest: ChunkSource | undefined;
  const done = () => {
    if (r.jobs.delete(id) && !r.jobs.size) idleLater(r);
  };
  return {
    async next() {
      if (rest) return rest.next();
      let got: { value: unknown } | 'failed';
      if (job.arrived.length) got = { value: job.arrived.shift() };
      else if (job.failed) got = 'failed';
      else got = await new Promise((resolve) => (job.waiting = resolve));
      if (got === 'failed') {
        // The reader is gone: what it did not deliver is read here.
        rest = inThread(store, key, indices, taken);
        return rest.next();
      }
      taken++;
      chunkReaderStats.fromReader++;
      if (taken === indices.length) done();
      else r.worker.postMessage({ type: 'taken', id } satisfies ReaderRequest);
      return got.value;
    },
    async close() {
      if (r.jobs.has(id)) r.worker.postMessage({ type: 'cancel', id } satisfies ReaderRequest);
      done();
      await rest?.close();
    },
  };
}
