/**
 * What makes a stored file trustworthy. A cheap check on every read — the record is well formed,
 * its chunk count matches its size, each chunk read has exactly its expected length — and, with
 * `verify: 'full'`, the SHA-256 of every chunk against the one recorded when it was written.
 * A chunk that fails is dropped and fetched again (alone, with a Range request, where the server
 * allows); a record that fails is deleted. Bytes that fail never reach onnxruntime.
 */
import { sha256Hex } from './sha256.ts';
import type { FileMeta } from './store.ts';

/** 16 MiB: large enough that a multi-gigabyte model is a few hundred puts, small enough to redo one cheaply. */
export const DEFAULT_CHUNK_SIZE = 16 * 1024 * 1024;

export function chunkCount(size: number, chunkSize: number): number {
  return Math.ceil(size / chunkSize);
}

/** Byte range [start, end) of a chunk. */
export function chunkSpan(meta: Pick<FileMeta, 'size' | 'chunkSize'>, index: number): [number, number] {
  const start = index * meta.chunkSize;
  return [start, Math.min(start + meta.chunkSize, meta.size)];
}

/** Why a record cannot be used as it is, or undefined when it is well formed. */
export function metaProblem(meta: unknown, key: string): string | undefined {
  const m = meta as Partial<FileMeta> | undefined;
  if (!m || typeof m !== 'object') return 'no record';
  if (m.key !== key || typeof m.url !== 'string' || typeof m.model !== 'string') return 'a record for another file';
  if (m.kind === 'missing' || m.kind === 'html') return undefined;
  if (m.kind !== 'bytes') return `an unknown kind ${JSON.stringify(m.kind)}`;
  if (!Number.isSafeInteger(m.size) || m.size! < 0) return `a bad size ${String(m.size)}`;
  if (!Number.isSafeInteger(m.chunkSize) || m.chunkSize! <= 0) return `a bad chunk size ${String(m.chunkSize)}`;
  if (!Array.isArray(m.chunks) || m.chunks.length !== chunkCount(m.size!, m.chunkSize!)) {
    return `${Array.isArray(m.chunks) ? m.chunks.length : 'no'} chunk hashes for ${chunkCount(m.size!, m.chunkSize!)} chunks`;
  }
  if (m.chunks.some((h) => h !== null && (typeof h !== 'string' || !/^[0-9a-f]{64}$/.test(h)))) return 'a malformed chunk hash';
  if (m.complete && m.chunks.some((h) => h === null)) return 'complete but missing chunks';
  return undefined;
}

/** Whether a chunk read back is the one that was written: its length always, its SHA-256 when `full`. */
export async function chunkIsIntact(meta: FileMeta, index: number, value: unknown, full: boolean): Promise<boolean> {
  const [start, end] = chunkSpan(meta, index);
  if (!(value instanceof Uint8Array) || value.length !== end - start) return false;
  return !full || (await sha256Hex(value)) === meta.chunks[index];
}
