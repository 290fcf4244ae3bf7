/**
 * rerank()'s arguments checked before any work, and scores turned into a ranking: best first,
 * ties in input order, cut to topK.
 */
import { EmptyQueryError } from '../errors.ts';

/** The query must be a non-empty string; documents an array of strings (a non-string names its index). */
export function checkRerankArgs(query: unknown, documents: unknown): asserts documents is readonly string[] {
  if (typeof query !== 'string') throw new TypeError(`query must be a string, got ${describe(query)}`);
  if (!Array.isArray(documents)) {
    throw new TypeError(`documents must be an array of strings, got ${describe(documents)}; wrap a single document as [document]`);
  }
  for (let i = 0; i < documents.length; i++) {
    if (typeof documents[i] !== 'string') throw new TypeError(`documents[${i}] is ${describe(documents[i])}, not a string`);
  }
  if (query.trim() === '') throw new EmptyQueryError('query is empty: give the text to rank the documents against');
}

/**
 * topK: an integer ≥ 1, or undefined for all; more than there are documents gives them all.
 */
export function checkTopK(topK: unknown): number | undefined {
  if (topK === undefined) return undefined;
  if (typeof topK !== 'number' || !Number.isInteger(topK) || topK < 1) {
    throw new RangeError(`topK must be an integer ≥ 1 (or left out for all documents), got ${describe(topK)}`);
  }
  return topK;
}

/** batchSize: an integer ≥ 1, or undefined for the reranker's own limit. */
export function checkBatchSize(batchSize: unknown): number | undefined {
  if (batchSize === undefined) return undefined;
  if (typeof batchSize !== 'number' || !Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`batchSize must be an integer ≥ 1, got ${describe(batchSize)}`);
  }
  return batchSize;
}

/**
 * Input indices ordered by score, best first; equal scores keep input order; at most topK.
 *
 * @example rankByScore(Float32Array.of(0.2, 0.9, 0.2), 2); // [1, 0]
 */
export function rankByScore(scores: ArrayLike<number>, topK?: number): number[] {
  const order = Array.from({ length: scores.length }, (_, i) => i);
  // A NaN score (never expected) sorts last instead of poisoning the comparison.
  const key = (i: number) => (Number.isNaN(scores[i]!) ? -Infinity : scores[i]!);
  order.sort((a, b) => key(b) - key(a) || a - b);
  return topK === undefined ? order : order.slice(0, topK);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (typeof v === 'number') return `the number ${v}`;
  return typeof v === 'object' ? 'an object' : typeof v === 'undefined' ? 'undefined' : `a ${typeof v}`;
}
