/**
 * A read-and-rewrite view of an ONNX ModelProto's main graph (onnx.proto3), for the graph edits
 * (lm-head.ts, gather-block-quantized.ts): nodes, initializers and graph inputs/outputs decoded as
 * far as an edit needs; everything else is kept as the original bytes and written back untouched.
 * And the one read a load makes of a graph (readGraph): its nodes' ops, opsets and outputs.
 *
 * Field numbers are onnx.proto's: ModelProto.graph = 7; GraphProto node 1, initializer 5,
 * input 11, output 12, value_info 13; NodeProto input 1, output 2, name 3, op_type 4,
 * attribute 5, domain 7; AttributeProto name 1, f 2, i 3, s 4, t 5, g 6, floats 7, ints 8,
 * graphs 11, type 20; TensorProto dims 1, data_type 2, float_data 4, int32_data 5, int64_data 7,
 * name 8, raw_data 9, external_data 13, data_location 14; ValueInfoProto name 1, type 2;
 * TypeProto tensor_type 1 → elem_type 1, shape 2 → dim 1 → dim_value 1 | dim_param 2.
 */
import { asFloat, asInt, asString, ProtoWriter, readFields, repeatedInts, WIRE_LEN, type Field } from './protobuf.ts';

/** TensorProto.DataType values used here. */
export const DT = { FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, BOOL: 9, FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13, BFLOAT16: 16 } as const;

const ELEMENT_BYTES: Record<number, number> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2 };

export function elementBytes(dataType: number): number | undefined {
  return ELEMENT_BYTES[dataType];
}

export interface OnnxAttribute {
  name: string;
  type: number;
  i?: number;
  f?: number;
  s?: string;
  ints?: number[];
  /** a TensorProto value (Constant nodes) */
  t?: OnnxTensor;
  /** holds a subgraph (If, Loop, Scan): its nodes may read any outer value */
  hasGraph: boolean;
  /** the attribute as written, for copying */
  bytes: Uint8Array;
}

export interface OnnxNode {
  opType: string;
  domain: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attributes: OnnxAttribute[];
}

export interface OnnxTensor {
  name: string;
  dims: number[];
  dataType: number;
  /** raw_data, a view into the model bytes */
  raw?: Uint8Array;
  /** where the values lie outside the file (data_location EXTERNAL) */
  external?: { location: string; offset: number; length?: number };
  /** values in typed fields (float_data, int32_data, int64_data) instead of raw_data */
  typed?: { floats?: number[]; int32s?: number[]; int64s?: number[] };
}

export interface OnnxValueInfo {
  name: string;
  elemType?: number;
  /** a number, a symbolic name, or undefined for an unknown dimension */
  dims?: (number | string | undefined)[];
}

/** One repeated entry of the graph: its kind, its place in the bytes, and its decoded value. */
export type GraphEntry =
  | { kind: 'node'; field: Field; node: OnnxNode }
  | { kind: 'initializer'; field: Field; tensor: OnnxTensor }
  | { kind: 'input' | 'output' | 'value_info'; field: Field; info: OnnxValueInfo }
  | { kind: 'other'; field: Field };

export interface OnnxModelView {
  bytes: Uint8Array;
  /** the ModelProto's own fields */
  modelFields: Field[];
  /** the graph field (ModelProto field 7) */
  graphField: Field;
  /** the graph's fields in order, decoded where the kind is one we edit */
  entries: GraphEntry[];
}

export class OnnxFormatError extends Error {}

export function parseOnnxModel(bytes: Uint8Array): OnnxModelView {
  const modelFields = readFields(bytes);
  const graphField = modelFields.find((f) => f.no === 7 && f.wire === WIRE_LEN);
  if (!graphField) throw new OnnxFormatError('the ONNX model has no graph');
  const entries: GraphEntry[] = readFields(bytes, graphField.from, graphField.to).map((field): GraphEntry => {
    if (field.wire !== WIRE_LEN) return { kind: 'other', field };
    if (field.no === 1) return { kind: 'node', field, node: parseNode(bytes, field) };
    if (field.no === 5) return { kind: 'initializer', field, tensor: parseTensor(bytes, field) };
    if (field.no === 11) return { kind: 'input', field, info: parseValueInfo(bytes, field) };
    if (field.no === 12) return { kind: 'output', field, info: parseValueInfo(bytes, field) };
    if (field.no === 13) return { kind: 'value_info', field, info: parseValueInfo(bytes, field) };
    return { kind: 'other', field };
  });
  return { bytes, modelFields, graphField, entries };
}

