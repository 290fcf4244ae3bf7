/**
 * Loading the model a command names, through the public API with the engine in this process
 * (`worker: false`: onnxruntime-web's wasm backend, the same code and model files as a page),
 * with the download's progress on stderr.
 */
import { createEmbedder, type Embedder } from '../client/embedder.ts';
import { createReranker, type Reranker } from '../client/reranker.ts';
import type { LoadProgress } from '../models/progress.ts';
import type { Dtype } from '../models/types.ts';
import { formatBytes, type Progress } from './output.ts';

function onLoad(progress: Progress): (e: LoadProgress | { type: string }) => void {
  return (e) => {
    if (e.type === 'overall') {
      const o = e as Extract<LoadProgress, { type: 'overall' }>;
      progress.status(`loading the model: ${formatBytes(o.loaded)}${o.total ? ` of ${formatBytes(o.total)}` : ''}`);
    } else if (e.type === 'download') {
      const d = e as Extract<LoadProgress, { type: 'download' }>;
      progress.status(`loading ${d.file}: ${formatBytes(d.loaded)}`);
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
