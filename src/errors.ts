/**
 * Errors a user can catch by type. Each message says what to do next.
 */
import type { Dtype } from './models/types.ts';

export class WebGPUEmbedError extends Error {
  // Each class names itself in a literal, never by `new.target.name`: an app's minifier renames
  // classes ('se' in a production build), and the worker boundary revives errors by name.
  override name = 'WebGPUEmbedError';
}

/** device: 'webgpu' was asked for and this browser (or worker) has no usable WebGPU adapter. */
export class WebGPUUnavailableError extends WebGPUEmbedError {
  override name = 'WebGPUUnavailableError';
}

/** A model folder could not be loaded: a missing file, a 404, or bytes that are not what they claim. */
export class ModelLoadError extends WebGPUEmbedError {
  override name = 'ModelLoadError';
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
export class ModelFileNotFoundError extends ModelLoadError {
  override name = 'ModelFileNotFoundError';
}

/**
 * The model folder has no ONNX file for the dtype asked for. `available` lists the dtypes whose
 * files it does have (looked for when this error is made; empty when none was found): pass one of
 * them as `dtype`, or check the folder URL.
 *
 * @example
 * try { await createEmbedder({ model, dtype: 'q4' }) }
 * catch (e) { if (e instanceof DtypeNotFoundError && e.available.length) await createEmbedder({ model, dtype: e.available[0] }) }
 */
export class DtypeNotFoundError extends ModelFileNotFoundError {
  override name = 'DtypeNotFoundError';
  constructor(
    message: string,
    url?: string,
    readonly available: Dtype[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, url, options);
  }
}

/**
 * A server answered with a web page where a model file was expected: a wrong URL (a hub's page
 * rather than its raw file), or a single-page-app server that answers every missing path with
 * its index.html. For an optional file the loader takes it as absent.
 */
export class ModelFileIsHtmlError extends ModelLoadError {
  override name = 'ModelFileIsHtmlError';
}

/** The embedder or reranker was disposed; create a new one. */
export class DisposedError extends WebGPUEmbedError {
  override name = 'DisposedError';
}

/** The GPU device was lost (driver reset, device.destroy(), tab in background too long). */
export class GpuDeviceLostError extends WebGPUEmbedError {
  override name = 'GpuDeviceLostError';
}

/** The library's worker failed to start or died; the next call starts a new one. */
export class WorkerCrashedError extends WebGPUEmbedError {
  override name = 'WorkerCrashedError';
}

/** The asked-for dtype cannot run on the chosen device (fp16 files on WebGPU need 'shader-f16'). */
export class DtypeUnsupportedError extends WebGPUEmbedError {
  override name = 'DtypeUnsupportedError';
}

/**
 * The self-check (`selfCheck: 'error'`) found the model's WebGPU result for a probe far from the
 * wasm path's on the same ONNX file: for an embedder `cosine` between the two vectors, below
 * `threshold`; for a reranker `scoreDifference`, above `threshold`. The model
 * computes wrongly on this GPU (a broken kernel for its dtype, as transformers.js#1728 saw with
 * q4/q8 EmbeddingGemma). Load it with device 'wasm', another dtype, or selfCheck: 'fallback'.
 *
 * @example
 * try { await createEmbedder({ model, dtype: 'q4', selfCheck: 'error' }) }
 * catch (e) { if (e instanceof SelfCheckError) console.warn(`WebGPU result off (cosine ${e.cosine}); using wasm`) }
 */
export class SelfCheckError extends WebGPUEmbedError {
  override name = 'SelfCheckError';
  constructor(
    message: string,
    /** an embedder's: the cosine between the two paths' probe vectors */
    readonly cosine?: number,
    readonly threshold?: number,
    /** a reranker's: |WebGPU score − wasm score| on the probe pair */
    readonly scoreDifference?: number,
  ) {
    super(message);
  }
}

/**
 * The weight cache has no room for a model file: `needed` bytes, `available` by the browser's
 * storage estimate (undefined when IndexedDB itself refused the write). A ModelLoadError: the
 * model did not load. Free space (clearCache()), ask for persistent storage (cache: { persist: true }),
 * load from memory without caching (cache: { onQuotaExceeded: 'memory' }) or turn the cache off (cache: false).
 */
export class StorageQuotaError extends ModelLoadError {
  override name = 'StorageQuotaError';
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
 * The model's graph has inputs webgpu-embed does not know how to fill (`inputs`: their names). It
 * fills input_ids, attention_mask, token_type_ids, position_ids and the empty past_key_values.N.key
 * / .value of a KV-cache export; anything else (a decoder export with extra inputs such as
 * cache_position or inputs_embeds) is refused at load rather than fed zeros.
 *
 * @example
 * try { await createEmbedder({ model }) }
 * catch (e) { if (e instanceof ModelInputsError) console.warn(`unsupported inputs: ${e.inputs.join(', ')}`) }
 */
export class ModelInputsError extends ModelLoadError {
  override name = 'ModelInputsError';
  constructor(
    message: string,
    url?: string,
    readonly inputs: string[] = [],
  ) {
    super(message, url);
  }
}

/**
 * A yes/no reranker's tokenizer has no single token for its answer words ("yes" / "no"), so the
 * score cannot be read from the logits. Pass the words the model answers with
 * (`overrides: { yesToken, noToken }`), or use a model made for reranking.
 */
export class YesNoTokenError extends ModelLoadError {
  override name = 'YesNoTokenError';
}

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
export class IndexFormatError extends WebGPUEmbedError {
  override name = 'IndexFormatError';
}
