/**
 * device 'webgpu' | 'wasm' | 'cpu' | 'auto' → the backend that runs the model, and why.
 * 'auto' takes WebGPU only on a hardware adapter: a software adapter (isFallbackAdapter, e.g.
 * SwiftShader) ran a MiniLM batch ~50× slower than the wasm path here (README, benchmarks).
 * 'webgpu' with no adapter is a typed error, never a silent fallback.
 * 'cpu' is transformers.js' word for Node's native runtime: onnxruntime-node where it is installed
 * (native-ort.ts), else onnxruntime-web's wasm build on the same CPU (the reason says which).
 */
import { WebGPUUnavailableError } from '../errors.ts';
import { probeAdapter, type AdapterReport } from './adapter.ts';
import { loadNativeOrt } from './native-ort.ts';

/** What runs the model: onnxruntime-web on WebGPU or wasm, or onnxruntime-node ('cpu'). */
export type Backend = 'webgpu' | 'wasm' | 'cpu';
export type DeviceRequest = Backend | 'auto';

export interface BackendChoice {
  backend: Backend;
  reason: string;
  adapter: AdapterReport;
}

export async function chooseBackend(requested: DeviceRequest = 'auto', gpu?: GPU): Promise<BackendChoice> {
  if (requested !== 'auto' && requested !== 'webgpu' && requested !== 'wasm' && requested !== 'cpu') {
    throw new RangeError(`device must be 'webgpu', 'wasm', 'cpu' or 'auto', not ${JSON.stringify(requested)}`);
  }
  if (requested === 'cpu') {
    const native = await loadNativeOrt();
    const report: AdapterReport = { available: false, reason: "not probed: device 'cpu' was requested" };
    if ('error' in native) return { backend: 'wasm', reason: `device 'cpu': ${native.error}, so onnxruntime-web's wasm runs on the CPU instead`, adapter: report };
    return { backend: 'cpu', reason: "device 'cpu' was requested: onnxruntime-node", adapter: report };
  }
  const { report } = requested === 'wasm' ? { report: { available: false, reason: 'not probed: wasm was requested' } } : await probeAdapter(gpu);
  if (requested === 'wasm') return { backend: 'wasm', reason: "device 'wasm' was requested", adapter: report };
  if (requested === 'webgpu') {
    if (!report.available) {
      throw new WebGPUUnavailableError(
        `device 'webgpu' was requested but ${report.reason}. Use device: 'auto' (falls back to wasm) or 'wasm', ` +
          'or run in a browser with WebGPU enabled (Chrome/Edge 113+, Safari 26+, Firefox 141+ on Windows).',
      );
    }
    return {
      backend: 'webgpu',
      reason: report.isFallbackAdapter ? "device 'webgpu' was requested; note the adapter is a software fallback (slow)" : "device 'webgpu' was requested",
      adapter: report,
    };
  }
  if (!report.available) return { backend: 'wasm', reason: `auto: no WebGPU (${report.reason})`, adapter: report };
  if (report.isFallbackAdapter) {
    return { backend: 'wasm', reason: 'auto: the WebGPU adapter is a software fallback (e.g. SwiftShader), slower than wasm', adapter: report };
  }
  return { backend: 'webgpu', reason: 'auto: a hardware WebGPU adapter', adapter: report };
}
