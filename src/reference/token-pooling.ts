/**
 * CPU twins of kernels/first-token.wgsl and kernels/last-token.wgsl: pick one token's hidden state
 * per row by the mask. A row with no real token (mask all 0) gives zeros.
 */
function pickToken(
  hidden: Float32Array,
  mask: Float32Array,
  batch: number,
  tokens: number,
  size: number,
  which: 'first' | 'last',
): Float32Array {
  if (hidden.length !== batch * tokens * size) {
    throw new RangeError(`${which}TokenPool: hidden has ${hidden.length} values, expected ${batch}×${tokens}×${size}`);
  }
  if (mask.length !== batch * tokens) {
    throw new RangeError(`${which}TokenPool: mask has ${mask.length} values, expected ${batch}×${tokens}`);
  }
  const out = new Float32Array(batch * size);
  for (let b = 0; b < batch; b++) {
    let chosen = -1;
    for (let t = 0; t < tokens; t++) {
      if (mask[b * tokens + t] !== 0) {
        chosen = t;
        if (which === 'first') break;
      }
    }
    if (chosen >= 0) out.set(hidden.subarray((b * tokens + chosen) * size, (b * tokens + chosen + 1) * size), b * size);
  }
  return out;
}

/** First-token (CLS) pooling: each row's first position whose mask is non-zero (0 under right padding). */
export function firstTokenPool(hidden: Float32Array, mask: Float32Array, batch: number, tokens: number, size: number): Float32Array {
  return pickToken(hidden, mask, batch, tokens, size, 'first');
}

/** Last-token pooling (Qwen3-Embedding): each row's last position whose mask is non-zero. */
export function lastTokenPool(hidden: Float32Array, mask: Float32Array, batch: number, tokens: number, size: number): Float32Array {
  return pickToken(hidden, mask, batch, tokens, size, 'last');
}
