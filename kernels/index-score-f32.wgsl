// Vector index, float32 storage: score[r] = dot(vectors[r], query) for every stored row r < rows
// (unit vectors, so the cosine). A row whose bit in `allowed` is 0 (removed, or left out by a
// filter) scores NONE, the lowest finite f32, and is dropped after the top-k.
//
// Layout: rows of `stride` vec4<f32> (ceil(dims / 4); the padding lanes are 0 in rows and query).
// LANES invocations share a row (a pipeline constant, chosen per device):
//   32 on a GPU: a 32-lane group reads 512 contiguous bytes per step (coalesced), 8 rows per
//      workgroup of 256, the 32 partial sums added in lane order by the row's first lane after
//      one barrier;
//   1 on a CPU adapter (SwiftShader): a row per invocation and no barrier, which there is ~15×
//      faster (its invocations are fibers, and every barrier switches between all of them).
// Flattened 2-D grid: any row count fits.

struct Shape {
  rows: u32,
  stride: u32,
  pad0: u32,
  pad1: u32,
}

override LANES: u32 = 32u;
const WG: u32 = 256u;
const NONE: f32 = -3.40282346638528859812e+38f;

@group(0) @binding(0) var<uniform> shape: Shape;
@group(0) @binding(1) var<storage, read> vectors: array<vec4<f32>>;  // [capacity, stride]
@group(0) @binding(2) var<storage, read> query: array<vec4<f32>>;    // [stride]
@group(0) @binding(3) var<storage, read> allowed: array<u32>;        // bit r of word r / 32
@group(0) @binding(4) var<storage, read_write> scores: array<f32>;   // [rows]

var<workgroup> partial: array<f32, WG>;

fn write_score(row: u32, s: f32) {
  let on = (allowed[row >> 5u] >> (row & 31u)) & 1u;
  scores[row] = select(NONE, s, on == 1u);
}

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let group = wid.y * nwg.x + wid.x;
  let lane = lid % LANES;
  let row = group * (WG / LANES) + lid / LANES;
  let live = row < shape.rows;
  var acc = 0.0;
  if (live) {
    let base = row * shape.stride;
    for (var j = lane; j < shape.stride; j = j + LANES) {
      acc = acc + dot(vectors[base + j], query[j]);
    }
  }
  if (LANES == 1u) {
    if (live) {
      write_score(row, acc);
    }
    return;
  }
  partial[lid] = acc;
  workgroupBarrier();
  if (live && lane == 0u) {
    var s = 0.0;
    for (var l = 0u; l < LANES; l = l + 1u) {
      s = s + partial[lid + l];
    }
    write_score(row, s);
  }
}
