// Relevance score from logits on the GPU, 4 bytes per row out. Row b of logits [B, T, V]:
//   t1    = the last position whose mask is non-zero (T - 1 under left padding; 0 when the graph
//           kept one position, as the pruned yes/no head does),
//   x     = logits[b, t1, :],
//   score = σ(x[yes] - x[no])  = softmax([x[yes], x[no]])[0]   (Qwen3-Reranker; a two-class
//                                                              cross-encoder, positive class first)
//         = σ(x[yes])          when no == NONE                 (a one-logit cross-encoder).
// A row with no real token scores 0. Logits are f32, or f16 packed two per u32 (half == 1;
// unpack2x16float is core WGSL, no 'shader-f16' needed), so one binding serves both.
// One workgroup per row (flattened 2-D grid): the threads scan the mask row together (strided,
// workgroup atomicMax of t + 1), then one thread reads two values and writes the score.

struct Shape {
  batch: u32,
  tokens: u32,
  vocab: u32,
  yes: u32,
  no: u32,      // 0xffffffff: none (sigmoid of one logit)
  half: u32,    // 1: logits are float16
  _pad0: u32,
  _pad1: u32,
}

const WG: u32 = 64u;
const NONE: u32 = 0xffffffffu;

@group(0) @binding(0) var<uniform> shape: Shape;
@group(0) @binding(1) var<storage, read> logits: array<u32>;      // [B, T, V] f32 bits, or f16 pairs
@group(0) @binding(2) var<storage, read> mask: array<f32>;        // [B, T]
@group(0) @binding(3) var<storage, read_write> scores: array<f32>; // [B]

var<workgroup> last_plus_one: atomic<u32>;

fn logit(i: u32) -> f32 {
  if (shape.half == 1u) {
    let pair = unpack2x16float(logits[i >> 1u]);
    return select(pair.x, pair.y, (i & 1u) == 1u);
  }
  return bitcast<f32>(logits[i]);
}

// σ(d) without overflow for either sign of d.
fn sigmoid(d: f32) -> f32 {
  if (d >= 0.0) {
    return 1.0 / (1.0 + exp(-d));
  }
  let e = exp(d);
  return e / (1.0 + e);
}

@compute @workgroup_size(64)
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
  if (b >= shape.batch || lid != 0u) {
    return;
  }
  if (t1 == 0u) {
    scores[b] = 0.0;
    return;
  }
  let row = (b * shape.tokens + t1 - 1u) * shape.vocab;
  var d = logit(row + shape.yes);
  if (shape.no != NONE) {
    d = d - logit(row + shape.no);
  }
  scores[b] = sigmoid(d);
}
