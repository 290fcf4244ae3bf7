/**
 * Page functions for test/browser/foundation.test.ts, called with harness callModule().
 * Each returns plain JSON (arrays, not typed arrays) so the test compares in Node.
 */
import { ort, mark, since } from './ort-env.ts';
import { beginEncoding, submit } from '../../../src/gpu/encode.ts';
import { encodeMaskedMean } from '../../../src/gpu/pooling.ts';
import { readF32, storageF32, uploadF32 } from '../../../src/gpu/transfer.ts';

// ---------------------------------------------------------------- (a) adapter and device

export interface GpuReport {
  crossOriginIsolated: boolean;
  hasGpu: boolean;
  adapter: null | {
    vendor: string;
    architecture: string;
    device: string;
    description: string;
    isFallbackAdapter: boolean;
    features: string[];
    limits: Record<string, number>;
  };
  deviceCreated: boolean;
  deviceError?: string;
}

export async function gpuReport(): Promise<GpuReport> {
  const report: GpuReport = { crossOriginIsolated, hasGpu: !!navigator.gpu, adapter: null, deviceCreated: false };
  if (!navigator.gpu) return report;
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) return report;
  const info = adapter.info;
  const limits: Record<string, number> = {};
  for (const k of [
    'maxStorageBufferBindingSize',
    'maxBufferSize',
    'maxComputeInvocationsPerWorkgroup',
    'maxComputeWorkgroupSizeX',
    'maxComputeWorkgroupStorageSize',
    'maxComputeWorkgroupsPerDimension',
    'maxStorageBuffersPerShaderStage',
  ] as const) {
    limits[k] = adapter.limits[k];
  }
  report.adapter = {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    // GPUAdapterInfo.isFallbackAdapter (Chrome 136+); older builds had it on the adapter
    isFallbackAdapter: Boolean(
      (info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter ??
        (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter,
    ),
    features: [...adapter.features].sort(),
    limits,
  };
  try {
    const device = await adapter.requestDevice();
    report.deviceCreated = !!device && typeof device.createBuffer === 'function';
    device.destroy();
  } catch (e) {
    report.deviceError = String(e);
  }
  return report;
}

// ---------------------------------------------------------------- (b) WGSL in a module worker

export interface WorkerKernelResult {
  y: number[];
  adapter: { vendor: string; architecture: string; description: string };
  workerIsolated: boolean;
  ms: number;
}

export async function workerKernel(x: number[], rows: number, cols: number, a: number, b: number): Promise<WorkerKernelResult> {
  const t0 = performance.now();
  const worker = new Worker(new URL('./affine-mean.worker.ts', import.meta.url), { type: 'module', name: 'affine-mean' });
  try {
    const reply = await new Promise<{ ok: boolean; error?: string; y?: Float32Array; adapter?: WorkerKernelResult['adapter']; workerIsolated?: boolean }>(
      (resolve, reject) => {
        worker.onmessage = (e) => resolve(e.data);
        worker.onerror = (e) => reject(new Error(`worker error: ${e.message} (${e.filename}:${e.lineno})`));
        const data = Float32Array.from(x);
        worker.postMessage({ x: data, rows, cols, a, b }, [data.buffer]);
      },
    );
    if (!reply.ok || !reply.y || !reply.adapter) throw new Error(`worker failed: ${reply.error}`);
    return { y: Array.from(reply.y), adapter: reply.adapter, workerIsolated: !!reply.workerIsolated, ms: performance.now() - t0 };
  } finally {
    worker.terminate();
  }
}

// ---------------------------------------------------------------- (c) ORT on WebGPU vs wasm

export interface EncoderInput {
  /** token ids, one row per text, right-padded to one length */
  ids: number[][];
  /** 1 for a real token, 0 for padding */
  mask: number[][];
}

function feeds(input: EncoderInput): Record<string, ort.Tensor> {
  const B = input.ids.length;
  const T = input.ids[0]!.length;
  const ids = BigInt64Array.from(input.ids.flat().map((v) => BigInt(v)));
  const mask = BigInt64Array.from(input.mask.flat().map((v) => BigInt(v)));
  return {
    input_ids: new ort.Tensor('int64', ids, [B, T]),
    attention_mask: new ort.Tensor('int64', mask, [B, T]),
    token_type_ids: new ort.Tensor('int64', new BigInt64Array(B * T), [B, T]),
  };
}

export interface EncoderRun {
  ep: 'webgpu' | 'wasm';
  dims: number[];
  location: string;
  output: number[];
  /** every line ORT printed while the session was created (placement included) */
  sessionLog: string[];
  createMs: number;
  runMs: number;
}

/** Creates a session on exactly one EP (no fallback list), runs one batch, reads the output to the CPU. */
export async function encoderRun(modelUrl: string, ep: 'webgpu' | 'wasm', input: EncoderInput): Promise<EncoderRun> {
  const t0 = performance.now();
  const from = mark();
  const session = await ort.InferenceSession.create(modelUrl, {
    executionProviders: [ep],
    logSeverityLevel: 0,
    logVerbosityLevel: 0,
  });
  const sessionLog = since(from).map((l) => l.text);
  const t1 = performance.now();
  try {
    const out = await session.run(feeds(input));
    const y = out.last_hidden_state;
    if (!y) throw new Error(`no last_hidden_state among outputs ${Object.keys(out)}`);
    const data = (await y.getData()) as Float32Array;
    return {
      ep,
      dims: [...y.dims],
      location: y.location,
      output: Array.from(data),
      sessionLog,
      createMs: t1 - t0,
      runMs: performance.now() - t1,
    };
  } finally {
    await session.release();
  }
}

// ---------------------------------------------------------------- (d) our kernel on ORT's GPU buffer

export interface GpuPoolResult {
  pooled: number[];
  B: number;
  H: number;
  outputLocation: string;
  bufferSize: number;
  bufferUsage: number;
  /** the device from `await ort.env.webgpu.device` is a GPUDevice */
  ortDeviceIsGpuDevice: boolean;
  ortAdapterInfo: { vendor: string; architecture: string; description: string } | null;
  createMs: number;
  runMs: number;
  poolMs: number;
}

/**
 * Runs the encoder on WebGPU with last_hidden_state left on the GPU, then a masked mean over
 * the sequence axis as our own pipeline on ORT's device, binding ORT's buffer directly; only
 * [B, H] is read back.
 */
export async function gpuMeanPool(modelUrl: string, input: EncoderInput): Promise<GpuPoolResult> {
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(modelUrl, {
    executionProviders: ['webgpu'],
    preferredOutputLocation: { last_hidden_state: 'gpu-buffer' },
  });
  const t1 = performance.now();
  try {
    const out = await session.run(feeds(input));
    const y = out.last_hidden_state;
    if (!y) throw new Error(`no last_hidden_state among outputs ${Object.keys(out)}`);
    const t2 = performance.now();
    if (y.location !== 'gpu-buffer') throw new Error(`output location is ${y.location}, wanted gpu-buffer`);
    const [B, T, H] = y.dims as [number, number, number];
    const hidden = y.gpuBuffer as GPUBuffer;
    const device = (await ort.env.webgpu.device) as GPUDevice;
    const ortDeviceIsGpuDevice = typeof GPUDevice !== 'undefined' && device instanceof GPUDevice;

    // The library's own kernel code (src/gpu), not a copy: ORT's buffer goes straight in.
    device.pushErrorScope('validation');
    const weights = uploadF32(device, Float32Array.from(input.mask.flat()), 'mask');
    const pooledBuf = storageF32(device, B * H, 'pooled');
    // ORT has submitted its work on this device's queue before run() resolved; what we submit
    // now is ordered after it, so no explicit wait is needed before reading ORT's buffer.
    const enc = beginEncoding(device, 'foundation-d');
    encodeMaskedMean(enc, { hidden, weights, pooled: pooledBuf, batch: B, tokens: T, size: H });
    await submit(enc);
    const err = await device.popErrorScope();
    if (err) throw new Error(`WebGPU validation error: ${err.message}`);
    const pooled = Array.from(await readF32(device, pooledBuf, B * H));
    for (const b of [weights, pooledBuf]) b.destroy();
    const result: GpuPoolResult = {
      pooled,
      B,
      H,
      outputLocation: y.location,
      bufferSize: hidden.size,
      bufferUsage: hidden.usage,
      ortDeviceIsGpuDevice,
      ortAdapterInfo: (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo
        ? (() => {
            const ai = (device as GPUDevice & { adapterInfo: GPUAdapterInfo }).adapterInfo;
            return { vendor: ai.vendor, architecture: ai.architecture, description: ai.description };
          })()
        : null,
      createMs: t1 - t0,
      runMs: t2 - t1,
      poolMs: performance.now() - t2,
    };
    y.dispose();
    return result;
  } finally {
    await session.release();
  }
}

// ---------------------------------------------------------------- wasm threads (cross-origin isolation)

export interface ThreadsResult {
  numThreads: number;
  dims: number[];
  sharedArrayBuffer: boolean;
}

/** ORT's wasm EP with 2 threads: needs SharedArrayBuffer, so COOP/COEP, and its .mjs served as a file (pthread workers load it). */
export async function wasmThreads(modelUrl: string, input: EncoderInput): Promise<ThreadsResult> {
  ort.env.wasm.numThreads = 2; // before the wasm module starts (this page has not used ORT yet)
  const session = await ort.InferenceSession.create(modelUrl, { executionProviders: ['wasm'] });
  try {
    const out = await session.run(feeds(input));
    return {
      numThreads: ort.env.wasm.numThreads,
      dims: [...out.last_hidden_state!.dims],
      sharedArrayBuffer: typeof SharedArrayBuffer === 'function',
    };
  } finally {
    await session.release();
  }
}
