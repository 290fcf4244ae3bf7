// Linear layer, torch layout: Y = X · Wᵀ (+ bias) (+ residual), W [out, in] row-major, generalised
// two ways the callers need:
//  - groups: dispatch z = g runs an independent linear on column block g of X, weight rows block g
//    and column block g of Y (latent attention: one group per head);
//  - weight tiles: a dispatch covers `cols` output rows of W starting at a tile the caller bound
//    with an offset (w_base is the float offset left after aligning the binding down), and writes
//    Y columns from y_col0 on; a weight past the binding-size limit is run as several tiles.
//   Y[n, c] = Σ_i X[n·x_stride + g·x_group + i] · W[w_base + (g·w_group + j)·inner + i]
//             (+ bias[c]) (+ residual[n·y_stride + c]),   c = y_col0 + g·y_group + j, j < cols.
// Tiling: a workgroup of 16×16 computes a 64×64 block of Y (4×4 per invocation, strided by 16 so
// neighbours read neighbouring shared-memory words); the dot-product axis is walked 16 at a time
// through two 64×16 tiles of X and W in workgroup memory (8 KiB). Out-of-range loads read as 0.
// Y must not alias X, W, bias or residual.

struct Shape {
  rows: u32,      // N
  inner: u32,     // dot-product length (in features per group)
  cols: u32,      // output columns per group in this dispatch
  groups: u32,
  x_stride: u32,
  y_stride: u32,  // of Y and the residual
  x_group: u32,   // X column step per group
  y_group: u32,   // Y column step per group
  w_group: u32,   // weight row step per group
  y_col0: u32,
  w_base: u32,
  flags: u32,     // bit 0: add bias, bit 1: add residual
}

const TILE: u32 = 64u;
const BK: u32 = 16u;
const BIAS: u32 = 1u;
const RESIDUAL: u32 = 2u;

@group(0) @binding(0) var<uniform> shape: Shape;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> residual: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

var<workgroup> xs: array<f32, 1024>;  // [BK][TILE]: xs[k · 64 + row]
var<workgroup> ws: array<f32, 1024>;  // [BK][TILE]: ws[k · 64 + col]

@compute @workgroup_size(16, 16)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
) {
  let g = wid.z;
  let row0 = wid.y * TILE;
  let col0 = wid.x * TILE;
  let x_col = g * shape.x_group;
  let w_row = g * shape.w_group;
  var acc: array<f32, 16>;
  for (var i = 0u; i < 16u; i = i + 1u) {
    acc[i] = 0.0;
  }

  for (var k0 = 0u; k0 < shape.inner; k0 = k0 + BK) {
    for (var e = 0u; e < 4u; e = e + 1u) {
      let idx = li + e * 256u;
      let r = idx / BK;       // 0..63: row of the X tile, column of the W tile
      let k = idx % BK;       // consecutive invocations read consecutive k: coalesced
      let kk = k0 + k;
      let n = row0 + r;
      let j = col0 + r;
      var xv = 0.0;
      if (n < shape.rows && kk < shape.inner) {
        xv = x[n * shape.x_stride + x_col + kk];
      }
      var wv = 0.0;
      if (j < shape.cols && kk < shape.inner) {
        wv = w[shape.w_base + (w_row + j) * shape.inner + kk];
      }
      xs[k * TILE + r] = xv;
      ws[k * TILE + r] = wv;
    }
    workgroupBarrier();
    for (var k = 0u; k < BK; k = k + 1u) {
      var a: array<f32, 4>;
      var bw: array<f32, 4>;
      for (var i = 0u; i < 4u; i = i + 1u) {
        a[i] = xs[k * TILE + lid.y + 16u * i];
        bw[i] = ws[k * TILE + lid.x + 16u * i];
      }
      for (var i = 0u; i < 4u; i = i + 1u) {
        for (var j = 0u; j < 4u; j = j + 1u) {
          acc[i * 4u + j] = acc[i * 4u + j] + a[i] * bw[j];
        }
      }
    }
    workgroupBarrier();
  }

  for (var i = 0u; i < 4u; i = i + 1u) {
    let n = row0 + lid.y + 16u * i;
    for (var j = 0u; j < 4u; j = j + 1u) {
      let c = col0 + lid.x + 16u * j;
      if (n < shape.rows && c < shape.cols) {
        let col = shape.y_col0 + g * shape.y_group + c;
        var v = acc[i * 4u + j];
        if ((shape.flags & BIAS) != 0u) {
          v = v + bias[col];
        }
        if ((shape.flags & RESIDUAL) != 0u) {
          v = v + residual[n * shape.y_stride + col];
        }
        y[n * shape.y_stride + col] = v;
      }
    }
  }
}
