/**
 * GatherBlockQuantized in standard ops (src/models/onnx/gather-block-quantized.ts), the form the wasm
 * provider of onnxruntime-web's browser build can run. In Node onnxruntime-web's wasm build has the
 * op itself, so here the rewritten graph is held to the original one run by onnxruntime on the same
 * inputs: small one-node graphs written here (int4 and uint4 tables, float and float16 scales,
 * indices of rank 1 and 2, the first and last rows), and the zoo's embeddinggemma-shape q4 / q4f16
 * files whole.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { hasGatherBlockQuantized, rewriteGatherBlockQuantized } from '../../src/models/onnx/gather-block-quantized.ts';
import { DT, encodeNode, encodeTensor, encodeValueInfo, intAttribute, readGraph } from '../../src/models/onnx/onnx-graph.ts';
import { ProtoWriter } from '../../src/models/onnx/protobuf.ts';
import { toHalfBits } from '../fixtures/build/graph.ts';
import { ZOO } from './helpers/zoo-reference.ts';

const INT4 = 22;
const UINT4 = 21;

/** A model of one GatherBlockQuantized node: table [rows, width] of 4-bit codes, scales [rows, width / block]. */
function oneNodeModel(o: { dataType: number; codes: number[]; rows: number; width: number; block: number; scales: Float32Array; half: boolean; indexRank: 1 | 2 }): Uint8Array {
  const packed = new Uint8Array(o.codes.length / 2);
  o.codes.forEach((c, i) => (packed[i >> 1]! |= (c & 0xf) << (i % 2 ? 4 : 0)));
  const blocks = Math.ceil(o.width / o.block);
  const scaleBytes = o.half ? new Uint8Array(Uint16Array.from(o.scales, toHalfBits).buffer) : new Uint8Array(o.scales.buffer);
  const node = encodeNode({
    opType: 'GatherBlockQuantized',
    domain: 'com.microsoft',
    name: 'embed',
    inputs: ['table', 'ids', 'scales'],
    outputs: ['out'],
    attributes: [intAttribute('block_size', o.block), intAttribute('gather_axis', 0), intAttribute('quantize_axis', 1)],
  });
  const idsDims = o.indexRank === 1 ? ['n'] : ['b', 't'];
  const graph = new ProtoWriter()
    .message(1, node)
    .string(2, 'g')
    .message(5, encodeTensor('table', o.dataType, [o.rows, o.width], packed))
    .message(5, encodeTensor('scales', o.half ? DT.FLOAT16 : DT.FLOAT, [o.rows, blocks], scaleBytes))
    .message(11, encodeValueInfo({ name: 'ids', elemType: DT.INT64, dims: idsDims }))
    .message(12, encodeValueInfo({ name: 'out', elemType: o.half ? DT.FLOAT16 : DT.FLOAT, dims: [...idsDims, o.width] }));
  const opset = (domain: string, version: number) => new ProtoWriter().string(1, domain).int(2, version);
  return new ProtoWriter().int(1, 10).message(8, opset('', 21)).message(8, opset('com.microsoft', 1)).message(7, graph).finish();
}

async function run(onnx: Uint8Array, feeds: Record<string, ort.Tensor>, externalData: { path: string; data: Uint8Array }[] = [], fetches: string[] = ['out']) {
  const s = await ort.InferenceSession.create(onnx, { externalData });
  try {
    const out = await s.run(feeds, fetches);
    return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, Array.from(t.data as ArrayLike<number>)]));
  } finally {
    await s.release();
  }
}

