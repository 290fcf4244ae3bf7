/**
 * Cosine similarity of two vectors of one length, accumulated in float64: 0 when either is all
 * zeros, NaN when either holds a NaN.
 *
 * @example cosineSimilarity(Float32Array.of(1, 0), Float32Array.of(1, 1)); // 0.7071…
 */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / Math.max(Math.sqrt(na * nb), 1e-12);
}
