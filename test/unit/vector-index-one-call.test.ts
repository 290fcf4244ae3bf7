/**
 * index.add() in one engine call (src/engine/passages.ts): an embedder from createEmbedder()
 * splits and embeds the documents in a single call (one worker round trip), and each passage is
 * tokenized once. Held here with the engine in-process (all-minilm-l6-v2, a real WordPiece
 * tokenizer, with a document prompt, on wasm): the calls the index makes are counted, and the index it builds is byte for
 * byte the one the long way builds (countTokens() rounds, then embed() calls), with the same
 * progress; and with a stand-in model, the tokenizer runs no more often than the split alone needs.
 */
import { readFileSync } from 'node:fs';
import { planBatches } from '../../src/engine/batching.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { passageCallOf, withPassageCall } from '../../src/client/passage-call.ts';
import { embedPassages, splitTokenized } from '../../src/engine/passages.ts';
import { createEmbedder, type Embedder } from '../../src/index.ts';
import { prepareTexts } from '../../src/models/prepare.ts';
import type { LoadedModel, PreparedText } from '../../src/models/types.ts';
import { createIndex, type IndexEmbedder, type IndexProgress } from '../../src/vector-index/index.ts';
import { startServer, type TestServer } from './helpers/model-folders.ts';

const DOCUMENTS: { id: string; text: string }[] = JSON.parse(readFileSync(new URL('../../examples/corpus/documents.json', import.meta.url), 'utf8'));
// long enough to need sentences, words and characters: a paragraph of many sentences, a long run of words, a long "word"
const HARD = [
  DOCUMENTS.slice(0, 6).map((d) => d.text).join(' '),
  `Intro line.\n\n${Array.from({ length: 80 }, (_, i) => `token${i}`).join(' ')}\n\n${'x'.repeat(300)} end.`,
  '',
];
const TEXTS = [...DOCUMENTS.slice(6, 16).map((d) => d.text), ...HARD];

let server: TestServer;
let embedder: Embedder;

beforeAll(async () => {
  server = await startServer();
  // E5's prompts on it, so that passages are counted and embedded as documents ('passage: '), not as queries
  embedder = await createEmbedder({ model: server.folder('all-minilm-l6-v2'), worker: false, device: 'wasm', overrides: { prompts: { query: 'query: ', document: 'passage: ' } } });
});
afterAll(async () => {
  await embedder?.dispose();
  await server?.close();
});

/** The embedder's calls, counted: the passage call and the public methods. */
function counted(e: Embedder) {
  const calls = { passages: 0, embed: 0, countTokens: 0 };
  const call = passageCallOf(e)!;
  const wrapped = withPassageCall({ ...e }, (texts, o) => (calls.passages++, call(texts, o)));
  wrapped.embed = (texts, o) => (calls.embed++, e.embed(texts, o));
  wrapped.countTokens = (texts, o) => (calls.countTokens++, e.countTokens(texts, o));
  return { embedder: wrapped, calls };
}

/** The same embedder as a plain object: no passage call, so the index goes the long way. */
function longWay(e: Embedder) {
  const calls = { embed: 0, countTokens: 0 };
  const plain: IndexEmbedder = {
    info: e.info,
    embed: (texts, o) => (calls.embed++, e.embed(texts, o)),
    countTokens: (texts, o) => (calls.countTokens++, e.countTokens(texts, o)),
  };
  return { embedder: plain, calls };
}

