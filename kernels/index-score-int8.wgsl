// Vector index, int8 storage: rows are the Matryoshka kernel's int8 codes (matryoshka.wgsl:
// [rows, ceil(dims / 4)] u32, byte k of word j = dimension 4j + k, two's complement, and one
// f32 scale per row, x ≈ q / 127 · scale). The query is quantized the same way, so the dot
// product of codes is an exact i32 and the score
//
//   score[r] = f32(Σ qd · qq) · scales[r] · qscale        (qscale = query scale / 127²)
//
// is two correctly rounded f32 multiplications: the CPU twin reproduces every bit. A row whose
// bit in `allowed` is 0 scores NONE. 32 lanes per row (1 on a CPU adapter) over consecutive
// words, as index-score-f32.wgsl.

struct Shape {
  rows: u32,
  words: u32,
  qscale: f32,
  pad0: u32,
}

override LANES: u32 = 32u;
const WG: u32 = 256u;
const NONE: f32 = -3.40282346638528859812e+38f;

@group(0) @binding(0) var<uniform> shape: Shape;
@group(0) @binding(1) var<storage, read> codes: array<u32>;          // [capacity, words]
@group(0) @binding(2) var<storage, read> scales: array<f32>;         // [capacity]
@group(0) @binding(3) var<storage, read> query: array<u32>;          // [words]
@group(0) @binding(4) var<storage, read> allowed: array<u32>;        // bit r of word r / 32
@group(0) @binding(5) var<storage, read_write> scores: array<f32>;   // [rows]

var<workgroup> partial: array<i32, WG>;

// Four int8 lanes of a word, sign-extended (arithmetic shift of i32).
fn lanes4(w: u32) -> vec4<i32> {
  return bitcast<vec4<i32>>(vec4<u32>(w << 24u, w << 16u, w << 8u, w)) >> vec4<u32>(24u);
}

fn write_score(row: u32, s: i32) {
  let on = (allowed[row >> 5u] >> (row & 31u)) & 1u;
  scores[row] = select(NONE, f32(s) * scales[row] * shape.qscale, on == 1u);
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
  var acc = 0;
  if (live) {
    let base = row * shape.words;
    for (var j = lane; j < shape.words; j = j + LANES) {
      acc = acc + dot(lanes4(codes[base + j]), lanes4(query[j]));
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
    var s = 0;
    for (var l = 0u; l < LANES; l = l + 1u) {
      s = s + partial[lid + l];
    }
    write_score(row, s);
  }
}
