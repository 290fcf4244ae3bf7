/**
 * One-node ONNX models, one per op, for asking onnxruntime-web where it places an op: each node
 * reads graph inputs and initializers of the types its schema wants and writes graph outputs, so
 * a session on executionProviders ['webgpu'] shows, in its placement log, whether the WebGPU
 * provider has a kernel for it (WebGpuExecutionProvider) or ORT ran it on the CPU
 * (CPUExecutionProvider). Built in Node with onnx-proto; the page gets the bytes.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import onnxProto from 'onnx-proto';
import { writeModelFolder } from '../fixtures/build/folder.ts';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MODELS_DIR = join(REPO_ROOT, 'test', 'fixtures', 'models');

const { onnx } = onnxProto;
const DT = onnx.TensorProto.DataType;
const AT = onnx.AttributeProto.AttributeType;

type Elem = 'f32' | 'f16' | 'i64' | 'i32' | 'i8' | 'u8' | 'bool';
const ELEM: Record<Elem, number> = { f32: DT.FLOAT, f16: DT.FLOAT16, i64: DT.INT64, i32: DT.INT32, i8: DT.INT8, u8: DT.UINT8, bool: DT.BOOL };
const BYTES: Record<Elem, number> = { f32: 4, f16: 2, i64: 8, i32: 4, i8: 1, u8: 1, bool: 1 };

/** [name, type, dims]; dims may be symbolic; no dims: any shape (graph outputs) */
type Value = [string, Elem, (number | string)[]?];
/** an initializer: [name, type, dims, values] (values written as that type; zeros when omitted) */
type Init = [string, Elem, number[], number[]?];
type Attr = number | number[] | string | { f: number };

export interface OpProbe {
  op: string;
  /** '' for ai.onnx */
  domain: string;
  /** the model's opset for the op's domain */
  opset: number;
  bytes: Uint8Array;
}

export interface Spec {
  domain?: string;
  opset?: number;
  inputs?: Value[];
  inits?: Init[];
  /** the node's inputs, in order ('' leaves an optional one out); default: inputs then inits */
  nodeInputs?: string[];
  outputs?: Value[];
  attrs?: Record<string, Attr>;
}

function valueInfo([name, type, dims]: Value) {
  const shape = dims && { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) };
  return onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: ELEM[type], ...(shape ? { shape } : {}) } } });
}

function tensor([name, type, dims, values]: Init) {
  const count = dims.reduce((a, b) => a * b, 1);
  const raw = new Uint8Array(count * BYTES[type]);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < count; i++) {
    const v = values ? values[i % values.length]! : 0;
    if (type === 'f32') view.setFloat32(i * 4, v, true);
    else if (type === 'i64') view.setBigInt64(i * 8, BigInt(v), true);
    else if (type === 'i32') view.setInt32(i * 4, v, true);
    else if (type === 'f16') view.setUint16(i * 2, v === 0 ? 0 : 0x3c00, true); // 0 or 1.0
    else view.setUint8(i, v & 0xff);
  }
  return onnx.TensorProto.create({ name, dims, dataType: ELEM[type], rawData: raw });
}

function attribute(name: string, v: Attr) {
  if (typeof v === 'string') return onnx.AttributeProto.create({ name, type: AT.STRING, s: new TextEncoder().encode(v) });
  if (Array.isArray(v)) return onnx.AttributeProto.create({ name, type: AT.INTS, ints: v });
  if (typeof v === 'object') return onnx.AttributeProto.create({ name, type: AT.FLOAT, f: v.f });
  return onnx.AttributeProto.create({ name, type: AT.INT, i: v });
}

