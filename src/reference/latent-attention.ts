/**
 * NV-Embed's latent-attention pooling on the CPU, written plainly from MODELS.md and the model's
 * modeling code (f64 throughout): the wasm path's pooling and the oracle of the GPU composition
 * in src/gpu/latent-attention.ts. Per token x (a row of the hidden states H):
 *   q = LN₀(x) · to_qᵀ;  [k | v] = LN_ctx(latents) · to_kvᵀ   (keys: first half of the columns)
 *   per head h (columns [h·dh, (h+1)·dh)): o_h = softmax(q_h · k_hᵀ / √dh) · v_h   (no mask)
 *   x₁ = o · to_outᵀ + x
 *   x₂ = (a ⊙ gelu_erf(g)) · net.2ᵀ + b₂ + x₁,   [a | g] = LN₁(x₁) · net.0ᵀ + b₀
 * then the mean of x₂ over the pooling weights (instruction tokens zeroed by the caller) and,
 * with output_normalize, L2 normalization.
 */
import { ModelLoadError } from '../errors.ts';
import { gelu } from './layers.ts';

/** config.json's `latent_attention_config`. */
export interface LatentAttentionConfig {
  num_latents_value: number;
  num_cross_heads: number;
  cross_dim_head: number;
  latent_dim: number;
  hidden_dim: number;
  output_normalize?: boolean;
}

/** Tensors by their checkpoint names (latent_attention.safetensors), as f32. */
export type LatentAttentionWeights = ReadonlyMap<string, Float32Array> | Readonly<Record<string, Float32Array>>;

/** The head's weights, checked against the config; shapes in torch layout. */
export interface LatentAttentionParams {
  /** model width (latent_dim = hidden_dim) */
  d: number;
  latents: number;
  heads: number;
  dimHead: number;
  /** heads · dimHead */
  inner: number;
  /** GEGLU width (net.2's input): 4d in NV-Embed */
  ff: number;
  outputNormalize: boolean;
  latentArray: Float32Array; // [r, d]
  norm: { weight: Float32Array; bias: Float32Array }; // [d]
  normContext: { weight: Float32Array; bias: Float32Array }; // [d]
  toQ: Float32Array; // [inner, d]
  toKv: Float32Array; // [2·inner, d]
  toOut: Float32Array; // [d, inner]
  ffNorm: { weight: Float32Array; bias: Float32Array }; // [d]
  ffIn: { weight: Float32Array; bias: Float32Array }; // [2·ff, d], [2·ff]
  ffOut: { weight: Float32Array; bias: Float32Array }; // [d, ff], [d]
}

const PREFIX = 'latent_attention_model';

/**
 * Looks up and checks every tensor the head needs; a missing or misshapen one is a ModelLoadError.
 *
 * @example const p = latentAttentionParams(config.latent_attention_config, tensors);
 */
export function latentAttentionParams(config: LatentAttentionConfig, weights: LatentAttentionWeights): LatentAttentionParams {
  const { num_latents_value: r, num_cross_heads: heads, cross_dim_head: dimHead, latent_dim: d } = config;
  for (const [k, v] of Object.entries({ num_latents_value: r, num_cross_heads: heads, cross_dim_head: dimHead, latent_dim: d })) {
    if (!Number.isInteger(v) || v < 1) throw new ModelLoadError(`latent_attention_config.${k} must be a positive integer, got ${v}`);
  }
  if (config.hidden_dim !== d) {
    throw new ModelLoadError(
      `latent_attention_config: latent_dim ${d} ≠ hidden_dim ${config.hidden_dim}; NV-Embed's head adds its output to the hidden states, so they must match`,
    );
  }
  const lookup = (name: string): Float32Array | undefined => {
    const full = `${PREFIX}.${name}`;
    return weights instanceof Map ? weights.get(full) : (weights as Readonly<Record<string, Float32Array>>)[full];
  };
  const get = (name: string, floats: number): Float32Array => {
    const full = `${PREFIX}.${name}`;
    const t = lookup(name);
    if (!t) throw new ModelLoadError(`latent attention weight ${full} is missing; is latent_attention.safetensors complete?`);
    if (t.length !== floats) throw new ModelLoadError(`latent attention weight ${full} has ${t.length} values, expected ${floats}`);
    return t;
  };
  const inner = heads * dimHead;
  const b0 = 'cross_attend_blocks.0';
  const b1 = 'cross_attend_blocks.1';
  // FeedForward(mult = 4) in NV-Embed, but read the width off the weight rather than assume it.
  const ffOutWeight = lookup(`${b1}.fn.net.2.weight`);
  const ff = ffOutWeight ? ffOutWeight.length / d : 4 * d;
  if (!Number.isInteger(ff)) throw new ModelLoadError(`${PREFIX}.${b1}.fn.net.2.weight is not [${d}, ff]`);
  return {
    d, latents: r, heads, dimHead, inner, ff,
    outputNormalize: config.output_normalize ?? true,
    latentArray: get('latents', r * d),
    norm: { weight: get(`${b0}.norm.weight`, d), bias: get(`${b0}.norm.bias`, d) },
    normContext: { weight: get(`${b0}.norm_context.weight`, d), bias: get(`${b0}.norm_context.bias`, d) },
    toQ: get(`${b0}.fn.to_q.weight`, inner * d),
    toKv: get(`${b0}.fn.to_kv.weight`, 2 * inner * d),
    toOut: get(`${b0}.fn.to_out.weight`, d * inner),
    ffNorm: { weight: get(`${b1}.norm.weight`, d), bias: get(`${b1}.norm.bias`, d) },
    ffIn: { weight: get(`${b1}.fn.net.0.weight`, 2 * ff * d), bias: get(`${b1}.fn.net.0.bias`, 2 * ff) },
    ffOut: { weight: get(`${b1}.fn.net.2.weight`, d * ff), bias: get(`${b1}.fn.net.2.bias`, d) },
  };
}

