// Latent attention's keys and values, rearranged once at load so the per-batch attention is two
// grouped linears (kernels/linear.wgsl, one group per head):
//   kv [r, 2·inner] = LN(latents) · to_kvᵀ; keys are columns [0, inner), values [inner, 2·inner);
//   head h owns columns [h·dh, (h+1)·dh) of each half (inner = heads · dh).
//   keys     [heads · r, dh]:  keys[h·r + j, e]     = kv[j, h·dh + e] · scale   (scale = 1/√dh)
//   values_t [heads · dh, r]:  values_t[h·dh + e, j] = kv[j, inner + h·dh + e]
// So scores_h = Q_h · keys_hᵀ and out_h = P_h · values_tᵀ are both torch-layout linears.
// One invocation per (latent j, column h·dh + e) over a flattened 2-D grid of 256-wide workgroups.

struct Shape {
  latents: u32,
  heads: u32,
  dim_head: u32,
  scale: f32,
}

@group(0) @binding(0) var<uniform> shape: Shape;
@group(0) @binding(1) var<storage, read> kv: array<f32>;               // [r, 2·inner]
@group(0) @binding(2) var<storage, read_write> keys: array<f32>;       // [heads·r, dh]
@group(0) @binding(3) var<storage, read_write> values_t: array<f32>;   // [heads·dh, r]

@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let inner = shape.heads * shape.dim_head;
  let idx = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (idx >= shape.latents * inner) {
    return;
  }
  let j = idx / inner;
  let c = idx - j * inner;
  let h = c / shape.dim_head;
  let e = c - h * shape.dim_head;
  keys[(h * shape.latents + j) * shape.dim_head + e] = kv[j * 2u * inner + c] * shape.scale;
  values_t[(h * shape.dim_head + e) * shape.latents + j] = kv[j * 2u * inner + inner + c];
}
