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

/** One embed() call: its texts and its options (task, instruction, dimensions, longText, ...). */
export interface EmbedCall {
  texts: string[];
  options?: EmbedOptions;
}

/** A call's result, or the error it threw (name and message). */
export type EmbedCallResult = EmbedRun | { error: { name: string; message: string }; ms: number };

export interface EmbedCallsResult {
  runs: EmbedCallResult[];
  /** createEmbedder() time (model load, session, GPU head) */
  createMs: number;
  info: unknown;
}

/**
 * Creates one embedder, makes each call in turn with its own options (so one model load serves
 * several checks), disposes. A call that throws is reported as { error } in its place.
 */
export async function embedCalls(create: CreateEmbedderOptions, calls: EmbedCall[]): Promise<EmbedCallsResult> {
  const t0 = performance.now();
  const embedder = await createEmbedder(create);
  const createMs = performance.now() - t0;
  try {
    const runs: EmbedCallResult[] = [];
    for (const c of calls) {
      const t1 = performance.now();
      try {
        const r = await embedder.embed(c.texts, c.options ?? {});
        runs.push({
          vectors: r.map((v) => Array.from(v)),
          dimensions: r.dimensions,
          truncated: [...r.truncated],
          tokens: [...r.tokens],
          info: embedder.info,
          ms: performance.now() - t1,
        });
      } catch (e) {
        const error = { name: e instanceof Error ? e.name : typeof e, message: e instanceof Error ? e.message : String(e) };
        runs.push({ error, ms: performance.now() - t1 });
      }
    }
    return { runs, createMs, info: embedder.info };
  } finally {
    await embedder.dispose();
  }
}
