/**
 * The yes/no reranker's graph edit, done once when the model loads (as vLLM keeps only the
 * "yes" and "no" rows of Qwen3-Reranker's LM head): the full-vocabulary head is replaced by one
 * that reads the last position only and computes the kept rows only, so the [B, T, vocab] logits
 * (151,669 floats per token) are never made, on the GPU or anywhere.
 *
 *   before:  hidden [B,T,H] ─(Reshape)─ head(W [V,H] or [H,V]) ─(Reshape/Cast/…)─▶ logits [B,T,V]
 *   after:   hidden [B,T,H] ─ Slice(T-1:T) ─ head(W' = the kept rows) ─(Cast/…)─▶ logits [B,1,k]
 *
 * With left padding position T-1 is every row's last real token. A right-padded model (a
 * GroupQueryAttention graph, which cannot take left padding) has its last real tokens at
 * different positions, so there the edit keeps every position (`positions: 'all'`: logits
 * [B,T,k], k = 2 values a token, H·k multiply-adds) and the score kernel picks each row's last
 * real token by the attention mask, as it does for full logits. The heads understood: MatMul
 * (weight [H,V], or a Transpose of a tied [V,H] embedding), Gemm (transB 0/1, optional bias),
 * com.microsoft MatMulNBits (4-bit exports: rows of B, scales, zero points) and MatMulInteger
 * (dynamic int8 exports). Between the head and the output: Reshape / Identity (dropped), Cast and
 * elementwise ops whose other operand is a scalar or a [V] vector (sliced). Anything else throws
 * HeadEditUnsupported and the engine keeps the graph whole (info.head 'full-logits').
 * Graph outputs a scorer never reads (the KV-cache export's present.*) can be dropped too.
 */
import { DT, elementBytes, encodeNode, encodeTensor, encodeValueInfo, intAttribute, nodeOp, parseOnnxModel, readOpsets, tensorBytes, writeOnnxModel, type GraphEntry, type OnnxGraph, type OnnxNode, type OnnxTensor, type OnnxValueInfo } from './onnx-graph.ts';
import type { ProtoWriter } from './protobuf.ts';

export interface LmHeadEditOptions {
  /** vocabulary rows to keep, in output order: [yes, no] */
  rows: readonly number[];
  /** the graph output holding the logits (default 'logits') */
  output?: string;
  /** external data files of the model, for a head stored outside the .onnx file */
  externalData?: readonly { path: string; data: Uint8Array }[];
  /** graph outputs to drop as well (default: present.* — the KV cache a scorer never reads) */
  dropOutputs?: (name: string) => boolean;
  /**
   * 'last' (default): the logits at position T-1 only, [B,1,k] — every row's last real token
   * under left padding; 'all': at every position, [B,T,k], for right padding.
   */
  positions?: 'last' | 'all';
}

export interface LmHeadEdit {
  onnx: Uint8Array;
  /** the edited graph as readGraph would read `onnx` (its nodes, opsets, outputs), without reading it */
  graph: OnnxGraph;
  /** the op that computed the full logits */
  headOp: string;
  /** the vocabulary size of the original head */
  vocab: number;
  droppedOutputs: string[];
  /** nodes gone from the graph (the head, what fed only it, what read only the dropped outputs) */
  removedNodes: number;
  /** initializer bytes gone (an untied LM head's weights, for one) */
  removedInitializerBytes: number;
}

/** The graph's head is not one this edit understands; the message says what was found. */
export class HeadEditUnsupported extends Error {}

const HEAD_OPS = new Set(['MatMul', 'Gemm', 'MatMulNBits', 'MatMulInteger']);
const DROPPED = new Set(['Reshape', 'Identity']);
const UNARY = new Set(['Cast', 'Tanh']);
const BINARY = new Set(['Add', 'Sub', 'Mul', 'Div']);
const PREFIX = 'webgpu_embed_head';
const INT64_MAX = 9223372036854775807n;

interface Step {
  node: OnnxNode;
  entry: number;
  /** which input carries the logits */
  data: number;
}

/**
 * Rewrites the model so that `output` is [B, 1, rows.length]: the logits of the kept rows at the
 * last position ([B, T, rows.length], every position, with `positions: 'all'`).
 *
 * @example
 * const edit = pruneLmHead(model.onnx, { rows: [9693, 2152] });
 * edit.onnx; // logits [batch_size, 1, 2]
 */
