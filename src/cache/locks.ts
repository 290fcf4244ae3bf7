/**
 * One download per file across tabs and workers: Web Locks (navigator.locks), one exclusive lock
 * per stored file. A second tab that wants the same file waits for the first, then finds it in
 * the store. Where there are no Web Locks (Node), an in-process lock keeps the same promise
 * within one JavaScript realm. A lock is released when its holder ends, even by a closed tab.
 */

/** The part of the Web Locks API used here (navigator.locks, or a stand-in in tests). */
export interface LockManagerLike {
  request<T>(name: string, options: { mode?: 'exclusive' | 'shared'; signal?: AbortSignal }, callback: (lock: unknown) => Promise<T>): Promise<T>;
}

/** Runs `fn` holding the named lock; waiting for the lock stops when `signal` aborts. */
export type WithLock = <T>(name: string, signal: AbortSignal | undefined, fn: () => Promise<T>) => Promise<T>;

/** Web Locks when the platform has them, else an in-process lock. */
export function fileLocks(locks: LockManagerLike | undefined = platformLocks()): WithLock {
  if (!locks) return inProcessLocks;
  return (name, signal, fn) => locks.request(`webgpu-embed:${name}`, { mode: 'exclusive', ...(signal ? { signal } : {}) }, () => fn());
}

function platformLocks(): LockManagerLike | undefined {
  return (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks;
}

const tails = new Map<string, Promise<void>>();

/** Exclusive per name within this realm: each caller waits for the one before it. */
export const inProcessLocks: WithLock = async (name, signal, fn) => {
  signal?.throwIfAborted();
  const before = tails.get(name) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((r) => (release = r));
  const tail = before.then(() => mine);
  tails.set(name, tail);
  try {
    await waitOrAbort(before, signal);
    return await fn();
  } finally {
    // An aborted waiter still lets its successors go only after its predecessor is done.
    release();
    void tail.then(() => {
      if (tails.get(name) === tail) tails.delete(name);
    });
  }
};

function waitOrAbort(p: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return p;
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}
