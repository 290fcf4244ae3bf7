/**
 * webgpu-embed — text embeddings and reranking in the browser, on the user's GPU.
 * The public API and its types; nothing else lives here (DESIGN.md).
 */
import { callWorker } from './client/worker.ts';
import type { Diagnosis } from './engine/diagnose.ts';

export { createEmbedder, embed, releaseSharedEmbedders } from './client/embedder.ts';
export type { LoadOptions } from './client/options.ts';
export type { CreateEmbedderOptions, EmbedOptions, Embedder, EmbedderStats, Embeddings } from './client/embedder.ts';
export type { CallTimings, Stage } from './engine/stage-clock.ts';
export type { LoadTimings } from './engine/core.ts';
export type { EmbedderInfo, EmbedProgress } from './engine/embedder.ts';
export type { RerankSelfCheckInfo, SelfCheckInfo, SelfCheckOption } from './engine/self-check.ts';
export type { LoadWarning } from './engine/warnings.ts';
export type { CpuNode } from './runtime/webgpu-ops.ts';
export { createReranker, rerank, releaseSharedRerankers } from './client/reranker.ts';
export type { CreateRerankerOptions, RerankOptions, Reranker, RerankerStats, RerankResult, RerankResults } from './client/reranker.ts';
export type { HeadMode, RerankerInfo, RerankProgress } from './engine/reranker.ts';
export type { HeadKind } from './engine/score-runtime.ts';
export type { BatchingInfo, BatchLimits } from './engine/batching.ts';
export type { RerankerKind, RerankerOverrides, RerankTemplate } from './models/rerank.ts';
export { searchAndRerank } from './client/search.ts';
export type { SearchAndRerankOptions, SearchResult, SearchResults } from './client/search.ts';
export { createIndex } from './vector-index/index.ts';
export type { AddOptions, CreateIndexOptions, IndexDocument, IndexEmbedder, IndexProgress, IndexSearchOptions, IndexStats, SearchHit, VectorIndex, VectorStorage } from './vector-index/index.ts';
export { deleteSavedIndex, listSavedIndexes } from './vector-index/persist.ts';
export type {
  LoadProgress,
  InitiateProgress,
  DownloadProgress,
  FileProgress,
  TotalProgress,
  DoneProgress,
  CacheHitProgress,
  VerifyProgress,
  ReadyProgress,
  EmbedBatchProgress,
  RerankBatchProgress,
} from './models/progress.ts';
export { configureHub } from './io/hub.ts';
export type { HubOptions } from './io/hub.ts';
export type { ModelOverrides } from './models/spec.ts';
export type { Dtype, DtypeOption, MatryoshkaInfo, PaddingSide, Pooling, PoolingName, Task } from './models/types.ts';
export type { DeviceRequest, Backend } from './runtime/backend.ts';
export {
  WebGPUEmbedError,
  WebGPUUnavailableError,
  ModelLoadError,
  ModelInputsError,
  ModelFileNotFoundError,
  DtypeNotFoundError,
  DisposedError,
  GpuDeviceLostError,
  WorkerCrashedError,
  DtypeUnsupportedError,
  SelfCheckError,
  ModelFileIsHtmlError,
  StorageQuotaError,
  YesNoTokenError,
  EmptyQueryError,
  IndexFormatError,
} from './errors.ts';
export type { Diagnosis } from './engine/diagnose.ts';
export { clearCache, listCachedModels, type CacheLocation } from './client/clear-cache.ts';
export type { CachedModel } from './cache/manage.ts';
export type { CacheOptions, CacheStats } from './cache/weight-cache.ts';
export type { AdapterReport } from './runtime/adapter.ts';
export { terminateEngineWorker } from './client/worker.ts';

/**
 * Checks the GPU path in the library's worker: which WebGPU adapter it gets (and whether it is a
 * software fallback), and whether our WGSL kernels give the CPU reference's answer there.
 *
 * @example
 * const d = await diagnose();
 * console.log(d.adapter.available, d.adapter.isFallbackAdapter, d.kernelsOk);
 */
export function diagnose(): Promise<Diagnosis> {
  return callWorker((api) => api.diagnose());
}
