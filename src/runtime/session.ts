/**
 * One ONNX model as an onnxruntime-web session on the chosen backend. On WebGPU every output
 * stays on the GPU ('gpu-buffer'), so the hidden states are never read back: our kernels read
 * them on ORT's own GPUDevice. One lock serialises session.run across all sessions: ORT-web runs
 * one call at a time per wasm instance (transformers.js hits "Session already started" without
 * one), but the lock covers only run(), not tokenization, pooling or readback.
 */
import { ModelLoadError } from '../errors.ts';
import type { LoadedModel } from '../models/types.ts';
import type { Backend } from './backend.ts';
import { Mutex } from './mutex.ts';
import { ort } from './ort.ts';

export const ortRunLock = new Mutex();

export interface TensorMeta {
  name: string;
  type?: string;
  shape?: readonly (number | string)[];
}

export interface ModelSession {
  readonly backend: Backend;
  readonly inputs: readonly TensorMeta[];
  readonly outputNames: readonly string[];
  /** ORT's device, shared with our kernels (webgpu backend only) */
  readonly gpuDevice?: GPUDevice;
  run(feeds: Record<string, ort.Tensor>, signal?: AbortSignal): Promise<Record<string, ort.Tensor>>;
  release(): Promise<void>;
}

function metaOf(list: readonly ort.InferenceSession.ValueMetadata[] | undefined, names: readonly string[]): TensorMeta[] {
  return names.map((name) => {
    const m = list?.find((x) => x.name === name);
    return m && m.isTensor ? { name, type: m.type, shape: m.shape } : { name };
  });
}

export async function createModelSession(model: LoadedModel, backend: Backend): Promise<ModelSession> {
  const url = model.spec.baseUrl + model.spec.onnxFile;
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(model.onnx, {
      executionProviders: [backend],
      graphOptimizationLevel: 'all',
      ...(backend === 'webgpu' ? { preferredOutputLocation: 'gpu-buffer' as const } : {}),
      ...(model.externalData.length
        ? { externalData: model.externalData.map(({ path, data }) => ({ path: path.split('/').pop()!, data })) }
        : {}),
    });
  } catch (cause) {
    const message = String((cause as Error)?.message ?? cause);
    // A page's Content Security Policy that forbids compiling WebAssembly fails here, before any model byte is read.
    const advice = /Content Security Policy/i.test(message)
      ? "The page's Content Security Policy blocks WebAssembly: add 'wasm-unsafe-eval' to script-src (see the README's CSP notes)."
      : 'Check that the file is a complete ONNX export (and its .onnx_data, if it has one).';
    throw new ModelLoadError(
      `onnxruntime-web could not load ${url} on ${backend}: ${message}. ${advice}`,
      url,
      { cause },
    );
  }
  const gpuDevice = backend === 'webgpu' ? ((await ort.env.webgpu.device) as GPUDevice | undefined) : undefined;
  if (backend === 'webgpu' && !gpuDevice) {
    await session.release();
    throw new ModelLoadError(`onnxruntime-web created the session for ${url} but exposed no WebGPU device`, url);
  }
  return {
    backend,
    inputs: metaOf(session.inputMetadata, session.inputNames),
    outputNames: session.outputNames,
    ...(gpuDevice ? { gpuDevice } : {}),
    run: (feeds, signal) => ortRunLock.run(() => session.run(feeds), signal),
    release: () => session.release(),
  };
}
