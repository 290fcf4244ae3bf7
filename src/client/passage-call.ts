/**
 * The vector index's one call into an embedder: documents → passages → vectors in a single engine
 * call (one worker round trip), each passage tokenized once (src/engine/passages.ts). It is kept
 * off the public Embedder interface: createEmbedder() registers it for the embedders it makes, and
 * any other object the index is given (a wrapper, a stand-in) goes the long way, countTokens
 * rounds then embed() calls, with the same passages and vectors.
 */
import type { EmbeddedPassages, PassageCallOptions } from '../engine/passages.ts';

export type { EmbeddedPassages, PassageCallOptions };

export type PassageCall = (texts: string[], options: PassageCallOptions) => Promise<EmbeddedPassages>;

const calls = new WeakMap<object, PassageCall>();

/**
 * Gives an embedder its passage call; returns the embedder.
 *
 * @example
 * return withPassageCall({ info, embed, countTokens, stats, dispose }, (texts, o) => engine.embedPassages(texts, o));
 */
export function withPassageCall<T extends object>(embedder: T, call: PassageCall): T {
  calls.set(embedder, call);
  return embedder;
}

/** The embedder's passage call, when createEmbedder() made it. */
export function passageCallOf(embedder: object): PassageCall | undefined {
  return calls.get(embedder);
}
