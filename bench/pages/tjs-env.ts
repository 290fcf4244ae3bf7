/**
 * transformers.js' settings in a page where it runs beside webgpu-embed: its own onnxruntime-web
 * build (a 1.31 dev build, served at `ortDist`, see bench/harness.ts's tjsOrt) and where it finds
 * model folders.
 */
export type Tjs = typeof import('@huggingface/transformers');

/**
 * `remote`: the model folder is its "hub" (remoteHost + path template on this origin), so files
 * are fetched over HTTP and kept in its Cache API store, as from the Hugging Face hub; otherwise
 * local model paths (`modelsPath`, e.g. '/test/fixtures/models/'), no cache.
 */
export function configureTjs(tjs: Tjs, ortDist: string, modelsPath: string, remote: boolean, numThreads?: number): void {
  tjs.env.allowRemoteModels = remote;
  tjs.env.allowLocalModels = !remote;
  tjs.env.localModelPath = modelsPath;
  tjs.env.useBrowserCache = remote;
  if (remote) {
    tjs.env.remoteHost = location.origin + '/';
    tjs.env.remotePathTemplate = modelsPath.replace(/^\//, '') + '{model}/';
  }
  const wasm = tjs.env.backends.onnx.wasm as { wasmPaths?: unknown; numThreads?: number };
  wasm.wasmPaths = { mjs: `${ortDist}ort-wasm-simd-threaded.asyncify.mjs`, wasm: `${ortDist}ort-wasm-simd-threaded.asyncify.wasm` };
  if (numThreads) wasm.numThreads = numThreads;
}
