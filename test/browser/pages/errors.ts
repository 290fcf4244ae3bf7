/**
 * Errors described as plain data for the tests (they cross from the page as JSON): name, message,
 * and the library's (or the platform's) classes the error is an instance of.
 */
import * as lib from '../../../src/index.ts';

export interface ErrorInfo {
  name: string;
  message: string;
  /** the library's (or the platform's) classes the error is an instance of */
  is: string[];
  url?: string;
  needed?: number;
  /** StorageQuotaError's bytes, or DtypeNotFoundError's dtypes */
  available?: number | string[];
  /** SelfCheckError's */
  cosine?: number;
}

const CLASSES: [string, unknown][] = [
  ['TypeError', TypeError],
  ['RangeError', RangeError],
  ['DOMException', DOMException],
  ['WebGPUEmbedError', lib.WebGPUEmbedError],
  ['ModelLoadError', lib.ModelLoadError],
  ['ModelFileNotFoundError', lib.ModelFileNotFoundError],
  ['DtypeNotFoundError', lib.DtypeNotFoundError],
  ['ModelFileIsHtmlError', lib.ModelFileIsHtmlError],
  ['WebGPUUnavailableError', lib.WebGPUUnavailableError],
  ['DisposedError', lib.DisposedError],
  ['GpuDeviceLostError', lib.GpuDeviceLostError],
  ['WorkerCrashedError', lib.WorkerCrashedError],
  ['DtypeUnsupportedError', lib.DtypeUnsupportedError],
  ['SelfCheckError', lib.SelfCheckError],
  ['StorageQuotaError', lib.StorageQuotaError],
  ['YesNoTokenError', lib.YesNoTokenError],
  ['ModelInputsError', lib.ModelInputsError],
  ['EmptyQueryError', lib.EmptyQueryError],
  ['IndexFormatError', lib.IndexFormatError],
];

export function errorInfo(e: unknown): ErrorInfo {
  const err = e as Error & { url?: string; needed?: number; available?: number | string[]; cosine?: number };
  return {
    name: err?.name ?? typeof e,
    message: err?.message ?? String(e),
    is: CLASSES.filter(([, C]) => e instanceof (C as new () => unknown)).map(([n]) => n),
    ...(err?.url ? { url: err.url } : {}),
    ...(typeof err?.needed === 'number' ? { needed: err.needed } : {}),
    ...(typeof err?.available === 'number' || Array.isArray(err?.available) ? { available: err.available } : {}),
    ...(typeof err?.cosine === 'number' ? { cosine: err.cosine } : {}),
  };
}
