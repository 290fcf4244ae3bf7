/**
 * Long documents → passages (src/engine/passages.ts): paragraphs, then sentences, then
 * words, packed up to a token budget counted by the model's tokenizer (here a stand-in that
 * counts words, plus two special tokens), each passage a trimmed character range of its text.
 */
import { describe, expect, it } from 'vitest';
import { paragraphsOf, splitPassages, type CountTokens } from '../../src/engine/passages.ts';

const OVERHEAD = 2; // like [CLS] … [SEP]
const words = (t: string) => (t.match(/\S+/g) ?? []).length;
function counter(calls: string[][] = []): CountTokens {
  return async (texts) => {
    calls.push(texts);
    return texts.map((t) => OVERHEAD + words(t));
  };
}

function check(text: string, ranges: { start: number; end: number }[], budget: number) {
  let last = -1;
  for (const r of ranges) {
    expect(r.start).toBeGreaterThan(last);
    expect(r.end).toBeGreaterThan(r.start);
    const slice = text.slice(r.start, r.end);
    expect(slice).toBe(slice.trim());
    expect(OVERHEAD + words(slice)).toBeLessThanOrEqual(budget);
    last = r.end - 1;
  }
  // every word of the text is in some passage
  const covered = ranges.map((r) => text.slice(r.start, r.end)).join(' ');
  expect(words(covered)).toBe(words(text));
}

describe('splitting documents into passages', () => {
  it('keeps a paragraph that fits whole, and splits on blank lines', async () => {
    const text = '  First paragraph here.\n\nSecond one,\nwith a line break.\n \n\n Third.  ';
    const [ranges] = await splitPassages([text], counter(), 50);
    expect(ranges!.map((r) => text.slice(r.start, r.end))).toEqual(['First paragraph here.', 'Second one,\nwith a line break.', 'Third.']);
    expect(paragraphsOf('\n\n  \n')).toEqual([]);
  });

  it('splits a long paragraph by sentences, packed greedily to the budget', async () => {
    const sentences = Array.from({ length: 12 }, (_, i) => `Sentence number ${i} has exactly seven words.`);
    const text = sentences.join(' ');
    const budget = 2 + 7 * 3; // three sentences per passage
    const [ranges] = await splitPassages([text], counter(), budget);
    expect(ranges).toHaveLength(4);
    check(text, ranges!, budget);
    expect(text.slice(ranges![1]!.start, ranges![1]!.end)).toBe(sentences.slice(3, 6).join(' '));
  });

  it('splits a sentence over the budget by words, and a word over it by characters', async () => {
    const long = Array.from({ length: 40 }, (_, i) => `w${i}`).join(' ');
    const text = `Short start. ${long}. Short end.`;
    const [ranges] = await splitPassages([text], counter(), 12);
    check(text, ranges!, 12);
    const giant = 'x'.repeat(100);
    const tok: CountTokens = async (texts) => texts.map((t) => OVERHEAD + Math.ceil(t.length / 10)); // 10 characters a token
    const [cut] = await splitPassages([giant], tok, 5);
    expect(cut!.length).toBeGreaterThan(1);
    for (const r of cut!) expect(OVERHEAD + Math.ceil((r.end - r.start) / 10)).toBeLessThanOrEqual(5);
    expect(cut!.map((r) => giant.slice(r.start, r.end)).join('')).toBe(giant);
  });

  it('re-splits a packed passage the tokenizer counts over the budget (merges across pieces)', async () => {
    // a tokenizer whose count of a joined text exceeds the sum of its parts
    const tok: CountTokens = async (texts) => texts.map((t) => OVERHEAD + words(t) + (words(t) > 4 ? 3 : 0));
    const text = Array.from({ length: 10 }, (_, i) => `Two words${i}.`).join(' ');
    const [ranges] = await splitPassages([text], tok, 2 + 6);
    for (const r of ranges!) expect((await tok([text.slice(r.start, r.end)]))[0]).toBeLessThanOrEqual(8);
  });

  it('counts every document of a call together: a few calls, not one per piece', async () => {
    const calls: string[][] = [];
    const docs = Array.from({ length: 50 }, (_, i) => `Doc ${i} paragraph one.\n\nDoc ${i} paragraph two is ${'long '.repeat(30)}indeed. It has sentences.`);
    const out = await splitPassages(docs, counter(calls), 20);
    expect(calls.length).toBeLessThanOrEqual(5);
    docs.forEach((d, i) => check(d, out[i]!, 20));
  });

  it('gives an empty document one empty passage, and refuses a budget the special tokens fill', async () => {
    expect(await splitPassages(['', '  '], counter(), 10)).toEqual([[{ start: 0, end: 0 }], [{ start: 0, end: 2 }]]);
    await expect(splitPassages(['a'], counter(), 2)).rejects.toThrow(RangeError);
  });
});
