/**
 * A decoder export with inputs the library cannot fill is refused at load with a ModelInputsError
 * listing every such input (not a failure at the first batch, nor a zero tensor fed silently):
 * the tiny-qwen3-embedding and tiny-qwen3-reranker fixtures with two extra graph inputs
 * (cache_position, as newer optimum decoder exports add, and inputs_embeds) that the graph's nodes
 * do not even read, so onnxruntime itself loads the file.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { checkModelInputs } from '../../src/engine/feeds.ts';
import { createEmbedder, createReranker, ModelInputsError, ModelLoadError } from '../../src/index.ts';
import { MODELS, startServer } from './helpers/model-folders.ts';

const { onnx } = onnxProto;

function withExtraInputs(model: string, names: string[]): Uint8Array {
  const m = onnx.ModelProto.decode(readFileSync(join(MODELS, model, 'onnx', 'model.onnx')));
  for (const name of names) {
    m.graph!.input!.push(
      onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: onnx.TensorProto.DataType.INT64, shape: { dim: [{ dimParam: 'batch_size' }, { dimParam: 'sequence_length' }] } } } }),
    );
  }
  return onnx.ModelProto.encode(m).finish();
}

describe('inputs the library cannot fill', () => {
  it('checkModelInputs lists each unknown input and passes the ones it fills', () => {
    const known = ['input_ids', 'attention_mask', 'token_type_ids', 'position_ids', 'past_key_values.0.key', 'past_key_values.11.value'].map((name) => ({ name }));
    expect(() => checkModelInputs(known, 'u')).not.toThrow();
    try {
      checkModelInputs([...known, { name: 'cache_position' }, { name: 'past_key_values.0.keys' }], 'https://x/onnx/model.onnx');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ModelInputsError);
      expect(e).toBeInstanceOf(ModelLoadError);
      expect((e as ModelInputsError).inputs).toEqual(['cache_position', 'past_key_values.0.keys']);
      expect((e as Error).message).toMatch(/^https:\/\/x\/onnx\/model\.onnx has inputs 'cache_position', 'past_key_values\.0\.keys' that webgpu-embed does not know how to fill/);
    }
  });

  for (const [kind, model] of [['embedder', 'tiny-qwen3-embedding'], ['reranker', 'tiny-qwen3-reranker']] as const) {
    it(`a decoder export with cache_position and inputs_embeds: the ${kind} refuses it at load, naming both`, async () => {
      const server = await startServer({ [`/${model}/onnx/model.onnx`]: { body: withExtraInputs(model, ['cache_position', 'inputs_embeds']) } });
      try {
        const opts = { model: server.folder(model), worker: false, device: 'wasm', dtype: 'fp32', cache: false } as const;
        const err = await (kind === 'embedder' ? createEmbedder(opts) : createReranker(opts)).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(ModelInputsError);
        expect((err as ModelInputsError).inputs).toEqual(['cache_position', 'inputs_embeds']);
        expect((err as ModelInputsError).url).toBe(`${server.folder(model)}onnx/model.onnx`);
      } finally {
        await server.close();
      }
    });
  }
});