function lcg(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

describe('GatherBlockQuantized in standard ops', () => {
  for (const dataType of [INT4, UINT4]) {
    for (const half of [false, true]) {
      for (const indexRank of [1, 2] as const) {
        it(`${dataType === INT4 ? 'int4' : 'uint4'} table, ${half ? 'float16' : 'float'} scales, indices of rank ${indexRank}: the same values as the op`, async () => {
          const rows = 37;
          const width = 64;
          const block = 16;
          const rnd = lcg(dataType * 10 + (half ? 1 : 0) + indexRank * 100);
          const codes = Array.from({ length: rows * width }, () => Math.floor(rnd() * 16));
          const scales = Float32Array.from({ length: rows * (width / block) }, () => (rnd() - 0.5) * 0.2);
          const model = oneNodeModel({ dataType, codes, rows, width, block, scales, half, indexRank });
          const { onnx, rewritten } = rewriteGatherBlockQuantized(model);
          expect(rewritten).toBe(1);
          expect(hasGatherBlockQuantized(readGraph(onnx))).toBe(false);
          const ids = [0, 36, 5, 5, 17, 1];
          const feeds = { ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), indexRank === 1 ? [6] : [2, 3]) };
          const want = await run(model, feeds);
          const got = await run(onnx, feeds);
          expect(got['out']!.length).toBe(ids.length * width);
          expect(got['out']).toEqual(want['out']);
          // and the op itself is what the codes and scales say (int4: two's complement; uint4 with no zero points: as it is)
          const value = (r: number, c: number) => (dataType === INT4 ? codes[r * width + c]! - (codes[r * width + c]! >= 8 ? 16 : 0) : codes[r * width + c]!) * scales[r * (width / block) + Math.floor(c / block)]!;
          if (!half) expect(Math.abs(want['out']![width + 3]! - value(36, 3))).toBeLessThanOrEqual(1e-7);
        });
      }
    }
  }

  it('leaves a graph without the op as it is, and an unusual one (block not dividing the width) alone', () => {
    const codes = Array.from({ length: 4 * 48 }, (_, i) => i % 16);
    const model = oneNodeModel({ dataType: INT4, codes, rows: 4, width: 48, block: 32, scales: new Float32Array(4 * 2), half: false, indexRank: 1 });
    expect(rewriteGatherBlockQuantized(model)).toEqual({ onnx: model, rewritten: 0 });
  });

  const zooFile = (f: string) => join(ZOO, 'embeddinggemma-shape', 'onnx', f);
  for (const file of ['model_q4.onnx', 'model_q4f16.onnx']) {
    it.skipIf(!existsSync(zooFile(file)))(`the zoo's embeddinggemma-shape ${file}: the rewritten graph gives the original's outputs`, async () => {
      const onnx = new Uint8Array(readFileSync(zooFile(file)));
      const externalData = [{ path: `${file}_data`, data: new Uint8Array(readFileSync(zooFile(`${file}_data`))) }];
      const edit = rewriteGatherBlockQuantized(onnx);
      expect(edit.rewritten).toBe(1);
      expect(readGraph(edit.onnx).nodes.map((n) => n.opType)).not.toContain('GatherBlockQuantized');
      // the first and last rows of the table, and ordinary ones, in a right-padded batch
      const ids = [2, 262143, 0, 1, 9, 1000, 236787, 1];
      const mask = [1, 1, 1, 1, 1, 1, 1, 0];
      const feeds = {
        input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [2, 4]),
        attention_mask: new ort.Tensor('int64', BigInt64Array.from(mask, BigInt), [2, 4]),
      };
      const want = await run(onnx, feeds, externalData, ['last_hidden_state', 'sentence_embedding']);
      const got = await run(edit.onnx, feeds, externalData, ['last_hidden_state', 'sentence_embedding']);
      // The table's values are the op's bit for bit (above); in the float16 file, onnxruntime's own
      // graph optimizations differ around the new nodes, which moves hidden states by an fp16 ulp.
      const bound = file.includes('f16') ? 1e-2 : 1e-6;
      for (const k of ['last_hidden_state', 'sentence_embedding']) {
        const diff = Math.max(...got[k]!.map((x, i) => Math.abs(x - want[k]![i]!)));
        expect(diff, k).toBeLessThanOrEqual(bound);
      }
    });
  }
});
