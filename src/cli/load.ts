/**
 * Loading the model a command names, through the public API with the engine in this process
 * (`worker: false`): on onnxruntime-node where it is installed (device 'cpu'), else on
 * onnxruntime-web's wasm build — the same code and model files as a page either way — with hub ids
 * read from --hub, downloads kept in the disk cache, and the download's progress on stderr.
 */
import { createEmbedder, type Embedder } from '../client/embedder.ts';
import { createReranker, type Reranker } from '../client/reranker.ts';
import type { EmbedProgress } from '../engine/embedder.ts';
import type { RerankProgress } from '../engine/reranker.ts';
import type { ModelArgs } from './args.ts';
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

/** The options both model kinds load with here: in this process, the device, hub and cache asked for, progress on stderr. */
function loadOptions(model: string, args: ModelArgs, progress: Progress, signal?: AbortSignal) {
  progress.status(`loading ${model}`);
  return {
    model,
    worker: false,
    device: args.device,
    ...(args.dtype ? { dtype: args.dtype } : {}),
    ...(args.hub !== undefined ? { hub: { host: args.hub } } : {}),
    ...(args.revision !== undefined ? { revision: args.revision } : {}),
    cache: args.cacheDir !== undefined ? { dir: args.cacheDir } : (false as const),
    onProgress: onLoad(progress),
    ...(signal ? { signal } : {}),
  };
}

/** The runtime in words, with why when it is not the one asked for (onnxruntime-node missing). */
function runtime(info: { device: string; deviceReason: string }, asked: ModelArgs['device']): string {
  const name = info.device === 'cpu' ? 'onnxruntime-node' : `onnxruntime-web ${info.device}`;
  return asked === 'cpu' && info.device !== 'cpu' ? `${name} (${info.deviceReason})` : name;
}

/**
 * @example
 * const embedder = await loadEmbedder('file:///models/e5/', args, progress);
 */
export async function loadEmbedder(model: string, args: ModelArgs, progress: Progress, signal?: AbortSignal): Promise<Embedder> {
  const embedder = await createEmbedder(loadOptions(model, args, progress, signal));
  const i = embedder.info;
  progress.line(`model ${i.model}: ${i.dimensions} dimensions, ${i.pooling} pooling, ${i.dtype}, max ${i.maxTokens} tokens, on ${runtime(i, args.device)}`);
  return embedder;
}

export async function loadReranker(model: string, args: ModelArgs, progress: Progress, signal?: AbortSignal): Promise<Reranker> {
  const reranker = await createReranker(loadOptions(model, args, progress, signal));
  const i = reranker.info;
  progress.line(`reranker ${i.model}: ${i.kind}, ${i.dtype}, max ${i.maxTokens} tokens, on ${runtime(i, args.device)}`);
  return reranker;
}
