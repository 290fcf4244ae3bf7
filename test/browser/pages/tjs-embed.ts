/**
 * transformers.js 4.3.1's feature-extraction pipeline on a zoo folder in this page, as its users
 * run it: the model by name under `modelsPath`, the dtype by transformers.js' own names, pooling
 * 'mean' or 'cls' and normalize: true. Inputs come with the model's prompt already in front (it
 * adds none), one text per call. A load or run failure is returned as text, not thrown, so the
 * test can report it.
 */
import { configureTjs } from '../../../bench/pages/tjs-env.ts';

export interface TjsEmbedOptions {
  ortDist: string;
  modelsPath: string;
  model: string;
  device: 'webgpu' | 'wasm';
  dtype: string;
  pooling: 'mean' | 'cls';
  inputs: string[];
}

export interface TjsEmbedResult {
  vectors?: number[][];
  error?: string;
  loadMs: number;
  embedMs: number;
}

export async function tjsEmbed(o: TjsEmbedOptions): Promise<TjsEmbedResult> {
  const tjs = await import('@huggingface/transformers');
  configureTjs(tjs, o.ortDist, o.modelsPath, false);
  const t0 = performance.now();
  let extractor: Awaited<ReturnType<typeof tjs.pipeline<'feature-extraction'>>>;
  try {
    extractor = await tjs.pipeline('feature-extraction', o.model, { device: o.device, dtype: o.dtype as 'fp32' });
  } catch (e) {
    return { error: `load: ${String((e as Error).message ?? e)}`, loadMs: performance.now() - t0, embedMs: 0 };
  }
  const t1 = performance.now();
  try {
    const vectors: number[][] = [];
    for (const input of o.inputs) {
      const r = await extractor(input, { pooling: o.pooling, normalize: true });
      vectors.push(Array.from(r.data as Float32Array));
    }
    return { vectors, loadMs: t1 - t0, embedMs: performance.now() - t1 };
  } catch (e) {
    return { error: `run: ${String((e as Error).message ?? e)}`, loadMs: t1 - t0, embedMs: performance.now() - t1 };
  } finally {
    await extractor.dispose();
  }
}
