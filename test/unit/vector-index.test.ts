/**
 * createIndex() on its CPU path in Node, over a stand-in embedder (hashed bag of words, so it is
 * deterministic and lexical): adding and searching, one hit per document with its passage's
 * character range, filters, removal with no stale hits (tombstones, then compaction), replacing a
 * document, progress and cancellation, the three storages, and persistence: save() / load() in
 * IndexedDB (fake-indexeddb) and export() / import() round-tripping bit for bit.
 */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import type { Embeddings } from '../../src/client/embedder.ts';
import { IndexFormatError } from '../../src/errors.ts';
import { createIndex, type CreateIndexOptions, type IndexEmbedder, type IndexSearchOptions, type VectorIndex } from '../../src/vector-index/index.ts';
import { decodeIndex, encodeIndex, FORMAT_VERSION } from '../../src/vector-index/format.ts';
import { deleteSavedIndex, listSavedIndexes } from '../../src/vector-index/persist.ts';

const DIMS = 64;

/** A unit vector per word (seeded by the word's hash), summed over a text's words. */
function wordVector(word: string): Float32Array {
  let h = 2166136261;
  for (const c of word) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  const v = new Float32Array(DIMS);
  for (let i = 0; i < DIMS; i++) {
    h = Math.imul(h ^ (h >>> 15), 2246822507) ^ i;
    v[i] = ((h >>> 0) / 4294967296) * 2 - 1;
  }
  return v;
}

interface FakeEmbedder extends IndexEmbedder {
  calls: { texts: string[]; task?: string; dimensions?: number }[];
}

function fakeEmbedder(maxTokens = 64): FakeEmbedder {
  const calls: FakeEmbedder['calls'] = [];
  const tokens = (t: string) => t.toLowerCase().match(/[a-z0-9]+/g) ?? [];
  return {
    calls,
    info: { model: 'fake-bag-of-words', device: 'wasm', dimensions: DIMS, matryoshka: { trained: true, sizes: { min: 8, max: DIMS }, source: 'overrides' }, maxTokens } as IndexEmbedder['info'],
    async countTokens(texts) {
      return texts.map((t) => 2 + tokens(t).length);
    },
    async embed(texts, o = {}) {
      o.signal?.throwIfAborted();
      calls.push({ texts, ...(o.task ? { task: o.task } : {}), ...(o.dimensions ? { dimensions: o.dimensions } : {}) });
      const d = o.dimensions ?? DIMS;
      const rows = texts.map((t) => {
        const v = new Float32Array(d);
        for (const w of tokens(t)) wordVector(w).subarray(0, d).forEach((x, i) => (v[i]! += x));
        return v;
      });
      o.onProgress?.({ status: 'embed', name: 'glove', done: texts.length, total: texts.length, progress: 100 });
      return Object.assign(rows, { dimensions: d, truncated: [], tokens: texts.map((t) => 2 + tokens(t).length) }) as Embeddings;
    },
  };
}

const DOCS = [
  { id: 'bread', text: 'Knead the dough and bake the bread in a hot oven.', metadata: { topic: 'cooking' } },
  { id: 'soup', text: 'Simmer the onion soup with garlic and thyme.', metadata: { topic: 'cooking' } },
  { id: 'orbit', text: 'Planets orbit the sun on elliptical paths.', metadata: { topic: 'astronomy' } },
  { id: 'stars', text: 'Stars shine by nuclear fusion of hydrogen.', metadata: { topic: 'astronomy' } },
  { id: 'guide', text: 'Forest guide.\n\nMushrooms grow on dead wood after rain.\n\nDeer graze in clearings at dawn.', metadata: { topic: 'outdoors' } },
];

async function built(storage: 'float32' | 'int8' | 'binary' = 'float32', name?: string): Promise<{ index: VectorIndex<{ topic: string }>; embedder: FakeEmbedder }> {
  const embedder = fakeEmbedder();
  const index = await createIndex<{ topic: string }>({ embedder, storage, ...(name ? { name } : {}) });
  await index.add(DOCS);
  return { index, embedder };
}

