/**
 * NV-Embed's latent-attention pooling head on the GPU, composed from the generic kernels:
 *
 *   per token (rows of H, in chunks that fit a storage binding):
 *     ln   = LayerNorm(x; norm)                                   layer-norm.wgsl
 *     q    = ln · to_qᵀ                                           linear.wgsl
 *     s_h  = q_h · keys_hᵀ        (keys pre-scaled by 1/√dh)      linear.wgsl, one group per head
 *     p_h  = softmax(s_h) over the r latents                      softmax.wgsl
 *     o_h  = p_h · values_h                                       linear.wgsl, one group per head
 *     x₁   = o · to_outᵀ + x                                      linear.wgsl (residual folded in)
 *     g    = LayerNorm(x₁; ff norm) · net.0ᵀ + b₀                 layer-norm.wgsl, linear.wgsl
 *     x₂   = geglu(g) · net.2ᵀ + b₂ + x₁                          geglu.wgsl, linear.wgsl
 *   pooled = normalize(masked mean of x₂ over the pooling weights)  masked-mean.wgsl, matryoshka.wgsl
 *
 * Keys and values depend only on the latents, so they are computed once here, at load
 * (LayerNorm(latents; norm_context) · to_kvᵀ, latent-kv.wgsl rearranges them per head), and
 * to_kv is then freed. The CPU twin is src/reference/latent-attention.ts.
 */
import {
  latentAttentionParams,
  type LatentAttentionConfig,
  type LatentAttentionParams,
  type LatentAttentionWeights,
} from '../reference/latent-attention.ts';
import { beginEncoding, dispatch, f32Bits, gridOf, scratchF32, submit, uniforms, type Encoding } from './encode.ts';
import { encodeGeglu, encodeLayerNorm, encodeSoftmax } from './layers.ts';
import { destroyLinearWeight, encodeHeadwiseLinear, encodeLinear, uploadLinearWeight, type LinearWeight } from './linear.ts';
import { encodeMatryoshka } from './matryoshka.ts';
import { encodeMaskedMean } from './pooling.ts';
import { uploadF32 } from './transfer.ts';

export interface LatentAttentionOptions {
  /**
   * Largest storage binding to use, in bytes: weight tiles and per-chunk scratch stay within it.
   * Defaults to the device's maxStorageBufferBindingSize (and maxBufferSize).
   */
  maxBindingBytes?: number;
  /**
   * Scratch memory for one pass through the head, in bytes (default 256 MiB): tokens run in chunks
   * of what fits (NV-Embed: 400 KiB a token, so 655 tokens a pass), besides [tokens, d] for the result.
   */
  scratchBytes?: number;
  /** At most this many tokens per pass (default: what scratchBytes and the binding limit allow). */
  maxChunkTokens?: number;
}

export interface LatentAttentionArgs {
  /** [batch, tokens, d] f32 last_hidden_state; needs COPY_SRC usage when the head runs in chunks */
  hidden: GPUBuffer;
  /** [batch, tokens] f32 pooling weights: the attention mask with instruction tokens zeroed */
  weights: GPUBuffer;
  /** [batch, d] f32 output: L2-normalized unless the config says output_normalize: false */
  pooled: GPUBuffer;
  batch: number;
  tokens: number;
}

export interface LatentAttention {
  /** the head's shapes, read from its config and weights */
  readonly params: Pick<LatentAttentionParams, 'd' | 'latents' | 'heads' | 'dimHead' | 'inner' | 'ff' | 'outputNormalize'>;
  /** Appends the head for one batch to the encoding; scratch buffers are freed with the encoding. */
  encode(enc: Encoding, args: LatentAttentionArgs): void;
  /** Destroys every buffer the head made (weights, keys, values). */
  destroy(): void;
}

const tilingOf = (o: LatentAttentionOptions, label: string) =>
  o.maxBindingBytes === undefined ? { label } : { label, maxBindingBytes: o.maxBindingBytes };

/**
 * Uploads the head's weights, computes the latents' keys and values on the GPU, and returns the
 * head. The weights may be dropped by the caller afterwards.
 *
 * @example
 * const head = await createLatentAttention(device, config.latent_attention_config, tensors);
 * head.encode(enc, { hidden, weights: poolMask, pooled, batch, tokens });
 * await submit(enc);
 * head.destroy();
 */
