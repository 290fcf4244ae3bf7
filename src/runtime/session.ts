/**
 * One ONNX model as an onnxruntime-web session on the chosen backend. On WebGPU every output
 * stays on the GPU ('gpu-buffer'), so the hidden states are never read back: our kernels read
 * them on ORT's own GPUDevice. One lock serialises session.run across all sessions: ORT-web runs
 * one call at a time per wasm instance (transformers.js hits "Session already started" without
 * one), but the lock covers only run(), not tokenization, pooling or readback.
 */
import { ModelLoadError } from '../errors.ts';
import { hasGatherBlockQuantized, rewriteGatherBlockQuantized } from '../models/onnx/gather-block-quantized.ts';
import type { LoadedModel } from '../models/types.ts';
import type { Backend } from './backend.ts';
import { Mutex } from './mutex.ts';
import { createNativeSession, loadNativeOrt } from './native-ort.ts';
import { runtimeFor, type ort } from './ort.ts';
import { cpuOnlyNodes, type CpuNode } from './webgpu-ops.ts';

export const ortRunLock = new Mutex();

export interface TensorMeta {
  name: string;
  type?: string;
  shape?: readonly (number | string)[];
}

/** One input's values: what a tensor is made of (ort.Tensor's type, data and dims). */
export interface FeedData {
  type: 'int64' | 'float32' | 'float16';
  data: BigInt64Array | Float32Array | Uint16Array;
  dims: readonly number[];
}

export interface ModelSession {
  readonly backend: Backend;
  readonly inputs: readonly TensorMeta[];
  readonly outputNames: readonly string[];
  /** ORT's device, shared with our kernels (webgpu backend only) */
  readonly gpuDevice?: GPUDevice;
  /** webgpu backend: the nodes ORT runs on the CPU beside it, for want of a WebGPU kernel (webgpu-ops.ts) */
  readonly cpuNodes?: CpuNode[];
  /** `fetches`: only these outputs (all of them when left out); the feeds become tensors of the session's own onnxruntime build */
  run(feeds: Record<string, FeedData>, signal?: AbortSignal, fetches?: readonly string[]): Promise<Record<string, ort.Tensor>>;
  release(): Promise<void>;
}

function metaOf(list: readonly ort.InferenceSession.ValueMetadata[] | undefined, names: readonly string[]): TensorMeta[] {
  return names.map((name) => {
    const m = list?.find((x) => x.name === name);
    return m && m.isTensor ? { name, type: m.type, shape: m.shape } : { name };
  });
}

/**
 * Releases of sessions whose GPU device was lost, still under way. ORT's WebGPU context (and so
 * its GPUDevice) lives while any session on it does: a session created before every session on a
 * lost device is released would be given the lost device again. So a session on a lost device is
 * released at once (after the run in flight), whoever owns it, and a new one waits for those.
 */
const lostReleases = new Set<Promise<unknown>>();

