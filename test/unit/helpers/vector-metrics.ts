/**
 * How two sets of embeddings are compared in the real-encoder tests: per-vector cosine and
 * largest difference, and the retrieval measures of the example corpus (one relevant paragraph per
 * query), all in float64.
 */

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`cosine of ${a.length} and ${b.length} values`);
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(na * nb);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`difference of ${a.length} and ${b.length} values`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

export interface Agreement {
  /** cosine of each pair, in order */
  cosines: number[];
  minCosine: number;
  /** largest |a - b| over every value of every pair */
  maxAbsDiff: number;
}

/** Pairwise agreement of two equally long lists of vectors. */
export function agreement(a: readonly ArrayLike<number>[], b: readonly ArrayLike<number>[]): Agreement {
  if (a.length !== b.length) throw new Error(`${a.length} vectors against ${b.length}`);
  const cosines = a.map((x, i) => cosine(x, b[i]!));
  return { cosines, minCosine: Math.min(...cosines), maxAbsDiff: Math.max(0, ...a.map((x, i) => maxAbsDiff(x, b[i]!))) };
}

export interface RetrievalScore {
  /** mean over queries of 1 / log2(rank + 1) when the relevant paragraph is in the top 10, else 0 */
  ndcg10: number;
  /** share of queries whose relevant paragraph is in the top 10 */
  recall10: number;
  /** the relevant paragraph's rank (1 = first) for each query */
  ranks: number[];
}

/**
 * nDCG@10 and recall@10 with one relevant paragraph per query (the ideal DCG is 1): paragraphs
 * ranked by cosine to the query; a tie is counted against the relevant paragraph.
 */
export function retrievalScore(queries: readonly ArrayLike<number>[], paragraphs: readonly ArrayLike<number>[], relevant: readonly number[]): RetrievalScore {
  const ranks = queries.map((q, i) => {
    const scores = paragraphs.map((p) => cosine(q, p));
    const mine = scores[relevant[i]!]!;
    return 1 + scores.filter((s, j) => j !== relevant[i] && s >= mine).length;
  });
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  return {
    ndcg10: mean(ranks.map((r) => (r <= 10 ? 1 / Math.log2(r + 1) : 0))),
    recall10: mean(ranks.map((r) => (r <= 10 ? 1 : 0))),
    ranks,
  };
}
