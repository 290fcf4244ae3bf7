/**
 * onnxruntime-web, imported once. 'onnxruntime-web/webgpu' carries both the WebGPU and the wasm
 * execution providers; its .wasm is referenced as `new URL('…wasm', import.meta.url)`, so the
 * app's bundler emits it next to our worker — never fetched from a CDN. An app that serves the
 * files itself sets `wasmPaths`.
 */
import * as ort from 'onnxruntime-web/webgpu';

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
