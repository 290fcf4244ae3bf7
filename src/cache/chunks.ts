/**
 * Chunks in and out of the store. The file lives in one buffer of its final size; the reader fills
 * it chunk by chunk from the store, the writer stores each chunk as soon as the download has
 * filled it — as a copy of its own (an IndexedDB put of a subarray would clone the whole
 * underlying buffer) and hashed, in one transaction with the meta that lists it.
 */
import { chunkSource } from './chunk-reader.ts';
import { chunkIsIntact, chunkSpan } from './integrity.ts';
import { isQuotaExceeded } from './quota.ts';
import { sha256Hex } from './sha256.ts';
import { deleteFile, putChunk, putMeta, type FileMeta, type UseStore } from './store.ts';

export interface StoredRead {
  /** the file's buffer, with every intact stored chunk in place */
  buffer: Uint8Array;
  /** which chunks are in the buffer */
  have: boolean[];
  /** chunks the meta lists that were missing or damaged in the store */
  bad: number[];
  /** bytes read from the store into the buffer */
  read: number;
}

/**
 * Reads the chunks the meta lists into a new buffer, checking each (length; SHA-256 when `full`).
 * The chunks come from chunk-reader.ts: read ahead by its worker, or here one ahead.
 */
export async function readChunks(
  store: UseStore,
  meta: FileMeta,
  full: boolean,
  signal: AbortSignal | undefined,
  onRead: (read: number) => void,
): Promise<StoredRead> {
  const buffer = new Uint8Array(meta.size);
  const have = meta.chunks.map(() => false);
  const bad: number[] = [];
  let read = 0;
  const listed = meta.chunks.flatMap((h, i) => (h === null ? [] : [i]));
  const source = chunkSource(store, meta.key, listed);
  try {
    for (const i of listed) {
      const value = await source.next();
      signal?.throwIfAborted();
      if (await chunkIsIntact(meta, i, value, full)) {
        buffer.set(value as Uint8Array, chunkSpan(meta, i)[0]);
        have[i] = true;
        read += (value as Uint8Array).length;
        onRead(read);
      } else bad.push(i);
    }
  } finally {
    await source.close();
  }
  return { buffer, have, bad, read };
}

/** How a write that found no room ends: a StorageQuotaError, or a download that goes on in memory only. */
export type OnNoRoom = (cause: unknown) => Error | 'memory';

export interface ChunkWriter {
  /** whether chunks are being stored (false once in memory-only mode) */
  readonly storing: boolean;
  /** queues chunk `index` (its bytes are final in the buffer); resolves when the queue has room again */
  commit(index: number): Promise<void>;
  /** waits for every queued write; rejects with the error that stopped the writes (a StorageQuotaError) */
  flush(): Promise<void>;
  /** marks the file complete (every chunk stored) */
  complete(sha256?: string): Promise<void>;
  /** stops storing and deletes what was stored of this file */
  discard(): Promise<void>;
}

/** At most this many chunk copies wait for IndexedDB while the download goes on. */
const QUEUE = 2;

export function createChunkWriter(store: UseStore, meta: FileMeta, buffer: Uint8Array, storing: boolean, onNoRoom: OnNoRoom): ChunkWriter {
  let tail: Promise<void> = Promise.resolve();
  // writes run one after another; these are the ones not yet done, oldest first
  const pending: Promise<void>[] = [];
  let failure: { error: unknown } | undefined;

  const stop = async (cause: unknown) => {
    if (!storing) return;
    storing = false;
    const outcome = isQuotaExceeded(cause) ? onNoRoom(cause) : 'memory';
    // Another failure (IndexedDB unavailable, a closed connection): the cache is only a cache, the model still loads.
    if (outcome !== 'memory') failure ??= { error: outcome };
    await deleteFile(store, meta.key).catch(() => {});
  };

  const rethrow = () => {
    if (failure) throw failure.error;
  };

  const write = async (index: number) => {
    if (!storing) return;
    const [start, end] = chunkSpan(meta, index);
    const copy = buffer.slice(start, end);
    try {
      meta.chunks[index] = await sha256Hex(copy);
      await putChunk(store, meta, index, copy);
    } catch (err) {
      meta.chunks[index] = null;
      await stop(err);
    }
  };

  return {
    get storing() {
      return storing;
    },
    async commit(index) {
      rethrow();
      if (!storing) return;
      tail = tail.then(() => write(index));
      pending.push(tail);
      while (pending.length > QUEUE) await pending.shift();
      rethrow();
    },
    async flush() {
      await tail;
      rethrow();
    },
    async complete(sha256) {
      await this.flush();
      if (!storing) return;
      meta.complete = true;
      if (sha256) meta.sha256 = sha256;
      try {
        await putMeta(store, meta);
      } catch (err) {
        meta.complete = false;
        await stop(err);
        rethrow();
      }
    },
    async discard() {
      await tail.catch(() => {});
      if (storing) {
        storing = false;
        await deleteFile(store, meta.key).catch(() => {});
      }
    },
  };
}

/** Stores a whole file that is already in memory (one whose size was unknown until it arrived). */
export async function writeAll(writer: ChunkWriter, chunks: number): Promise<void> {
  for (let i = 0; i < chunks; i++) await writer.commit(i);
}
