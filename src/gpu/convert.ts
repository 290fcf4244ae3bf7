/** TypeScript side of kernels/half-to-float.wgsl. */
import { dispatch, gridOf, uniforms, type Encoding } from './encode.ts';

/**
 * Converts `count` float16 values (packed two per u32, as ORT's fp16 tensors lie in a GPU buffer)
 * into f32 `output`.
 *
 * @example encodeHalfToFloat(enc, { input: ortTensor.gpuBuffer, output: scratch, count: B * T * H });
 */
export function encodeHalfToFloat(enc: Encoding, a: { input: GPUBuffer; output: GPUBuffer; count: number }): void {
  const words = Math.ceil(a.count / 2);
  if (a.input.size < words * 4) throw new RangeError(`half input holds ${a.input.size} bytes, needs ${words * 4} for ${a.count} halves`);
  if (a.output.size < a.count * 4) throw new RangeError(`float output holds ${a.output.size} bytes, needs ${a.count * 4}`);
  const shape = uniforms(enc, [a.count, 0, 0, 0]);
  dispatch(enc, 'halfToFloat', [shape, { buffer: a.input, size: words * 4 }, a.output], gridOf(Math.ceil(words / 256)));
}
