/**
 * Loading the model a command names, through the public API with the engine in this process
 * (`worker: false`: onnxruntime-web's wasm backend, the same code and model files as a page),
 * with the download's progress on stderr.
 */
import { createEmbedder, type Embedder } from '../client/embedder.ts';
import { createReranker, type Reranker } from '../client/reranker.ts';
import type { EmbedProgress } from '../engine/embedder.ts';
import type { RerankProgress } from '../engine/reranker.ts';
import type { Dtype } from '../models/types.ts';
import { formatBytes, type Progress } from './output.ts';

function onLoad(progress: Progress): (e: EmbedProgress | RerankProgress) => void {
  // one line per event, so the aggregate (all files, once the weights start) wins over a file's own
  let total = false;
  return (e) => {
    if (e.status === 'progress_total') {
      total = true;
      progress.status(`loading the model: ${formatBytes(e.loaded)} of ${formatBytes(e.total)}`);
    } else if (e.status === 'progress' && !total) {
      progress.status(`loading ${e.file}: ${formatBytes(e.loaded)}`);
    }
  };
}

/** The options both model kinds load with here: in this process, on wasm, progress on stderr. */
function loadOptions(model: string, dtype: Dtype | undefined, progress: Progress, signal?: AbortSignal) {
  progress.status(`loading ${model}`);
  return { model, worker: false, device: 'wasm' as const, ...(dtype ? { dtype } : {}), onProgress: onLoad(progress), ...(signal ? { signal } : {}) };
}

/**
 * @example
 * const embedder = await loadEmbedder('file:///models/e5/', undefined, progress);
 */
export async function loadEmbedder(model: string, dtype: Dtype | undefined, progress: Progress, signal?: AbortSignal): Promise<Embedder> {
  const embedder = await createEmbedder(loadOptions(model, dtype, progress, signal));
  const i = embedder.info;
  progress.line(`model ${i.model}: ${i.dimensions} dimensions, ${i.pooling} pooling, ${i.dtype}, max ${i.maxTokens} tokens`);
  return embedder;
}

export async function loadReranker(model: string, dtype: Dtype | undefined, progress: Progress, signal?: AbortSignal): Promise<Reranker> {
  const reranker = await createReranker(loadOptions(model, dtype, progress, signal));
  const i = reranker.info;
  progress.line(`reranker ${i.model}: ${i.kind}, ${i.dtype}, max ${i.maxTokens} tokens`);
  return reranker;
}
