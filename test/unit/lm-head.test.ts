/**
 * The yes/no head edit (src/models/onnx/lm-head.ts) in onnxruntime-node: the edited graph's logits
 * [B, 1, 2] equal the full graph's logits at position T-1 for the kept rows (and, with positions
 * 'all' for right-padded models, [B, T, 2] equal them at every position), for the
 * tiny-qwen3-reranker fixture (a tied Gemm head) and for small graphs with each head an export
 * may have (MatMul on [H,V], MatMul on a transposed tied embedding, Gemm with a bias, fp16,
 * com.microsoft MatMulNBits with and without zero points, dynamic-int8 MatMulInteger), and it
 * refuses what it does not understand instead of guessing. The edit's own account of the graph it
 * wrote (nodes, opsets, outputs: what the session reads its CPU-only nodes from) is what a read of
 * the written bytes gives.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { HeadEditUnsupported, pruneLmHead } from '../../src/models/onnx/lm-head.ts';
import { readGraph } from '../../src/models/onnx/onnx-graph.ts';
import { MODELS_DIR } from '../fixtures/build/index.ts';
import { NO_ID, QWEN3_VOCAB_SIZE, YES_ID } from '../fixtures/build/qwen3-tokenizer.ts';
import { toHalfBits, fromHalfBits } from '../fixtures/build/graph.ts';

const { onnx } = onnxProto;
const DT = onnx.TensorProto.DataType;

// ---------------------------------------------------------------- tiny-qwen3-reranker

describe('the tied Gemm head of tiny-qwen3-reranker', () => {
  const bytes = new Uint8Array(readFileSync(join(MODELS_DIR, 'tiny-qwen3-reranker', 'onnx', 'model.onnx')));

  it('becomes logits [batch_size, 1, 2] equal to the full logits at T-1 for yes and no, batch of mixed lengths', async () => {
    const edit = pruneLmHead(bytes, { rows: [YES_ID, NO_ID] });
    expect(edit).toMatchObject({ headOp: 'Gemm', vocab: QWEN3_VOCAB_SIZE });
    expect(edit.droppedOutputs).toEqual(['present.0.key', 'present.0.value', 'present.1.key', 'present.1.value']);
    expect(edit.graph).toEqual(readGraph(edit.onnx));
    expect(edit.graph.outputs).toEqual([{ name: 'logits', elemType: DT.FLOAT, dims: ['batch_size', 1, 2] }]);
    // The embedding is tied: it stays (the Gather reads it); nothing vocabulary-sized is added.
    expect(Math.abs(edit.onnx.length - bytes.length)).toBeLessThan(4096);
    const full = await ort.InferenceSession.create(bytes);
    const small = await ort.InferenceSession.create(edit.onnx);
    expect(small.outputNames).toEqual(['logits']);
    expect(small.outputMetadata[0]).toMatchObject({ name: 'logits', type: 'float32', shape: ['batch_size', 1, 2] });

    // Left padding, positions counted over real tokens (as the engine feeds them).
    const seqs = [[151644, 872, 198, 9693], [17, 9707], [1, 2, 3, 4, 5, 6, 7]];
    const T = 7;
    const feeds = (s: ort.InferenceSession) => {
      const ids: bigint[] = [], mask: bigint[] = [], pos: bigint[] = [];
      for (const seq of seqs) {
        const pad = T - seq.length;
        for (let t = 0; t < T; t++) {
          ids.push(BigInt(t < pad ? 151643 : seq[t - pad]!));
          mask.push(t < pad ? 0n : 1n);
          pos.push(BigInt(Math.max(0, t - pad)));
        }
      }
      const f: Record<string, ort.Tensor> = {
        input_ids: new ort.Tensor('int64', BigInt64Array.from(ids), [3, T]),
        attention_mask: new ort.Tensor('int64', BigInt64Array.from(mask), [3, T]),
        position_ids: new ort.Tensor('int64', BigInt64Array.from(pos), [3, T]),
      };
      for (const n of s.inputNames) if (n.startsWith('past_key_values.')) f[n] = new ort.Tensor('float32', new Float32Array(0), [3, 2, 0, 8]);
      return f;
    };
    const a = (await full.run(feeds(full)))['logits']!;
    const b = (await small.run(feeds(small)))['logits']!;
    expect(b.dims).toEqual([3, 1, 2]);
    const V = QWEN3_VOCAB_SIZE;
    const fullData = a.data as Float32Array;
    const want = [0, 1, 2].flatMap((r) => [fullData[(r * T + T - 1) * V + YES_ID]!, fullData[(r * T + T - 1) * V + NO_ID]!]);
    const got = Array.from(b.data as Float32Array);
    for (let i = 0; i < 6; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(1e-5);
    expect(new Set(want.map((x) => x.toFixed(4))).size).toBe(6); // the rows really differ
    await Promise.all([full.release(), small.release()]);
  });

  it('keeps the rows in the order asked (no, yes)', async () => {
    const a = await ort.InferenceSession.create(pruneLmHead(bytes, { rows: [YES_ID, NO_ID] }).onnx);
    const b = await ort.InferenceSession.create(pruneLmHead(bytes, { rows: [NO_ID, YES_ID] }).onnx);
    const f: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from([5n, 6n]), [1, 2]),
      attention_mask: new ort.Tensor('int64', BigInt64Array.from([1n, 1n]), [1, 2]),
      position_ids: new ort.Tensor('int64', BigInt64Array.from([0n, 1n]), [1, 2]),
    };
    for (const n of a.inputNames) if (n.startsWith('past_key_values.')) f[n] = new ort.Tensor('float32', new Float32Array(0), [1, 2, 0, 8]);
    const x = Array.from((await a.run(f))['logits']!.data as Float32Array);
    const y = Array.from((await b.run(f))['logits']!.data as Float32Array);
    expect(y).toEqual([x[1], x[0]]);
  });
});

// ---------------------------------------------------------------- small graphs, one per kind of head

const H = 32, V = 50, ROWS = [V - 1, 3];

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}
const floats = (n: number, seed: number, scale = 1) => {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => (r() * 2 - 1) * scale);
};
const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

type Tensor = InstanceType<typeof onnx.TensorProto>;
const tensor = (name: string, dataType: number, dims: number[], raw: Uint8Array): Tensor => onnx.TensorProto.create({ name, dataType, dims, rawData: raw });
const f32 = (name: string, dims: number[], data: Float32Array) => tensor(name, DT.FLOAT, dims, bytesOf(data));
const f16 = (name: string, dims: number[], data: Float32Array) => tensor(name, DT.FLOAT16, dims, bytesOf(Uint16Array.from(data, toHalfBits)));
const i64 = (name: string, values: number[]) => tensor(name, DT.INT64, [values.length], bytesOf(BigInt64Array.from(values.map(BigInt))));
const u8 = (name: string, dims: number[], data: Uint8Array) => tensor(name, DT.UINT8, dims, data);

interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  domain?: string;
  attrs?: Record<string, number | number[] | { f: number }>;
}
function nodeProto(n: NodeSpec) {
  const AT = onnx.AttributeProto.AttributeType;
  return onnx.NodeProto.create({
    opType: n.op,
    input: n.inputs,
    output: n.outputs,
    name: n.outputs[0],
    ...(n.domain ? { domain: n.domain } : {}),
    attribute: Object.entries(n.attrs ?? {}).map(([name, v]) =>
      Array.isArray(v)
        ? onnx.AttributeProto.create({ name, type: AT.INTS, ints: v })
        : typeof v === 'object'
          ? onnx.AttributeProto.create({ name, type: AT.FLOAT, f: v.f })
          : onnx.AttributeProto.create({ name, type: AT.INT, i: v }),
    ),
  });
}

/**
 * A dynamic int8 head on `input`: DynamicQuantizeLinear → MatMulInteger with initializers Wq and
 * wzp → Cast → Mul by q_scale × w_scale → `logits`.
 */