export async function createModelSession(model: LoadedModel, backend: Backend): Promise<ModelSession> {
  const url = model.spec.baseUrl + model.spec.onnxFile;
  if (backend === 'webgpu') await Promise.all(lostReleases);
  let session: ort.InferenceSession;
  const native = backend === 'cpu' ? await loadNativeOrt() : undefined;
  if (native && 'error' in native) throw new ModelLoadError(`device 'cpu' needs onnxruntime-node: ${native.error}`, url);
  const runtimeName = backend === 'cpu' ? 'onnxruntime-node' : 'onnxruntime-web';
  // onnxruntime-web's build for the backend (ort.ts): the plain wasm build for 'wasm'; tensors for
  // onnxruntime-node are made by it too (the native binding reads them by type, data and dims).
  const web = await runtimeFor(backend === 'webgpu' ? 'webgpu' : 'wasm');
  try {
    // onnxruntime-node takes the wasm build's graph too: the same ops, so the same vectors on both
    const onnx = backend === 'webgpu' ? model.onnx : forWasm(model);
    const externalData = model.externalData.map(({ path, data }) => ({ path: path.split('/').pop()!, data }));
    const options = {
      executionProviders: [backend],
      graphOptimizationLevel: 'all' as const,
      ...(backend === 'webgpu' ? { preferredOutputLocation: 'gpu-buffer' as const } : {}),
    };
    session = native
      ? await createNativeSession(native, onnx, externalData, options)
      : await web.InferenceSession.create(onnx, { ...options, ...(externalData.length ? { externalData } : {}) });
  } catch (cause) {
    const message = String((cause as Error)?.message ?? cause);
    // A page's Content Security Policy that forbids compiling WebAssembly fails here, before any model byte is read.
    const advice = /Content Security Policy/i.test(message)
      ? "The page's Content Security Policy blocks WebAssembly: add 'wasm-unsafe-eval' to script-src (see the README's CSP notes)."
      : 'Check that the file is a complete ONNX export (and its .onnx_data, if it has one).';
    throw new ModelLoadError(
      `${runtimeName} could not load ${url} on ${backend}: ${message}. ${advice}`,
      url,
      { cause },
    );
  }
  const gpuDevice = backend === 'webgpu' ? ((await web.env.webgpu.device) as GPUDevice | undefined) : undefined;
  if (backend === 'webgpu' && !gpuDevice) {
    await session.release();
    throw new ModelLoadError(`onnxruntime-web created the session for ${url} but exposed no WebGPU device`, url);
  }
  // The device's pending `lost` (below) must not keep the session once it is released.
  const held: { session?: ort.InferenceSession } = { session };
  let released: Promise<void> | undefined;
  const release = () => {
    const s = held.session;
    held.session = undefined;
    return (released ??= s ? s.release() : Promise.resolve());
  };
  // Output tensors not yet disposed by their caller: the session outlives them (disposing a
  // tensor of a released session traps in ORT's wasm).
  let outstanding = 0;
  let drained: (() => void) | undefined;
  void gpuDevice?.lost.then(() => {
    // after the run in flight, and after its caller is done with the outputs
    const done = ortRunLock
      .run(async () => {
        if (outstanding) await new Promise<void>((r) => (drained = r));
        await release();
      })
      .catch(() => undefined);
    lostReleases.add(done);
    void done.then(() => lostReleases.delete(done));
  });
  const run = (feeds: Record<string, FeedData>, signal?: AbortSignal, fetches?: readonly string[]) =>
    ortRunLock.run(async () => {
      const s = held.session;
      if (!s) throw new Error(`the ${runtimeName} session for ${url} was released`);
      const tensors = Object.fromEntries(Object.entries(feeds).map(([k, f]) => [k, new web.Tensor(f.type, f.data, f.dims)]));
      return track(await (fetches ? s.run(tensors, [...fetches]) : s.run(tensors)));
    }, signal);
  const track = (outputs: ort.InferenceSession.ReturnType) => {
    for (const t of Object.values(outputs)) {
      outstanding++;
      const dispose = t.dispose.bind(t);
      let done = false;
      t.dispose = () => {
        if (done) return;
        done = true;
        try {
          dispose();
        } finally {
          if (--outstanding === 0) drained?.();
        }
      };
    }
    return outputs;
  };
  return {
    backend,
    inputs: metaOf(session.inputMetadata, session.inputNames),
    outputNames: session.outputNames,
    // a report, never a reason to fail a load that ORT accepted: a graph our reader could not walk reports nothing
    ...(gpuDevice ? { gpuDevice, ...(model.onnxGraph ? { cpuNodes: cpuOnlyNodes(model.onnxGraph) } : {}) } : {}),
    run,
    release,
  };
}

/**
 * The graph as the wasm provider can run it: a 4-bit embedding table (GatherBlockQuantized, which
 * the browser build's CPU provider lacks) in standard ops (src/models/onnx/gather-block-quantized.ts).
 */
function forWasm({ onnx, onnxGraph }: LoadedModel): Uint8Array {
  try {
    return onnxGraph && hasGatherBlockQuantized(onnxGraph) ? rewriteGatherBlockQuantized(onnx).onnx : onnx;
  } catch {
    return onnx; // a graph this cannot read: ORT judges it
  }
}
