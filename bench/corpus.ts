/**
 * The texts `npm run bench` embeds, the same in Node (onnxruntime-node ceiling) and in the page:
 *  - mixed: lengths spread the way a page's texts are — 40 % short (queries, titles: 8–32
 *    tokens), 40 % medium (sentences, snippets: 32–128), 20 % long (paragraphs: 128–256) — in a
 *    shuffled order, as an app hands them over;
 *  - fixed: every text the same length (no padding for anyone).
 * Lengths are in tokens of the MiniLM (bert-base-uncased) tokenizer, [CLS] and [SEP] included:
 * the words are common English words of one word piece each, with a period (one token) ending a
 * sentence every 8–20 words. Qwen3's BPE gives about the same counts (each word one token, no
 * [CLS]; one appended <|endoftext|>). The benchmark reports the counts each tokenizer really gave.
 * Deterministic (seeded), no dependency: plain strings.
 */
const WORDS =
  'the of and to in a is that for it as was with be by on not he this are or his from at which but have an they you were her she there been one all would their we him when who will more no if out so said what up its about than into them can only other new some could time these two may then do first any my now such like our over man me even most made after also did many before must through back years where much your way well down should because each just those people how too little state good very make world still see own men work long get here between both life being under never day same another know while last might us great old year off come since against go came right used take three'.split(' ');

export type CorpusKind = 'mixed' | 'fixed';

/** mulberry32: a small seeded generator, [0, 1). */
export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A text of `tokens` MiniLM tokens ([CLS] and [SEP] counted): words, a period ending each sentence. */
export function textOfTokens(tokens: number, rnd: () => number): string {
  const body = Math.max(1, tokens - 2);
  const out: string[] = [];
  let sentence = 0;
  let nextStop = 8 + Math.floor(rnd() * 13);
  for (let used = 0; used < body; ) {
    // the last token of the body is a period when there is room for one
    if (sentence >= nextStop && used + 1 < body) {
      out[out.length - 1] += '.';
      used++;
      sentence = 0;
      nextStop = 8 + Math.floor(rnd() * 13);
      continue;
    }
    out.push(WORDS[Math.floor(rnd() * WORDS.length)]!);
    used++;
    sentence++;
  }
  return out.join(' ');
}

/** Target token lengths of the mixed corpus: 40 % 8–32, 40 % 32–128, 20 % 128–256, shuffled. */
export function mixedLengths(n: number, seed = 8): number[] {
  const rnd = seeded(seed);
  const between = (a: number, b: number) => a + Math.floor(rnd() * (b - a + 1));
  return Array.from({ length: n }, () => {
    const u = rnd();
    return u < 0.4 ? between(8, 32) : u < 0.8 ? between(32, 128) : between(128, 256);
  });
}

/** `n` texts of the corpus: mixed lengths, or all of `fixedTokens` tokens. */
export function corpus(kind: CorpusKind, n: number, fixedTokens = 64, seed = 8): string[] {
  const lengths = kind === 'mixed' ? mixedLengths(n, seed) : Array.from({ length: n }, () => fixedTokens);
  const rnd = seeded(seed * 7919 + 1);
  return lengths.map((t) => textOfTokens(t, rnd));
}

export const median = (xs: readonly number[]): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** The reranking query and documents of bench/rerank.ts and `npm run bench`. */
export const RERANK_QUERY = 'What is the capital of France?';
const RERANK_POOL = [
  'Paris is the capital and largest city of France.',
  'Bananas are yellow.',
  'The Eiffel Tower is in Paris, a large city in France with many museums, bridges and cafés along the Seine.',
  'Berlin is the capital of Germany.',
  'Mount Everest is the highest mountain above sea level, on the border of Nepal and China.',
  'French is spoken in France, Belgium, Switzerland, Canada and many countries of Africa.',
  'The cat sat on the mat.',
  'Lyon and Marseille are large French cities, but neither is the seat of the government.',
];
export const rerankDocuments = (n: number): string[] => Array.from({ length: n }, (_, i) => RERANK_POOL[i % RERANK_POOL.length]!);