const dynamicInt8Head = (input: string): NodeSpec[] => [
  { op: 'DynamicQuantizeLinear', inputs: [input], outputs: ['q', 'q_scale', 'q_zp'] },
  { op: 'MatMulInteger', inputs: ['q', 'Wq', 'q_zp', 'wzp'], outputs: ['acc'] },
  { op: 'Cast', inputs: ['acc'], outputs: ['accf'], attrs: { to: DT.FLOAT } },
  { op: 'Mul', inputs: ['q_scale', 'w_scale'], outputs: ['scale'] },
  { op: 'Mul', inputs: ['accf', 'scale'], outputs: ['logits'] },
];

/** A model: input `hidden` [batch, seq, H] (float or half) → nodes → output `logits` [batch, seq, V]. */
function model(nodes: NodeSpec[], inits: Tensor[], elem: 'float' | 'half' = 'float', extraOutputs: string[] = []): Uint8Array {
  const type = elem === 'half' ? DT.FLOAT16 : DT.FLOAT;
  const vi = (name: string, dims: (number | string)[]) =>
    onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: type, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } } });
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 17 }, { domain: 'com.microsoft', version: 1 }],
      graph: onnx.GraphProto.create({
        name: 'head',
        node: nodes.map(nodeProto),
        initializer: inits,
        input: [vi('hidden', ['batch', 'seq', H])],
        output: [vi('logits', ['batch', 'seq', V]), ...extraOutputs.map((n) => vi(n, ['batch', 'seq', H]))],
      }),
    }),
  ).finish();
}

