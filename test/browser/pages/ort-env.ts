/**
 * onnxruntime-web (WebGPU build) as the pages use it. Import this instead of
 * 'onnxruntime-web/webgpu' directly: it installs the console tap first (ORT binds the console
 * when its wasm module starts) and points ORT at its dist files as the test server serves them.
 */
import { mark, since } from './console-tap.ts';
import * as ort from 'onnxruntime-web/webgpu';

/** Keep in step with ORT_DIST_PATH in harness/server.ts. */
export const ORT_DIST_PATH = '/node_modules/onnxruntime-web/dist/';

ort.env.wasm.wasmPaths = new URL(ORT_DIST_PATH, location.origin).href;

export { ort, mark, since };
