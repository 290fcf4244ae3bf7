/**
 * device 'webgpu' | 'wasm' | 'auto' → the backend that runs the model, and why.
 * 'auto' takes WebGPU only on a hardware adapter: a software adapter (isFallbackAdapter, e.g.
 * SwiftShader) ran a MiniLM batch ~50× slower than the wasm path here (README, benchmarks).
 * 'webgpu' with no adapter is a typed error, never a silent fallback.
 */
import { WebGPUUnavailableError } from '../errors.ts';
import { probeAdapter, type AdapterReport } from './adapter.ts';

export type Backend = 'webgpu' | 'wasm';
export type DeviceRequest = Backend | 'auto';

export interface BackendChoice {
  backend: Backend;
  reason: string;
  adapter: AdapterReport;
}

export async function chooseBackend(requested: DeviceRequest = 'auto', gpu?: GPU): Promise<BackendChoice> {
  if (requested !== 'auto' && requested !== 'webgpu' && requested !== 'wasm') {
    throw new RangeError(`device must be 'webgpu', 'wasm' or 'auto', not ${JSON.stringify(requested)}`);
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
