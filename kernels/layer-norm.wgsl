// LayerNorm over the last dimension (torch.nn.LayerNorm): for each row of x [rows, size],
//   y = (x - mean) / sqrt(var + eps) · weight + bias,   var the biased variance.
// One workgroup of 256 per row (flattened 2-D grid). Two shared-memory tree reductions: the mean,
// kept as shift + delta (shift = the row's first value, delta = mean of x - shift) so that a large
// common offset costs no digits, then Σ (x - mean)², which stays accurate where E[x²] - mean²
// would cancel.

struct Shape {
  rows: u32,
  size: u32,
  eps: f32,
  _pad: u32,
}

const WG: u32 = 256u;

@group(0) @binding(0) var<uniform> shape: Shape;
@group(0) @binding(1) var<storage, read> x: array<f32>;           // [rows, size]
@group(0) @binding(2) var<storage, read> weight: array<f32>;      // [size]
@group(0) @binding(3) var<storage, read> bias: array<f32>;        // [size]
@group(0) @binding(4) var<storage, read_write> y: array<f32>;     // [rows, size]

var<workgroup> partial: array<f32, WG>;

// Sum of every thread's value, visible to all threads on return.
fn workgroup_sum(lid: u32, value: f32) -> f32 {
  partial[lid] = value;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride = stride >> 1u) {
    if (lid < stride) {
      partial[lid] = partial[lid] + partial[lid + stride];
    }
    workgroupBarrier();
  }
  let total = partial[0];
  workgroupBarrier(); // everyone has read partial[0] before it is reused
  return total;
}

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let row = wid.y * nwg.x + wid.x;
  let live = row < shape.rows;
  let base = row * shape.size;
  let n = f32(shape.size);

  var shift = 0.0;
  var s = 0.0;
  if (live) {
    shift = x[base];
    for (var i = lid; i < shape.size; i = i + WG) {
      s = s + (x[base + i] - shift);
    }
  }
  let delta = workgroup_sum(lid, s) / n; // mean = shift + delta, never rounded to one f32

  var ss = 0.0;
  if (live) {
    for (var i = lid; i < shape.size; i = i + WG) {
      let d = (x[base + i] - shift) - delta;
      ss = ss + d * d;
    }
  }
  let inv = inverseSqrt(workgroup_sum(lid, ss) / n + shape.eps);

  if (!live) {
    return;
  }
  for (var i = lid; i < shape.size; i = i + WG) {
    y[base + i] = ((x[base + i] - shift) - delta) * inv * weight[i] + bias[i];
  }
}
