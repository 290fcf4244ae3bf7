/**
 * A real WebGPU device in Node: Dawn from the `webgpu` package on Chromium's SwiftShader
 * Vulkan driver (ENVIRONMENT.md). Fails loudly, with the install command, when it cannot start.
 */
import { existsSync } from 'node:fs';
import { create, globals } from 'webgpu';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

let devicePromise: Promise<GPUDevice> | undefined;
// Dawn's instance must outlive every device made from it: if the GPU object is collected,
// the instance is torn down under the device and SwiftShader's threads crash the process.
let instance: GPU | undefined;

export function gpuDevice(): Promise<GPUDevice> {
  devicePromise ??= (async () => {
    if (!existsSync(SWIFTSHADER_ICD)) {
      throw new Error(
        `SwiftShader's Vulkan driver is missing (${SWIFTSHADER_ICD}). ` +
          'Install it with: apt-get update && apt-get install -y chromium libvulkan1',
      );
    }
    process.env.VK_ICD_FILENAMES ??= SWIFTSHADER_ICD;
    process.env.XDG_RUNTIME_DIR ??= '/tmp';
    Object.assign(globalThis, globals);
    instance = create([]);
    const adapter = await instance.requestAdapter();
    if (!adapter) {
      throw new Error('Dawn found no WebGPU adapter; is libvulkan1 installed? apt-get install -y libvulkan1 chromium');
    }
    return adapter.requestDevice({
      requiredLimits: {
        maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
        maxBufferSize: adapter.limits.maxBufferSize,
      },
    });
  })();
  return devicePromise;
}

/** Seeded uniform floats in [lo, hi) for kernel tests. */
export function randomFloats(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = lo + ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * (hi - lo));
  }
  return out;
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
