/**
 * Long documents → passages that each fit the model, and their vectors, in one engine call.
 *
 * Splitting: by paragraph (blank lines), a paragraph over the budget by sentence, a sentence over
 * it by word, packed greedily back up to the budget; a single word over it is cut by characters.
 * Every passage is a character range [start, end) of its document (whitespace trimmed), so a hit
 * can be highlighted in the page. Budgets are in the model's own tokens, prompt and special tokens
 * included, a whole round of pieces per count. Packed passages are counted again, and any that a
 * tokenizer's merges pushed over the budget is split once more, so none is truncated.
 *
 * embedPassages runs that split inside the engine (in its worker: one round trip for the
 * index's add(), not one per round of counts and then per batch) and embeds each passage with
 * the token ids its last count computed, so no passage is tokenized twice.
 */
import { percent, type EmbedBatchProgress } from '../models/progress.ts';
import { prepareTexts } from '../models/prepare.ts';
import type { LoadedModel, PreparedText } from '../models/types.ts';
import { nextTask } from '../runtime/next-task.ts';
import { checkDimensions, checkTexts } from './validate.ts';

export interface PassageRange {
  start: number;
  end: number;
}

/** Tokens of each text as the model will see it (prompt and special tokens included). */
export type CountTokens = (texts: string[]) => Promise<number[]>;

interface Unit extends PassageRange {
  /** tokens of the unit alone, special tokens and prompt excluded */
  cost: number;
}

/**
 * @example
 * const ranges = await splitPassages([article], (t) => embedder.countTokens(t, { task: 'document' }), 256);
 * ranges[0].map((r) => article.slice(r.start, r.end));
 */
export async function splitPassages(texts: readonly string[], countTokens: CountTokens, budget: number): Promise<PassageRange[][]> {
  return (await splitTokenized(texts, countTokens, (n) => n, budget)).ranges;
}

/** The passages of each text, and the tokens of each passage's own text where a count computed them (else undefined). */
export interface TokenizedPassages<T> {
  ranges: PassageRange[][];
  tokens: (T | undefined)[][];
}

/**
 * splitPassages over any tokenization: `tokenize` gives each text's tokens and `size` counts
 * them. A passage's tokens are those its last count computed (a whole paragraph, or a packed
 * passage): the text the model will see, so they can be embedded as they are.
 *
 * @example
 * const { ranges, tokens } = await splitTokenized(docs, async (t) => prepareTexts(model, t), (p) => p.fullLength, 256);
 */
export async function splitTokenized<T>(
  texts: readonly string[],
  tokenize: (texts: string[]) => Promise<T[]>,
  size: (tokens: T) => number,
  budget: number,
): Promise<TokenizedPassages<T>> {
  const countTokens: CountTokens = async (pieces) => (await tokenize(pieces)).map(size);
  const [overhead] = await countTokens(['']);
  const room = budget - overhead!;
  if (!Number.isInteger(budget) || room < 1) {
    throw new RangeError(`passageTokens must be an integer above ${overhead} (the model's prompt and special tokens), got ${budget}`);
  }
  const paragraphs = texts.map((t) => {
    const p = paragraphsOf(t);
    return p.length ? p : [{ start: 0, end: t.length }];
  });
  const flat = paragraphs.flatMap((ps, doc) => ps.map((r) => ({ doc, ...r })));
  const paragraphTokens = await tokenize(flat.map((p) => texts[p.doc]!.slice(p.start, p.end)));
  const counts = paragraphTokens.map(size);
  const out: Passage<T>[][] = texts.map(() => []);

  // paragraphs over the budget: sentences, then words for sentences still over it
  const long = flat.filter((_, i) => counts[i]! > budget);
  const sentences = long.map((p) => sentencesOf(texts[p.doc]!, p));
  const allSentences = sentences.flat();
  const sentenceCounts = allSentences.length ? await countTokens(allSentences.map((s) => texts[s.doc]!.slice(s.start, s.end))) : [];
  const bigSentences = allSentences.filter((_, i) => sentenceCounts[i]! > budget);
  const words = bigSentences.map((s) => wordsOf(texts[s.doc]!, s));
  const allWords = words.flat();
  const wordCounts = allWords.length ? await countTokens(allWords.map((w) => texts[w.doc]!.slice(w.start, w.end))) : [];

  const unitsOfSentence = new Map<(typeof allSentences)[number], Unit[]>();
  let wi = 0;
  bigSentences.forEach((s, i) => {
    unitsOfSentence.set(
      s,
      words[i]!.flatMap((w) => {
        const cost = wordCounts[wi++]! - overhead!;
        return cost > room ? cutByCharacters(w, cost, room) : [{ start: w.start, end: w.end, cost }];
      }),
    );
  });

  // packed passages of long paragraphs, checked by a second count
  const packed: { doc: number; units: Unit[] }[] = [];
  let si = 0;
  long.forEach((p, i) => {
    const units = sentences[i]!.flatMap((s) => {
      const c = sentenceCounts[si++]!;
      return unitsOfSentence.get(s) ?? [{ start: s.start, end: s.end, cost: c - overhead! }];
    });
    for (const group of pack(units, room)) packed.push({ doc: p.doc, units: group });
  });
  const fitted = await fit(packed, texts, tokenize, size, budget);

  // every passage in document order
  const byDoc = new Map<number, Passage<T>[]>();
  for (const f of fitted) {
    const list = byDoc.get(f.doc) ?? [];
    list.push({ start: f.units[0]!.start, end: f.units[f.units.length - 1]!.end, tokens: f.tokens });
    byDoc.set(f.doc, list);
  }
  flat.forEach((p, i) => {
    if (counts[i]! <= budget) out[p.doc]!.push({ start: p.start, end: p.end, tokens: paragraphTokens[i] });
  });
  for (const [doc, list] of byDoc) out[doc]!.push(...list);
  for (const list of out) list.sort((a, b) => a.start - b.start);
  return { ranges: out.map((list) => list.map(({ start, end }) => ({ start, end }))), tokens: out.map((list) => list.map((p) => p.tokens)) };
}

