/**
 * CPU twin of kernels/yes-no-score.wgsl: the relevance score of each row of logits [B, T, V]
 * at its last real position (the last non-zero of the mask), σ(x[yes] − x[no]) — which is
 * softmax([x[yes], x[no]])[0] — or σ(x[yes]) when `no` is undefined (a one-logit classifier).
 * A row with no real token scores 0.
 */
export interface ScoreShape {
  batch: number;
  /** positions in the logits tensor (1 when the graph kept only the last) */
  tokens: number;
  /** classes per position (the vocabulary, or 2 after the head edit, or a classifier's labels) */
  vocab: number;
  yes: number;
  /** left out: sigmoid of the one logit */
  no?: number;
}

export function yesNoScores(logits: ArrayLike<number>, mask: ArrayLike<number>, s: ScoreShape): Float32Array {
  const { batch, tokens, vocab, yes, no } = s;
  if (logits.length < batch * tokens * vocab) throw new RangeError(`yesNoScores: logits has ${logits.length} values, expected ${batch}×${tokens}×${vocab}`);
  if (mask.length !== batch * tokens) throw new RangeError(`yesNoScores: mask has ${mask.length} values, expected ${batch}×${tokens}`);
  if (yes >= vocab || (no !== undefined && no >= vocab)) throw new RangeError(`yesNoScores: class ${Math.max(yes, no ?? 0)} is past the ${vocab} classes`);
  const out = new Float32Array(batch);
  for (let b = 0; b < batch; b++) {
    let t1 = -1;
    for (let t = 0; t < tokens; t++) if (mask[b * tokens + t] !== 0) t1 = t;
    if (t1 < 0) continue;
    const row = (b * tokens + t1) * vocab;
    const d = logits[row + yes]! - (no === undefined ? 0 : logits[row + no]!);
    out[b] = sigmoid(d);
  }
  return out;
}

/** σ(d), stable for either sign. */
export function sigmoid(d: number): number {
  if (d >= 0) return 1 / (1 + Math.exp(-d));
  const e = Math.exp(d);
  return e / (1 + e);
}