/**
 * Both edits against the full graph: positions 'last' gives [B, 1, 2] = the full logits' kept rows
 * at T-1 (left padding); positions 'all' gives [B, T, 2] = the kept rows at every position (right
 * padding: the score kernel then picks each row's last real token).
 */
async function expectPrunedMatches(bytes: Uint8Array, elem: 'float' | 'half' = 'float', tol = 1e-5): Promise<string> {
  const B = 3, T = 4;
  const x = floats(B * T * H, 7);
  const feed = elem === 'half' ? new ort.Tensor('float16', Uint16Array.from(x, toHalfBits), [B, T, H]) : new ort.Tensor('float32', x, [B, T, H]);
  const full = await ort.InferenceSession.create(bytes);
  const read = (t: ort.Tensor) => (t.type === 'float16' ? Array.from(t.data as Uint16Array, fromHalfBits) : Array.from(t.data as Float32Array));
  const a = read((await full.run({ hidden: feed }))['logits']!);
  let headOp = '';
  for (const positions of ['last', 'all'] as const) {
    const edit = pruneLmHead(bytes, { rows: ROWS, positions });
    headOp = edit.headOp;
    expect(edit.graph, `${positions}: the edit's account of its graph`).toEqual(readGraph(edit.onnx));
    const small = await ort.InferenceSession.create(edit.onnx);
    const out = (await small.run({ hidden: feed }))['logits']!;
    const kept = positions === 'last' ? [T - 1] : [0, 1, 2, 3];
    expect(out.dims).toEqual([B, kept.length, 2]);
    expect(small.outputMetadata[0]).toMatchObject({ shape: ['batch', positions === 'last' ? 1 : 'seq', 2] });
    const b = read(out);
    for (let r = 0; r < B; r++) {
      kept.forEach((t, j) =>
        ROWS.forEach((row, k) =>
          expect(Math.abs(b[(r * kept.length + j) * 2 + k]! - a[(r * T + t) * V + row]!), `${positions}: row ${r} position ${t} class ${row}`).toBeLessThanOrEqual(tol),
        ),
      );
    }
    await small.release();
  }
  await full.release();
  return headOp;
}

