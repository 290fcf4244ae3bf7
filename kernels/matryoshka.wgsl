// Matryoshka (MRL) output: take the first `dims` of a row of H, L2-normalize, and optionally
// quantize. One workgroup of 256 per row (flattened 2-D grid); the squared norm and max |x| are
// shared-memory tree reductions. Shapes are uniforms, so a new (H, dims) never recompiles.
//
//   embeddings[b, i] = x[b, i] / max(‖x[b, :dims]‖₂, 1e-12)   (torch F.normalize: 0 stays 0)
//
// int8 (flags bit 0), symmetric per vector:
//   scales[b]  = max_i |embeddings[b, i]|                          (f32, 0 for a zero row)
//   q[b, i]    = round(127 · embeddings[b, i] / scales[b]) ∈ [-127, 127], ties away from zero,
//                so embeddings ≈ q / 127 · scales[b].
//   q is computed EXACTLY as round(127 · |x_i| / max|x|) on the un-normalized values (the same
//   number in exact arithmetic) with integer mantissa arithmetic, so it never depends on the
//   GPU's division precision and the CPU twin reproduces every bit.
//   codes: [B, ceil(dims / 4)] u32, byte k (little-endian: bits 8k..8k+7) of word j holds
//   dimension 4j + k as two's complement; bytes past dims are 0.
// binary (flags bit 1):
//   bits: [B, ceil(dims / 32)] u32, bit i (value 1 << i) of word j = dimension 32j + i is > 0
//   (the sign of x decides, read from its bits so subnormals count; NaN gives 0); bits past
//   dims are 0.
// Unused outputs are bound to any small buffer and never written.

struct Shape {
  batch: u32,
  hidden: u32,
  dims: u32,
  flags: u32,
}

const WG: u32 = 256u;
const INT8: u32 = 1u;
const BINARY: u32 = 2u;

@group(0) @binding(0) var<uniform> shape: Shape;
@group(0) @binding(1) var<storage, read> x: array<f32>;                 // [B, H]
@group(0) @binding(2) var<storage, read_write> embeddings: array<f32>;  // [B, dims]
@group(0) @binding(3) var<storage, read_write> codes: array<u32>;       // [B, ceil(dims / 4)]
@group(0) @binding(4) var<storage, read_write> scales: array<f32>;      // [B]
@group(0) @binding(5) var<storage, read_write> bits: array<u32>;        // [B, ceil(dims / 32)]

var<workgroup> partial_sumsq: array<f32, WG>;
var<workgroup> partial_max: array<u32, WG>;

// An f32's significand as an integer and its exponent: |v| = mantissa · 2^exponent (subnormals too).
fn mantissa(b: u32) -> u32 {
  let f = b & 0x7fffffu;
  return select(f | 0x800000u, f, (b >> 23u) == 0u);
}
fn exponent(b: u32) -> i32 {
  return max(i32(b >> 23u), 1) - 150;
}

// round(127 · a / m) for 0 ≤ a ≤ m given as the bits of non-negative f32s, ties away from zero.
fn quantize(a: u32, m: u32) -> u32 {
  if (a == 0u || m == 0u) {
    return 0u;
  }
  let s = exponent(m) - exponent(a);
  if (s > 8) {
    return 0u; // 127 · a / m < 127 · 2 / 2^9 < 0.5
  }
  if (s < 0) {
    return 127u; // a > m: not reachable when m is the row's max
  }
  let num = 127u * mantissa(a);         // < 2^31
  let den = mantissa(m) << u32(s);      // < 2^32 since mantissa < 2^24 and s ≤ 8
  let q = num / den;
  let rem = num - q * den;
  return min(select(q, q + 1u, rem >= den - rem), 127u);
}

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let b = wid.y * nwg.x + wid.x;
  let live = b < shape.batch;
  let base = b * shape.hidden;
  var s = 0.0;
  var m = 0u;
  if (live) {
    for (var i = lid; i < shape.dims; i = i + WG) {
      let v = x[base + i];
      s = s + v * v;
      // |v|'s bits order like |v| itself, and an integer max sees subnormals a float max may flush.
      m = max(m, bitcast<u32>(v) & 0x7fffffffu);
    }
  }
  partial_sumsq[lid] = s;
  partial_max[lid] = m;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride = stride >> 1u) {
    if (lid < stride) {
      partial_sumsq[lid] = partial_sumsq[lid] + partial_sumsq[lid + stride];
      partial_max[lid] = max(partial_max[lid], partial_max[lid + stride]);
    }
    workgroupBarrier();
  }
  if (!live) {
    return;
  }
  let denom = max(sqrt(partial_sumsq[0]), 1e-12);
  let max_bits = partial_max[0];
  let out = b * shape.dims;
  for (var i = lid; i < shape.dims; i = i + WG) {
    embeddings[out + i] = x[base + i] / denom;
  }
  if ((shape.flags & INT8) != 0u) {
    if (lid == 0u) {
      scales[b] = bitcast<f32>(max_bits) / denom;
    }
    let words = (shape.dims + 3u) / 4u;
    for (var w = lid; w < words; w = w + WG) {
      var packed = 0u;
      for (var k = 0u; k < 4u; k = k + 1u) {
        let i = 4u * w + k;
        if (i < shape.dims) {
          let vb = bitcast<u32>(x[base + i]);
          let q = quantize(vb & 0x7fffffffu, max_bits);
          let byte = select(q, (256u - q) & 0xffu, (vb >> 31u) != 0u);
          packed = packed | (byte << (8u * k));
        }
      }
      codes[b * words + w] = packed;
    }
  }
  if ((shape.flags & BINARY) != 0u) {
    let words = (shape.dims + 31u) / 32u;
    for (var w = lid; w < words; w = w + WG) {
      var packed = 0u;
      for (var k = 0u; k < 32u; k = k + 1u) {
        let i = 32u * w + k;
        if (i < shape.dims) {
          let vb = bitcast<u32>(x[base + i]);
          // > 0: sign clear, not ±0, not NaN (+inf counts)
          if (vb != 0u && vb <= 0x7f800000u) {
            packed = packed | (1u << k);
          }
        }
      }
      bits[b * words + w] = packed;
    }
  }
}