describe('createIndex on the CPU path', () => {
  it('runs on the CPU when the embedder runs on wasm, and embeds passages as documents and queries as queries', async () => {
    const { index, embedder } = await built();
    expect(index.device).toBe('cpu');
    expect(index.size).toBe(5);
    expect(index.stats()).toMatchObject({ documents: 5, passages: 7, removed: 0, device: 'cpu', storage: 'float32', dimensions: DIMS });
    expect(embedder.calls[0]).toMatchObject({ task: 'document', dimensions: DIMS });
    await index.search('planets sun');
    expect(embedder.calls.at(-1)).toMatchObject({ texts: ['planets sun'], task: 'query', dimensions: DIMS });
  });

  it('finds the document a query names, one hit per document, best first, with the passage that matched', async () => {
    const { index } = await built();
    const hits = await index.search('which planets orbit the sun', { topK: 3 });
    expect(hits.map((h) => h.id)[0]).toBe('orbit');
    expect(hits).toHaveLength(3);
    expect(new Set(hits.map((h) => h.id)).size).toBe(3);
    for (let i = 1; i < hits.length; i++) expect(hits[i]!.score).toBeLessThanOrEqual(hits[i - 1]!.score);
    expect(hits[0]).toMatchObject({ document: DOCS[2]!.text, metadata: { topic: 'astronomy' }, passage: { index: 0, start: 0, end: DOCS[2]!.text.length } });

    const [deer] = await index.search('deer in clearings at dawn', { topK: 1 });
    expect(deer!.id).toBe('guide');
    expect(deer!.passage.index).toBe(2);
    expect(deer!.passage.text).toBe('Deer graze in clearings at dawn.');
    expect(deer!.document.slice(deer!.passage.start, deer!.passage.end)).toBe(deer!.passage.text);
  });

  it('takes a query vector, and a filter over metadata and ids', async () => {
    const { index, embedder } = await built();
    const [q] = await embedder.embed(['bread oven'], { task: 'query' });
    expect((await index.search(q!, { topK: 1 }))[0]!.id).toBe('bread');
    const hits = await index.search(q!, { topK: 10, filter: (m) => m?.topic === 'astronomy' });
    expect(hits.map((h) => h.id).sort()).toEqual(['orbit', 'stars']);
    expect(await index.search(q!, { filter: () => false })).toEqual([]);
    expect((await index.search(q!, { topK: 10, filter: (_, id) => id !== 'bread' })).map((h) => h.id)).not.toContain('bread');
  });

  it('leaves no stale hits after remove(), and replaces a document added again under its id', async () => {
    const { index } = await built();
    expect(index.remove(['orbit', 'nope'])).toBe(1);
    expect(index.has('orbit')).toBe(false);
    const hits = await index.search('planets orbit the sun', { topK: 10 });
    expect(hits.map((h) => h.id)).not.toContain('orbit');
    expect(hits).toHaveLength(4);
    expect(index.stats()).toMatchObject({ documents: 4, passages: 6, removed: 1 });

    await index.add([{ id: 'bread', text: 'Planets and comets orbit the sun.', metadata: { topic: 'astronomy' } }]);
    expect(index.size).toBe(4);
    const [top] = await index.search('planets orbit the sun', { topK: 1 });
    expect(top).toMatchObject({ id: 'bread', document: 'Planets and comets orbit the sun.' });
    expect((await index.search('knead dough oven', { topK: 10 })).find((h) => h.document.includes('Knead'))).toBeUndefined();
  });

  it('compacts tombstones once they are a quarter of the slots, keeping every result the same', async () => {
    const embedder = fakeEmbedder();
    const index = await createIndex({ embedder });
    const ids = await index.add(Array.from({ length: 400 }, (_, i) => `document ${i} about topic${i % 20} and word${i}`));
    expect(ids.slice(0, 3)).toEqual(['0', '1', '2']);
    index.remove(ids.filter((_, i) => i % 3 !== 0));
    const before = await index.search('topic7 word7', { topK: 5 }); // compaction runs before this scan
    expect(index.stats()).toMatchObject({ removed: 0, passages: 134 });
    const again = await index.search('topic7 word7', { topK: 5 });
    expect(again).toEqual(before);
    // the documents on topic7 that were kept: 27, 87, 147, 207, 267, 327, 387
    expect(before.every((h) => Number(h.id) % 3 === 0 && Number(h.id) % 20 === 7)).toBe(true);
  });

  it('reports progress per batch and stops at an aborted signal', async () => {
    const embedder = fakeEmbedder();
    const index = await createIndex({ embedder });
    const events: { done: number; total: number }[] = [];
    await index.add(Array.from({ length: 10 }, (_, i) => `text ${i}`), { batchSize: 4, onProgress: (e) => events.push({ done: e.done, total: e.total }) });
    expect(events.at(-1)).toEqual({ done: 10, total: 10 });
    expect(events.map((e) => e.done)).toEqual([4, 8, 10]);
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(index.add(['more'], { signal: controller.signal })).rejects.toThrow('stop');
    await expect(index.search('text', { signal: controller.signal })).rejects.toThrow('stop');
    expect(index.size).toBe(10);
  });

  it("takes the embedder's device word 'wasm' (and 'cpu', the same): the CPU path", async () => {
    const embedder = fakeEmbedder();
    for (const device of ['wasm', 'cpu'] as const) {
      const index = await createIndex({ embedder, device });
      expect(index.device).toBe('cpu');
      await index.dispose();
    }
  });

  it('checks its arguments with typed errors', async () => {
    const embedder = fakeEmbedder();
    // any size from 1 to the embedder's full width, Matryoshka-trained or not (checkDimensions)
    await expect(createIndex({ embedder, dimensions: 0 })).rejects.toThrow(RangeError);
    await expect(createIndex({ embedder, dimensions: DIMS + 1 })).rejects.toThrow(`dimensions must be an integer from 1 to ${DIMS}`);
    await expect(createIndex({ embedder, dimensions: '16' as unknown as number })).rejects.toThrow(TypeError);
    await expect(createIndex({ embedder, device: 'tpu' as 'cpu' })).rejects.toThrow(RangeError);
    await expect(createIndex({ embedder, storgae: 'int8' } as CreateIndexOptions)).rejects.toThrow("createIndex(): unknown option 'storgae'; did you mean 'storage'?");
    await expect(createIndex({ embedder, storage: 'fp16' as 'int8' })).rejects.toThrow(RangeError);
    await expect(createIndex({} as { embedder: IndexEmbedder })).rejects.toThrow(TypeError);
    const index = await createIndex({ embedder, dimensions: 16 });
    await expect(index.add([{ text: 3 } as unknown as string])).rejects.toThrow(TypeError);
    await expect(index.add([{ id: 'a', text: 'x' }, { id: 'a', text: 'y' }])).rejects.toThrow(RangeError);
    await expect(index.search('x', { topK: 0 })).rejects.toThrow(RangeError);
    await expect(index.search(new Float32Array(3))).rejects.toThrow(TypeError);
    await expect(index.search('x', { top_k: 3 } as IndexSearchOptions)).rejects.toThrow("index.search(): unknown option 'top_k'; did you mean 'topK'?");
    await expect(index.add(['x'], { signal: {} as AbortSignal })).rejects.toThrow('index.add(): signal must be an AbortSignal');
    await index.dispose();
    await expect(index.search('x')).rejects.toThrow(/disposed/);
  });

  for (const storage of ['int8', 'binary'] as const) {
    it(`${storage} storage: rescored candidates give the float32 index's results`, async () => {
      const exact = (await built('float32')).index;
      const { index } = await built(storage);
      for (const q of ['planets orbit the sun', 'onion soup garlic', 'mushrooms after rain']) {
        const a = await exact.search(q, { topK: 5 });
        const b = await index.search(q, { topK: 5 });
        expect(b.map((h) => [h.id, h.score, h.passage.index])).toEqual(a.map((h) => [h.id, h.score, h.passage.index]));
      }
    });
  }
});