/** A one-node model of `op` (see Spec). */
export function probe(op: string, s: Spec): OpProbe {
  const domain = s.domain ?? '';
  const opset = s.opset ?? (domain ? 1 : 17);
  const inputs = s.inputs ?? [['x', 'f32', ['B', 8]]];
  const inits = s.inits ?? [];
  const outputs = s.outputs ?? [['y', 'f32']];
  const node = onnx.NodeProto.create({
    name: `${op}_probe`,
    opType: op,
    domain,
    input: s.nodeInputs ?? [...inputs.map((v) => v[0]), ...inits.map((t) => t[0])],
    output: outputs.map((v) => v[0]),
    attribute: Object.entries(s.attrs ?? {}).map(([k, v]) => attribute(k, v)),
  });
  const opsets = [{ domain: '', version: domain ? 17 : opset }, ...(domain ? [{ domain, version: opset }] : [])];
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'webgpu-embed op probe',
    opsetImport: opsets,
    graph: onnx.GraphProto.create({ name: `${op} probe`, node: [node], input: inputs.map(valueInfo), output: outputs.map(valueInfo), initializer: inits.map(tensor) }),
  });
  return { op, domain, opset, bytes: onnx.ModelProto.encode(model).finish() };
}

const MS = 'com.microsoft';
const x8: Value = ['x', 'f32', ['B', 8]];
const unary = (op: string, extra: Spec = {}) => probe(op, { inputs: [x8], ...extra });
const binary = (op: string) => probe(op, { inputs: [x8], inits: [['c', 'f32', [8], [0.5]]] });
const x3: Value = ['x', 'f32', [2, 'T', 8]];

