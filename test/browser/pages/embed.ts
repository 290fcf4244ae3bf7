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

export interface HiddenAlone {
  /** per sequence: last_hidden_state [1, T, H] flattened */
  hidden: number[][];
  size: number;
  createMs: number;
  runMs: number;
}

/**
 * onnxruntime-web straight from the page (not through the library) on one EP: each token
 * sequence ALONE (batch 1, no padding; position_ids 0..T-1; empty past_key_values.* of shape
 * [1, pastShape[0], 0, pastShape[1]]) → last_hidden_state. The transformer as this browser's
 * WebGPU computes it, for oracles that must not inherit the CPU's rounding (SwiftShader's WGSL
 * sin/cos in RoPE are ~1e-4 off).
 */
export async function ortHiddenAlone(modelUrl: string, ep: 'webgpu' | 'wasm', seqs: number[][], pastShape?: [number, number]): Promise<HiddenAlone> {
  const { ort } = await import('./ort-env.ts');
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(modelUrl, { executionProviders: [ep] });
  const createMs = performance.now() - t0;
  try {
    const hidden: number[][] = [];
    let size = 0;
    for (const ids of seqs) {
      const T = ids.length;
      const i64 = (f: (t: number) => number) => new ort.Tensor('int64', BigInt64Array.from({ length: T }, (_, t) => BigInt(f(t))), [1, T]);
      const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {};
      for (const n of session.inputNames) {
        if (n === 'input_ids') feeds[n] = i64((t) => ids[t]!);
        else if (n === 'attention_mask') feeds[n] = i64(() => 1);
        else if (n === 'token_type_ids') feeds[n] = i64(() => 0);
        else if (n === 'position_ids') feeds[n] = i64((t) => t);
        else if (n.startsWith('past_key_values.') && pastShape) feeds[n] = new ort.Tensor('float32', new Float32Array(0), [1, pastShape[0], 0, pastShape[1]]);
        else throw new Error(`unexpected input ${n}`);
      }
      const out = await session.run(feeds);
      const h = out['last_hidden_state'];
      if (!h) throw new Error(`no last_hidden_state among ${Object.keys(out).join(', ')}`);
      if (h.dims[0] !== 1 || h.dims[1] !== T) throw new Error(`last_hidden_state dims [${h.dims.join(', ')}], expected [1, ${T}, H]`);
      size = h.dims[2]!;
      hidden.push(Array.from((await h.getData()) as Float32Array));
      for (const t of Object.values(out)) t.dispose();
    }
    return { hidden, size, createMs, runMs: performance.now() - t0 - createMs };
  } finally {
    await session.release();
  }
}
