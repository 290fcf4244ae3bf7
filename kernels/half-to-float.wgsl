// float16 → float32: ORT's fp16 hidden states [count] (two halves per u32 word, element 2k in the
// low 16 bits) into an f32 buffer the pooling kernels read. unpack2x16float is core WGSL, so
// this needs no 'shader-f16' feature. One invocation per word, on a 2-D grid for large counts.

struct Shape {
  count: u32,   // halves to convert
  _a: u32,
  _b: u32,
  _c: u32,
}

@group(0) @binding(0) var<uniform> shape: Shape;
@group(0) @binding(1) var<storage, read> halves: array<u32>;
@group(0) @binding(2) var<storage, read_write> floats: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let word = gid.y * nwg.x * 256u + gid.x;
  let first = word * 2u;
  if (first >= shape.count) {
    return;
  }
  let pair = unpack2x16float(halves[word]);
  floats[first] = pair.x;
  if (first + 1u < shape.count) {
    floats[first + 1u] = pair.y;
  }
}
