/**
 * What WebGPU this context offers. A software adapter (isFallbackAdapter, e.g. SwiftShader) is
 * reported as such: device 'auto' must not take it for a GPU (it ran a MiniLM batch ~50× slower
 * than the wasm path here).
 */
export interface AdapterReport {
  /** navigator.gpu exists and gave an adapter */
  available: boolean;
  /** why not, when it did not */
  reason?: string;
  isFallbackAdapter?: boolean;
  vendor?: string;
  architecture?: string;
  description?: string;
  features?: string[];
  maxStorageBufferBindingSize?: number;
  maxBufferSize?: number;
  maxComputeInvocationsPerWorkgroup?: number;
}

export async function probeAdapter(gpu: GPU | undefined = globalThis.navigator?.gpu): Promise<{ report: AdapterReport; adapter?: GPUAdapter }> {
  if (!gpu) return { report: { available: false, reason: 'navigator.gpu is missing: this browser or context has no WebGPU' } };
  const adapter = await gpu.requestAdapter();
  if (!adapter) return { report: { available: false, reason: 'navigator.gpu.requestAdapter() returned null (WebGPU disabled, or no driver)' } };
  const info = adapter.info;
  const fallback = (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? (info as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false;
  return {
    adapter,
    report: {
      available: true,
      isFallbackAdapter: fallback,
      vendor: info.vendor,
      architecture: info.architecture,
      description: info.description,
      features: [...adapter.features].sort(),
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
      maxComputeInvocationsPerWorkgroup: adapter.limits.maxComputeInvocationsPerWorkgroup,
    },
  };
}

/** A device with the adapter's larger buffer limits, so big hidden states bind without tiling. */
export function requestDevice(adapter: GPUAdapter): Promise<GPUDevice> {
  return adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
    },
  });
}
