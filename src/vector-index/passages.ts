/**
 * Long documents → passages that each fit the model: by paragraph (blank lines), a paragraph
 * over the budget by sentence, a sentence over it by word, packed greedily back up to the
 * budget; a single word over it is cut by characters. Every passage is a character range
 * [start, end) of its document (whitespace trimmed), so a hit can be highlighted in the page.
 *
 * Budgets are in the model's own tokens, counted by the embedder's tokenizer with the document
 * prompt and special tokens included (embedder.countTokens), a whole round of pieces per call
 * (the embedder may be across a worker boundary). Packed passages are counted again, and any
 * that a tokenizer's merges pushed over the budget is split once more, so none is truncated.
 */

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
  const counts = await countTokens(flat.map((p) => texts[p.doc]!.slice(p.start, p.end)));
  const out: PassageRange[][] = texts.map(() => []);

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
  const fitted = await fit(packed, texts, countTokens, budget);

  // every passage in document order
  const byDoc = new Map<number, PassageRange[]>();
  for (const f of fitted) {
    const list = byDoc.get(f.doc) ?? [];
    list.push({ start: f.units[0]!.start, end: f.units[f.units.length - 1]!.end });
    byDoc.set(f.doc, list);
  }
  flat.forEach((p, i) => {
    if (counts[i]! <= budget) out[p.doc]!.push({ start: p.start, end: p.end });
  });
  for (const [doc, list] of byDoc) out[doc]!.push(...list);
  for (const list of out) list.sort((a, b) => a.start - b.start);
  return out;
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

/** Counts packed passages; any over the budget is halved (by units, or by characters) and counted again. */
async function fit(
  passages: { doc: number; units: Unit[] }[],
  texts: readonly string[],
  countTokens: CountTokens,
  budget: number,
): Promise<{ doc: number; units: Unit[] }[]> {
  const done: { doc: number; units: Unit[] }[] = [];
  let pending = passages;
  for (let round = 0; pending.length && round < 32; round++) {
    const counts = await countTokens(pending.map((p) => texts[p.doc]!.slice(p.units[0]!.start, p.units[p.units.length - 1]!.end)));
    const next: typeof pending = [];
    pending.forEach((p, i) => {
      const first = p.units[0]!;
      const last = p.units[p.units.length - 1]!;
      if (counts[i]! <= budget || (p.units.length === 1 && last.end - first.start <= 1)) done.push(p);
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
