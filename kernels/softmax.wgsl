// Softmax over the last dimension, in place: each row of x [rows, size] becomes
//   exp(x - max) / Σ exp(x - max),
// numerically stable for any logits. Latent attention uses it on the scores [tokens·heads, r].
// One workgroup of 64 per row (flattened 2-D grid; rows are many — tokens × heads — and r is
// 512 in NV-Embed, 8 per invocation); max and sum are shared-memory tree reductions.

struct Shape {
  rows: u32,
  size: u32,
  _pad0: u32,
  _pad1: u32,
}

const WG: u32 = 64u;

@group(0) @binding(0) var<uniform> shape: Shape;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;     // [rows, size]

var<workgroup> partial: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let row = wid.y * nwg.x + wid.x;
  let live = row < shape.rows;
  let base = row * shape.size;

  var m = -3.4028234e38;
  if (live) {
    for (var i = lid; i < shape.size; i = i + WG) {
      m = max(m, x[base + i]);
    }
  }
  partial[lid] = m;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride = stride >> 1u) {
    if (lid < stride) {
      partial[lid] = max(partial[lid], partial[lid + stride]);
    }
    workgroupBarrier();
  }
  let row_max = partial[0];
  workgroupBarrier();

  var s = 0.0;
  if (live) {
    for (var i = lid; i < shape.size; i = i + WG) {
      s = s + exp(x[base + i] - row_max);
    }
  }
  partial[lid] = s;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride = stride >> 1u) {
    if (lid < stride) {
      partial[lid] = partial[lid] + partial[lid + stride];
    }
    workgroupBarrier();
  }
  let inv = 1.0 / partial[0];

  if (!live) {
    return;
  }
  for (var i = lid; i < shape.size; i = i + WG) {
    x[base + i] = exp(x[base + i] - row_max) * inv;
  }
}
