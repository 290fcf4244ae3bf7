/**
 * Room for a download: the browser's storage estimate before writing, and IndexedDB's
 * QuotaExceededError while writing. Both become a StorageQuotaError that says how much is needed,
 * how much there is and what to do, unless the caller chose to run from memory instead.
 */
import { StorageQuotaError } from '../errors.ts';

/** The part of navigator.storage used here (or a stand-in in tests). */
export interface StorageManagerLike {
  estimate?(): Promise<{ quota?: number; usage?: number }>;
  persist?(): Promise<boolean>;
}

export function platformStorage(): StorageManagerLike | undefined {
  return (globalThis as { navigator?: { storage?: StorageManagerLike } }).navigator?.storage;
}

/**
 * Asks the browser to keep this origin's storage under pressure (navigator.storage.persist());
 * whether it is kept. persist() exists on the main thread only, not in workers: the client asks
 * before it starts the worker.
 */
export async function askPersistence(storage: StorageManagerLike | undefined = platformStorage()): Promise<boolean> {
  try {
    return (await storage?.persist?.()) ?? false;
  } catch {
    return false;
  }
}

/** Bytes the origin may still store by the browser's estimate; undefined when it cannot say. */
export async function availableBytes(storage: StorageManagerLike | undefined): Promise<number | undefined> {
  try {
    const e = await storage?.estimate?.();
    if (!e || typeof e.quota !== 'number' || typeof e.usage !== 'number') return undefined;
    return Math.max(0, e.quota - e.usage);
  } catch {
    return undefined;
  }
}

/**
 * IndexedDB's answer to a write past the quota (a DOMException named QuotaExceededError, possibly as
 * a transaction's error), or the disk store's (a full disk, ENOSPC, or a user quota, EDQUOT).
 */
export function isQuotaExceeded(err: unknown): boolean {
  const e = err as { name?: unknown; code?: unknown; cause?: unknown } | undefined;
  return !!e && (e.name === 'QuotaExceededError' || e.code === 'ENOSPC' || e.code === 'EDQUOT' || (e.cause !== undefined && isQuotaExceeded(e.cause)));
}

export function quotaError(url: string, needed: number, available: number | undefined, cause?: unknown): StorageQuotaError {
  const have = available === undefined ? 'the browser refused the write' : `${mb(available)} is available`;
  return new StorageQuotaError(
    `Not enough storage to cache ${url}: it needs ${mb(needed)} and ${have}. Free space with clearCache() (or a smaller cache: { maxBytes }), ` +
      `ask for persistent storage with cache: { persist: true }, or load without caching with cache: { onQuotaExceeded: 'memory' } or cache: false.`,
    url,
    needed,
    available,
    cause === undefined ? undefined : { cause },
  );
}

function mb(bytes: number): string {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${bytes} bytes`;
}
