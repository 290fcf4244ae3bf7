/**
 * com.microsoft GatherBlockQuantized (a 4-bit embedding table: onnxruntime's MatMul4BitsQuantizer
 * with Gather among its ops, as in onnx-community/embeddinggemma-300m-ONNX's model_q4 by its size)
 * rewritten into standard ONNX ops, for onnxruntime-web's wasm provider in browsers: the
 * `onnxruntime-web/webgpu` build's CPU provider has no kernel for it ("Could not find an
 * implementation for GatherBlockQuantized(1)", checked in Chromium with 1.30.0; its Node build has
 * one, and its WebGPU provider runs the op). Without this, such a file cannot run on wasm in a
 * browser at all, and the self-check's wasm reference cannot be built, so a q4 file on WebGPU
 * (transformers.js#1728's case) would go unchecked.
 *
 *   before:  GatherBlockQuantized(data int4|uint4 [V, H], indices, scales [V, H / block])
 *   after:   Gather(data as uint8 [V, H / 2], indices) → the two nibbles of each byte (low first,
 *            as ONNX packs 4-bit tensors) → signed (int4; uint4 as it is: without a zero_points
 *            input onnxruntime 1.30 takes the zero point as 0 for both, checked) → × Gather(scales,
 *            indices) per block → [..., H]
 *
 * The same values the op computes: q · scale, with q a small integer, is exact in the scales' type
 * before its one rounding (test/unit/gather-block-quantized.test.ts: bit for bit). Handled: gather_axis 0, quantize_axis 1 of a 2-D table,
 * no zero_points input, H even and a multiple of block_size, the table read by this node only, and
 * ai.onnx opset 13 or later; anything else is left as it is (and onnxruntime says what it lacks).
 */
import { ProtoWriter, readFields } from './protobuf.ts';
import { DT, encodeNode, encodeTensor, intAttribute, parseOnnxModel, readOpsets, writeOnnxModel, type GraphEntry, type OnnxGraph, type OnnxNode, type OnnxTensor } from './onnx-graph.ts';

const OP = 'GatherBlockQuantized';
const INT4 = 22;
const UINT4 = 21;
const PREFIX = 'webgpu_embed_gbq';

/** Whether the graph has a GatherBlockQuantized node (from its nodes as readGraph gives them). */
export function hasGatherBlockQuantized({ nodes }: Pick<OnnxGraph, 'nodes'>): boolean {
  return nodes.some((n) => n.opType === OP && n.domain === 'com.microsoft');
}

/**
 * The model with every GatherBlockQuantized node it can rewrite replaced by standard ops; `rewritten`
 * counts them (0: the bytes given back unchanged).
 *
 * @example
 * const { onnx, rewritten } = rewriteGatherBlockQuantized(q4Bytes); // rewritten: 1 (the embedding table)
 */