export function pruneLmHead(onnx: Uint8Array, opts: LmHeadEditOptions): LmHeadEdit {
  const outputName = opts.output ?? 'logits';
  const rows = [...opts.rows];
  const drop = opts.dropOutputs ?? ((n: string) => /^present[._]/.test(n));
  const view = parseOnnxModel(onnx);
  const { entries } = view;
  const external = new Map((opts.externalData ?? []).map((d) => [d.path.split('/').pop()!, d.data]));

  const producer = new Map<string, number>();
  const consumers = new Map<string, number>();
  const consts = new Map<string, OnnxTensor>();
  let hasSubgraphs = false;
  entries.forEach((e, i) => {
    if (e.kind === 'initializer') consts.set(e.tensor.name, e.tensor);
    if (e.kind !== 'node') return;
    for (const o of e.node.outputs) producer.set(o, i);
    for (const x of e.node.inputs) if (x) consumers.set(x, (consumers.get(x) ?? 0) + 1);
    if (e.node.attributes.some((a) => a.hasGraph)) hasSubgraphs = true;
    if (e.node.opType === 'Constant' && e.node.domain === '') {
      const t = e.node.attributes.find((a) => a.name === 'value')?.t;
      if (t) consts.set(e.node.outputs[0]!, { ...t, name: e.node.outputs[0]! });
    }
  });
  const nodeAt = (i: number) => (entries[i] as Extract<GraphEntry, { kind: 'node' }>).node;
  const outputEntry = entries.findIndex((e) => e.kind === 'output' && e.info.name === outputName);
  if (outputEntry < 0) throw new HeadEditUnsupported(`the graph has no '${outputName}' output`);
  if (consumers.get(outputName)) throw new HeadEditUnsupported(`'${outputName}' is also read inside the graph`);
  const maxRow = Math.max(...rows);

  // ---- the head: walk back from the output through the ops allowed after it
  const weightOf = (node: OnnxNode) => headWeight(node, consts, producer, nodeAt);
  const find = (value: string, depth: number): { head: number; chain: Step[] } | undefined => {
    const i = producer.get(value);
    if (i === undefined || depth > 12) return undefined;
    const node = nodeAt(i);
    if (HEAD_OPS.has(node.opType) && (node.domain === '' || node.domain === 'com.microsoft')) {
      const w = weightOf(node);
      if (w && w.vocab > maxRow) return { head: i, chain: [] };
      return undefined;
    }
    const candidates = DROPPED.has(node.opType) || UNARY.has(node.opType) ? [0] : BINARY.has(node.opType) ? [0, 1] : [];
    for (const k of candidates) {
      const found = find(node.inputs[k] ?? '', depth + 1);
      if (found) {
        found.chain.push({ node, entry: i, data: k });
        return found;
      }
    }
    return undefined;
  };
  const found = find(outputName, 0);
  if (!found) {
    const p = producer.get(outputName);
    throw new HeadEditUnsupported(
      `no MatMul/Gemm/MatMulNBits/MatMulInteger head with more than ${maxRow} rows feeds '${outputName}'` +
        (p === undefined ? '' : ` (it is made by ${nodeAt(p).opType})`),
    );
  }
  const headNode = nodeAt(found.head);
  const weight = weightOf(headNode)!;
  const V = weight.vocab;
  const declared = (entries[outputEntry] as Extract<GraphEntry, { info: unknown }>).info;
  const lastDim = declared.dims?.at(-1);
  if (typeof lastDim === 'number' && lastDim !== V) throw new HeadEditUnsupported(`'${outputName}' has ${lastDim} classes but its head has ${V} rows`);
  // Every value between the head and the output must feed only the next step, or removing them breaks a reader.
  const between = found.chain.length ? [headNode.outputs[0]!, ...found.chain.slice(0, -1).map((s) => s.node.outputs[0]!)] : [];
  for (const v of between) {
    if ((consumers.get(v) ?? 0) !== 1) throw new HeadEditUnsupported(`the head's value ${v} has other readers`);
  }

  // ---- the new nodes: Slice of the last position, the small head, the chain's ops again
  const newInits: ProtoWriter[] = [];
  const addInit = (name: string, dataType: number, dims: number[], raw: Uint8Array) => {
    newInits.push(encodeTensor(name, dataType, dims, raw));
    return name;
  };
  const i64 = (name: string, values: bigint[]) => addInit(name, DT.INT64, [values.length], new Uint8Array(BigInt64Array.from(values).buffer));
  const data = headNode.inputs[0]!;
  const reshape = producer.get(data);
  // The fixture's head reads Reshape(hidden, [-1, H]): slice the [B,T,H] tensor before it.
  const hidden = reshape !== undefined && nodeAt(reshape).opType === 'Reshape' ? nodeAt(reshape).inputs[0]! : data;
  const allPositions = opts.positions === 'all';
  const sliced = allPositions ? hidden : `${PREFIX}/last_position`;
  const headNodes: OnnxNode[] = allPositions
    ? []
    : [node('Slice', [hidden, i64(`${PREFIX}/starts`, [-1n]), i64(`${PREFIX}/ends`, [INT64_MAX]), i64(`${PREFIX}/axes`, [1n])], [sliced])];
  const ext = (t: OnnxTensor) => tensorBytes(t, external);
  const headOut = found.chain.length ? `${PREFIX}/head` : outputName;
  // The head's activation input and what it was made from (a dynamic int8 head reads
  // DynamicQuantizeLinear(hidden)): an operand computed from these is per-run, never per-vocabulary.
  const activations = new Set([data, hidden]);
  if (reshape !== undefined && nodeAt(reshape).opType === 'DynamicQuantizeLinear') activations.add(nodeAt(reshape).inputs[0]!);
  buildHead(headNode, weight, rows, sliced, headOut, consts, ext, addInit, headNodes);

  const replicas = new Map<number, OnnxNode[]>();
  let current = headOut;
  found.chain.forEach((step, k) => {
    const isLast = k === found.chain.length - 1;
    const out = isLast ? outputName : `${PREFIX}/chain_${k}`;
    const { node: n } = step;
    if (DROPPED.has(n.opType)) {
      if (isLast) replicas.set(step.entry, [node('Identity', [current], [out])]);
      else replicas.set(step.entry, []);
      current = isLast ? out : current;
      return;
    }
    const inputs = [...n.inputs];
    inputs[step.data] = current;
    if (BINARY.has(n.opType)) {
      const k2 = 1 - step.data;
      inputs[k2] = sliceOperand(n.inputs[k2]!, V, rows, { consts, producer, nodeAt, activations }, ext, addInit, `${PREFIX}/operand_${k}`);
    }
    replicas.set(step.entry, [{ ...n, name: `${PREFIX}/${n.opType}_${k}`, inputs, outputs: [out] }]);
    current = out;
  });
  replicas.set(found.head, headNodes);

  // ---- outputs: the logits' new shape; the KV cache dropped
  const droppedOutputs: string[] = [];
  const keptOutputs = new Set<string>();
  const dims0 = declared.dims?.[0] ?? 'batch_size';
  const dims1 = allPositions ? (declared.dims?.[1] ?? 'sequence_length') : 1;
  const newInfo: OnnxValueInfo = { name: outputName, elemType: declared.elemType ?? DT.FLOAT, dims: [dims0, dims1, rows.length] };
  const newOutput = encodeValueInfo(newInfo);
  for (const e of entries) {
    if (e.kind !== 'output') continue;
    if (e.info.name !== outputName && drop(e.info.name)) droppedOutputs.push(e.info.name);
    else keptOutputs.add(e.info.name);
  }

  // ---- the rewritten node list, then dead code out (backwards: nodes are in topological order)
  const nodeList: { entry: number; node: OnnxNode; fresh: boolean; keep: boolean }[] = [];
  entries.forEach((e, i) => {
    if (e.kind !== 'node') return;
    const r = replicas.get(i);
    if (r) r.forEach((n) => nodeList.push({ entry: i, node: n, fresh: true, keep: true }));
    else nodeList.push({ entry: i, node: e.node, fresh: false, keep: true });
  });
  const live = new Set<string>(keptOutputs);
  if (!hasSubgraphs) {
    for (let k = nodeList.length - 1; k >= 0; k--) {
      const n = nodeList[k]!;
      n.keep = n.node.outputs.some((o) => live.has(o));
      if (n.keep) for (const x of n.node.inputs) if (x) live.add(x);
    }
  } else {
    // A subgraph may read any outer value without naming it as an input: keep every node and initializer.
    for (const { node: n } of nodeList) for (const x of n.inputs) if (x) live.add(x);
  }
  const byEntry = new Map<number, typeof nodeList>();
  for (const n of nodeList) byEntry.set(n.entry, [...(byEntry.get(n.entry) ?? []), n]);
  const changed = new Set([...headNode.outputs, ...found.chain.flatMap((s) => s.node.outputs)]);
  const initializerGone = (name: string) => !hasSubgraphs && !live.has(name) && consts.has(name);

  const out: { no: number; bytes: Uint8Array | ProtoWriter }[] = [];
  const graph: OnnxGraph = { nodes: [], opsets: readOpsets(onnx, view.modelFields), outputs: [] };
  let removedNodes = 0;
  let removedInitializerBytes = 0;
  entries.forEach((e, i) => {
    const original = view.bytes.subarray(e.field.start, e.field.end);
    if (e.kind === 'node') {
      for (const n of byEntry.get(i) ?? []) {
        if (n.keep) {
          out.push({ no: 1, bytes: n.fresh ? encodeNode(n.node) : original });
          graph.nodes.push(nodeOp(n.node));
        } else if (!n.fresh) removedNodes++;
      }
      if (replicas.has(i)) removedNodes++; // the head, or a step after it, replaced
    } else if (e.kind === 'initializer') {
      if (initializerGone(e.tensor.name)) removedInitializerBytes += e.field.to - e.field.from;
      else out.push({ no: 5, bytes: original });
    } else if (e.kind === 'input') {
      // Older exports list initializers among the inputs too: a removed one must not be asked for.
      if (!initializerGone(e.info.name)) out.push({ no: 11, bytes: original });
    } else if (e.kind === 'output') {
      if (e.info.name === outputName) {
        out.push({ no: 12, bytes: newOutput });
        graph.outputs.push(newInfo);
      } else if (keptOutputs.has(e.info.name)) {
        out.push({ no: 12, bytes: original });
        graph.outputs.push(e.info);
      }
    } else if (e.kind === 'value_info') {
      // Shapes of values that are gone, or that changed (the head's and the chain's), would mislead ORT.
      if (live.has(e.info.name) && !changed.has(e.info.name)) out.push({ no: 13, bytes: original });
    } else {
      out.push({ no: e.field.no, bytes: original });
    }
  });
  for (const t of newInits) out.push({ no: 5, bytes: t });

  return { onnx: writeOnnxModel(view, out), graph, headOp: headNode.opType, vocab: V, droppedOutputs, removedNodes, removedInitializerBytes };
}