/** Ops a transformer text model (and its quantized or ORT-optimized exports) may hold. */
export function opProbes(): OpProbe[] {
  return [
    // matmuls and their quantized forms
    probe('MatMul', { inits: [['w', 'f32', [8, 4], [0.1]]] }),
    probe('Gemm', { inits: [['w', 'f32', [8, 4], [0.1]], ['b', 'f32', [4], [0.1]]] }),
    probe('MatMulNBits', {
      domain: MS,
      inits: [['qb', 'u8', [4, 1, 16], [0x37]], ['scales', 'f32', [4], [0.1]]],
      attrs: { K: 32, N: 4, bits: 4, block_size: 32 },
      inputs: [['x', 'f32', ['B', 32]]],
    }),
    probe('MatMulBnb4', {
      domain: MS,
      inputs: [['x', 'f32', ['B', 64]]],
      inits: [['qb', 'u8', [64], [0x37]], ['absmax', 'f32', [4], [0.1]]],
      attrs: { K: 64, N: 2, block_size: 32, quant_type: 1 },
    }),
    probe('DynamicQuantizeLinear', { outputs: [['y', 'u8'], ['scale', 'f32'], ['zp', 'u8']] }),
    probe('MatMulInteger', { inputs: [['x', 'u8', ['B', 8]]], inits: [['w', 'i8', [8, 4], [3]], ['xz', 'u8', [], [0]], ['wz', 'i8', [], [0]]], outputs: [['y', 'i32']] }),
    probe('MatMulIntegerToFloat', {
      domain: MS,
      inputs: [['x', 'u8', ['B', 8]]],
      inits: [['w', 'i8', [8, 4], [3]], ['xs', 'f32', [], [0.1]], ['ws', 'f32', [], [0.1]], ['xz', 'u8', [], [0]], ['wz', 'i8', [], [0]]],
    }),
    probe('DynamicQuantizeMatMul', { domain: MS, inits: [['w', 'i8', [8, 4], [3]], ['ws', 'f32', [], [0.1]], ['wz', 'i8', [], [0]]] }),
    probe('QuantizeLinear', { inits: [['s', 'f32', [], [0.1]], ['z', 'u8', [], [0]]], outputs: [['y', 'u8']] }),
    probe('DequantizeLinear', { inputs: [['x', 'u8', ['B', 8]]], inits: [['s', 'f32', [], [0.1]], ['z', 'u8', [], [0]]] }),
    probe('QuantizeLinear', { opset: 21, inits: [['s', 'f32', [], [0.1]], ['z', 'i8', [], [0]]], outputs: [['y', 'i8']] }),
    probe('QuantizeLinear', { domain: MS, inits: [['s', 'f32', [], [0.1]], ['z', 'u8', [], [0]]], outputs: [['y', 'u8']] }),
    probe('DequantizeLinear', { domain: MS, inputs: [['x', 'u8', ['B', 8]]], inits: [['s', 'f32', [], [0.1]], ['z', 'u8', [], [0]]] }),
    probe('FusedMatMul', { domain: MS, inits: [['w', 'f32', [4, 8], [0.1]]], attrs: { transB: 1, alpha: { f: 1 } } }),
    probe('QAttention', {
      domain: MS,
      inputs: [['x', 'u8', [2, 'T', 8]]],
      inits: [['w', 'u8', [8, 24], [3]], ['b', 'f32', [24], [0]], ['xs', 'f32', [], [0.1]], ['ws', 'f32', [], [0.1]]],
      attrs: { num_heads: 2 },
      outputs: [['y', 'f32']],
    }),
    probe('QLinearMatMul', {
      inputs: [['x', 'u8', ['B', 8]]],
      inits: [['xs', 'f32', [], [0.1]], ['xz', 'u8', [], [0]], ['w', 'u8', [8, 4], [3]], ['ws', 'f32', [], [0.1]], ['wz', 'u8', [], [0]], ['ys', 'f32', [], [0.1]], ['yz', 'u8', [], [0]]],
      outputs: [['y', 'u8']],
    }),
    probe('GatherBlockQuantized', {
      domain: MS,
      inputs: [['ids', 'i64', ['B', 'T']]],
      inits: [['data', 'u8', [16, 16], [0x37]], ['scales', 'f32', [16, 1], [0.1]]],
      nodeInputs: ['data', 'ids', 'scales'],
      attrs: { block_size: 32, gather_axis: 0, quantize_axis: 1 },
    }),
    // elementwise, activations
    ...['Add', 'Sub', 'Mul', 'Div', 'Pow'].map(binary),
    ...['Erf', 'Tanh', 'Sqrt', 'Exp', 'Sigmoid', 'Neg', 'Reciprocal', 'Sin', 'Cos', 'Relu', 'Abs'].map((op) => unary(op)),
    probe('Gelu', { inputs: [x8], opset: 20 }),
    probe('Clip', { inputs: [x8], inits: [['lo', 'f32', [], [-1]], ['hi', 'f32', [], [1]]] }),
    probe('Cast', { inputs: [x8], attrs: { to: DT.FLOAT16 }, outputs: [['y', 'f16']] }),
    probe('Where', { inputs: [['m', 'bool', ['B', 8]], x8], inits: [['c', 'f32', [], [0]]] }),
    probe('Equal', { inputs: [x8], inits: [['c', 'f32', [], [0]]], outputs: [['y', 'bool']] }),
    // normalization and attention (plain and fused)
    probe('Softmax', { inputs: [x8], attrs: { axis: -1 } }),
    probe('LayerNormalization', { inputs: [x8], inits: [['g', 'f32', [8], [1]], ['b', 'f32', [8], [0]]], attrs: { axis: -1 } }),
    probe('SimplifiedLayerNormalization', { inputs: [x8], inits: [['g', 'f32', [8], [1]]], attrs: { axis: -1 } }),
    probe('SkipLayerNormalization', { domain: MS, inputs: [x3, ['skip', 'f32', [2, 'T', 8]]], inits: [['g', 'f32', [8], [1]], ['b', 'f32', [8], [0]]] }),
    probe('SkipSimplifiedLayerNormalization', { domain: MS, inputs: [x3, ['skip', 'f32', [2, 'T', 8]]], inits: [['g', 'f32', [8], [1]]] }),
    probe('EmbedLayerNormalization', {
      domain: MS,
      inputs: [['ids', 'i32', [2, 'T']], ['types', 'i32', [2, 'T']]],
      inits: [['we', 'f32', [16, 8], [0.1]], ['pe', 'f32', [16, 8], [0.1]], ['se', 'f32', [2, 8], [0.1]], ['g', 'f32', [8], [1]], ['b', 'f32', [8], [0]]],
      outputs: [['y', 'f32'], ['mask', 'i32']],
    }),
    probe('FastGelu', { domain: MS, inputs: [x8] }),
    probe('BiasGelu', { domain: MS, inputs: [x8], inits: [['b', 'f32', [8], [0.1]]] }),
    probe('Gelu', { domain: MS, inputs: [x8] }),
    probe('QuickGelu', { domain: MS, inputs: [x8] }),
    probe('Attention', {
      domain: MS,
      inputs: [x3],
      inits: [['w', 'f32', [8, 24], [0.1]], ['b', 'f32', [24], [0]]],
      attrs: { num_heads: 2 },
    }),
    probe('MultiHeadAttention', { domain: MS, inputs: [x3, ['k', 'f32', [2, 'T', 8]], ['v', 'f32', [2, 'T', 8]]], attrs: { num_heads: 2 } }),
    probe('RotaryEmbedding', {
      domain: MS,
      inputs: [x3, ['pos', 'i64', [2, 'T']]],
      inits: [['cos', 'f32', [16, 4], [1]], ['sin', 'f32', [16, 4], [0]]],
      attrs: { num_heads: 1 },
    }),
    // reductions and shapes
    probe('ReduceMean', { inputs: [x8], attrs: { axes: [-1] } }),
    probe('ReduceSum', { inputs: [x8], inits: [['axes', 'i64', [1], [-1]]] }),
    probe('Transpose', { inputs: [x8], attrs: { perm: [1, 0] } }),
    probe('Reshape', { inputs: [x8], inits: [['shape', 'i64', [2], [-1, 4]]] }),
    probe('Concat', { inputs: [x8, ['x2', 'f32', ['B', 8]]], attrs: { axis: 1 } }),
    probe('Slice', { inputs: [x8], inits: [['st', 'i64', [1], [0]], ['en', 'i64', [1], [4]], ['ax', 'i64', [1], [1]]] }),
    probe('Gather', { inits: [['table', 'f32', [16, 8], [0.1]]], inputs: [['ids', 'i64', ['B', 'T']]], nodeInputs: ['table', 'ids'] }),
    probe('Unsqueeze', { inputs: [x8], inits: [['axes', 'i64', [1], [1]]] }),
    probe('Expand', { inputs: [['x', 'f32', [1, 8]]], inits: [['shape', 'i64', [2], [3, 8]]] }),
    probe('Split', { inputs: [x8], inits: [['parts', 'i64', [2], [4, 4]]], attrs: { axis: 1 }, outputs: [['y0', 'f32'], ['y1', 'f32']] }),
    probe('Tile', { inputs: [x8], inits: [['reps', 'i64', [2], [1, 2]]] }),
    probe('CumSum', { inputs: [x8], inits: [['axis', 'i32', [], [1]]] }),
    probe('Einsum', { inputs: [x8, ['w', 'f32', [8, 4]]], attrs: { equation: 'ij,jk->ik' } }),
    probe('TopK', { inputs: [x8], inits: [['k', 'i64', [1], [2]]], outputs: [['y', 'f32'], ['i', 'i64']] }),
    probe('Trilu', { inputs: [['x', 'f32', [8, 8]]] }),
    probe('ArgMax', { inputs: [x8], attrs: { axis: -1 }, outputs: [['y', 'i64']] }),
    probe('LpNormalization', { inputs: [x8], attrs: { axis: -1, p: 2 } }),
    probe('ReduceMax', { inputs: [x8], attrs: { axes: [-1] } }),
    probe('Max', { inputs: [x8, ['x2', 'f32', ['B', 8]]] }),
    probe('Range', { inputs: [], inits: [['a', 'f32', [], [0]], ['b', 'f32', [], [8]], ['d', 'f32', [], [1]]] }),
    probe('Shape', { inputs: [x8], outputs: [['y', 'i64']] }),
    probe('NonZero', { inputs: [x8], outputs: [['y', 'i64']] }),
    probe('ScatterND', { inputs: [x8, ['i', 'i64', [1, 1]], ['u', 'f32', [1, 8]]] }),
    probe('Not', { inputs: [['x', 'bool', ['B', 8]]], outputs: [['y', 'bool']] }),
    probe('BiasAdd', { domain: MS, inputs: [x3, ['skip', 'f32', [2, 'T', 8]]], inits: [['b', 'f32', [8], [0.1]]], nodeInputs: ['x', 'b', 'skip'] }),
  ];
}