/** LayerNorm of one row (torch default eps 1e-5, biased variance). */
function normRow(x: ArrayLike<number>, p: { weight: Float32Array; bias: Float32Array }): Float64Array {
  const n = x.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += x[i]!;
  mean /= n;
  let variance = 0;
  for (let i = 0; i < n; i++) variance += (x[i]! - mean) ** 2;
  const inv = 1 / Math.sqrt(variance / n + 1e-5);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) y[i] = (x[i]! - mean) * inv * p.weight[i]! + p.bias[i]!;
  return y;
}

/** W [out, in] · x (+ bias) for one row. */
function project(w: Float32Array, x: ArrayLike<number>, out: number, bias?: Float32Array): Float64Array {
  const k = x.length;
  const y = new Float64Array(out);
  for (let o = 0; o < out; o++) {
    let acc = bias ? bias[o]! : 0;
    for (let i = 0; i < k; i++) acc += w[o * k + i]! * x[i]!;
    y[o] = acc;
  }
  return y;
}

/**
 * Latent-attention pooling of hidden [batch, tokens, d] with pooling weights [batch, tokens] (the
 * attention mask with instruction tokens zeroed) → [batch, d].
 *
 * @example const pooled = latentAttentionPool(hidden, poolMask, 2, 9, params);
 */
export function latentAttentionPool(
  hidden: Float32Array,
  poolWeights: Float32Array,
  batch: number,
  tokens: number,
  p: LatentAttentionParams,
): Float32Array {
  const { d, latents: r, heads, dimHead: dh, inner, ff } = p;
  if (hidden.length !== batch * tokens * d) throw new RangeError(`latentAttentionPool: hidden is not [${batch}, ${tokens}, ${d}]`);
  if (poolWeights.length !== batch * tokens) throw new RangeError(`latentAttentionPool: weights are not [${batch}, ${tokens}]`);

  // Keys and values depend only on the latents.
  const kv: Float64Array[] = [];
  for (let j = 0; j < r; j++) kv.push(project(p.toKv, normRow(p.latentArray.subarray(j * d, (j + 1) * d), p.normContext), 2 * inner));

  const out = new Float32Array(batch * d);
  const sum = new Float64Array(d);
  const scores = new Float64Array(r);
  for (let b = 0; b < batch; b++) {
    sum.fill(0);
    let total = 0;
    for (let t = 0; t < tokens; t++) {
      const w = poolWeights[b * tokens + t]!;
      if (w === 0) continue; // no other token depends on this one: the head is per token
      const x = hidden.subarray((b * tokens + t) * d, (b * tokens + t + 1) * d);
      const q = project(p.toQ, normRow(x, p.norm), inner);
      const o = new Float64Array(inner);
      for (let h = 0; h < heads; h++) {
        let max = -Infinity;
        for (let j = 0; j < r; j++) {
          let s = 0;
          for (let e = 0; e < dh; e++) s += q[h * dh + e]! * kv[j]![h * dh + e]!;
          scores[j] = s / Math.sqrt(dh);
          max = Math.max(max, scores[j]!);
        }
        let z = 0;
        for (let j = 0; j < r; j++) z += (scores[j] = Math.exp(scores[j]! - max));
        for (let j = 0; j < r; j++) {
          for (let e = 0; e < dh; e++) o[h * dh + e]! += (scores[j]! / z) * kv[j]![inner + h * dh + e]!;
        }
      }
      const x1 = project(p.toOut, o, d);
      for (let i = 0; i < d; i++) x1[i]! += x[i]!;
      const gate = project(p.ffIn.weight, normRow(x1, p.ffNorm), 2 * ff, p.ffIn.bias);
      const act = new Float64Array(ff);
      for (let j = 0; j < ff; j++) act[j] = gate[j]! * gelu(gate[ff + j]!);
      const x2 = project(p.ffOut.weight, act, d, p.ffOut.bias);
      for (let i = 0; i < d; i++) sum[i]! += w * (x2[i]! + x1[i]!);
      total += w;
    }
    if (total === 0) continue;
    let norm = 0;
    for (let i = 0; i < d; i++) norm += (sum[i]! / total) ** 2;
    const denom = p.outputNormalize ? Math.max(Math.sqrt(norm), 1e-12) : 1;
    for (let i = 0; i < d; i++) out[b * d + i] = sum[i]! / total / denom;
  }
  return out;
}
