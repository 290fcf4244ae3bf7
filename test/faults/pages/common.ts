/**
 * Shared by the fault pages: errors described as plain data (with the library classes they are
 * instances of), calls bounded by a timeout (a hang is an outcome, not a stuck test), and
 * vector comparisons.
 */

import { errorInfo, type ErrorInfo } from '../../browser/pages/errors.ts';

export { fixtureUrl } from '../../browser/pages/embed.ts';
export { errorInfo, type ErrorInfo };

/** A typed error of the library, or a TypeError / RangeError (bad arguments). */
export function isTyped(e: ErrorInfo): boolean {
  return e.is.includes('WebGPUEmbedError') || e.is.includes('TypeError') || e.is.includes('RangeError');
}

export type Outcome<T> = { ok: true; value: T; ms: number } | { ok: false; error: ErrorInfo; ms: number } | { ok: 'hang'; ms: number };

/** Awaits `p` for at most `ms`: its value, its error, or 'hang'. */
export async function bounded<T>(p: Promise<T> | (() => Promise<T>), ms: number): Promise<Outcome<T>> {
  const t0 = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<'hang'>((r) => (timer = setTimeout(() => r('hang'), ms)));
  try {
    const promise = typeof p === 'function' ? p() : p;
    const r = await Promise.race([promise.then((value) => ({ value })), hang]);
    if (r === 'hang') return { ok: 'hang', ms: performance.now() - t0 };
    return { ok: true, value: r.value, ms: performance.now() - t0 };
  } catch (e) {
    return { ok: false, error: errorInfo(e), ms: performance.now() - t0 };
  } finally {
    clearTimeout(timer);
  }
}

export function describeOutcome(o: Outcome<unknown>): string {
  if (o.ok === 'hang') return `no answer in ${o.ms.toFixed(0)} ms (a hang)`;
  if (o.ok) return 'resolved';
  return `${o.error.name} [${o.error.is.join(',')}]: ${o.error.message.slice(0, 300)}`;
}

/** Largest absolute difference between two lists of vectors (Infinity when shapes differ). */
export function maxDiff(a: ArrayLike<number>[], b: ArrayLike<number>[]): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.length !== y.length) return Infinity;
    for (let k = 0; k < x.length; k++) {
      const e = Math.abs(x[k]! - y[k]!);
      if (!(e <= d)) d = Number.isNaN(e) ? Infinity : e;
    }
  }
  return d;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function sha256(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** mulberry32, as in tally.ts */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