type Passage<T> = PassageRange & { tokens: T | undefined };
type Packed<T> = { doc: number; units: Unit[]; tokens?: T };

/** What embedPassages needs of the engine: the model's tokenizer and prompts, and its batch runner. */
export interface PassageEngine {
  model: Pick<LoadedModel, 'spec' | 'tokenizer'>;
  /**
   * Passages through ORT and the head: planned into batches within the model's limits, each under
   * the engine's lock (EngineCore.runBatches); rows [passages, dims] in input order, `onBatch`
   * with the passages done so far in this call
   */
  embed(passages: PreparedText[], dims: number, onBatch: (done: number) => void): Promise<Float32Array>;
}

export interface PassageCallOptions {
  /** most tokens in one passage, the document prompt and special tokens included */
  passageTokens: number;
  /** Matryoshka output size; the model's full width by default */
  dimensions?: number;
  /** passages per group, each group's batches planned apart as one embed() call plans its texts (default: all in one) */
  batchSize?: number;
  signal?: AbortSignal;
  /** per batch: `done` of `total` passages */
  onProgress?: (e: EmbedBatchProgress) => void;
}

/** Each text's passages and one vector per passage (texts in order, then their passages), row-major in one buffer. */
export interface EmbeddedPassages {
  passages: PassageRange[][];
  data: Float32Array;
  dimensions: number;
}

/**
 * Splits documents into passages of at most `passageTokens` tokens (as documents: the model's
 * document prompt) and embeds them, each passage with the token ids its split computed. The
 * vectors are embed()'s for the same passages in groups of `batchSize`.
 *
 * @example
 * const { passages, data, dimensions } = await embedPassages(engine, [article], { passageTokens: 256 });
 * passages[0].map((r) => article.slice(r.start, r.end)); // the passages; data holds their rows
 */
export async function embedPassages(engine: PassageEngine, texts: readonly string[], o: PassageCallOptions): Promise<EmbeddedPassages> {
  checkTexts(texts);
  const { model } = engine;
  const dims = checkDimensions(o.dimensions, model.spec);
  if (o.batchSize !== undefined && (!Number.isInteger(o.batchSize) || o.batchSize < 1)) throw new RangeError(`batchSize must be a positive integer, got ${o.batchSize}`);
  o.signal?.throwIfAborted();
  const prepare = (pieces: string[]) => prepareTexts(model, pieces, { task: 'document' });
  const { ranges, tokens } = await splitTokenized(texts, async (pieces) => prepare(pieces), (p) => p.fullLength, o.passageTokens);
  // a passage the split's last halving made was never counted: it is tokenized here, once
  const passages = ranges.flatMap((list, d) => list.map((r, i) => tokens[d]![i] ?? prepare([texts[d]!.slice(r.start, r.end)])[0]!));

  const group = o.batchSize ?? Math.max(1, passages.length);
  const data = new Float32Array(passages.length * dims);
  for (let start = 0; start < passages.length; start += group) {
    // the call stops between groups too (nextTask lets the abort message in)
    if (o.signal && start > 0) await nextTask();
    o.signal?.throwIfAborted();
    const rows = await engine.embed(passages.slice(start, start + group), dims, (inGroup) => {
      const done = start + inGroup;
      o.onProgress?.({ status: 'embed', name: model.spec.id, done, total: passages.length, progress: percent(done, passages.length) });
    });
    data.set(rows, start * dims);
  }
  return { passages: ranges, data, dimensions: dims };
}