/**
 * A tiny encoder in a dynamic-int8 export's shape, for the embedder on WebGPU: token embeddings
 * (Gather), then DynamicQuantizeLinear → MatMulInteger → Cast → Mul × scales, as transformers.js'
 * model_quantized.onnx has in every projection, then a 4-bit MatMulBnb4 projection, out as
 * last_hidden_state [B, T, 16]. ORT 1.30 runs the first two on the CPU, the rest on WebGPU.
 */
export function quantizedEncoderOnnx(vocab: number, seed = 7): Uint8Array {
  const H = 16;
  let state = seed >>> 0;
  const rand = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const values = (n: number, scale: number) => Array.from({ length: n }, () => rand() * scale);
  const node = (name: string, op: string, input: string[], output: string[], attrs: Record<string, Attr> = {}, domain = '') =>
    onnx.NodeProto.create({ name, opType: op, domain, input, output, attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)) });
  const nodes = [
    node('embeddings/gather', 'Gather', ['table', 'input_ids'], ['x']),
    node('layer0/quantize_input', 'DynamicQuantizeLinear', ['x'], ['xq', 'xs', 'xz']),
    node('layer0/matmul_int8', 'MatMulInteger', ['xq', 'w8', 'xz', 'wz'], ['acc']),
    node('layer0/to_float', 'Cast', ['acc'], ['accf'], { to: DT.FLOAT }),
    node('layer0/scale_input', 'Mul', ['accf', 'xs'], ['y0']),
    node('layer0/scale_weight', 'Mul', ['y0', 'ws'], ['y1']),
    node('layer1/matmul_bnb4', 'MatMulBnb4', ['y1', 'w4', 'absmax'], ['last_hidden_state'], { K: H, N: H, block_size: 16, quant_type: 1 }, MS),
  ];
  const inits = [
    tensor(['table', 'f32', [vocab, H], values(vocab * H, 1)]),
    tensor(['w8', 'i8', [H, H], values(H * H, 127).map(Math.round)]),
    tensor(['wz', 'i8', [], [0]]),
    tensor(['ws', 'f32', [], [1 / 127]]),
    tensor(['w4', 'u8', [(H * H) / 2], values((H * H) / 2, 1).map((v) => Math.floor((v + 1) * 127.5))]),
    tensor(['absmax', 'f32', [(H * H) / 16], values((H * H) / 16, 0.5).map((v) => Math.abs(v) + 0.25)]),
  ];
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'webgpu-embed quantized encoder',
    opsetImport: [{ domain: '', version: 17 }, { domain: MS, version: 1 }],
    graph: onnx.GraphProto.create({
      name: 'quantized encoder',
      node: nodes,
      input: [valueInfo(['input_ids', 'i64', ['batch', 'tokens']]), valueInfo(['attention_mask', 'i64', ['batch', 'tokens']])],
      output: [valueInfo(['last_hidden_state', 'f32', ['batch', 'tokens', H]])],
      initializer: inits,
    }),
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Where the test pages find the quantized encoder's folder (git-ignored test/artifacts/). */
export const QUANTIZED_ENCODER = '/test/artifacts/quantized-encoder/';

/**
 * Writes quantizedEncoderOnnx() as a model folder with tiny-e5's tokenizer (mean pooling,
 * normalized, no prompts), as onnx/model.onnx and again as model_quantized.onnx (dtype 'q8').
 * Returns the ONNX bytes.
 */
export function writeQuantizedEncoderFolder(): Uint8Array {
  const tinyE5 = (file: string) => JSON.parse(readFileSync(join(MODELS_DIR, 'tiny-e5', file), 'utf8')) as Record<string, unknown>;
  const tokenizer = tinyE5('tokenizer.json');
  const bytes = quantizedEncoderOnnx(Object.keys((tokenizer.model as { vocab: object }).vocab).length);
  const dir = join(REPO_ROOT, QUANTIZED_ENCODER);
  mkdirSync(dir, { recursive: true });
  writeModelFolder(dir, {
    config: { ...tinyE5('config.json'), hidden_size: 16 },
    tokenizer,
    tokenizerConfig: tinyE5('tokenizer_config.json'),
    onnx: { 'model.onnx': bytes, 'model_quantized.onnx': bytes },
    pooling: { mode: 'mean', dimension: 16, normalize: true },
  });
  return bytes;
}
