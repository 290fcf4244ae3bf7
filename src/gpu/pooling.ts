/** TypeScript side of the pooling kernels: buffer checks, uniforms, workgroup counts. */
import { dispatch, gridOf, uniforms, type Encoding } from './encode.ts';

export interface PoolArgs {
  /** [batch, tokens, size] f32, e.g. ORT's last_hidden_state gpu-buffer */
  hidden: GPUBuffer;
  /** [batch, tokens] f32 pooling weights (the attention mask; first/last token read it as 0 / non-0) */
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
  if (a.pooled === a.hidden || a.pooled === a.weights) throw new RangeError('pooled must be a buffer of its own');
}

/** The hidden states' own bytes: ORT's buffers are bucketed (larger than the tensor), and a whole-buffer binding could pass the device's binding limit. */
const hiddenBinding = (a: PoolArgs): GPUBufferBinding => ({ buffer: a.hidden, size: a.batch * a.tokens * a.size * 4 });

/** Masked mean over the token axis (kernels/masked-mean.wgsl). */
export function encodeMaskedMean(enc: Encoding, a: PoolArgs): void {
  checkSizes(a);
  const shape = uniforms(enc, [a.batch, a.tokens, a.size, 0]);
  dispatch(enc, 'maskedMean', [shape, hiddenBinding(a), a.weights, a.pooled], [Math.ceil(a.size / WORKGROUP), a.batch]);
}

/**
 * First-token (CLS) pooling (kernels/first-token.wgsl): row b takes the first position whose mask
 * is non-zero, so right padding (position 0) and left padding both work; a row with no real token
 * gives zeros.
 *
 * @example encodeFirstToken(enc, { hidden, weights: mask, pooled, batch: 2, tokens: 7, size: 384 });
 */
export function encodeFirstToken(enc: Encoding, a: PoolArgs): void {
  checkSizes(a);
  const shape = uniforms(enc, [a.batch, a.tokens, a.size, 0]);
  dispatch(enc, 'firstToken', [shape, hiddenBinding(a), a.weights, a.pooled], gridOf(a.batch));
}

/**
 * Last-token pooling (kernels/last-token.wgsl, Qwen3-Embedding): row b takes the last position
 * whose mask is non-zero (T - 1 under left padding); a row with no real token gives zeros.
 *
 * @example encodeLastToken(enc, { hidden, weights: mask, pooled, batch: 2, tokens: 7, size: 1024 });
 */
export function encodeLastToken(enc: Encoding, a: PoolArgs): void {
  checkSizes(a);
  const shape = uniforms(enc, [a.batch, a.tokens, a.size, 0]);
  dispatch(enc, 'lastToken', [shape, hiddenBinding(a), a.weights, a.pooled], gridOf(a.batch));
}
