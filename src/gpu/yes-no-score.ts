/** TypeScript side of kernels/yes-no-score.wgsl. */
import { dispatch, gridOf, uniforms, type Encoding } from './encode.ts';

export interface ScoreArgs {
  /** [batch, tokens, vocab] logits, e.g. ORT's gpu-buffer output (it may be larger than that) */
  logits: GPUBuffer;
  logitsType: 'float32' | 'float16';
  /** [batch, tokens] f32: non-zero at real tokens */
  mask: GPUBuffer;
  /** [batch] f32 output */
  scores: GPUBuffer;
  batch: number;
  tokens: number;
  vocab: number;
  yes: number;
  /** left out: σ of the one `yes` logit (a one-logit cross-encoder) */
  no?: number;
}

const NONE = 0xffffffff;

/**
 * Scores each row from its last real position's logits: σ(x[yes] − x[no]) = softmax([yes, no])[0],
 * or σ(x[yes]) with no `no`.
 *
 * @example encodeYesNoScore(enc, { logits: out.gpuBuffer, logitsType: 'float32', mask, scores, batch: 8, tokens: 1, vocab: 2, yes: 0, no: 1 });
 */
export function encodeYesNoScore(enc: Encoding, a: ScoreArgs): void {
  const values = a.batch * a.tokens * a.vocab;
  const bytes = a.logitsType === 'float16' ? Math.ceil(values / 2) * 4 : values * 4;
  if (a.logits.size < bytes) throw new RangeError(`logits buffer holds ${a.logits.size} bytes, needs ${bytes} for [${a.batch}, ${a.tokens}, ${a.vocab}] ${a.logitsType}`);
  if (a.mask.size < a.batch * a.tokens * 4) throw new RangeError(`mask buffer holds ${a.mask.size} bytes, needs ${a.batch * a.tokens * 4}`);
  if (a.scores.size < a.batch * 4) throw new RangeError(`scores buffer holds ${a.scores.size} bytes, needs ${a.batch * 4}`);
  if (a.yes >= a.vocab || (a.no !== undefined && a.no >= a.vocab)) throw new RangeError(`class ${Math.max(a.yes, a.no ?? 0)} is past the ${a.vocab} classes`);
  const shape = uniforms(enc, [a.batch, a.tokens, a.vocab, a.yes, a.no ?? NONE, a.logitsType === 'float16' ? 1 : 0, 0, 0]);
  // Bind only the tensor's bytes: ORT's pooled buffer may be larger, and the binding limit applies to what is bound.
  dispatch(enc, 'yesNoScore', [shape, { buffer: a.logits, size: bytes }, a.mask, a.scores], gridOf(a.batch));
}
