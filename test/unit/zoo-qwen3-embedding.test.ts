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
import { Tokenizer } from '@huggingface/tokenizers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmbedder } from '../../src/index.ts';
import { recordReport, type DtypeRow } from './helpers/real-encoders-report.ts';
import { cosine, dtypesPresent, maxAbs, normalize, ortSession, readJson, runDecoder, serveZoo, ZOO, zooHas, DTYPE_FILES, type ZooServer } from './helpers/zoo-decoders.ts';

const MODEL = 'qwen3-embedding-shape';
const ENDOFTEXT_ID = 151643;
/** dynamic quantization: activations are quantized with one scale per tensor, over the whole batch */
const BATCH_DEPENDENT = new Set(['q8', 'int8', 'uint8']);

interface Probe {
  text: string;
  task: 'query' | 'document';
  input: string;
  tokens: number;
  embedding: number[];
}
interface Reference {
  pooling: string;
  prompts: Record<string, string>;
  probe: Probe[];
}

const present = zooHas(MODEL);
const ref = present ? readJson<Reference>(MODEL, 'reference.json') : undefined;
const dtypes = present ? dtypesPresent(MODEL) : [];
let server: ZooServer;
const report: Record<string, Record<string, number>> = {};
/** this model's rows of the real-model table (npm run report:real-encoders): cosine to PyTorch per dtype */
const rows: Record<string, DtypeRow> = {};
const started = performance.now();

beforeAll(async () => {
  if (present) server = await serveZoo();
});
afterAll(async () => {
  await server?.close();
  if (Object.keys(report).length) console.log(`${MODEL} (wasm, Node):\n${JSON.stringify(report, null, 1)}`);
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
    const tok = new Tokenizer(readJson(MODEL, 'tokenizer.json'), readJson(MODEL, 'tokenizer_config.json'));
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
        expect(embedder.info.pooling).toBe('last-token');
        expect(embedder.info.dimensions).toBe(64);
        expect(embedder.info.dtype).toBe(dtype);
        // Each text alone, then one call per task: mixed-length batches.
        const alone: Float32Array[] = [];
        for (const p of probe) alone.push((await embedder.embed([p.text], { task: p.task }))[0]!);
        const batched: Float32Array[] = new Array(probe.length);
        for (const task of ['query', 'document'] as const) {
          const at = probe.flatMap((p, i) => (p.task === task ? [i] : []));
          const got = await embedder.embed(at.map((i) => probe[i]!.text), { task });
          at.forEach((i, k) => (batched[i] = got[k]!));
        }
        // onnxruntime-node on the same file, each text alone.
        const tok = new Tokenizer(readJson(MODEL, 'tokenizer.json'), readJson(MODEL, 'tokenizer_config.json'));
        const session = await ortSession(MODEL, DTYPE_FILES[dtype]);
        const oracle: Float64Array[] = [];
        for (const p of probe) {
          const ids = tok.encode(p.input).ids;
          const { data, dims, last } = await runDecoder(session, [ids], 'last_hidden_state', { padId: ENDOFTEXT_ID, side: 'left' });
          const H = dims[2]!;
          oracle.push(normalize(data.subarray(last[0]! * H, (last[0]! + 1) * H)));
        }
        const cosTorch = probe.map((p, i) => cosine(alone[i]!, p.embedding));
        const cosTorchBatch = probe.map((p, i) => cosine(batched[i]!, p.embedding));
        const cosOrt = probe.map((_, i) => cosine(alone[i]!, oracle[i]!));
        const batchVsAlone = Math.max(...probe.map((_, i) => maxAbs(batched[i]!, alone[i]!)));
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
        if (dtype === 'fp32') {
          cosTorch.forEach((c, i) => expect(c, `alone: ${probe[i]!.text.slice(0, 40)}`).toBeGreaterThanOrEqual(0.99999));
          cosTorchBatch.forEach((c, i) => expect(c, `batch: ${probe[i]!.text.slice(0, 40)}`).toBeGreaterThanOrEqual(0.99999));
        }
        cosOrt.forEach((c, i) => expect(c, `vs onnxruntime-node: ${probe[i]!.text.slice(0, 40)}`).toBeGreaterThanOrEqual(0.999));
        if (BATCH_DEPENDENT.has(dtype)) expect(batchCos).toBeGreaterThanOrEqual(0.99);
        else expect(batchVsAlone).toBeLessThanOrEqual(dtype === 'fp32' ? 1e-5 : 1e-3);
      } finally {
        await embedder.dispose();
      }
    });
  }
});