/** Greedy: units in order, a new passage when the next would pass the room left by the overhead. */
function pack(units: Unit[], room: number): Unit[][] {
  const groups: Unit[][] = [];
  let current: Unit[] = [];
  let used = 0;
  for (const u of units) {
    if (current.length && used + u.cost > room) {
      groups.push(current);
      current = [];
      used = 0;
    }
    current.push(u);
    used += u.cost;
  }
  if (current.length) groups.push(current);
  return groups;
}

/** Counts packed passages (keeping the tokens of those that fit); any over the budget is halved (by units, or by characters) and counted again. */
async function fit<T>(
  passages: Packed<T>[],
  texts: readonly string[],
  tokenize: (texts: string[]) => Promise<T[]>,
  size: (tokens: T) => number,
  budget: number,
): Promise<Packed<T>[]> {
  const done: Packed<T>[] = [];
  let pending = passages;
  for (let round = 0; pending.length && round < 32; round++) {
    const tokens = await tokenize(pending.map((p) => texts[p.doc]!.slice(p.units[0]!.start, p.units[p.units.length - 1]!.end)));
    const next: typeof pending = [];
    pending.forEach((p, i) => {
      const first = p.units[0]!;
      const last = p.units[p.units.length - 1]!;
      if (size(tokens[i]!) <= budget || (p.units.length === 1 && last.end - first.start <= 1)) done.push({ ...p, tokens: tokens[i]! });
      else if (p.units.length > 1) {
        const mid = p.units.length >> 1;
        next.push({ doc: p.doc, units: p.units.slice(0, mid) }, { doc: p.doc, units: p.units.slice(mid) });
      } else {
        const mid = first.start + ((first.end - first.start) >> 1);
        next.push({ doc: p.doc, units: [{ start: first.start, end: mid, cost: 0 }] }, { doc: p.doc, units: [{ start: mid, end: first.end, cost: 0 }] });
      }
    });
    pending = next;
  }
  return [...done, ...pending];
}

/** A word longer than a passage (a URL, a run of symbols): pieces of about `room` tokens' worth of characters. */
function cutByCharacters(w: PassageRange, cost: number, room: number): Unit[] {
  const per = Math.max(1, Math.floor(((w.end - w.start) * room) / cost));
  const units: Unit[] = [];
  for (let s = w.start; s < w.end; s += per) units.push({ start: s, end: Math.min(w.end, s + per), cost: room });
  return units;
}

/** Non-empty paragraphs (separated by blank lines), whitespace trimmed. */
export function paragraphsOf(text: string): PassageRange[] {
  const out: PassageRange[] = [];
  const sep = /\n[^\S\n]*\n\s*/g;
  let start = 0;
  for (let m = sep.exec(text); ; m = sep.exec(text)) {
    const end = m ? m.index : text.length;
    const r = trim(text, start, end);
    if (r) out.push(r);
    if (!m) return out;
    start = m.index + m[0].length;
  }
}

type DocRange = PassageRange & { doc: number };

/** Sentences of a range (Intl.Segmenter where there is one), whitespace trimmed. */
function sentencesOf(text: string, p: DocRange): DocRange[] {
  const slice = text.slice(p.start, p.end);
  const out: DocRange[] = [];
  const push = (s: number, e: number) => {
    const r = trim(text, p.start + s, p.start + e);
    if (r) out.push({ doc: p.doc, ...r });
  };
  if (typeof Intl !== 'undefined' && 'Segmenter' in Intl) {
    for (const seg of new Intl.Segmenter(undefined, { granularity: 'sentence' }).segment(slice)) push(seg.index, seg.index + seg.segment.length);
  } else {
    for (const m of slice.matchAll(/[^.!?]+(?:[.!?]+["')\]]*|$)/g)) push(m.index, m.index + m[0].length);
  }
  return out.length ? out : [p];
}

/** Whitespace-separated words of a range. */
function wordsOf(text: string, p: DocRange): DocRange[] {
  const out: DocRange[] = [];
  for (const m of text.slice(p.start, p.end).matchAll(/\S+/g)) out.push({ doc: p.doc, start: p.start + m.index, end: p.start + m.index + m[0].length });
  return out.length ? out : [p];
}

function trim(text: string, start: number, end: number): PassageRange | undefined {
  while (start < end && /\s/.test(text[start]!)) start++;
  while (end > start && /\s/.test(text[end - 1]!)) end--;
  return end > start ? { start, end } : undefined;
}