function node(opType: string, inputs: string[], outputs: string[], domain = ''): OnnxNode {
  return { opType, domain, name: `${PREFIX}/${opType}_${outputs[0]!.split('/').pop()}`, inputs, outputs, attributes: [] };
}

type Lookup = (i: number) => OnnxNode;
type AddInit = (name: string, dataType: number, dims: number[], raw: Uint8Array) => string;

interface HeadWeight {
  vocab: number;
  /** the constant holding the weight */
  tensor: OnnxTensor;
  /** MatMul/MatMulInteger/Gemm: [V, H] ('rows') or [H, V] ('columns') */
  layout: 'rows' | 'columns' | 'nbits';
}

function headWeight(n: OnnxNode, consts: Map<string, OnnxTensor>, producer: Map<string, number>, nodeAt: Lookup): HeadWeight | undefined {
  const attr = (name: string) => n.attributes.find((a) => a.name === name);
  const w = n.inputs[1];
  if (!w) return undefined;
  if (n.opType === 'MatMulNBits') {
    const t = consts.get(w);
    const N = attr('N')?.i;
    return t && N ? { vocab: N, tensor: t, layout: 'nbits' } : undefined;
  }
  let t = consts.get(w);
  let transposed = false;
  if (!t && n.opType === 'MatMul') {
    // A tied head as exported: MatMul(h, Transpose(embed_tokens)).
    const p = producer.get(w);
    const tr = p === undefined ? undefined : nodeAt(p);
    const perm = tr?.attributes.find((a) => a.name === 'perm')?.ints;
    if (tr?.opType === 'Transpose' && (!perm || perm.join() === '1,0')) {
      t = consts.get(tr.inputs[0]!);
      transposed = true;
    }
  }
  if (!t || t.dims.length !== 2) return undefined;
  if (n.opType === 'Gemm') {
    if ((attr('transA')?.i ?? 0) !== 0 || (attr('alpha')?.f ?? 1) !== 1 || (attr('beta')?.f ?? 1) !== 1) return undefined;
    transposed = (attr('transB')?.i ?? 0) === 1;
  }
  return transposed ? { vocab: t.dims[0]!, tensor: t, layout: 'rows' } : { vocab: t.dims[1]!, tensor: t, layout: 'columns' };
}

