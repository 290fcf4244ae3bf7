/**
 * Errors a user can catch by type. Each message says what to do next.
 */
export class WebGPUEmbedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** device: 'webgpu' was asked for and this browser (or worker) has no usable WebGPU adapter. */
export class WebGPUUnavailableError extends WebGPUEmbedError {}

/** A model folder could not be loaded: a missing file, a 404, or bytes that are not what they claim. */
export class ModelLoadError extends WebGPUEmbedError {
  constructor(
    message: string,
    readonly url?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * A file of a model folder does not exist there (HTTP 404, or absent from a cache). The loader
 * skips optional files on this error and reports required ones as a ModelLoadError.
 */
export class ModelFileNotFoundError extends ModelLoadError {}

/**
 * A server answered with a web page where a model file was expected: a wrong URL (a hub's page
 * rather than its raw file), or a single-page-app server that answers every missing path with
 * its index.html. For an optional file the loader takes it as absent.
 */
export class ModelFileIsHtmlError extends ModelLoadError {}

/** The embedder or reranker was disposed; create a new one. */
export class DisposedError extends WebGPUEmbedError {}

/** The GPU device was lost (driver reset, device.destroy(), tab in background too long). */
export class GpuDeviceLostError extends WebGPUEmbedError {}

/** The library's worker failed to start or died; the next call starts a new one. */
export class WorkerCrashedError extends WebGPUEmbedError {}

/** The asked-for dtype cannot run on the chosen device (fp16 files on WebGPU need 'shader-f16'). */
export class DtypeUnsupportedError extends WebGPUEmbedError {}

/**
 * The weight cache has no room for a model file: `needed` bytes, `available` by the browser's
 * storage estimate (undefined when IndexedDB itself refused the write). A ModelLoadError: the
 * model did not load. Free space (clearCache()), ask for persistent storage (cache: { persist: true }),
 * load from memory without caching (cache: { onQuotaExceeded: 'memory' }) or turn the cache off (cache: false).
 */
export class StorageQuotaError extends ModelLoadError {
  constructor(
    message: string,
    url?: string,
    readonly needed?: number,
    readonly available?: number,
    options?: { cause?: unknown },
  ) {
    super(message, url, options);
  }
}

/**
 * A yes/no reranker's tokenizer has no single token for its answer words ("yes" / "no"), so the
 * score cannot be read from the logits. Pass the words the model answers with
 * (`overrides: { yesToken, noToken }`), or use a model made for reranking.
 */
export class YesNoTokenError extends ModelLoadError {}

/**
 * rerank() was given an empty (or whitespace-only) query: there is nothing to rank against. A
 * RangeError too, so code that catches bad arguments by the built-in classes still catches it.
 */
export class EmptyQueryError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'EmptyQueryError';
  }
}

/**
 * A blob given to a vector index's import() / load() is not an index this version reads (no
 * "WGEI" header, a newer format version, cut short), or its vectors have another size than the
 * index's dimensions. Rebuild the index with index.add(), or create it with the blob's dimensions.
 */
export class IndexFormatError extends WebGPUEmbedError {}
