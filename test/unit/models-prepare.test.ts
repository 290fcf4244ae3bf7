/**
 * prepareTexts and chunkText on the fixture models: prompts and special tokens in place, a cut
 * that keeps the closing special token and says so, NV-Embed's instruction left out of the
 * pooling by exactly its token count, and windows that cover every token with the overlap asked.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../src/models/folder.ts';
import { chunkText, prepareTexts } from '../../src/models/prepare.ts';
import { formatPrompt, promptPrefix } from '../../src/models/prompts.ts';
import type { LoadedModel } from '../../src/models/types.ts';
import { diskFetchFile, fixtureUrl } from './helpers/model-folders.ts';

const models: Record<string, LoadedModel> = {};
const LONG = Array.from({ length: 400 }, (_, i) => `word${i % 37} the quick brown fox ${i}`).join(' ');

beforeAll(async () => {
  for (const name of ['tiny-e5', 'tiny-qwen3-embedding', 'tiny-nv-embed', 'glove-sif']) {
    models[name] = await loadModel(fixtureUrl(name), { fetchFile: diskFetchFile() });
  }
});

describe('prepareTexts', () => {
  it("E5: [CLS] 'query: …' [SEP] for queries, 'passage: …' for documents (the default task)", () => {
    const m = models['tiny-e5']!;
    const [q, d] = [prepareTexts(m, ['what is a cat'], { task: 'query' })[0]!, prepareTexts(m, ['what is a cat'])[0]!];
    expect(q.ids).toEqual(m.tokenizer.encode('query: what is a cat'));
    expect(q.ids[0]).toBe(101);
    expect(q.ids.at(-1)).toBe(102);
    expect(d.ids).toEqual(m.tokenizer.encode('passage: what is a cat'));
    expect(q).toMatchObject({ poolSkip: 0, truncated: false, fullLength: q.ids.length });
  });

  it('Qwen3: the query prompt, then the text, then <|endoftext|>', () => {
    const m = models['tiny-qwen3-embedding']!;
    const [q] = prepareTexts(m, ['what'], { task: 'query', instruction: 'Find it' });
    expect(q!.ids).toEqual(m.tokenizer.encode('Instruct: Find it\nQuery:what'));
    expect(q!.ids.at(-1)).toBe(151643);
  });

  it("NV-Embed: poolSkip is the instruction prompt's token count (without special tokens); documents skip nothing", () => {
    const m = models['tiny-nv-embed']!;
    for (const instruction of [undefined, 'Retrieve code', 'Given a long and very specific question about medieval history, find passages']) {
      const prefix = promptPrefix(m.spec, 'query', instruction);
      const n = m.tokenizer.encode(prefix, { addSpecialTokens: false }).length;
      const [q] = prepareTexts(m, ['what is the capital of France?'], { task: 'query', instruction });
      expect(n).toBeGreaterThan(3);
      expect(q!.poolSkip).toBe(n);
      expect(q!.ids.length).toBeGreaterThan(n);
    }
    expect(prepareTexts(m, ['Paris.'], { task: 'document' })[0]!.poolSkip).toBe(0);
    // A model that does not mask its instruction skips nothing.
    expect(prepareTexts(models['tiny-qwen3-embedding']!, ['what'], { task: 'query' })[0]!.poolSkip).toBe(0);
  });

  it.each([
    ['tiny-e5', [101], [102]],
    ['tiny-qwen3-embedding', [], [151643]],
  ])('%s: a cut at maxTokens keeps the head and the closing special token, and reports it', (name, head, tail) => {
    const m = models[name]!;
    const full = m.tokenizer.encode(formatPrompt(m.spec, LONG, 'document'));
    const [p] = prepareTexts(m, [LONG], { maxTokens: 16 });
    expect(p!.ids).toHaveLength(16);
    expect(p!.ids.slice(0, head.length)).toEqual(head);
    expect(p!.ids.slice(16 - tail.length)).toEqual(tail);
    expect(p!.ids.slice(0, 16 - tail.length)).toEqual(full.slice(0, 16 - tail.length));
    expect(p).toMatchObject({ truncated: true, fullLength: full.length });
  });

  it("the model's own limit applies when none is given, and a lower one cannot raise it", () => {
    const m = models['tiny-e5']!;
    const [p] = prepareTexts(m, [LONG + LONG]);
    expect(p!.ids).toHaveLength(512);
    expect(p!.truncated).toBe(true);
    expect(prepareTexts(m, [LONG + LONG], { maxTokens: 100_000 })[0]!.ids).toHaveLength(512);
    expect(() => prepareTexts(m, ['x'], { maxTokens: 2 })).toThrow(/above 2/);
  });

  it('checks its input: an array of strings, a TypeError naming the first bad index; [] gives []', () => {
    const m = models['tiny-e5']!;
    expect(prepareTexts(m, [])).toEqual([]);
    // @ts-expect-error: not strings
    expect(() => prepareTexts(m, ['a', 'b', 3, null])).toThrow(/texts\[2\] is a number, not a string/);
    // @ts-expect-error: not an array
    expect(() => prepareTexts(m, 'a text')).toThrow(TypeError);
    // @ts-expect-error: not a string
    expect(() => prepareTexts(m, ['a'], { instruction: 5 })).toThrow(/instruction must be a string/);
  });

  it('an empty text is its prompt and special tokens', () => {
    const m = models['tiny-e5']!;
    expect(prepareTexts(m, [''], { task: 'query' })[0]!.ids).toEqual(m.tokenizer.encode('query: '));
  });
});

describe('chunkText', () => {
  it.each([
    ['tiny-e5', 'query', 5],
    ['tiny-e5', 'document', 0],
    ['tiny-qwen3-embedding', 'query', 7],
    ['tiny-nv-embed', 'query', 3],
    ['glove-sif', 'document', 4],
  ] as const)('%s (%s, overlap %i): windows fit, overlap exactly, and cover every token of the text', (name, task, overlap) => {
    const m = models[name]!;
    const maxTokens = 48;
    const chunks = chunkText(m, LONG, { task, overlap, maxTokens });
    const prefix = promptPrefix(m.spec, task);
    const joint = m.tokenizer.encode(prefix + LONG, { addSpecialTokens: false });
    const { head, tail } = m.tokenizer;
    const first = prepareTexts(m, [LONG], { task, maxTokens })[0]!;
    expect(chunks.length).toBeGreaterThan(5);
    expect(chunks[0]!.start).toBe(0);
    const textTokens = joint.slice(joint.length - chunks.at(-1)!.end);
    expect(chunks.at(-1)!.end).toBe(textTokens.length);
    const promptIds = joint.slice(0, joint.length - textTokens.length);
    const covered = new Array<boolean>(textTokens.length).fill(false);
    chunks.forEach((c, i) => {
      expect(c.ids.length).toBeLessThanOrEqual(maxTokens);
      expect(c.ids).toEqual([...head, ...promptIds, ...textTokens.slice(c.start, c.end), ...tail]);
      expect(c.poolSkip).toBe(first.poolSkip);
      expect(c).toMatchObject({ truncated: false, fullLength: head.length + joint.length + tail.length });
      if (i > 0) expect(chunks[i - 1]!.end - c.start).toBe(overlap);
      if (i < chunks.length - 1) expect(c.ids).toHaveLength(maxTokens);
      for (let t = c.start; t < c.end; t++) covered[t] = true;
    });
    expect(covered.every(Boolean)).toBe(true);
    // The first window is where prepareTexts cuts, minus its closing token's place.
    expect(chunks[0]!.ids).toEqual(first.ids);
  });

  it('a text that fits is one window, equal to prepareTexts', () => {
    for (const m of Object.values(models)) {
      const [c, ...rest] = chunkText(m, 'a short text', { task: 'query', overlap: 2 });
      const p = prepareTexts(m, ['a short text'], { task: 'query' })[0]!;
      expect(rest).toEqual([]);
      expect(c).toMatchObject({ ids: p.ids, poolSkip: p.poolSkip, truncated: false, fullLength: p.fullLength, start: 0 });
    }
  });

  it("each window carries its text, decoded", () => {
    const chunks = chunkText(models['tiny-qwen3-embedding']!, LONG, { maxTokens: 32 });
    expect(chunks.map((c) => c.text).join('')).toBe(LONG);
  });

  it('an overlap that leaves no progress, or a prompt that leaves no room, is a RangeError', () => {
    const m = models['tiny-e5']!;
    expect(() => chunkText(m, LONG, { maxTokens: 16, overlap: 14 })).toThrow(/overlap must be an integer from 0 to 11 \(a window holds 12 tokens of text\)/);
    expect(() => chunkText(m, LONG, { maxTokens: 16, overlap: -1 })).toThrow(RangeError);
    const q = models['tiny-qwen3-embedding']!;
    expect(() => chunkText(q, LONG, { task: 'query', maxTokens: 8 })).toThrow(/leaves no room for text/);
    // @ts-expect-error: not a string
    expect(() => chunkText(m, 42)).toThrow(TypeError);
  });
});