/** The kept rows of a row-major [count, rowBytes] byte array. */
function takeRows(bytes: Uint8Array, rowBytes: number, rows: readonly number[]): Uint8Array {
  const out = new Uint8Array(rows.length * rowBytes);
  rows.forEach((r, k) => out.set(bytes.subarray(r * rowBytes, (r + 1) * rowBytes), k * rowBytes));
  return out;
}

/** The kept columns of a row-major [nRows, nCols] array of `elem`-byte values, as [nRows, cols]. */
function takeColumns(bytes: Uint8Array, nRows: number, nCols: number, elem: number, cols: readonly number[]): Uint8Array {
  const out = new Uint8Array(nRows * cols.length * elem);
  for (let r = 0; r < nRows; r++) {
    cols.forEach((c, k) => out.set(bytes.subarray((r * nCols + c) * elem, (r * nCols + c + 1) * elem), (r * cols.length + k) * elem));
  }
  return out;
}

function buildHead(
  n: OnnxNode,
  w: HeadWeight,
  rows: readonly number[],
  input: string,
  output: string,
  consts: ReadonlyMap<string, OnnxTensor>,
  bytesOf: (t: OnnxTensor) => Uint8Array,
  addInit: AddInit,
  into: OnnxNode[],
): void {
  const k = rows.length;
  const V = w.vocab;
  const constant = (name: string, what: string) => {
    const t = consts.get(name);
    if (!t) throw new HeadEditUnsupported(`${n.opType}'s ${what} ${name} is not a constant`);
    return t;
  };
  /** A per-vocabulary-row tensor (V rows of equal size) cut to the kept rows; a scalar stays as it is. */
  const perRow = (name: string, what: string): string => {
    const t = constant(name, what);
    const all = bytesOf(t);
    if (count(t) === 1) return name;
    if (all.length % V !== 0 || count(t) % V !== 0) {
      throw new HeadEditUnsupported(`${n.opType}'s ${what} (${t.dims.join('x')}) does not divide into ${V} rows`);
    }
    const dims = t.dims.length >= 2 && t.dims[0] === V ? [k, ...t.dims.slice(1)] : [(count(t) / V) * k];
    return addInit(`${PREFIX}/${what}`, t.dataType, dims, takeRows(all, all.length / V, rows));
  };

  if (w.layout === 'nbits') {
    // MatMulNBits: B [N, blocks, blob] uint8, scales [N·blocks], zero points [N·…], bias [N]: all by row of N.
    const inputs = [input, perRow(n.inputs[1]!, 'B')];
    inputs.push(n.inputs[2] ? perRow(n.inputs[2], 'scales') : '');
    if (n.inputs.length > 3) inputs.push(n.inputs[3] ? perRow(n.inputs[3], 'zero_points') : '');
    if (n.inputs.length > 4) inputs.push(n.inputs[4] ?? ''); // g_idx runs over K, not N
    if (n.inputs.length > 5) inputs.push(n.inputs[5] ? perRow(n.inputs[5], 'bias') : '');
    const attributes = n.attributes.map((a) => (a.name === 'N' ? intAttribute('N', k) : a));
    into.push({ opType: 'MatMulNBits', domain: n.domain, name: `${PREFIX}/MatMulNBits`, inputs, outputs: [output], attributes });
    return;
  }

  const t = w.tensor;
  const e = elementBytes(t.dataType);
  if (e === undefined) throw new HeadEditUnsupported(`${t.name} has data type ${t.dataType}`);
  const all = bytesOf(t);
  const [d0, d1] = t.dims as [number, number];
  // The small weight as [H, k], for MatMul / MatMulInteger.
  const H = w.layout === 'columns' ? d0 : d1;
  const small = w.layout === 'columns' ? takeColumns(all, d0, d1, e, rows) : transpose(takeRows(all, d1 * e, rows), k, H, e);
  const W = addInit(`${PREFIX}/W`, t.dataType, [H, k], small);

  if (n.opType === 'MatMulInteger') {
    const inputs = [input, W, n.inputs[2] ?? ''];
    if (n.inputs[3]) inputs.push(perRow(n.inputs[3], 'w_zero_point'));
    into.push({ opType: 'MatMulInteger', domain: '', name: `${PREFIX}/MatMulInteger`, inputs, outputs: [output], attributes: [] });
    return;
  }
  const bias = n.opType === 'Gemm' ? n.inputs[2] : undefined;
  if (!bias) {
    into.push({ opType: 'MatMul', domain: '', name: `${PREFIX}/MatMul`, inputs: [input, W], outputs: [output], attributes: [] });
    return;
  }
  into.push({ opType: 'MatMul', domain: '', name: `${PREFIX}/MatMul`, inputs: [input, W], outputs: [`${PREFIX}/matmul`], attributes: [] });
  into.push({ opType: 'Add', domain: '', name: `${PREFIX}/Add`, inputs: [`${PREFIX}/matmul`, perRow(bias, 'C')], outputs: [output], attributes: [] });
}

