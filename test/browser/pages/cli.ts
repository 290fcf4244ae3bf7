/**
 * Page side of test/browser/cli.test.ts: the same texts embedded in Chromium through the public
 * API (engine in the library's worker) as the CLI embedded them in Node, and the CLI's index
 * blob imported next to an index built in the page.
 */
import { createEmbedder, createIndex, type EmbedOptions, type SearchHit } from '../../../src/index.ts';
import { decodeIndex } from '../../../src/vector-index/format.ts';
import { fixtureUrl } from './embed.ts';

export interface PageVectors {
  device: string;
  dtype: string;
  vectors: number[][];
}

export async function embedTexts(name: string, device: 'webgpu' | 'wasm', texts: string[], options: EmbedOptions): Promise<PageVectors> {
  const embedder = await createEmbedder({ model: fixtureUrl(name), device });
  try {
    const vectors = await embedder.embed(texts, options);
    return { device: embedder.info.device, dtype: embedder.info.dtype, vectors: vectors.map((v) => Array.from(v)) };
  } finally {
    await embedder.dispose();
  }
}

export interface Hit {
  id: string;
  score: number;
  start: number;
  end: number;
}

export interface IndexComparison {
  embedderDevice: string;
  indexDevice: string;
  importedSize: number;
  importedPassages: number;
  /** largest |page-built − CLI| over every vector component */
  maxVectorDiff: number;
  imported: Hit[][];
  built: Hit[][];
}

const slim = (hits: SearchHit[]): Hit[] => hits.map((h) => ({ id: h.id, score: h.score, start: h.passage.start, end: h.passage.end }));

/** The CLI's blob (base64) imported into createIndex(), and the corpus indexed in the page: both searched. */
export async function compareIndex(name: string, device: 'webgpu' | 'wasm', blobBase64: string, queries: string[]): Promise<IndexComparison> {
  const documents: { id: string; text: string }[] = await (await fetch('/examples/corpus/documents.json')).json();
  const blob = Uint8Array.from(atob(blobBase64), (c) => c.charCodeAt(0));
  const embedder = await createEmbedder({ model: fixtureUrl(name), device });
  const imported = await createIndex({ embedder });
  const built = await createIndex({ embedder });
  try {
    await imported.import(blob);
    await built.add(documents.map((d) => ({ id: d.id, text: d.text })));
    const a = decodeIndex(built.export()).vectors;
    const b = decodeIndex(imported.export()).vectors;
    let maxVectorDiff = a.length === b.length ? 0 : Infinity;
    for (let i = 0; i < a.length; i++) maxVectorDiff = Math.max(maxVectorDiff, Math.abs(a[i]! - b[i]!));
    const out: IndexComparison = {
      embedderDevice: embedder.info.device,
      indexDevice: imported.device,
      importedSize: imported.size,
      importedPassages: imported.stats().passages,
      maxVectorDiff,
      imported: [],
      built: [],
    };
    for (const q of queries) {
      out.imported.push(slim(await imported.search(q, { topK: 3 })));
      out.built.push(slim(await built.search(q, { topK: 3 })));
    }
    return out;
  } finally {
    await imported.dispose();
    await built.dispose();
    await embedder.dispose();
  }
}