export async function createLatentAttention(
  device: GPUDevice,
  config: LatentAttentionConfig,
  weights: LatentAttentionWeights,
  options: LatentAttentionOptions = {},
): Promise<LatentAttention> {
  const p = latentAttentionParams(config, weights);
  const { d, latents: r, heads, dimHead: dh, inner, ff } = p;
  const limit = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize, options.maxBindingBytes ?? Infinity);
  const widest = Math.max(d, inner, heads * r, 2 * ff);
  const perToken = 4 * (4 * d + inner + heads * r + 3 * ff); // x, ln, x1, x2 chunks; q; scores; ff in, geglu
  const chunkLimit = Math.min(
    Math.floor(limit / (4 * widest)),
    Math.max(1, Math.floor((options.scratchBytes ?? 256 * 2 ** 20) / perToken)),
    options.maxChunkTokens ?? Infinity,
    64 * 65535,
  );
  if (chunkLimit < 1) throw new RangeError(`latent attention: one token's ${widest}-wide scratch row does not fit a ${limit}-byte binding`);
  if (heads * r * dh * 4 > limit) throw new RangeError(`latent attention: keys of ${heads * r * dh * 4} bytes do not fit a ${limit}-byte binding`);
  const owned: GPUBuffer[] = [];
  const vector = (data: Float32Array, label: string) => {
    const b = uploadF32(device, data, label);
    owned.push(b);
    return b;
  };
  const matrix = (data: Float32Array, out: number, inF: number, label: string) => {
    const w = uploadLinearWeight(device, data, out, inF, tilingOf(options, label));
    owned.push(...w.tiles.map((t) => t.buffer));
    return w;
  };

  const norm = { weight: vector(p.norm.weight, 'la norm.weight'), bias: vector(p.norm.bias, 'la norm.bias') };
  const ffNorm = { weight: vector(p.ffNorm.weight, 'la ff norm.weight'), bias: vector(p.ffNorm.bias, 'la ff norm.bias') };
  const toQ = matrix(p.toQ, inner, d, 'la to_q');
  const toOut = matrix(p.toOut, d, inner, 'la to_out');
  const ffIn = matrix(p.ffIn.weight, 2 * ff, d, 'la net.0');
  const ffInBias = vector(p.ffIn.bias, 'la net.0.bias');
  const ffOut = matrix(p.ffOut.weight, d, ff, 'la net.2');
  const ffOutBias = vector(p.ffOut.bias, 'la net.2.bias');
  const keysBuffer = device.createBuffer({ label: 'la keys', size: heads * r * dh * 4, usage: GPUBufferUsage.STORAGE });
  const valuesBuffer = device.createBuffer({ label: 'la values_t', size: heads * dh * r * 4, usage: GPUBufferUsage.STORAGE });
  owned.push(keysBuffer, valuesBuffer);
  const single = (buffer: GPUBuffer, out: number, inF: number): LinearWeight => ({
    outFeatures: out,
    inFeatures: inF,
    tiles: [{ buffer, offset: 0, firstRow: 0, rows: out }],
  });
  const keys = single(keysBuffer, heads * r, dh);
  const valuesT = single(valuesBuffer, heads * dh, r);

  try {
    await precomputeKeysValues(device, p, options, keysBuffer, valuesBuffer);
  } catch (e) {
    for (const b of owned) b.destroy();
    throw e;
  }

  let destroyed = false;

  return {
    params: { d, latents: r, heads, dimHead: dh, inner, ff, outputNormalize: p.outputNormalize },

    encode(enc, a) {
      if (destroyed) throw new Error('latent attention head used after destroy()');
      const total = a.batch * a.tokens;
      if (a.hidden.size < total * d * 4) throw new RangeError(`latent attention: hidden holds ${a.hidden.size} bytes, needs ${total * d * 4}`);
      if (a.pooled.size < a.batch * d * 4) throw new RangeError(`latent attention: pooled holds ${a.pooled.size} bytes, needs ${a.batch * d * 4}`);
      const chunk = Math.min(chunkLimit, total);
      const whole = chunk === total;
      const x = whole ? a.hidden : scratchF32(enc, chunk * d, 'la x chunk');
      const ln = scratchF32(enc, chunk * d, 'la normed');
      const q = scratchF32(enc, chunk * inner, 'la q, then attention out'); // q is dead once scored
      const qk = scratchF32(enc, chunk * heads * r, 'la scores');
      const x1 = scratchF32(enc, chunk * d, 'la x1');
      const g = scratchF32(enc, chunk * 2 * ff, 'la ff in');
      const act = scratchF32(enc, chunk * ff, 'la geglu');
      const x2All = scratchF32(enc, total * d, 'la x2');
      const x2 = whole ? x2All : scratchF32(enc, chunk * d, 'la x2 chunk');

      for (let start = 0; start < total; start += chunk) {
        const n = Math.min(chunk, total - start);
        if (!whole) enc.encoder.copyBufferToBuffer(a.hidden, start * d * 4, x, 0, n * d * 4);
        encodeLayerNorm(enc, { x, weight: norm.weight, bias: norm.bias, y: ln, rows: n, size: d });
        encodeLinear(enc, { x: ln, weight: toQ, y: q, rows: n });
        encodeHeadwiseLinear(enc, { x: q, weight: keys, y: qk, rows: n, groups: heads });
        encodeSoftmax(enc, { x: qk, rows: n * heads, size: r });
        encodeHeadwiseLinear(enc, { x: qk, weight: valuesT, y: q, rows: n, groups: heads });
        encodeLinear(enc, { x: q, weight: toOut, residual: x, y: x1, rows: n });
        encodeLayerNorm(enc, { x: x1, weight: ffNorm.weight, bias: ffNorm.bias, y: ln, rows: n, size: d });
        encodeLinear(enc, { x: ln, weight: ffIn, bias: ffInBias, y: g, rows: n });
        encodeGeglu(enc, { x: g, y: act, rows: n, ff });
        encodeLinear(enc, { x: act, weight: ffOut, bias: ffOutBias, residual: x1, y: x2, rows: n });
        if (!whole) enc.encoder.copyBufferToBuffer(x2, 0, x2All, start * d * 4, n * d * 4);
      }

      const common = { hidden: x2All, weights: a.weights, batch: a.batch, tokens: a.tokens, size: d };
      if (p.outputNormalize) {
        const mean = scratchF32(enc, a.batch * d, 'la mean');
        encodeMaskedMean(enc, { ...common, pooled: mean });
        encodeMatryoshka(enc, { input: mean, output: a.pooled, batch: a.batch, hidden: d, dims: d });
      } else {
        encodeMaskedMean(enc, { ...common, pooled: a.pooled });
      }
    },

    destroy() {
      destroyed = true;
      for (const b of owned) b.destroy();
      owned.length = 0;
    },
  };
}