/** A node as a load's consumers need it (which op runs where): no attributes, no inputs or outputs. */
export interface OnnxNodeOp {
  name: string;
  opType: string;
  /** as written: '' or 'ai.onnx' for the standard ops, 'com.microsoft', ... */
  domain: string;
}

/**
 * What a load needs to know of a model's main graph, read in one walk: its nodes' ops, the opset
 * version per domain and the graph's outputs. Nothing in it points into the model's bytes, so it
 * stays true (and small) after the engine drops them.
 */
export interface OnnxGraph {
  nodes: OnnxNodeOp[];
  /** opset version per domain ('' for ai.onnx) */
  opsets: Map<string, number>;
  /** names, element types, dims */
  outputs: OnnxValueInfo[];
}

/**
 * The main graph's nodes and outputs and the model's opsets, read once for every consumer (batch
 * sensitivity, the pooled output, the nodes without a WebGPU kernel, the wasm rewrite) without
 * decoding initializers (their payloads are skipped by length).
 *
 * @example
 * const { nodes, opsets, outputs } = readGraph(onnxBytes);
 * nodes[0]; // { name: 'embeddings_gather', opType: 'Gather', domain: '' }
 * opsets.get('com.microsoft'); // 1
 * outputs[0]; // { name: 'last_hidden_state', elemType: 1, dims: ['batch_size', 'sequence_length', 768] }
 */
export function readGraph(bytes: Uint8Array): OnnxGraph {
  const modelFields = readFields(bytes);
  const opsets = readOpsets(bytes, modelFields);
  const graph = modelFields.find((f) => f.no === 7 && f.wire === WIRE_LEN);
  if (!graph) throw new OnnxFormatError('the ONNX model has no graph');
  const nodes: OnnxNodeOp[] = [];
  const outputs: OnnxValueInfo[] = [];
  for (const f of readFields(bytes, graph.from, graph.to)) {
    if (f.wire !== WIRE_LEN) continue;
    if (f.no === 1) nodes.push(nodeOp(parseNode(bytes, f)));
    else if (f.no === 12) outputs.push(parseValueInfo(bytes, f));
  }
  return { nodes, opsets, outputs };
}

/** A node's op, its strings only (its attributes are views into the model's bytes). */
export function nodeOp({ name, opType, domain }: OnnxNode): OnnxNodeOp {
  return { name, opType, domain };
}

/** The opset version per domain ('' for ai.onnx): ModelProto.opset_import (field 8), OperatorSetIdProto domain 1, version 2. */
export function readOpsets(bytes: Uint8Array, modelFields: readonly Field[]): Map<string, number> {
  const opsets = new Map<string, number>();
  for (const f of modelFields) {
    if (f.no !== 8 || f.wire !== WIRE_LEN) continue;
    let domain = '';
    let version = 0;
    for (const x of readFields(bytes, f.from, f.to)) {
      if (x.no === 1 && x.wire === WIRE_LEN) domain = asString(bytes, x);
      else if (x.no === 2) version = asInt(x);
    }
    opsets.set(domain === 'ai.onnx' ? '' : domain, version);
  }
  return opsets;
}

function parseNode(buf: Uint8Array, msg: Field): OnnxNode {
  const node: OnnxNode = { opType: '', domain: '', name: '', inputs: [], outputs: [], attributes: [] };
  for (const f of readFields(buf, msg.from, msg.to)) {
    if (f.wire !== WIRE_LEN) continue;
    if (f.no === 1) node.inputs.push(asString(buf, f));
    else if (f.no === 2) node.outputs.push(asString(buf, f));
    else if (f.no === 3) node.name = asString(buf, f);
    else if (f.no === 4) node.opType = asString(buf, f);
    else if (f.no === 7) node.domain = asString(buf, f);
    else if (f.no === 5) node.attributes.push(parseAttribute(buf, f));
  }
  return node;
}

