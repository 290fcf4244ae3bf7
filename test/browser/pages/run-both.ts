/**
 * One ONNX model (bytes from the test) run on onnxruntime-web's wasm and WebGPU providers with the
 * same float32 / int32 feeds: the output named `output` from each. Page side of gqa-webgpu.test.ts.
 */
import { ort } from './ort-env.ts';

export interface Feed {
  type: 'float32' | 'int32';
  data: number[];
  dims: number[];
}

export async function runOnBoth(bytes: number[], feeds: Record<string, Feed>, output: string): Promise<{ wasm: number[]; webgpu: number[] }> {
  const model = new Uint8Array(bytes);
  const out: Record<string, number[]> = {};
  for (const ep of ['wasm', 'webgpu']) {
    const session = await ort.InferenceSession.create(model, { executionProviders: [ep] });
    try {
      const tensors = Object.fromEntries(
        Object.entries(feeds).map(([k, f]) => [k, f.type === 'int32' ? new ort.Tensor('int32', Int32Array.from(f.data), f.dims) : new ort.Tensor('float32', Float32Array.from(f.data), f.dims)]),
      );
      const result = await session.run(tensors);
      out[ep] = Array.from((await result[output]!.getData()) as Float32Array);
    } finally {
      await session.release();
    }
  }
  return { wasm: out['wasm']!, webgpu: out['webgpu']! };
}
