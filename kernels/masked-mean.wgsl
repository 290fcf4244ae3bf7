// Masked mean pooling: pooled[b, h] = Σ_t w[b, t] · x[b, t, h] / Σ_t w[b, t].
// The weights are the attention mask as f32 (0/1), or any non-negative pooling weights
// (NV-Embed's instruction-masked mean, chunk weights). A row whose weights sum to 0 gives 0.
// One invocation per (b, h): neighbouring invocations read neighbouring h, so each step of the
// loop over t is one coalesced read of a row of x. Shapes are uniforms: no recompile per shape.

struct Shape {
  batch: u32,
  tokens: u32,
  hidden: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> shape: Shape;
@group(0) @binding(1) var<storage, read> hidden: array<f32>;        // [B, T, H]
@group(0) @binding(2) var<storage, read> weights: array<f32>;       // [B, T]
@group(0) @binding(3) var<storage, read_write> pooled: array<f32>;  // [B, H]

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let h = gid.x;
  let b = gid.y;
  if (h >= shape.hidden || b >= shape.batch) {
    return;
  }
  var acc = 0.0;
  var total = 0.0;
  let row = b * shape.tokens;
  for (var t = 0u; t < shape.tokens; t = t + 1u) {
    let w = weights[row + t];
    if (w != 0.0) {
      acc = acc + w * hidden[(row + t) * shape.hidden + h];
      total = total + w;
    }
  }
  pooled[b * shape.hidden + h] = select(0.0, acc / total, total > 0.0);
}
