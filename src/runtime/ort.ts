/**
 * onnxruntime-web, imported once, through the package's own subpath import '#ort' (package.json
 * "imports"): in browsers 'onnxruntime-web/webgpu', which carries the WebGPU and wasm execution
 * providers and references its .wasm as `new URL('…wasm', import.meta.url)`, so the app's bundler
 * emits it next to our worker, never fetched from a CDN; in Node its Node build (wasm only), for
 * the engine in-process. An app that serves the files itself sets `wasmPaths`.
 */
import * as ort from '#ort';

export { ort };

export interface OrtSettings {
  /** where ort-wasm-*.wasm/.mjs are served, when the app's bundler does not place them */
  wasmPaths?: string;
  /** wasm threads (used when the page is cross-origin isolated); ORT's default otherwise */
  numThreads?: number;
}

export function configureOrt(settings: OrtSettings = {}): void {
  if (settings.wasmPaths) ort.env.wasm.wasmPaths = settings.wasmPaths;
  if (settings.numThreads) ort.env.wasm.numThreads = settings.numThreads;
  ort.env.logLevel = 'error';
}