function parseAttribute(buf: Uint8Array, msg: Field): OnnxAttribute {
  const fields = readFields(buf, msg.from, msg.to);
  const attr: OnnxAttribute = { name: '', type: 0, hasGraph: false, bytes: buf.subarray(msg.start, msg.end) };
  for (const f of fields) {
    if (f.no === 1) attr.name = asString(buf, f);
    else if (f.no === 20) attr.type = asInt(f);
    else if (f.no === 2) attr.f = asFloat(f);
    else if (f.no === 3) attr.i = asInt(f);
    else if (f.no === 4) attr.s = asString(buf, f);
    else if (f.no === 5 && f.wire === WIRE_LEN) attr.t = parseTensor(buf, f);
    else if (f.no === 6 || f.no === 11) attr.hasGraph = true;
  }
  const ints = repeatedInts(buf, fields, 8);
  if (ints.length) attr.ints = ints;
  return attr;
}

function parseTensor(buf: Uint8Array, msg: Field): OnnxTensor {
  const fields = readFields(buf, msg.from, msg.to);
  const t: OnnxTensor = { name: '', dims: repeatedInts(buf, fields, 1), dataType: 0 };
  let location: string | undefined;
  let offset = 0;
  let length: number | undefined;
  let externalFlag = false;
  for (const f of fields) {
    if (f.no === 2) t.dataType = asInt(f);
    else if (f.no === 8) t.name = asString(buf, f);
    else if (f.no === 9 && f.wire === WIRE_LEN) t.raw = buf.subarray(f.from, f.to);
    else if (f.no === 14) externalFlag = asInt(f) === 1;
    else if (f.no === 13 && f.wire === WIRE_LEN) {
      let key = '', value = '';
      for (const e of readFields(buf, f.from, f.to)) {
        if (e.no === 1) key = asString(buf, e);
        else if (e.no === 2) value = asString(buf, e);
      }
      if (key === 'location') location = value;
      else if (key === 'offset') offset = Number(value);
      else if (key === 'length') length = Number(value);
    }
  }
  if (externalFlag && location !== undefined) t.external = { location, offset, ...(length !== undefined ? { length } : {}) };
  if (!t.raw && !t.external) {
    const floats = fields.some((f) => f.no === 4) ? readFloats(buf, fields) : undefined;
    const int32s = fields.some((f) => f.no === 5) ? repeatedInts(buf, fields, 5) : undefined;
    const int64s = fields.some((f) => f.no === 7) ? repeatedInts(buf, fields, 7) : undefined;
    if (floats || int32s || int64s) t.typed = { ...(floats ? { floats } : {}), ...(int32s ? { int32s } : {}), ...(int64s ? { int64s } : {}) };
  }
  return t;
}

function readFloats(buf: Uint8Array, fields: Field[]): number[] {
  const out: number[] = [];
  for (const f of fields) {
    if (f.no !== 4) continue;
    if (f.wire === WIRE_LEN) {
      const view = new DataView(buf.buffer, buf.byteOffset + f.from, f.to - f.from);
      for (let i = 0; i + 4 <= view.byteLength; i += 4) out.push(view.getFloat32(i, true));
    } else out.push(asFloat(f));
  }
  return out;
}

function parseValueInfo(buf: Uint8Array, msg: Field): OnnxValueInfo {
  const info: OnnxValueInfo = { name: '' };
  for (const f of readFields(buf, msg.from, msg.to)) {
    if (f.no === 1) info.name = asString(buf, f);
    else if (f.no === 2 && f.wire === WIRE_LEN) {
      const tensorType = readFields(buf, f.from, f.to).find((x) => x.no === 1 && x.wire === WIRE_LEN);
      if (!tensorType) continue;
      for (const x of readFields(buf, tensorType.from, tensorType.to)) {
        if (x.no === 1) info.elemType = asInt(x);
        else if (x.no === 2 && x.wire === WIRE_LEN) {
          info.dims = readFields(buf, x.from, x.to)
            .filter((d) => d.no === 1 && d.wire === WIRE_LEN)
            .map((d) => {
              const dim = readFields(buf, d.from, d.to);
              const value = dim.find((y) => y.no === 1);
              const param = dim.find((y) => y.no === 2);
              return value ? asInt(value) : param ? asString(buf, param) : undefined;
            });
        }
      }
    }
  }
  return info;
}

