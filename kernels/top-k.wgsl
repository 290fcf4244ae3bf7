// Top-k by (key descending, id ascending): one pass cuts each chunk of 2048 entries to its best
// k (k ≤ 1024). The TypeScript side repeats the pass over the survivors (ceil(n / 2048) · k of
// them) until one chunk is left, so a 100k-row scan needs two passes for k up to ~40.
//
// Per chunk, in workgroup memory (2048 keys + ids = 16 KiB, WebGPU's default limit), the
// bitonic top-k of Shanbhag et al. (SIGMOD 2018):
//   1. sort every run of R entries (R = the power of two ≥ k) descending: a bitonic sorting
//      network, with the last merge of each run turned descending;
//   2. rebuild: pair runs 2m and 2m+1 and keep, at each x, the better of A[x] and B[R-1-x]:
//      a bitonic run holding the best R of the two; a bitonic merge sorts it. Each round halves
//      the entries; after log2(2048 / R) rounds one sorted run is left;
//   3. write its first k.
// Work per chunk is ~2048·log²R/4 + 2048·log R compare-exchanges instead of a full sort's
// 2048·log²2048/4: a third of it for k = 10.
//
// Inputs past n are padding (NONE, 0xffffffff); on the first pass (implicit_ids = 1) an entry's
// id is its position, later passes read the ids the previous one wrote. Ties in key go to the
// lower id, so the result is one exact order, equal to a CPU sort's.

struct Shape {
  n: u32,
  k: u32,
  run: u32,
  implicit_ids: u32,
}

const CHUNK: u32 = 2048u;
const HALF: u32 = 1024u;
const WG: u32 = 256u;
const PER_THREAD: u32 = 4u; // HALF / WG
const NONE: f32 = -3.40282346638528859812e+38f;
const NO_ID: u32 = 0xffffffffu;

@group(0) @binding(0) var<uniform> shape: Shape;
@group(0) @binding(1) var<storage, read> keys_in: array<f32>;
@group(0) @binding(2) var<storage, read> ids_in: array<u32>;
@group(0) @binding(3) var<storage, read_write> keys_out: array<f32>;  // [chunks, k]
@group(0) @binding(4) var<storage, read_write> ids_out: array<u32>;   // [chunks, k]

var<workgroup> skey: array<f32, CHUNK>;
var<workgroup> sid: array<u32, CHUNK>;

fn better(ka: f32, ia: u32, kb: f32, ib: u32) -> bool {
  return ka > kb || (ka == kb && ia < ib);
}

// The t-th pair of a compare-exchange stage at `stride`: i has bit `stride` clear, j = i | stride.
fn low_of_pair(t: u32, stride: u32) -> u32 {
  return ((t & ~(stride - 1u)) << 1u) | (t & (stride - 1u));
}

// Puts the better entry of (i, j) at i when `descending`, at j otherwise.
fn exchange(i: u32, j: u32, descending: bool) {
  let ki = skey[i];
  let ii = sid[i];
  let kj = skey[j];
  let ij = sid[j];
  if (better(kj, ij, ki, ii) == descending) {
    skey[i] = kj;
    sid[i] = ij;
    skey[j] = ki;
    sid[j] = ii;
  }
}

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let chunk = wid.y * nwg.x + wid.x;
  let chunks = (shape.n + CHUNK - 1u) / CHUNK;
  let run = shape.run;
  for (var i = lid; i < CHUNK; i = i + WG) {
    let g = chunk * CHUNK + i;
    var key = NONE;
    var id = NO_ID;
    if (chunk < chunks && g < shape.n) {
      key = keys_in[g];
      if (shape.implicit_ids == 1u) {
        id = g;
      } else {
        id = ids_in[g];
      }
    }
    skey[i] = key;
    sid[i] = id;
  }
  workgroupBarrier();

  // 1. sort each run of `run` entries descending
  for (var size = 2u; size <= run; size = size << 1u) {
    for (var stride = size >> 1u; stride > 0u; stride = stride >> 1u) {
      for (var t = lid; t < HALF; t = t + WG) {
        let i = low_of_pair(t, stride);
        exchange(i, i | stride, size == run || (i & size) == 0u);
      }
      workgroupBarrier();
    }
  }

  // 2. rebuild: halve the entries until one run is left
  for (var len = CHUNK; len > run; len = len >> 1u) {
    let half = len >> 1u;
    var kk: array<f32, PER_THREAD>;
    var ii: array<u32, PER_THREAD>;
    for (var q = 0u; q < PER_THREAD; q = q + 1u) {
      let t = lid + q * WG;
      if (t < half) {
        let m = t / run;
        let x = t % run;
        let a = 2u * m * run + x;
        let b = (2u * m + 1u) * run + (run - 1u - x);
        let take_a = better(skey[a], sid[a], skey[b], sid[b]);
        kk[q] = select(skey[b], skey[a], take_a);
        ii[q] = select(sid[b], sid[a], take_a);
      }
    }
    workgroupBarrier();
    for (var q = 0u; q < PER_THREAD; q = q + 1u) {
      let t = lid + q * WG;
      if (t < half) {
        skey[t] = kk[q];
        sid[t] = ii[q];
      }
    }
    workgroupBarrier();
    for (var stride = run >> 1u; stride > 0u; stride = stride >> 1u) {
      for (var t = lid; t < (half >> 1u); t = t + WG) {
        let i = low_of_pair(t, stride);
        exchange(i, i | stride, true);
      }
      workgroupBarrier();
    }
  }

  // 3. the best k
  if (chunk < chunks) {
    for (var i = lid; i < shape.k; i = i + WG) {
      keys_out[chunk * shape.k + i] = skey[i];
      ids_out[chunk * shape.k + i] = sid[i];
    }
  }
}
