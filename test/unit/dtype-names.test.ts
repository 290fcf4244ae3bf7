/**
 * The dtype option as transformers.js takes it: its names (each the file transformers.js would
 * load), 'auto', and the per-file map, whose one key here is 'model'. And why 'q2' is taken and
 * 'q1' refused: what onnxruntime-web 1.30 itself runs (MatMulNBits of 2, 4, 8 bits, not 1).
 */
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { engineLoadOptions } from '../../src/client/options.ts';
import { DtypeUnsupportedError } from '../../src/errors.ts';
import { DTYPES, externalDataFromConfig, onnxFileFor, resolveDtypeOption } from '../../src/models/onnx-files.ts';

describe("dtype: transformers.js' names, 'auto' and the per-file map", () => {
  it("every name maps to transformers.js' file (DEFAULT_DTYPE_SUFFIX_MAPPING)", () => {
    expect(Object.fromEntries(DTYPES.map((d) => [d, onnxFileFor(d)]))).toEqual({
      fp32: 'onnx/model.onnx',
      fp16: 'onnx/model_fp16.onnx',
      q8: 'onnx/model_quantized.onnx',
      int8: 'onnx/model_int8.onnx',
      uint8: 'onnx/model_uint8.onnx',
      q4: 'onnx/model_q4.onnx',
      q4f16: 'onnx/model_q4f16.onnx',
      bnb4: 'onnx/model_bnb4.onnx',
      q2: 'onnx/model_q2.onnx',
      q2f16: 'onnx/model_q2f16.onnx',
    });
    for (const d of DTYPES) expect(resolveDtypeOption(d)).toBe(d);
  });

  it("the q2 files' external data is found by transformers.js_config's base name, as the others' is", () => {
    const config = { 'transformers.js_config': { use_external_data_format: { model: 1 } } };
    expect(externalDataFromConfig(config, onnxFileFor('q2'))).toEqual(['onnx/model_q2.onnx_data']);
    expect(externalDataFromConfig(config, onnxFileFor('q2f16'))).toEqual(['onnx/model_q2f16.onnx_data']);
  });

  it("'auto', an empty map and { model: 'auto' } are the engine's choice per device (the same as leaving dtype out)", () => {
    for (const v of [undefined, 'auto', {}, { model: 'auto' }]) expect(resolveDtypeOption(v)).toBeUndefined();
    // and nothing reaches the engine for them
    expect(engineLoadOptions({ model: 'all-minilm-l6-v2', dtype: 'auto' })).not.toHaveProperty('dtype');
    expect(engineLoadOptions({ model: 'all-minilm-l6-v2', dtype: { model: 'q4' } })).toMatchObject({ dtype: 'q4' });
  });

  it("a map's key is 'model' (the folder's one graph); another key is a RangeError saying so", () => {
    expect(resolveDtypeOption({ model: 'q8' })).toBe('q8');
    expect(() => resolveDtypeOption({ decoder_model_merged: 'q4', model: 'q8' })).toThrow(RangeError);
    expect(() => resolveDtypeOption({ decoder_model_merged: 'q4' })).toThrow("dtype map has 'decoder_model_merged': a model folder here has one ONNX graph, onnx/model*.onnx, and its key is 'model'");
    expect(() => resolveDtypeOption({ model: 'q3' })).toThrow(/dtype\.model must be one of 'auto', 'fp32'/);
  });

  it('an unknown name is a RangeError listing the names; a wrong type a TypeError', () => {
    expect(() => resolveDtypeOption('int3')).toThrow(RangeError);
    expect(() => resolveDtypeOption('int3')).toThrow(/dtype must be one of 'auto', 'fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'q4f16', 'bnb4', 'q2', 'q2f16'/);
    for (const v of [8, true, null, ['q8']]) expect(() => resolveDtypeOption(v)).toThrow(TypeError);
  });

  it("'q1' / 'q1f16' are known but cannot run on onnxruntime-web 1.30: a DtypeUnsupportedError before any download", () => {
    for (const d of ['q1', 'q1f16']) {
      expect(() => resolveDtypeOption(d)).toThrow(DtypeUnsupportedError);
      expect(() => resolveDtypeOption(d)).toThrow(/MatMulNBits takes 2, 4 or 8 bits/);
    }
  });
});

describe("onnxruntime-web 1.30's MatMulNBits, which 'q2' and 'q1' files are made of", () => {
  const { onnx } = onnxProto;
  const DT = onnx.TensorProto.DataType;
  const INT = onnx.AttributeProto.AttributeType.INT;
  const K = 32;
  const N = 8;

  /** y = x · dequant(B)ᵀ for one block of 32 per column; B's bytes (37·i mod 256) and scales 0.1, default zero point 2^(bits-1). */
  function graph(bits: number): Uint8Array {
    const blob = (K * bits) / 8;
    const B = Uint8Array.from({ length: N * blob }, (_, i) => (i * 37) & 255);
    const scales = new Float32Array(N).fill(0.1);
    const model = onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 17 }, { domain: 'com.microsoft', version: 1 }],
      graph: {
        name: 'g',
        input: [{ name: 'x', type: { tensorType: { elemType: DT.FLOAT, shape: { dim: [{ dimValue: 1 }, { dimValue: K }] } } } }],
        output: [{ name: 'y', type: { tensorType: { elemType: DT.FLOAT, shape: { dim: [{ dimValue: 1 }, { dimValue: N }] } } } }],
        initializer: [
          { name: 'B', dataType: DT.UINT8, dims: [N, 1, blob], rawData: B },
          { name: 's', dataType: DT.FLOAT, dims: [N], rawData: new Uint8Array(scales.buffer) },
        ],
        node: [
          {
            opType: 'MatMulNBits',
            domain: 'com.microsoft',
            input: ['x', 'B', 's'],
            output: ['y'],
            attribute: [
              { name: 'K', type: INT, i: K },
              { name: 'N', type: INT, i: N },
              { name: 'bits', type: INT, i: bits },
              { name: 'block_size', type: INT, i: K },
            ],
          },
        ],
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }

  /** The same product in float64: element k of a column is bits k·bits.. of its bytes, low bits first. */
  function expected(bits: number): number[] {
    const blob = (K * bits) / 8;
    const perByte = 8 / bits;
    return Array.from({ length: N }, (_, n) => {
      let sum = 0;
      for (let k = 0; k < K; k++) {
        const byte = ((n * blob + Math.floor(k / perByte)) * 37) & 255;
        const q = (byte >> ((k % perByte) * bits)) & ((1 << bits) - 1);
        sum += (q - (1 << (bits - 1))) * 0.1;
      }
      return sum;
    });
  }

  for (const bits of [2, 4]) {
    it(`runs ${bits}-bit weights (the ${bits === 2 ? "'q2' / 'q2f16'" : "'q4' / 'q4f16'"} files) and computes them right`, async () => {
      const session = await ort.InferenceSession.create(graph(bits));
      const { y } = await session.run({ x: new ort.Tensor('float32', new Float32Array(K).fill(1), [1, K]) });
      const got = Array.from(y!.data as Float32Array);
      expected(bits).forEach((want, n) => expect(got[n]).toBeCloseTo(want, 4));
      await session.release();
    });
  }

  it("refuses 1-bit weights (the 'q1' / 'q1f16' files) when the session is made: why resolveDtypeOption refuses them by name", async () => {
    await expect(ort.InferenceSession.create(graph(1))).rejects.toThrow(/nbits_ == 2 \|\| nbits_ == 4 \|\| nbits_ == 8/);
  });
});