/**
 * A tensor's bytes, little-endian as raw_data holds them: from raw_data, from an external data
 * file (`external` maps a file name to its bytes), or packed from the typed fields.
 */
export function tensorBytes(t: OnnxTensor, external: ReadonlyMap<string, Uint8Array> = new Map()): Uint8Array {
  if (t.raw) return t.raw;
  const count = t.dims.reduce((a, b) => a * b, 1);
  const size = elementBytes(t.dataType);
  if (t.external) {
    const file = external.get(t.external.location) ?? external.get(t.external.location.split('/').pop()!);
    if (!file) throw new OnnxFormatError(`${t.name} lies in ${t.external.location}, which was not loaded`);
    const length = t.external.length ?? count * (size ?? 0);
    if (t.external.offset + length > file.length) throw new OnnxFormatError(`${t.name} lies past the end of ${t.external.location}`);
    return file.subarray(t.external.offset, t.external.offset + length);
  }
  if (size === undefined) throw new OnnxFormatError(`${t.name}: data type ${t.dataType} is not supported here`);
  const out = new Uint8Array(count * size);
  const view = new DataView(out.buffer);
  if (t.typed?.floats && t.dataType === DT.FLOAT) t.typed.floats.forEach((v, i) => view.setFloat32(i * 4, v, true));
  else if (t.typed?.int64s && (t.dataType === DT.INT64 || t.dataType === DT.UINT64)) t.typed.int64s.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  else if (t.typed?.int32s && size <= 4) {
    t.typed.int32s.forEach((v, i) => {
      if (size === 4) view.setInt32(i * 4, v, true);
      else if (size === 2) view.setUint16(i * 2, v & 0xffff, true);
      else view.setUint8(i, v & 0xff);
    });
  } else if (count > 0) {
    throw new OnnxFormatError(`${t.name}: its values are stored in a form this edit does not read`);
  }
  return out;
}

export function encodeNode(n: OnnxNode): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  if (n.name) w.string(3, n.name);
  w.string(4, n.opType);
  for (const a of n.attributes) w.raw(a.bytes);
  if (n.domain) w.string(7, n.domain);
  return w;
}

/** An attribute as a field of NodeProto (field 5, tag included). */
export function intAttribute(name: string, value: number): OnnxAttribute {
  const inner = new ProtoWriter().string(1, name).int(3, value).int(20, 2 /* INT */);
  return { name, type: 2, i: value, hasGraph: false, bytes: new ProtoWriter().message(5, inner).finish() };
}

export function encodeTensor(name: string, dataType: number, dims: readonly number[], raw: Uint8Array): ProtoWriter {
  return new ProtoWriter().ints(1, dims).int(2, dataType).string(8, name).bytes(9, raw);
}

export function encodeValueInfo(info: OnnxValueInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of info.dims ?? []) {
    const dim = new ProtoWriter();
    if (typeof d === 'number') dim.int(1, d);
    else if (typeof d === 'string') dim.string(2, d);
    shape.message(1, dim);
  }
  const tensorType = new ProtoWriter().int(1, info.elemType ?? DT.FLOAT).message(2, shape);
  const type = new ProtoWriter().message(1, tensorType);
  return new ProtoWriter().string(1, info.name).message(2, type);
}

/**
 * The model with its graph's entries replaced by `entries` (written in that order; an entry
 * whose field is unchanged is copied as it was). Every other field of the model stays as it was.
 */
export function writeOnnxModel(view: OnnxModelView, entries: { no: number; bytes: Uint8Array | ProtoWriter }[]): Uint8Array {
  const graph = new ProtoWriter();
  for (const e of entries) {
    if (e.bytes instanceof ProtoWriter) graph.message(e.no, e.bytes);
    else graph.raw(e.bytes);
  }
  const model = new ProtoWriter();
  for (const f of view.modelFields) {
    if (f === view.graphField) model.message(7, graph);
    else model.raw(view.bytes.subarray(f.start, f.end));
  }
  return model.finish();
}
