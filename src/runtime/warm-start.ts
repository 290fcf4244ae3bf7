/**
 * onnxruntime-web's wasm started while a load reads the model's files. ORT starts its wasm (fetch
 * and compile ~14 MB, instantiate, start its threads) inside the first InferenceSession.create, so
 * a load used to pay for it after its last byte arrived. A session on the identity model
 * (src/models/onnx/identity-model.ts) starts it at once instead, side by side with the reads; it
 * is released once the model's own session exists (ORT keeps its wasm for the process either way).
 * A failure here is nobody's: the model's own session reports whatever stops the runtime.
 */
import { identityModel } from '../models/onnx/identity-model.ts';
import type { Backend } from './backend.ts';
import { runtimeFor } from './ort.ts';

export interface WarmStart {
  /** waits for the start to end (never throws) and releases its session */
  release(): Promise<void>;
}

export function warmStart(backend: Backend): WarmStart {
  // WebGPU's context lives and dies with its sessions (session.ts); onnxruntime-node starts at once.
  if (backend !== 'wasm') return { release: async () => undefined };
  const started = runtimeFor('wasm')
    .then((ort) => ort.InferenceSession.create(identityModel(), { executionProviders: ['wasm'] }))
    .catch(() => undefined);
  return {
    release: async () => {
      await (await started)?.release().catch(() => undefined);
    },
  };
}
