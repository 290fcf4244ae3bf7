/**
 * A FIFO lock whose waiters can be cancelled: an aborted waiter leaves the queue at once (its
 * promise rejects with the signal's reason) and never runs.
 */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();
  private pending = 0;

  /** how many holders and waiters there are now */
  get size(): number {
    return this.pending;
  }

  /** Runs fn when the lock is free; rejects without running it if signal aborts first. */
  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const before = this.tail;
    this.tail = before.then(() => mine);
    this.pending++;
    try {
      await waitOrAbort(before, signal);
      return await fn();
    } finally {
      this.pending--;
      release();
    }
  }
}

function waitOrAbort(p: Promise<void>, signal?: AbortSignal): Promise<void> {
  if (!signal) return p;
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      () => {
        signal.removeEventListener('abort', onAbort);
        if (signal.aborted) reject(signal.reason);
        else resolve();
      },
      reject,
    );
  });
}
