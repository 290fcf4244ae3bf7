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
