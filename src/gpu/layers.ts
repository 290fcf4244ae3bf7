/**
 * Row-wise transformer pieces on the GPU: LayerNorm (kernels/layer-norm.wgsl), softmax in place
 * (kernels/softmax.wgsl) and GEGLU (kernels/geglu.wgsl). Latent attention composes them with the
 * linear kernel.
 */
import { dispatch, f32Bits, gridOf, uniforms, type Encoding } from './encode.ts';

function need(buf: GPUBuffer, floats: number, what: string): void {
  if (buf.size < floats * 4) throw new RangeError(`${what} holds ${buf.size} bytes, needs ${floats * 4}`);
}

export interface LayerNormArgs {
  /** [rows, size] f32 */
  x: GPUBuffer;
  /** [size] f32 gain and shift */
  weight: GPUBuffer;
  bias: GPUBuffer;
  /** [rows, size] f32 output, not x */
  y: GPUBuffer;
  rows: number;
  size: number;
  /** torch's default 1e-5 */
  eps?: number;
}

/**
 * torch.nn.LayerNorm over the last dimension.
 *
 * @example encodeLayerNorm(enc, { x: hidden, weight: g, bias: b, y: normed, rows: 512, size: 4096 });
 */
export function encodeLayerNorm(enc: Encoding, a: LayerNormArgs): void {
  need(a.x, a.rows * a.size, 'layer norm x');
  need(a.y, a.rows * a.size, 'layer norm y');
  need(a.weight, a.size, 'layer norm weight');
  need(a.bias, a.size, 'layer norm bias');
  if (a.y === a.x) throw new RangeError('layer norm: y must not be x');
  const shape = uniforms(enc, [a.rows, a.size, f32Bits(a.eps ?? 1e-5), 0]);
  dispatch(enc, 'layerNorm', [shape, a.x, a.weight, a.bias, a.y], gridOf(a.rows));
}

/**
 * Softmax over each row of x [rows, size], in place (max-subtracted).
 *
 * @example encodeSoftmax(enc, { x: scores, rows: tokens * heads, size: latents });
 */
export function encodeSoftmax(enc: Encoding, a: { x: GPUBuffer; rows: number; size: number }): void {
  need(a.x, a.rows * a.size, 'softmax x');
  const shape = uniforms(enc, [a.rows, a.size, 0, 0]);
  dispatch(enc, 'softmax', [shape, a.x], gridOf(a.rows));
}

/**
 * GEGLU: x [rows, 2·ff] → y [rows, ff] = x[:, :ff] · gelu_erf(x[:, ff:]).
 *
 * @example encodeGeglu(enc, { x: projected, y: gated, rows: tokens, ff: 4 * 4096 });
 */
export function encodeGeglu(enc: Encoding, a: { x: GPUBuffer; y: GPUBuffer; rows: number; ff: number }): void {
  need(a.x, a.rows * 2 * a.ff, 'geglu x');
  need(a.y, a.rows * a.ff, 'geglu y');
  if (a.y === a.x) throw new RangeError('geglu: y must not be x');
  if (a.rows * a.ff >= 2 ** 32) throw new RangeError('geglu: more than 2^32 outputs in one dispatch; split the rows');
  const shape = uniforms(enc, [a.rows, a.ff, 0, 0]);
  dispatch(enc, 'geglu', [shape, a.x, a.y], gridOf(Math.ceil((a.rows * a.ff) / 256)));
}
