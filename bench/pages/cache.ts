/**
 * Page side of bench/cache.ts: one load of a model through the public API (engine in its worker),
 * timed from createEmbedder() to the first vectors, and to the moment the ONNX file's bytes were
 * all in (its last progress event).
 */
import { clearCache, createEmbedder, type CacheOptions, type CacheStats } from '../../src/index.ts';

export interface TimedLoad {
  /** createEmbedder() → first embed() resolved */
  firstEmbeddingMs: number;
  /** createEmbedder() → the ONNX file complete (downloaded or read from IndexedDB) */
  onnxReadyMs: number;
  cache: CacheStats | undefined;
}

export async function timeLoad(model: string, dtype: 'fp32' | 'fp16', cache?: false | CacheOptions): Promise<TimedLoad> {
  const t0 = performance.now();
  let onnxReadyMs = NaN;
  const e = await createEmbedder({
    model,
    device: 'wasm',
    dtype,
    ...(cache != null ? { cache } : {}), // the driver sends an argument left out as null (JSON)
    onProgress: (p) => {
      if (p.status === 'done' && !p.missing && p.file.startsWith('onnx/')) onnxReadyMs = performance.now() - t0;
    },
  });
  await e.embed(['the first embedding after a load']);
  const firstEmbeddingMs = performance.now() - t0;
  await e.dispose();
  return { firstEmbeddingMs, onnxReadyMs, cache: e.info.cache };
}

export function clear(): Promise<void> {
  return clearCache();
}
