// Last-token pooling (Qwen3-Embedding): pooled[b, :] = x[b, t1, :], t1 = the last position whose
// mask is non-zero: the appended end-of-text token with right padding, T - 1 with left padding.
// A row with no real token gives zeros.
// One workgroup per row b (flattened 2-D grid): the threads scan the mask row together (strided,
// workgroup atomicMax of t + 1, so 0 means none), then copy the token's H values coalesced.

struct Shape {
  batch: u32,
  tokens: u32,
  hidden: u32,
  _pad: u32,
}

const WG: u32 = 256u;

@group(0) @binding(0) var<uniform> shape: Shape;
@group(0) @binding(1) var<storage, read> hidden: array<f32>;        // [B, T, H]
@group(0) @binding(2) var<storage, read> mask: array<f32>;          // [B, T]
@group(0) @binding(3) var<storage, read_write> pooled: array<f32>;  // [B, H]

var<workgroup> last_plus_one: atomic<u32>;

@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let b = wid.y * nwg.x + wid.x;
  if (lid == 0u) {
    atomicStore(&last_plus_one, 0u);
  }
  workgroupBarrier();
  if (b < shape.batch) {
    var found = 0u;
    for (var t = lid; t < shape.tokens; t = t + WG) {
      if (mask[b * shape.tokens + t] != 0.0) {
        found = t + 1u;
      }
    }
    if (found != 0u) {
      atomicMax(&last_plus_one, found);
    }
  }
  workgroupBarrier();
  let t1 = atomicLoad(&last_plus_one);
  if (b >= shape.batch) {
    return;
  }
  for (var h = lid; h < shape.hidden; h = h + WG) {
    var v = 0.0;
    if (t1 != 0u) {
      v = hidden[(b * shape.tokens + t1 - 1u) * shape.hidden + h];
    }
    pooled[b * shape.hidden + h] = v;
  }
}
