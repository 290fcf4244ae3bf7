/**
 * Compute pipelines, compiled once per device and kernel. Shapes travel as uniforms, so the
 * cache key is the kernel's name alone and a new shape never recompiles.
 */
import { KERNELS, type KernelName } from './kernels.ts';

const cache = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();

/**
 * `constants` sets a kernel's WGSL `override` values (a per-device choice, such as the index
 * scan's lanes per row); each set is its own cache entry.
 */
export function pipelineFor(device: GPUDevice, kernel: KernelName, constants?: Record<string, number>): GPUComputePipeline {
  let perDevice = cache.get(device);
  if (!perDevice) cache.set(device, (perDevice = new Map()));
  const key = constants ? `${kernel} ${JSON.stringify(constants)}` : kernel;
  let pipeline = perDevice.get(key);
  if (!pipeline) {
    const module = device.createShaderModule({ label: kernel, code: KERNELS[kernel] });
    pipeline = device.createComputePipeline({ label: kernel, layout: 'auto', compute: { module, entryPoint: 'main', ...(constants ? { constants } : {}) } });
    perDevice.set(key, pipeline);
  }
  return pipeline;
}