function count(t: OnnxTensor): number {
  return t.dims.reduce((a, b) => a * b, 1);
}

/** What the operand walk needs of the graph. */
interface GraphLookup {
  consts: ReadonlyMap<string, OnnxTensor>;
  producer: ReadonlyMap<string, number>;
  nodeAt: Lookup;
  /** the head's activation input and its sources: the walk stops there (per run, not per vocabulary row) */
  activations: ReadonlySet<string>;
}

/**
 * The other operand of an elementwise op after the head: a [V] (or [1,…,1,V]) constant is cut to
 * the kept rows; a scalar, or a value computed from no vocabulary-sized constant (the dynamic
 * int8 export's activation scale × weight scale), stays as it is; anything else is beyond this
 * edit. The walk back from a computed operand stops at the head's activations: what they were
 * computed from (the whole network, its embedding table and rotary caches) is not the operand's.
 */
function sliceOperand(
  name: string,
  V: number,
  rows: readonly number[],
  { consts, producer, nodeAt, activations }: GraphLookup,
  bytesOf: (t: OnnxTensor) => Uint8Array,
  addInit: AddInit,
  newName: string,
): string {
  const t = consts.get(name);
  if (t) {
    const c = count(t);
    if (c === 1) return name;
    if (c === V && t.dims.at(-1) === V) {
      const e = elementBytes(t.dataType);
      if (e === undefined) throw new HeadEditUnsupported(`${name} has data type ${t.dataType}`);
      return addInit(newName, t.dataType, [...t.dims.slice(0, -1), rows.length], takeRows(bytesOf(t), e, rows));
    }
    throw new HeadEditUnsupported(`an op after the head reads ${name} of shape [${t.dims.join(', ')}]`);
  }
  // A computed operand: fine unless some vocabulary-sized constant flows into it.
  const seen = new Set<string>();
  const stack = [name];
  while (stack.length) {
    const v = stack.pop()!;
    if (seen.has(v) || activations.has(v)) continue;
    seen.add(v);
    const c = consts.get(v);
    if (c && c.dims.includes(V)) throw new HeadEditUnsupported(`an op after the head reads ${name}, computed from the vocabulary-sized ${v}`);
    const p = producer.get(v);
    if (p !== undefined) stack.push(...nodeAt(p).inputs.filter(Boolean));
  }
  return name;
}

function transpose(bytes: Uint8Array, nRows: number, nCols: number, elem: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let r = 0; r < nRows; r++) {
    for (let c = 0; c < nCols; c++) out.set(bytes.subarray((r * nCols + c) * elem, (r * nCols + c + 1) * elem), (c * nRows + r) * elem);
  }
  return out;
}
