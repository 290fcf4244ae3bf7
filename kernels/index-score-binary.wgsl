// Vector index, binary storage: rows are the Matryoshka kernel's sign bits (matryoshka.wgsl:
// [rows, ceil(dims / 32)] u32, bit i of word j = dimension 32j + i > 0, bits past dims 0), the
// query's bits likewise. h = Hamming distance (exact), and
//
//   score[r] = f32(dims − 2h) · inv_dims        (in [-1, 1]: the fraction of agreeing signs, centred)
//
// one correctly rounded multiplication: the CPU twin reproduces every bit. Many rows share a
// score; the top-k breaks ties by row. A row whose bit in `allowed` is 0 scores NONE. 32 lanes
// per row (1 on a CPU adapter) over consecutive words, as index-score-f32.wgsl.

struct Shape {
  rows: u32,
  words: u32,
  dims: u32,
  inv_dims: f32,
}

override LANES: u32 = 32u;
const WG: u32 = 256u;
const NONE: f32 = -3.40282346638528859812e+38f;

@group(0) @binding(0) var<uniform> shape: Shape;
@group(0) @binding(1) var<storage, read> bits: array<u32>;           // [capacity, words]
@group(0) @binding(2) var<storage, read> query: array<u32>;          // [words]
@group(0) @binding(3) var<storage, read> allowed: array<u32>;        // bit r of word r / 32
@group(0) @binding(4) var<storage, read_write> scores: array<f32>;   // [rows]

var<workgroup> partial: array<u32, WG>;

fn write_score(row: u32, s: u32) {
  let on = (allowed[row >> 5u] >> (row & 31u)) & 1u;
  scores[row] = select(NONE, f32(i32(shape.dims) - 2 * i32(s)) * shape.inv_dims, on == 1u);
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
  var acc = 0u;
  if (live) {
    let base = row * shape.words;
    for (var j = lane; j < shape.words; j = j + LANES) {
      acc = acc + countOneBits(bits[base + j] ^ query[j]);
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
    var s = 0u;
    for (var l = 0u; l < LANES; l = l + 1u) {
      s = s + partial[lid + l];
    }
    write_score(row, s);
  }
}
