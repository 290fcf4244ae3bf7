/**
 * The common page flow in one call: embed the passages (or take their vectors), keep the
 * `candidates` nearest to the query by cosine, rerank those, return the best `topK`.
 */
import { checkRerankArgs, checkTopK, rankByScore } from '../engine/rank.ts';
import type { Embedder } from './embedder.ts';
import type { Reranker, RerankResult } from './reranker.ts';
import { cosineSimilarity } from '../reference/cosine.ts';
import { checkOptions } from './option-check.ts';
import { SEARCH_AND_RERANK_RULES } from './option-rules.ts';

export interface SearchAndRerankOptions {
  embedder: Embedder;
  reranker: Reranker;
  /** passages the reranker sees: the nearest by cosine, an integer ≥ 1 (default 20) */
  candidates?: number;
  /** results returned: an integer ≥ 1 (default: all candidates) */
  topK?: number;
  /** the passages' vectors when the page already has them (embedded with task 'document' by the same embedder) */
  passageVectors?: readonly Float32Array[];
  /** the embedder's query instruction (instruction-aware embedders) */
  queryInstruction?: string;
  /** the reranker's instruction (yes/no rerankers) */
  instruction?: string;
  signal?: AbortSignal;
}

/** A reranked passage, with the cosine that made it a candidate. */
export interface SearchResult extends RerankResult {
  /** cosine of the query's and the passage's vectors */
  similarity: number;
}

export interface SearchResults extends Array<SearchResult> {
  /** the candidates (passage indices) the reranker saw, nearest first */
  readonly candidates: readonly number[];
  /** passage indices cut to fit the reranker */
  readonly truncated: readonly number[];
}

/**
 * Retrieve-then-rerank over a page's passages.
 *
 * @example
 * const embedder = await createEmbedder({ model: 'multilingual-e5-small' });
 * const reranker = await createReranker({ model: 'qwen3-reranker-0.6b' });
 * const hits = await searchAndRerank('how do I bake bread?', passages, { embedder, reranker, candidates: 20, topK: 5 });
 * hits[0]; // { index, score, similarity, document }
 */
export async function searchAndRerank(query: string, passages: string[], opts: SearchAndRerankOptions): Promise<SearchResults> {
  checkOptions(opts, SEARCH_AND_RERANK_RULES, 'searchAndRerank()');
  if (!opts?.embedder || !opts.reranker) throw new TypeError('searchAndRerank needs { embedder, reranker }: from createEmbedder() and createReranker()');
  checkRerankArgs(query, passages);
  const topK = checkTopK(opts.topK);
  const candidates = opts.candidates ?? 20;
  if (!Number.isInteger(candidates) || candidates < 1) throw new RangeError(`candidates must be an integer ≥ 1, got ${String(candidates)}`);
  if (opts.passageVectors && opts.passageVectors.length !== passages.length) {
    throw new RangeError(`passageVectors has ${opts.passageVectors.length} vectors for ${passages.length} passages`);
  }
  const signal = opts.signal;
  if (passages.length === 0) return Object.assign([], { candidates: [], truncated: [] });

  const vectors = opts.passageVectors ?? (await opts.embedder.embed(passages, { task: 'document', ...(signal ? { signal } : {}) }));
  const [q] = await opts.embedder.embed([query], { task: 'query', ...(opts.queryInstruction !== undefined ? { instruction: opts.queryInstruction } : {}), ...(signal ? { signal } : {}) });
  const similarity = vectors.map((v) => cosine(q!, v));
  const chosen = rankByScore(similarity, candidates);
  const ranked = await opts.reranker.rerank(
    query,
    chosen.map((i) => passages[i]!),
    { ...(topK !== undefined ? { topK } : {}), ...(opts.instruction !== undefined ? { instruction: opts.instruction } : {}), ...(signal ? { signal } : {}) },
  );
  const results = ranked.map((r) => {
    const index = chosen[r.index]!;
    return { index, score: r.score, similarity: similarity[index]!, document: r.document };
  });
  return Object.assign(results, { candidates: chosen, truncated: ranked.truncated.map((i) => chosen[i]!) });
}

function cosine(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new RangeError(`a passage vector has ${b.length} dimensions, the query's ${a.length}`);
  return cosineSimilarity(a, b);
}
