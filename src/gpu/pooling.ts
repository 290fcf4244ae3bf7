/** TypeScript side of the pooling kernels: buffer checks, uniforms, workgroup counts. */
import { dispatch, uniforms, type Encoding } from './encode.ts';

export interface PoolArgs {
  /** [batch, tokens, size] f32, e.g. ORT's last_hidden_state gpu-buffer */
  hidden: GPUBuffer;
  /** [batch, tokens] f32 pooling weights (the attention mask) */
  weights: GPUBuffer;
  /** [batch, size] f32 output */
  pooled: GPUBuffer;
  batch: number;
  tokens: number;
  size: number;
}

const WORKGROUP = 64;

function checkSizes(a: PoolArgs): void {
  const need = (buf: GPUBuffer, floats: number, what: string) => {
    if (buf.size < floats * 4) {
      throw new RangeError(`${what} buffer holds ${buf.size} bytes, needs ${floats * 4} for [${a.batch}, ${a.tokens}, ${a.size}]`);
    }
  };
  need(a.hidden, a.batch * a.tokens * a.size, 'hidden');
  need(a.weights, a.batch * a.tokens, 'weights');
  need(a.pooled, a.batch * a.size, 'pooled');
}

/** Masked mean over the token axis (kernels/masked-mean.wgsl). */
export function encodeMaskedMean(enc: Encoding, a: PoolArgs): void {
  checkSizes(a);
  const shape = uniforms(enc, [a.batch, a.tokens, a.size, 0]);
  dispatch(enc, 'maskedMean', [shape, a.hidden, a.weights, a.pooled], [Math.ceil(a.size / WORKGROUP), a.batch]);
}
