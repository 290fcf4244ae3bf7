/**
 * Compute pipelines, compiled once per device and kernel. Shapes travel as uniforms, so the
 * cache key is the kernel's name alone and a new shape never recompiles.
 */
import { KERNELS, type KernelName } from './kernels.ts';

const cache = new WeakMap<GPUDevice, Map<KernelName, GPUComputePipeline>>();

export function pipelineFor(device: GPUDevice, kernel: KernelName): GPUComputePipeline {
  let perDevice = cache.get(device);
  if (!perDevice) cache.set(device, (perDevice = new Map()));
  let pipeline = perDevice.get(kernel);
  if (!pipeline) {
    const module = device.createShaderModule({ label: kernel, code: KERNELS[kernel] });
    pipeline = device.createComputePipeline({ label: kernel, layout: 'auto', compute: { module, entryPoint: 'main' } });
    perDevice.set(kernel, pipeline);
  }
  return pipeline;
}
