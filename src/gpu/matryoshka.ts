/**
 * TypeScript side of kernels/matryoshka.wgsl: truncate to `dims`, L2-normalize, and optionally
 * quantize to int8 or binary, all before anything is read back.
 */
import { dispatch, gridOf, uniforms, unusedBinding, type Encoding } from './encode.ts';

/**
 * Packed int8 output. `codes` is [batch, ceil(dims / 4)] u32: byte k (little-endian, bits
 * 8k..8k+7) of word j of a row is dimension 4j + k as a two's-complement int8 in [-127, 127]
 * (bytes past dims are 0), so a Uint32Array read back is an Int8Array over the same bytes.
 * `scales` is [batch] f32; embedding ≈ q / 127 · scale.
 */
export interface Int8Output {
  codes: GPUBuffer;
  scales: GPUBuffer;
}

export interface MatryoshkaArgs {
  /** [batch, hidden] f32 pooled vectors */
  input: GPUBuffer;
  /** [batch, dims] f32 unit vectors (zero rows stay zero); not the input buffer */
  output: GPUBuffer;
  batch: number;
  hidden: number;
  /** 1 ≤ dims ≤ hidden: the leading dimensions kept */
  dims: number;
  int8?: Int8Output;
  /** [batch, ceil(dims / 32)] u32: bit i (value 1 << i) of word j is dimension 32j + i > 0 */
  binary?: GPUBuffer;
}

export const int8Words = (dims: number) => Math.ceil(dims / 4);
export const binaryWords = (dims: number) => Math.ceil(dims / 32);

/**
 * Appends the Matryoshka step to the encoding.
 *
 * @example
 * encodeMatryoshka(enc, { input: pooled, output, batch: 8, hidden: 1024, dims: 256, binary: bits });
 */
export function encodeMatryoshka(enc: Encoding, a: MatryoshkaArgs): void {
  if (!Number.isInteger(a.dims) || a.dims < 1 || a.dims > a.hidden) {
    throw new RangeError(`matryoshka dims must be an integer in [1, ${a.hidden}], got ${a.dims}`);
  }
  const need = (buf: GPUBuffer, bytes: number, what: string) => {
    if (buf.size < bytes) throw new RangeError(`${what} buffer holds ${buf.size} bytes, needs ${bytes} for batch ${a.batch}, dims ${a.dims}`);
  };
  need(a.input, a.batch * a.hidden * 4, 'input');
  need(a.output, a.batch * a.dims * 4, 'output');
  if (a.int8) {
    need(a.int8.codes, a.batch * int8Words(a.dims) * 4, 'int8 codes');
    need(a.int8.scales, a.batch * 4, 'int8 scales');
  }
  if (a.binary) need(a.binary, a.batch * binaryWords(a.dims) * 4, 'binary');
  const outputs = [a.output, a.int8?.codes, a.int8?.scales, a.binary].filter((b) => b !== undefined);
  if (outputs.includes(a.input) || new Set(outputs).size !== outputs.length) {
    throw new RangeError('matryoshka outputs must be distinct buffers, none of them the input');
  }
  const flags = (a.int8 ? 1 : 0) | (a.binary ? 2 : 0);
  const shape = uniforms(enc, [a.batch, a.hidden, a.dims, flags]);
  dispatch(
    enc,
    'matryoshka',
    [
      shape,
      a.input,
      a.output,
      a.int8?.codes ?? unusedBinding(enc, 'int8 codes'),
      a.int8?.scales ?? unusedBinding(enc, 'int8 scales'),
      a.binary ?? unusedBinding(enc, 'binary'),
    ],
    gridOf(a.batch),
  );
}
