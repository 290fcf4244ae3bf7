/**
 * Dynamic int8 files (model_quantized / model_int8 / model_uint8: DynamicQuantizeLinear) take one
 * activation scale over a whole run, so the engine runs them one text per batch: a text's vector
 * in a mixed call is the one it gets alone. Checked on the zoo's all-MiniLM-L6-v2 (real weights,
 * transformers.js' recipe), and against the same file run with batching forced on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmbedder } from '../../src/index.ts';
import { batchSensitivity } from '../../src/models/onnx/batch-sensitivity.ts';
import { readGraph } from '../../src/models/onnx/onnx-graph.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, type TestServer } from './helpers/model-folders.ts';
import { ZOO } from './helpers/zoo-reference.ts';

const MODEL = 'all-minilm-l6-v2';
const TEXTS = [
  'tea',
  'A man is eating food.',
  'The quick brown fox jumps over the lazy dog, then rests under the old oak tree by the river for the whole afternoon.',
  'Bees turn nectar into honey by evaporating its water and adding enzymes.',
];

let server: TestServer;
beforeAll(async () => {
  server = await startServer({}, ZOO);
});
afterAll(async () => {
  await server?.close();
});

const maxDiff = (a: Float32Array[], b: Float32Array[]) => Math.max(...a.map((v, i) => Math.max(...v.map((x, k) => Math.abs(x - b[i]![k]!)))));

describe('dynamically quantized files run one text per batch', () => {
  it('finds DynamicQuantizeLinear in the q8 file and not in the fp32 or q4 ones', () => {
    const dynamic = (f: string) => batchSensitivity(readGraph(new Uint8Array(readFileSync(join(ZOO, MODEL, 'onnx', f))))).dynamicQuantization;
    expect(dynamic('model_quantized.onnx')).toBe(true);
    expect(dynamic('model_uint8.onnx')).toBe(true);
    expect(dynamic('model.onnx')).toBe(false);
    expect(dynamic('model_q4.onnx')).toBe(false);
  });

  it('q8: a mixed-length call equals each text alone, and info says why; forcing batches shows the dependence it avoids', async () => {
    const embedder = await createEmbedder({ model: server.folder(MODEL), worker: false, device: 'wasm', dtype: 'q8' });
    const batched = await createEmbedder({ model: server.folder(MODEL), worker: false, device: 'wasm', dtype: 'q8', limits: { maxBatchSize: 32 } });
    try {
      expect(embedder.info.batching.maxBatchSize).toBe(1);
      expect(embedder.info.batching.reason).toMatch(/DynamicQuantizeLinear/);
      expect(batched.info.batching).toEqual({ maxBatchSize: 32 });
      const together = await embedder.embed(TEXTS);
      const alone: Float32Array[] = [];
      for (const t of TEXTS) alone.push((await embedder.embed([t]))[0]!);
      expect(maxDiff([...together], alone)).toBeLessThanOrEqual(1e-6);
      // The same file batched: the short texts' vectors move with their neighbours' padding and scale.
      const forced = await batched.embed(TEXTS);
      expect(maxDiff([...forced], alone)).toBeGreaterThan(1e-4);
    } finally {
      await embedder.dispose();
      await batched.dispose();
    }
  }, 120_000);

  it('fp32 keeps the default batching', async () => {
    const embedder = await createEmbedder({ model: server.folder(MODEL), worker: false, device: 'wasm', dtype: 'fp32' });
    try {
      expect(embedder.info.batching).toEqual({ maxBatchSize: 32 });
    } finally {
      await embedder.dispose();
    }
  }, 120_000);
});