export function rewriteGatherBlockQuantized(onnx: Uint8Array): { onnx: Uint8Array; rewritten: number } {
  const view = parseOnnxModel(onnx);
  const { entries } = view;
  const opset = readOpsets(onnx, view.modelFields).get('') ?? 0;
  if (opset < 13) return { onnx, rewritten: 0 };

  const inits = new Map<string, { tensor: OnnxTensor; entry: number }>();
  const readers = new Map<string, number>();
  entries.forEach((e, i) => {
    if (e.kind === 'initializer') inits.set(e.tensor.name, { tensor: e.tensor, entry: i });
    if (e.kind === 'node') for (const x of e.node.inputs) readers.set(x, (readers.get(x) ?? 0) + 1);
    if (e.kind === 'output') readers.set(e.info.name, (readers.get(e.info.name) ?? 0) + 1);
  });

  const replaced = new Map<number, OnnxNode[]>();
  const retyped = new Map<number, ProtoWriter>();
  const newInits: ProtoWriter[] = [];
  entries.forEach((e, i) => {
    if (e.kind !== 'node' || e.node.opType !== OP || e.node.domain !== 'com.microsoft') return;
    const plan = planFor(e.node, inits, readers);
    if (!plan) return;
    const p = `${PREFIX}${replaced.size}`;
    const c = (name: string, dataType: number, dims: number[], raw: ArrayBufferView) => {
      newInits.push(encodeTensor(`${p}/${name}`, dataType, dims, new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength)));
      return `${p}/${name}`;
    };
    const i32 = (name: string, v: number) => c(name, DT.INT32, [], Int32Array.of(v));
    const i64 = (name: string, v: number[]) => c(name, DT.INT64, [v.length], BigInt64Array.from(v, BigInt));
    const [data, indices, scales] = e.node.inputs as [string, string, string];
    const v = (name: string) => `${p}/${name}`;
    const n = (opType: string, inputs: string[], output: string, attributes = [] as ReturnType<typeof intAttribute>[]): OnnxNode => ({
      opType,
      domain: '',
      name: output,
      inputs,
      outputs: [output],
      attributes,
    });
    const lastAxis = i64('last_axis', [-1]);
    const nodes: OnnxNode[] = [
      n('Gather', [data, indices], v('bytes'), [intAttribute('axis', 0)]),
      n('Cast', [v('bytes')], v('bytes_i32'), [intAttribute('to', DT.INT32)]),
      n('Div', [v('bytes_i32'), i32('sixteen', 16)], v('high')),
      n('Mul', [v('high'), `${p}/sixteen`], v('high_x16')),
      n('Sub', [v('bytes_i32'), v('high_x16')], v('low')),
      n('Unsqueeze', [v('low'), lastAxis], v('low_1')),
      n('Unsqueeze', [v('high'), lastAxis], v('high_1')),
      n('Concat', [v('low_1'), v('high_1')], v('nibbles'), [intAttribute('axis', -1)]),
    ];
    if (plan.signed) {
      // two's complement: 8..15 are -8..-1
      nodes.push(
        n('GreaterOrEqual', [v('nibbles'), i32('eight', 8)], v('negative')),
        n('Sub', [v('nibbles'), `${p}/sixteen`], v('nibbles_minus_16')),
        n('Where', [v('negative'), v('nibbles_minus_16'), v('nibbles')], v('q')),
      );
    }
    nodes.push(
      n('Cast', [v(plan.signed ? 'q' : 'nibbles')], v('q_float'), [intAttribute('to', plan.scaleType)]),
      n('Shape', [indices], v('index_shape')),
      n('Concat', [v('index_shape'), i64('blocks', [plan.blocks, plan.blockSize])], v('block_shape'), [intAttribute('axis', 0)]),
      n('Reshape', [v('q_float'), v('block_shape')], v('q_blocks')),
      n('Gather', [scales, indices], v('row_scales'), [intAttribute('axis', 0)]),
      n('Unsqueeze', [v('row_scales'), lastAxis], v('row_scales_1')),
      n('Mul', [v('q_blocks'), v('row_scales_1')], v('values')),
      n('Concat', [v('index_shape'), i64('width', [plan.width])], v('out_shape'), [intAttribute('axis', 0)]),
      { ...n('Reshape', [v('values'), v('out_shape')], e.node.outputs[0]!), name: e.node.name || v('out') },
    );
    replaced.set(i, nodes);
    retyped.set(plan.dataEntry, retype(view.bytes, entries[plan.dataEntry]!, [plan.rows, plan.width / 2]));
  });
  if (!replaced.size) return { onnx, rewritten: 0 };

  const retypedNames = new Set([...retyped.keys()].map((k) => (entries[k] as Extract<GraphEntry, { kind: 'initializer' }>).tensor.name));
  const out: { no: number; bytes: Uint8Array | ProtoWriter }[] = [];
  entries.forEach((e, i) => {
    const original = view.bytes.subarray(e.field.start, e.field.end);
    if (replaced.has(i)) for (const node of replaced.get(i)!) out.push({ no: 1, bytes: encodeNode(node) });
    else if (retyped.has(i)) out.push({ no: 5, bytes: retyped.get(i)! });
    // an old-style graph input (or a value_info) naming the table would still say int4
    else if ((e.kind === 'input' || e.kind === 'value_info') && retypedNames.has(e.info.name)) return;
    else out.push({ no: e.field.no, bytes: original });
  });
  for (const t of newInits) out.push({ no: 5, bytes: t });
  return { onnx: writeOnnxModel(view, out), rewritten: replaced.size };
}

interface Plan {
  dataEntry: number;
  signed: boolean;
  rows: number;
  width: number;
  blockSize: number;
  blocks: number;
  scaleType: number;
}

function planFor(node: OnnxNode, inits: Map<string, { tensor: OnnxTensor; entry: number }>, readers: Map<string, number>): Plan | undefined {
  const attr = (name: string, fallback: number) => node.attributes.find((a) => a.name === name)?.i ?? fallback;
  if (node.inputs.length !== 3 || attr('gather_axis', 0) !== 0 || attr('quantize_axis', 1) !== 1) return undefined;
  // newer onnxruntime releases name the bit width (4 for int4 / uint4 tables); anything else is not this rewrite's
  if (attr('bits', 4) !== 4) return undefined;
  const data = inits.get(node.inputs[0]!);
  const scales = inits.get(node.inputs[2]!);
  if (!data || !scales || readers.get(data.tensor.name) !== 1) return undefined;
  const { dataType, dims } = data.tensor;
  if ((dataType !== INT4 && dataType !== UINT4) || dims.length !== 2) return undefined;
  const [rows, width] = dims as [number, number];
  const blockSize = attr('block_size', 128);
  if (width % 2 !== 0 || blockSize <= 0 || width % blockSize !== 0) return undefined;
  const blocks = width / blockSize;
  if (scales.tensor.dims.join() !== `${rows},${blocks}`) return undefined;
  if (scales.tensor.dataType !== DT.FLOAT && scales.tensor.dataType !== DT.FLOAT16) return undefined;
  return { dataEntry: data.entry, signed: dataType === INT4, rows, width, blockSize, blocks, scaleType: scales.tensor.dataType };
}

/** The initializer's TensorProto with new dims and data type uint8, every other field (name, raw_data or external_data) as it was. */
function retype(bytes: Uint8Array, entry: GraphEntry, dims: number[]): ProtoWriter {
  const w = new ProtoWriter().ints(1, dims).int(2, DT.UINT8);
  for (const f of readFields(bytes, entry.field.from, entry.field.to)) if (f.no !== 1 && f.no !== 2) w.raw(bytes.subarray(f.start, f.end));
  return w;
}
