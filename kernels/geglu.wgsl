// GEGLU (NV-Embed's feed-forward gate): for x [rows, 2·ff],
//   y[n, j] = x[n, j] · gelu(x[n, ff + j]),   gelu(g) = g/2 · (1 + erf(g/√2))   (exact erf form).
// WGSL has no erf. erf_f32: below |x| = 0.75 the Maclaurin series (9 terms, truncation < 1e-9),
// above it erfc(z) = t·exp(P(t) - z²), t = 1/(1 + z/2), the Chebyshev fit of Numerical Recipes'
// erfcc (relative error < 1.2e-7), so erf = 1 - erfc never loses digits to cancellation.
// Evaluated in f32 over [-6, 6]: |erf error| ≤ 1.3e-7 (A–S 7.1.26 reaches 4.6e-7 in f32 near 0,
// Eigen's rational 4.2e-7 near 3.3); the GELU error is ≤ 1.2e-7 · max(1, |g|). The gpu test
// measures it against a double-precision erf.
// One invocation per output element over a flattened 2-D grid of 256-wide workgroups.

struct Shape {
  rows: u32,
  ff: u32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> shape: Shape;
@group(0) @binding(1) var<storage, read> x: array<f32>;           // [rows, 2·ff]
@group(0) @binding(2) var<storage, read_write> y: array<f32>;     // [rows, ff]

fn erf_f32(v: f32) -> f32 {
  let a = abs(v);
  if (a < 0.75) {
    // 2/√π · v · Σ (-1)^n v^(2n) / (n! (2n+1))
    let x2 = v * v;
    var s = 1.4589169000933707e-06;
    s = s * x2 - 1.3227513227513228e-05;
    s = s * x2 + 1.0683760683760684e-04;
    s = s * x2 - 7.5757575757575758e-04;
    s = s * x2 + 4.6296296296296296e-03;
    s = s * x2 - 2.3809523809523808e-02;
    s = s * x2 + 0.1;
    s = s * x2 - 0.33333333333333333;
    s = s * x2 + 1.0;
    return v * 1.1283791670955126 * s;
  }
  let t = 1.0 / (1.0 + 0.5 * a);
  var p = 0.17087277;
  p = p * t - 0.82215223;
  p = p * t + 1.48851587;
  p = p * t - 1.13520398;
  p = p * t + 0.27886807;
  p = p * t - 0.18628806;
  p = p * t + 0.09678418;
  p = p * t + 0.37409196;
  p = p * t + 1.00002368;
  p = p * t - 1.26551223;
  return sign(v) * (1.0 - t * exp(p - a * a));
}

@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let idx = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (idx >= shape.rows * shape.ff) {
    return;
  }
  let n = idx / shape.ff;
  let j = idx - n * shape.ff;
  let value = x[n * 2u * shape.ff + j];
  let gate = x[n * 2u * shape.ff + shape.ff + j];
  y[idx] = value * (0.5 * gate * (1.0 + erf_f32(gate * 0.70710678118654752)));
}