describe('each kind of LM head an export may have', () => {
  it('MatMul on a [H, V] weight, then Add of a [V] bias, Mul by a scalar and a Cast', async () => {
    const bytes = model(
      [
        { op: 'MatMul', inputs: ['hidden', 'W'], outputs: ['mm'] },
        { op: 'Add', inputs: ['bias', 'mm'], outputs: ['biased'] },
        { op: 'Mul', inputs: ['biased', 'scale'], outputs: ['scaled'] },
        { op: 'Cast', inputs: ['scaled'], outputs: ['logits'], attrs: { to: DT.FLOAT } },
      ],
      [f32('W', [H, V], floats(H * V, 1)), f32('bias', [V], floats(V, 2)), f32('scale', [], Float32Array.of(0.5))],
    );
    expect(await expectPrunedMatches(bytes)).toBe('MatMul');
    // The [H, V] weight left the graph: only [H, 2] came in.
    expect(pruneLmHead(bytes, { rows: ROWS }).removedInitializerBytes).toBeGreaterThanOrEqual(H * V * 4 + V * 4);
  });

  it('MatMul on a Transpose of a tied [V, H] embedding that a Gather also reads (the embedding stays)', async () => {
    const bytes = model(
      [
        { op: 'Transpose', inputs: ['E'], outputs: ['Et'], attrs: { perm: [1, 0] } },
        { op: 'MatMul', inputs: ['hidden', 'Et'], outputs: ['logits'] },
        { op: 'Gather', inputs: ['E', 'idx'], outputs: ['row'], attrs: { axis: 0 } },
        { op: 'Add', inputs: ['hidden', 'row'], outputs: ['also'] },
      ],
      [f32('E', [V, H], floats(V * H, 3)), i64('idx', [0])],
      'float',
      ['also'],
    );
    expect(await expectPrunedMatches(bytes)).toBe('MatMul');
    const edit = pruneLmHead(bytes, { rows: ROWS });
    expect(edit.removedInitializerBytes).toBe(0);
    const s = await ort.InferenceSession.create(edit.onnx);
    expect(s.outputNames).toEqual(['logits', 'also']);
  });

  it('Gemm (transB 0) with a [V] bias on a Reshape to [B·T, H], Reshape back', async () => {
    const bytes = model(
      [
        { op: 'Reshape', inputs: ['hidden', 'flat'], outputs: ['h2'] },
        { op: 'Gemm', inputs: ['h2', 'W', 'C'], outputs: ['g'] },
        { op: 'Shape', inputs: ['hidden'], outputs: ['hs'] },
        { op: 'Slice', inputs: ['hs', 's0', 's2', 'ax0'], outputs: ['bt'] },
        { op: 'Concat', inputs: ['bt', 'vdim'], outputs: ['shape'], attrs: { axis: 0 } },
        { op: 'Reshape', inputs: ['g', 'shape'], outputs: ['logits'] },
      ],
      [f32('W', [H, V], floats(H * V, 4)), f32('C', [V], floats(V, 5)), i64('flat', [-1, H]), i64('s0', [0]), i64('s2', [2]), i64('ax0', [0]), i64('vdim', [V])],
    );
    expect(await expectPrunedMatches(bytes)).toBe('Gemm');
  });

  it('fp16: MatMul on a half [H, V] weight with half logits', async () => {
    const bytes = model([{ op: 'MatMul', inputs: ['hidden', 'W'], outputs: ['logits'] }], [f16('W', [H, V], floats(H * V, 6))], 'half');
    expect(await expectPrunedMatches(bytes, 'half', 1e-2)).toBe('MatMul');
  });

  for (const zeroPoints of [true, false]) {
    it(`com.microsoft MatMulNBits (4-bit, block 16${zeroPoints ? ', uint8 zero points' : ''})`, async () => {
      const block = 16, blocks = H / block, blob = block / 2;
      const r = rng(9);
      const B = Uint8Array.from({ length: V * blocks * blob }, () => Math.floor(r() * 256));
      const scales = floats(V * blocks, 10, 0.1);
      const zp = Uint8Array.from({ length: V * Math.ceil(blocks / 2) }, () => Math.floor(r() * 256));
      const inits = [u8('B', [V, blocks, blob], B), f32('scales', [V * blocks], scales), ...(zeroPoints ? [u8('zp', [V * Math.ceil(blocks / 2)], zp)] : [])];
      const bytes = model(
        [{ op: 'MatMulNBits', domain: 'com.microsoft', inputs: ['hidden', 'B', 'scales', ...(zeroPoints ? ['zp'] : [])], outputs: ['logits'], attrs: { K: H, N: V, bits: 4, block_size: block } }],
        inits,
      );
      expect(await expectPrunedMatches(bytes, 'float', 1e-4)).toBe('MatMulNBits');
    });
  }

  it('dynamic int8: DynamicQuantizeLinear → MatMulInteger (per-column zero point) → Cast → Mul by the combined scale', async () => {
    const r = rng(11);
    const Wq = Uint8Array.from({ length: H * V }, () => Math.floor(r() * 256));
    const wzp = Uint8Array.from({ length: V }, () => 100 + Math.floor(r() * 50));
    const bytes = model(
      dynamicInt8Head('hidden'),
      [u8('Wq', [H, V], Wq), u8('wzp', [V], wzp), f32('w_scale', [], Float32Array.of(0.01))],
    );
    // Same quantization of the activations (the slice comes after it): the same numbers.
    expect(await expectPrunedMatches(bytes, 'float', 1e-6)).toBe('MatMulInteger');
  });

  it('dynamic int8 whose activations were computed from a large constant (a rotary cache, an embedding table): not mistaken for a vocabulary operand', async () => {
    // The combined scale reads DynamicQuantizeLinear's activation scale; walking back from it reaches
    // the network below, here a [64, H] table (more values than V, as a GQA graph's [32768, 8] sin
    // cache was for Qwen3's vocabulary). That is the activations' history, not a per-row operand.
    const r = rng(12);
    const Wq = Uint8Array.from({ length: H * V }, () => Math.floor(r() * 256));
    const bytes = model(
      [
        { op: 'Gather', inputs: ['table', 'row'], outputs: ['bias'] },
        { op: 'Add', inputs: ['hidden', 'bias'], outputs: ['h2'] },
        ...dynamicInt8Head('h2'),
      ],
      [f32('table', [64, H], floats(64 * H, 13)), i64('row', [5]), u8('Wq', [H, V], Wq), u8('wzp', [], Uint8Array.of(128)), f32('w_scale', [], Float32Array.of(0.01))],
    );
    expect(await expectPrunedMatches(bytes, 'float', 1e-6)).toBe('MatMulInteger');
  });
});

