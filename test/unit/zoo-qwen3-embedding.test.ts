/**
 * The zoo's qwen3-embedding-shape (test/fixtures/zoo: a toy-size Qwen3 exported as
 * onnx-community/Qwen3-Embedding-0.6B-ONNX is: position_ids and empty past_key_values inputs,
 * last_hidden_state and present outputs; fp32 with external data, then transformers.js' dtypes),
 * through the library in-process in Node on wasm (`worker: false`), held to:
 *   - PyTorch (reference.json: sentence-transformers on Qwen3Model, last token, each text alone),
 *     fp32 cos ≥ 0.99999 for every probe text, alone and in mixed-length batches;
 *   - itself: a text in a mixed-length batch equals the text alone (dynamic int8 files excepted: their
 *     activation scale is computed over the whole batch, so the file itself is batch-dependent);
 *   - onnxruntime-node on the same file, each text alone (cos ≥ 0.999 for every dtype).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEmbedder } from '../../src/index.ts';
import { recordReport, type DtypeRow } from './helpers/real-encoders-report.ts';
import { compareProbe, cosine, dtypesPresent, embedAloneAndPerTask, expectEachAtLeast, expectInfo, expectFp32EqualsPyTorch, ortLastTokenVectorsAlone, readJson, useZooServer, ZOO, zooHas, zooTokenizer, DTYPE_FILES, type DecoderReference } from './helpers/zoo-decoders.ts';

const MODEL = 'qwen3-embedding-shape';
const ENDOFTEXT_ID = 151643;
/** dynamic quantization: activations are quantized with one scale per tensor, over the whole batch */
const BATCH_DEPENDENT = new Set(['q8', 'int8', 'uint8']);

const present = zooHas(MODEL);
const ref = present ? readJson<DecoderReference>(MODEL, 'reference.json') : undefined;
const dtypes = present ? dtypesPresent(MODEL) : [];
const report: Record<string, Record<string, number>> = {};
/** this model's rows of the real-model table (npm run report:real-encoders): cosine to PyTorch per dtype */
const rows: Record<string, DtypeRow> = {};
const started = performance.now();

const server = useZooServer(MODEL, present, report, () => {
  if (Object.keys(rows).length) {
    recordReport(`node ${MODEL}`, {
      models: { [MODEL]: { about: 'last-token pooling, a toy Qwen3 with random weights exported as onnx-community/Qwen3-Embedding-0.6B-ONNX', dtypes: rows } },
      runs: { [`node ${MODEL}`]: { date: new Date().toISOString(), seconds: (performance.now() - started) / 1000, texts: `Node: ours on wasm (each text alone and one mixed-length call per task, the lower) and onnxruntime-node (each text alone) on all ${ref!.probe.length} probe texts` } },
    });
  }
});

describe.skipIf(!present)(`zoo ${MODEL}`, () => {
  it('has the files and signature of onnx-community/Qwen3-Embedding-0.6B-ONNX', () => {
    expect(dtypes).toEqual(expect.arrayContaining(['fp32', 'fp16', 'q8', 'q4f16']));
    const manifest = JSON.parse(readFileSync(join(ZOO, 'manifest.json'), 'utf8')) as { models: Record<string, { dtypes: Record<string, { inputs: { name: string }[]; outputs: { name: string }[]; external_data: string[] }> }> };
    const fp32 = manifest.models[MODEL]!.dtypes['fp32']!;
    expect(fp32.inputs.map((i) => i.name)).toEqual(['input_ids', 'attention_mask', 'position_ids', 'past_key_values.0.key', 'past_key_values.0.value', 'past_key_values.1.key', 'past_key_values.1.value']);
    expect(fp32.outputs.map((o) => o.name)).toEqual(['last_hidden_state', 'present.0.key', 'present.0.value', 'present.1.key', 'present.1.value']);
    expect(fp32.external_data).toEqual(['model.onnx_data']);
  });

  it('tokenizes every probe input as the reference did (<|endoftext|> last)', () => {
    const tok = zooTokenizer(MODEL);
    for (const p of ref!.probe) {
      const ids = tok.encode(p.input).ids;
      expect(ids.length, p.text).toBe(p.tokens);
      expect(ids.at(-1)).toBe(ENDOFTEXT_ID);
    }
  });

  for (const dtype of dtypes) {
    it(`${dtype}: PyTorch, alone vs mixed batch, onnxruntime-node`, async () => {
      const probe = ref!.probe;
      const embedder = await createEmbedder({ model: server.folder(MODEL), worker: false, dtype });
      try {
        expectInfo(embedder.info, { pooling: 'last-token', dimensions: 64, dtype });
        // Each text alone, then one call per task: mixed-length batches.
        const { alone, batched } = await embedAloneAndPerTask(embedder, probe);
        // onnxruntime-node on the same file, each text alone.
        const tok = zooTokenizer(MODEL);
        const oracle = await ortLastTokenVectorsAlone(MODEL, DTYPE_FILES[dtype], probe.map((p) => tok.encode(p.input).ids), 'last_hidden_state', { padId: ENDOFTEXT_ID, side: 'left' });
        const cmp = compareProbe(probe, alone, batched, oracle);
        const { cosTorch, cosTorchBatch, cosOther: cosOrt, batchVsAlone } = cmp;
        const batchCos = Math.min(...probe.map((_, i) => cosine(batched[i]!, alone[i]!)));
        rows[dtype] = {
          oursWasm: Math.min(...cosTorch, ...cosTorchBatch),
          ortNode: Math.min(...probe.map((p, i) => cosine(oracle[i]!, p.embedding))),
          oursVsOrt: { node: Math.min(...cosOrt) },
        };
        report[dtype] = {
          cos_pytorch_min: Math.min(...cosTorch),
          cos_pytorch_batch_min: Math.min(...cosTorchBatch),
          cos_onnxruntime_node_min: Math.min(...cosOrt),
          batch_vs_alone_max_abs: batchVsAlone,
          batch_vs_alone_cos_min: batchCos,
        };
        if (dtype === 'fp32') expectFp32EqualsPyTorch(probe, cmp);
        expectEachAtLeast(probe, cosOrt, 'vs onnxruntime-node', 0.999);
        if (BATCH_DEPENDENT.has(dtype)) expect(batchCos).toBeGreaterThanOrEqual(0.99);
        else expect(batchVsAlone).toBeLessThanOrEqual(dtype === 'fp32' ? 1e-5 : 1e-3);
      } finally {
        await embedder.dispose();
      }
    });
  }
});