describe('persistence', () => {
  it('export() → import() round-trips bit for bit, and the imported index answers the same', async () => {
    const { index } = await built();
    index.remove('soup');
    const blob = index.export();
    const other = await createIndex({ embedder: fakeEmbedder(), storage: 'int8' });
    await other.import(blob);
    expect(Buffer.from(other.export()).equals(Buffer.from(blob))).toBe(true);
    expect(other.size).toBe(4);
    expect(await other.search('deer at dawn', { topK: 2 })).toEqual(await index.search('deer at dawn', { topK: 2 }));
    // an ArrayBuffer and a Blob are taken too
    await other.import(new Blob([blob]));
    await other.import(blob.slice().buffer);
    expect(Buffer.from(other.export()).equals(Buffer.from(blob))).toBe(true);
  });

  it('writes the documented layout: header, f32 rows, JSON', async () => {
    const { index } = await built();
    const blob = index.export();
    const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    expect(new TextDecoder().decode(blob.subarray(0, 4))).toBe('WGEI');
    expect(view.getUint32(4, true)).toBe(FORMAT_VERSION);
    expect(view.getUint32(8, true)).toBe(DIMS);
    expect(view.getUint32(12, true)).toBe(7);
    const json = JSON.parse(new TextDecoder().decode(blob.subarray(32 + 7 * DIMS * 4)));
    expect(json.model).toBe('fake-bag-of-words');
    const text = DOCS[4]!.text;
    const range = (p: string) => [text.indexOf(p), text.indexOf(p) + p.length];
    expect(json.documents[4]).toEqual({
      id: 'guide',
      text,
      metadata: { topic: 'outdoors' },
      passages: [range('Forest guide.'), range('Mushrooms grow on dead wood after rain.'), range('Deer graze in clearings at dawn.')],
    });
    const decoded = decodeIndex(blob);
    expect(Buffer.from(encodeIndex(decoded)).equals(Buffer.from(blob))).toBe(true);
  });

  it('refuses what is not an index blob, a newer version, or other dimensions, with IndexFormatError', async () => {
    const { index } = await built();
    const blob = index.export();
    const other = await createIndex({ embedder: fakeEmbedder(), dimensions: 32 });
    await expect(other.import(blob)).rejects.toThrow(IndexFormatError);
    await expect(index.import(new Uint8Array(100))).rejects.toThrow(IndexFormatError);
    await expect(index.import(blob.subarray(0, blob.length - 1))).rejects.toThrow(IndexFormatError);
    const newer = blob.slice();
    new DataView(newer.buffer).setUint32(4, FORMAT_VERSION + 1, true);
    await expect(index.import(newer)).rejects.toThrow(/version/);
    expect(index.size).toBe(5);
  });

  it('save() / load() in IndexedDB round-trip bit for bit, under the index name or another', async () => {
    const { index } = await built('float32', 'docs');
    await index.save();
    await index.save('copy');
    expect((await listSavedIndexes()).sort()).toEqual(expect.arrayContaining(['copy', 'docs']));
    const fresh = await createIndex({ embedder: fakeEmbedder(), name: 'docs' });
    expect(await fresh.load()).toBe(true);
    expect(Buffer.from(fresh.export()).equals(Buffer.from(index.export()))).toBe(true);
    expect(await fresh.search('bread oven')).toEqual(await index.search('bread oven'));
    const copy = await createIndex({ embedder: fakeEmbedder() });
    expect(await copy.load('copy')).toBe(true);
    expect(copy.size).toBe(5);
    expect(await copy.load('never-saved')).toBe(false);
    await deleteSavedIndex('copy');
    expect(await listSavedIndexes()).not.toContain('copy');
  });
});
