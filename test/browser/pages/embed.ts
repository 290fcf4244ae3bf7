/**
 * Page-side helpers for the embed() browser tests: the library used as an app would, through its
 * public entry (src/index.ts), with the engine in its module worker.
 */
import { createEmbedder, type CreateEmbedderOptions, type EmbedOptions } from '../../../src/index.ts';

export interface EmbedRun {
  vectors: number[][];
  dimensions: number;
  truncated: number[];
  tokens: number[];
  info: unknown;
  ms: number;
}

/** Creates an embedder, embeds each list of texts in turn (one embed() call per list), disposes. */
export async function embedLists(create: CreateEmbedderOptions, lists: string[][], opts: EmbedOptions = {}): Promise<EmbedRun[]> {
  const embedder = await createEmbedder(create);
  try {
    const runs: EmbedRun[] = [];
    for (const texts of lists) {
      const t0 = performance.now();
      const r = await embedder.embed(texts, opts);
      runs.push({
        vectors: r.map((v) => Array.from(v)),
        dimensions: r.dimensions,
        truncated: [...r.truncated],
        tokens: [...r.tokens],
        info: embedder.info,
        ms: performance.now() - t0,
      });
    }
    return runs;
  } finally {
    await embedder.dispose();
  }
}

/** The model folder URL of a fixture, as this page's origin serves it. */
export function fixtureUrl(name: string): string {
  return new URL(`/test/fixtures/models/${name}/`, location.href).href;
}

export async function smoke(name: string, device: 'webgpu' | 'wasm'): Promise<EmbedRun[]> {
  return embedLists({ model: fixtureUrl(name), device }, [['hello world', 'a longer sentence about bread and butter']], { task: 'query' });
}
