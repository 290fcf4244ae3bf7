// First-token (CLS) pooling: pooled[b, :] = x[b, t0, :], t0 = the first position whose mask is
// non-zero; a row with no real token gives zeros. With right padding (CLS models) t0 = 0; with
// left padding it is the first real token.
// One workgroup per row b (flattened 2-D grid): the threads scan the mask row together (strided,
// workgroup atomicMin), then copy the chosen token's H values with coalesced reads.

struct Shape {
  batch: u32,
  tokens: u32,
  hidden: u32,
  _pad: u32,
}

const WG: u32 = 256u;
const NONE: u32 = 0xffffffffu;

@group(0) @binding(0) var<uniform> shape: Shape;
@group(0) @binding(1) var<storage, read> hidden: array<f32>;        // [B, T, H]
@group(0) @binding(2) var<storage, read> mask: array<f32>;          // [B, T]
@group(0) @binding(3) var<storage, read_write> pooled: array<f32>;  // [B, H]

var<workgroup> first: atomic<u32>;

@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let b = wid.y * nwg.x + wid.x;
  if (lid == 0u) {
    atomicStore(&first, NONE);
  }
  workgroupBarrier();
  if (b < shape.batch) {
    for (var t = lid; t < shape.tokens; t = t + WG) {
      if (mask[b * shape.tokens + t] != 0.0) {
        atomicMin(&first, t);
        break;
      }
    }
  }
  workgroupBarrier();
  let t0 = atomicLoad(&first);
  if (b >= shape.batch) {
    return;
  }
  for (var h = lid; h < shape.hidden; h = h + WG) {
    var v = 0.0;
    if (t0 != NONE) {
      v = hidden[(b * shape.tokens + t0) * shape.hidden + h];
    }
    pooled[b * shape.hidden + h] = v;
  }
}
