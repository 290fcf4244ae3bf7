/**
 * The engine in-process in Node (no worker, no WebGPU: onnxruntime-web's wasm backend), models
 * served over HTTP from 127.0.0.1, checked against onnxruntime-node + the CPU reference pooling.
 */
import * as ortNode from 'onnxruntime-node';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmbedder, type Embedder } from '../../src/index.ts';
import { maskedMeanPool } from '../../src/reference/masked-mean.ts';
import { Tokenizer } from '@huggingface/tokenizers';
import { readFileSync } from 'node:fs';
import { MODELS, startServer, type TestServer } from './helpers/model-folders.ts';

let server: TestServer;
let embedder: Embedder;

beforeAll(async () => {
  server = await startServer();
  embedder = await createEmbedder({ model: server.folder('tiny-e5'), worker: false });
});
afterAll(async () => {
  await embedder?.dispose();
  await server?.close();
});

/** Oracle: the text alone through onnxruntime-node, mean-pooled and normalized on the CPU. */
async function oracle(text: string): Promise<Float32Array> {
  const dir = join(MODELS, 'tiny-e5');
  const tok = new Tokenizer(JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')), JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')));
  const ids = tok.encode(text).ids;
  const session = await ortNode.InferenceSession.create(join(dir, 'onnx', 'model.onnx'));
  const t = (v: number[]) => new ortNode.Tensor('int64', BigInt64Array.from(v.map(BigInt)), [1, v.length]);
  const out = await session.run({ input_ids: t(ids), attention_mask: t(ids.map(() => 1)), token_type_ids: t(ids.map(() => 0)) });
  const h = out.last_hidden_state!;
  const pooled = maskedMeanPool(h.data as Float32Array, new Float32Array(ids.length).fill(1), 1, ids.length, h.dims[2]!);
  const n = Math.hypot(...pooled);
  await session.release();
  return pooled.map((x) => x / n);
}

describe('the engine in-process in Node', () => {
  it('runs on the wasm backend and says why', () => {
    expect(embedder.info.device).toBe('wasm');
    expect(embedder.info.deviceReason).toMatch(/no WebGPU/);
  });

  it('embeds a mixed batch like onnxruntime-node + the reference pooling does each text alone', async () => {
    const texts = ['hello world', 'a much longer sentence about bread, butter and jam on a sunday morning', 'tea'];
    const got = await embedder.embed(texts, { task: 'document' });
    for (const [i, text] of texts.entries()) {
      const want = await oracle(`passage: ${text}`);
      const diff = Math.max(...got[i]!.map((x, k) => Math.abs(x - want[k]!)));
      expect(diff, text).toBeLessThanOrEqual(1e-5);
    }
  });
});