/** keys [heads·r, dh] (scaled by 1/√dh) and values_t [heads·dh, r] from the latents, on the GPU. */
async function precomputeKeysValues(
  device: GPUDevice,
  p: LatentAttentionParams,
  options: LatentAttentionOptions,
  keys: GPUBuffer,
  valuesT: GPUBuffer,
): Promise<void> {
  const { d, latents: r, heads, dimHead: dh, inner } = p;
  const enc = beginEncoding(device, 'latent attention: keys and values');
  const load = (data: Float32Array, label: string) => {
    const b = uploadF32(device, data, label);
    enc.temporaries.push(b);
    return b;
  };
  let toKv: LinearWeight | undefined;
  try {
    const latents = load(p.latentArray, 'la latents');
    const normed = scratchF32(enc, r * d, 'la normed latents');
    encodeLayerNorm(enc, {
      x: latents,
      weight: load(p.normContext.weight, 'la norm_context.weight'),
      bias: load(p.normContext.bias, 'la norm_context.bias'),
      y: normed,
      rows: r,
      size: d,
    });
    toKv = uploadLinearWeight(device, p.toKv, 2 * inner, d, tilingOf(options, 'la to_kv'));
    const kv = scratchF32(enc, r * 2 * inner, 'la kv');
    encodeLinear(enc, { x: normed, weight: toKv, y: kv, rows: r });
    const shape = uniforms(enc, [r, heads, dh, f32Bits(1 / Math.sqrt(dh))]);
    dispatch(enc, 'latentKv', [shape, kv, keys, valuesT], gridOf(Math.ceil((r * inner) / 256)));
    await submit(enc);
  } finally {
    if (toKv) destroyLinearWeight(toKv);
    for (const b of enc.temporaries) b.destroy(); // only left when encoding failed before submit
  }
}
