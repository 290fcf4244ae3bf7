/**
 * Semantic search with a real (small) embedder in Node: the glove-sif fixture (trained GloVe
 * word vectors, SIF-weighted mean) through createEmbedder in-process (onnxruntime-web on wasm),
 * the vector index on its CPU path, over the corpus in examples/corpus: every query finds the
 * document written for it first, and, for the multi-paragraph field guide, the paragraph too.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmbedder, type Embedder } from '../../src/index.ts';
import { createIndex } from '../../src/vector-index/index.ts';
import { startServer, type TestServer } from './helpers/model-folders.ts';

interface CorpusDocument {
  id: string;
  topic: string;
  title: string;
  text: string;
}
interface CorpusQuery {
  query: string;
  expected: string;
  passage?: string;
}

const corpusFile = (name: string) => new URL(`../../examples/corpus/${name}`, import.meta.url);
const DOCUMENTS: CorpusDocument[] = JSON.parse(readFileSync(corpusFile('documents.json'), 'utf8'));
const QUERIES: CorpusQuery[] = JSON.parse(readFileSync(corpusFile('queries.json'), 'utf8'));

let server: TestServer;
let embedder: Embedder;

beforeAll(async () => {
  server = await startServer();
  embedder = await createEmbedder({ model: server.folder('glove-sif'), worker: false });
});
afterAll(async () => {
  await embedder?.dispose();
  await server?.close();
});

describe('the corpus with glove-sif (CPU index, Node)', () => {
  for (const storage of ['float32', 'int8', 'binary'] as const) {
    it(`${storage}: every query finds its document first, and the field guide's paragraph`, async () => {
      const index = await createIndex<{ topic: string }>({ embedder, storage });
      expect(index.device).toBe('cpu');
      await index.add(DOCUMENTS.map((d) => ({ id: d.id, text: d.text, metadata: { topic: d.topic } })));
      expect(index.stats().passages).toBe(DOCUMENTS.length + 3);
      const misses: string[] = [];
      for (const q of QUERIES) {
        const hits = await index.search(q.query, { topK: 3 });
        if (hits[0]!.id !== q.expected) misses.push(`${q.query} → ${hits.map((h) => `${h.id} ${h.score.toFixed(3)}`).join(', ')} (want ${q.expected})`);
        else if (q.passage && !hits[0]!.passage.text.startsWith(q.passage)) misses.push(`${q.query} → passage "${hits[0]!.passage.text.slice(0, 30)}…" (want "${q.passage}…")`);
      }
      expect(misses).toEqual([]);
    });
  }
});