describe('index.add() in one engine call', () => {
  it('makes one call for the whole add, and none of countTokens or embed', async () => {
    expect(passageCallOf(embedder)).toBeTypeOf('function');
    const { embedder: e, calls } = counted(embedder);
    const index = await createIndex({ embedder: e, passageTokens: 32 });
    await index.add(TEXTS, { batchSize: 8 });
    expect(calls).toEqual({ passages: 1, embed: 0, countTokens: 0 });
    expect(index.stats().passages).toBeGreaterThan(TEXTS.length + 10); // the split did split
    await index.add(['one more document']);
    expect(calls).toEqual({ passages: 2, embed: 0, countTokens: 0 });
    await index.dispose();

    // the long way, for comparison: several rounds of counts, then an embed() per batch of passages
    const slow = longWay(embedder);
    const other = await createIndex({ embedder: slow.embedder, passageTokens: 32 });
    await other.add(TEXTS, { batchSize: 8 });
    expect(slow.calls.countTokens).toBeGreaterThanOrEqual(4);
    expect(slow.calls.embed).toBe(Math.ceil(other.stats().passages / 8));
    await other.dispose();
  });

  for (const [passageTokens, batchSize] of [
    [32, 8],
    [128, 256],
  ] as const) {
    it(`gives the long way's passages, vectors and progress, byte for byte (passageTokens ${passageTokens}, batchSize ${batchSize})`, async () => {
      const build = async (e: IndexEmbedder) => {
        const index = await createIndex({ embedder: e, passageTokens, dimensions: 256 });
        const progress: IndexProgress[] = [];
        await index.add(
          TEXTS.map((text, i) => ({ id: `d${i}`, text, metadata: { i } })),
          { batchSize, onProgress: (p) => progress.push(p) },
        );
        const blob = index.export();
        const stats = index.stats();
        await index.dispose();
        return { blob, stats, progress };
      };
      const fast = await build(embedder);
      const slow = await build(longWay(embedder).embedder);
      expect(fast.stats).toEqual(slow.stats);
      expect(fast.progress).toEqual(slow.progress);
      expect(fast.progress.at(-1)).toMatchObject({ done: fast.stats.passages, total: fast.stats.passages, progress: 100 });
      expect(Buffer.from(fast.blob).equals(Buffer.from(slow.blob))).toBe(true);
    });
  }

  it('refuses what the long way refuses, with the same errors', async () => {
    const [overhead] = await embedder.countTokens([''], { task: 'document' }); // [CLS] passage : [SEP]
    expect(overhead).toBe(4);
    for (const e of [embedder, longWay(embedder).embedder]) {
      const index = await createIndex({ embedder: e, passageTokens: 4 });
      await expect(index.add(['a text'])).rejects.toThrow(new RangeError("passageTokens must be an integer above 4 (the model's prompt and special tokens), got 4"));
      const ok = await createIndex({ embedder: e });
      await expect(ok.add(['a text'], { batchSize: 0 })).rejects.toThrow(new RangeError('batchSize must be a positive integer, got 0'));
      await expect(ok.add(['a text'], { signal: AbortSignal.abort() })).rejects.toThrow(/abort/i);
      expect(ok.size).toBe(0);
    }
  });
});

describe('embedPassages in the engine', () => {
  /** A stand-in model: one id per word, [CLS] … [SEP], a document prompt; encode() calls counted. */
  function model(): { model: Pick<LoadedModel, 'spec' | 'tokenizer'>; encodes: string[] } {
    const encodes: string[] = [];
    const id = (w: string) => [...w].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 30000, 7) + 1000;
    const tokenizer = {
      encode(text: string, o: { addSpecialTokens?: boolean } = {}) {
        encodes.push(text);
        const ids = (text.match(/\S{1,6}/g) ?? []).map(id);
        return o.addSpecialTokens === false ? ids : [101, ...ids, 102];
      },
      padId: 0,
      head: [101],
      tail: [102],
    };
    const spec = { id: 'stand-in', prompts: { document: 'passage: ' }, maxTokens: 64, dimensions: 4, maskInstruction: false } as unknown as LoadedModel['spec'];
    return { model: { spec, tokenizer }, encodes };
  }

  it('embeds each passage with the ids its split computed: the tokenizer runs no more often than the split alone', async () => {
    const m = model();
    const runs: PreparedText[][] = [];
    // the engine's batch runner as EngineCore.runBatches plans it: batches of at most 4
    const engine = {
      model: m.model,
      embed: async (passages: PreparedText[], dims: number, onBatch: (done: number) => void) => {
        let done = 0;
        for (const batch of planBatches(passages.map((p) => p.ids.length), { maxBatchSize: 4, maxBatchTokens: 4096 })) {
          runs.push(batch.map((i) => passages[i]!));
          onBatch((done += batch.length));
        }
        return new Float32Array(passages.length * dims).fill(1);
      },
    };
    const events: number[] = [];
    const r = await embedPassages(engine, TEXTS, { passageTokens: 24, batchSize: 10, onProgress: (e) => events.push(e.done) });
    const duringCall = m.encodes.length;

    m.encodes.length = 0;
    const split = await splitTokenized(TEXTS, async (t) => prepareTexts(m.model, t, { task: 'document' }), (p) => p.fullLength, 24);
    expect(r.passages).toEqual(split.ranges);
    // every passage's ids came from the split (none had to be tokenized again), and the embedding added no encode() call
    expect(split.tokens.flat().every((t) => t !== undefined)).toBe(true);
    expect(duringCall).toBe(m.encodes.length);

    // what the batches saw is each passage's own text as embed() would prepare it
    const passages = r.passages.flatMap((list, d) => list.map((p) => TEXTS[d]!.slice(p.start, p.end)));
    const seen = runs.flat();
    expect(seen).toHaveLength(passages.length);
    const expected = prepareTexts(m.model, passages, { task: 'document' }).map((p) => p.ids.join(','));
    expect(seen.map((p) => p.ids.join(',')).sort()).toEqual([...expected].sort());
    expect(r.data).toHaveLength(passages.length * 4);
    expect(events.at(-1)).toBe(passages.length);
    expect(runs.every((b) => b.length <= 4)).toBe(true);
  });
});