describe('where the head weight lies', () => {
  it('in an external data file (the kept rows come inline; the edited model needs the file no more)', async () => {
    const W = floats(H * V, 12);
    const inline = model([{ op: 'MatMul', inputs: ['hidden', 'W'], outputs: ['logits'] }], [f32('W', [H, V], W)]);
    const ext = onnx.TensorProto.create({
      name: 'W',
      dataType: DT.FLOAT,
      dims: [H, V],
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [{ key: 'location', value: 'model.onnx_data' }, { key: 'offset', value: '64' }, { key: 'length', value: String(H * V * 4) }],
    });
    const external = model([{ op: 'MatMul', inputs: ['hidden', 'W'], outputs: ['logits'] }], [ext]);
    const file = new Uint8Array(64 + H * V * 4);
    file.set(bytesOf(W), 64);
    expect(() => pruneLmHead(external, { rows: ROWS })).toThrow(/model\.onnx_data, which was not loaded/);
    const edit = pruneLmHead(external, { rows: ROWS, externalData: [{ path: 'onnx/model.onnx_data', data: file }] });
    const x = new ort.Tensor('float32', floats(2 * 3 * H, 13), [2, 3, H]);
    const a = await ort.InferenceSession.create(pruneLmHead(inline, { rows: ROWS }).onnx);
    const b = await ort.InferenceSession.create(edit.onnx);
    expect(Array.from((await b.run({ hidden: x }))['logits']!.data as Float32Array)).toEqual(Array.from((await a.run({ hidden: x }))['logits']!.data as Float32Array));
  });

  it('listed among the graph inputs too (older exports): the removed weight is not asked for', async () => {
    const bytes = model([{ op: 'MatMul', inputs: ['hidden', 'W'], outputs: ['logits'] }], [f32('W', [H, V], floats(H * V, 14))]);
    const m = onnx.ModelProto.decode(bytes);
    m.graph!.input!.push(onnx.ValueInfoProto.create({ name: 'W', type: { tensorType: { elemType: DT.FLOAT, shape: { dim: [{ dimValue: H }, { dimValue: V }] } } } }));
    const withInput = onnx.ModelProto.encode(m).finish();
    const s = await ort.InferenceSession.create(pruneLmHead(withInput, { rows: ROWS }).onnx);
    expect(s.inputNames).toEqual(['hidden']);
    await expectPrunedMatches(withInput);
  });
});

describe('what the edit refuses (the engine then keeps the full logits)', () => {
  const W = () => f32('W', [H, V], floats(H * V, 1));

  it('a Softmax between the head and the output', () => {
    const bytes = model(
      [
        { op: 'MatMul', inputs: ['hidden', 'W'], outputs: ['mm'] },
        { op: 'Softmax', inputs: ['mm'], outputs: ['logits'], attrs: { axis: -1 } },
      ],
      [W()],
    );
    expect(() => pruneLmHead(bytes, { rows: ROWS })).toThrow(HeadEditUnsupported);
    expect(() => pruneLmHead(bytes, { rows: ROWS })).toThrow(/made by Softmax/);
  });

  it('a row past the vocabulary, a missing output, a head value with other readers', () => {
    const plain = model([{ op: 'MatMul', inputs: ['hidden', 'W'], outputs: ['logits'] }], [W()]);
    expect(() => pruneLmHead(plain, { rows: [V, 0] })).toThrow(/more than 50 rows/);
    expect(() => pruneLmHead(plain, { rows: ROWS, output: 'scores' })).toThrow(/no 'scores' output/);
    const shared = model(
      [
        { op: 'MatMul', inputs: ['hidden', 'W'], outputs: ['mm'] },
        { op: 'Cast', inputs: ['mm'], outputs: ['logits'], attrs: { to: DT.FLOAT } },
        { op: 'ReduceMax', inputs: ['mm'], outputs: ['also'], attrs: { keepdims: 1 } },
      ],
      [W()],
      'float',
      ['also'],
    );
    expect(() => pruneLmHead(shared, { rows: ROWS })).toThrow(/other readers/);
  });

  it('a per-vocabulary-row scale that is computed, not a constant it could cut', () => {
    const r = rng(14);
    const bytes = model(
      dynamicInt8Head('hidden'),
      [u8('Wq', [H, V], Uint8Array.from({ length: H * V }, () => Math.floor(r() * 256))), u8('wzp', [], Uint8Array.of(128)), f32('w_scale', [V], floats(V, 15, 0.01))],
    );
    expect(() => pruneLmHead(bytes, { rows: ROWS })).toThrow(/computed from the vocabulary-sized w_scale/);
  });
});
