/**
 * Page-side helpers for the chunk reader's tests: the weight cache used directly in the page (no
 * engine), so that the reader's counters (chunkReaderStats) are this page's.
 */
import { chunkReaderSeams, chunkReaderStats } from '../../../src/cache/chunk-reader.ts';
import { clearStore, weightStore } from '../../../src/cache/store.ts';
import { openFolderCache } from '../../../src/cache/weight-cache.ts';
import { fixtureUrl } from './embed.ts';

export interface ReadOutcome {
  /** the bytes equal the file fetched straight from the server */
  equal: boolean;
  size: number;
  /** chunks delivered by the reader's worker / read in this thread, during this read */
  fromReader: number;
  inThread: number;
  readerFailures: number;
  bytesFromCache: number;
  bytesFromNetwork: number;
  error?: { name: string; message: string };
}

/** Empties the store and ends the reader, with the seam back at its default. */
export async function reset(): Promise<void> {
  chunkReaderSeams.reset();
  chunkReaderSeams.url = undefined;
  await clearStore(weightStore());
}

/** Points the reader at a script that is not there (its start fails), from its next start. */
export function breakReader(): void {
  chunkReaderSeams.reset();
  chunkReaderSeams.url = new URL('/no-such-chunk-reader.js', location.href);
}

/**
 * Reads one fixture file through a fresh cache of `chunkSize`-byte chunks (a download on the
 * first read, the store after), aborting after `abortAfter` bytes when given.
 */
export async function read(name: string, file: string, chunkSize: number, abortAfter?: number): Promise<ReadOutcome> {
  const before = { ...chunkReaderStats };
  const cache = openFolderCache({ baseUrl: fixtureUrl(name), sha256: {} }, { chunkSize });
  const url = new URL(file, fixtureUrl(name)).href;
  const ac = new AbortController();
  const counts = () => ({
    fromReader: chunkReaderStats.fromReader - before.fromReader,
    inThread: chunkReaderStats.inThread - before.inThread,
    readerFailures: chunkReaderStats.readerFailures - before.readerFailures,
    bytesFromCache: cache.stats().bytesFromCache,
    bytesFromNetwork: cache.stats().bytesFromNetwork,
  });
  try {
    const bytes = await cache.fetchFile(url, {
      signal: ac.signal,
      onBytes: (done) => {
        if (abortAfter !== undefined && done >= abortAfter) ac.abort(new DOMException('stopped by the test', 'AbortError'));
      },
    });
    const expected = new Uint8Array(await (await fetch(url, { cache: 'no-store' })).arrayBuffer());
    const equal = bytes.length === expected.length && bytes.every((b, i) => b === expected[i]);
    return { equal, size: bytes.length, ...counts() };
  } catch (err) {
    const e = err as Error;
    return { equal: false, size: 0, ...counts(), error: { name: e.name, message: e.message } };
  }
}
