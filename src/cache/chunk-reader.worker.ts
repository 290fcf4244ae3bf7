/**
 * The chunk reader's worker (started by chunk-reader.ts): reads a stored file's chunks from
 * IndexedDB, in order, and hands each to the thread that asked as a transferred buffer. Its
 * own thread takes the cost of each IndexedDB result (Chromium turns the stored value back into
 * bytes on the thread that asked for it, ~30 ms per 16 MiB chunk), so a warm load's reads go on
 * while the engine's thread starts onnxruntime, instead of queueing behind that work.
 *
 * At most WINDOW chunks are read ahead of the ones the asker has taken (it acknowledges each),
 * so a file never waits in memory twice over while the asker is busy.
 */
import type { ReaderReply, ReaderRequest } from './chunk-reader.ts';
import { getChunk, idbStore, type UseStore } from './store.ts';

/** chunks read ahead of the asker: 4 × 16 MiB at most in flight */
const WINDOW = 4;

interface Job {
  taken: number;
  cancelled: boolean;
  /** wakes the read loop (a chunk was taken, or the job was cancelled) */
  wake: (() => void) | undefined;
}

const jobs = new Map<number, Job>();
const stores = new Map<string, UseStore>();
const scope = self as unknown as { postMessage(m: ReaderReply, transfer?: Transferable[]): void; onmessage: ((e: MessageEvent<ReaderRequest>) => void) | null };

scope.onmessage = (e) => {
  const m = e.data;
  if (m.type === 'read') {
    void read(m);
    return;
  }
  const job = jobs.get(m.id);
  if (!job) return;
  if (m.type === 'taken') job.taken++;
  else job.cancelled = true;
  job.wake?.();
};

async function read(m: Extract<ReaderRequest, { type: 'read' }>): Promise<void> {
  const job: Job = { taken: 0, cancelled: false, wake: undefined };
  jobs.set(m.id, job);
  const storeKey = `${m.db}\u0000${m.store}`;
  let store = stores.get(storeKey);
  if (!store) stores.set(storeKey, (store = idbStore(m.db, m.store)));
  const inFlight: Promise<unknown>[] = [];
  let requested = 0;
  const readAhead = () => {
    while (requested < m.indices.length && requested - job.taken < WINDOW) {
      inFlight.push(getChunk(store, m.key, m.indices[requested++]!).catch(() => undefined));
    }
  };
  try {
    for (let n = 0; n < m.indices.length && !job.cancelled; n++) {
      readAhead();
      while (!inFlight.length && !job.cancelled) {
        await new Promise<void>((wake) => (job.wake = wake));
        job.wake = undefined;
        readAhead();
      }
      if (job.cancelled) break;
      const value = await inFlight.shift()!;
      if (job.cancelled) break;
      // A value read back owns its buffer; a view into a larger one (never seen) is copied so that only its bytes travel.
      const bytes = value instanceof Uint8Array ? (value.byteOffset === 0 && value.byteLength === value.buffer.byteLength ? value : value.slice()) : undefined;
      scope.postMessage({ id: m.id, index: m.indices[n]!, value: bytes ?? value }, bytes ? [bytes.buffer as ArrayBuffer] : []);
    }
  } finally {
    jobs.delete(m.id);
  }
}
