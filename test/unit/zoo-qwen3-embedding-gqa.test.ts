/**
 * The zoo's qwen3-embedding-gqa-shape (test/fixtures/zoo: qwen3-embedding-shape's toy Qwen3-Embedding,
 * the same weights, exported by onnxruntime-genai's model builder with exclude_lm_head=true, so its
 * attention is com.microsoft.GroupQueryAttention and its output is the builder's `hidden_states`; see
 * scripts/zoo/qwen3_embedding_gqa.py), held to:
 *   - the op's contract, in onnxruntime-node on the fp32 file: each text alone equals PyTorch
 *     (reference.json: sentence-transformers, last token, each text alone), a right-padded batch equals
 *     the texts alone, a left-padded one does not;
 *   - the library (createEmbedder, in-process on wasm), which right-pads this graph though Qwen3's
 *     tokenizer says left, and pools each row at its own last real token: fp32 equals PyTorch
 *     (cos ≥ 0.99999) for every probe text alone and in mixed-length batches; q4 and q8 give a text the
 *     same vector in a mixed batch as alone and the vector onnxruntime-node gives the same file (their
 *     distance to PyTorch, quantization error at toy size, is printed); left padding is refused.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planBatches, DEFAULT_LIMITS } from '../../src/engine/batching.ts';
import { createEmbedder } from '../../src/index.ts';
import { compareProbe, cosine, embedAloneAndPerTask, expectEachAtLeast, expectFp32EqualsPyTorch, maxAbs, ortLastTokenVectors, ortLastTokenVectorsAlone, readJson, taskIndices, useZooServer, ZOO, zooHas, zooTokenizer, DTYPE_FILES, TASKS, type DecoderReference } from './helpers/zoo-decoders.ts';

const MODEL = 'qwen3-embedding-gqa-shape';
const ENDOFTEXT_ID = 151643;
/** what onnxruntime-genai's builder names the last hidden state when it leaves the LM head out */
const OUTPUT = 'hidden_states';
/**
 * For the library's mixed-batch calls: a batch costs so much that the planner puts as many texts
 * in one batch as maxBatchTokens allows, so the batches are certainly of mixed lengths (checked
 * below) rather than whatever the default cost model cuts.
 */
const ONE_BIG_BATCH = { batchOverheadTokens: 1e6 };

const present = zooHas(MODEL);
const ref = present ? readJson<DecoderReference>(MODEL, 'reference.json') : undefined;
const probe = ref?.probe ?? [];
const report: Record<string, unknown> = {};
const server = useZooServer(MODEL, present, report);

const tokenizer = () => zooTokenizer(MODEL);

/** onnxruntime-node: rows as one batch padded on `side`, each row's L2-normalized vector at its last real token. */
const ortVectors = (file: string, rows: number[][], side: 'left' | 'right') => ortLastTokenVectors(MODEL, file, rows, OUTPUT, { padId: ENDOFTEXT_ID, side });

describe.skipIf(!present)(`zoo ${MODEL}`, () => {
  it('is a GroupQueryAttention graph without LM head: the builder signature, hidden_states out, no logits', () => {
    const manifest = JSON.parse(readFileSync(join(ZOO, 'manifest.json'), 'utf8')) as {
      models: Record<string, { dtypes: Record<string, { inputs: { name: string }[]; outputs: { name: string }[]; ops: string[]; external_data: string[] }> }>;
    };
    const d = manifest.models[MODEL]!.dtypes;
    expect(Object.keys(d).sort()).toEqual(['fp32', 'q4', 'q8']);
    for (const dtype of ['fp32', 'q4', 'q8']) {
      expect(d[dtype]!.ops, dtype).toContain('com.microsoft:GroupQueryAttention');
      // No position_ids: GroupQueryAttention derives positions from the mask (the reason it needs right padding).
      expect(d[dtype]!.inputs.map((i) => i.name)).toEqual(['input_ids', 'attention_mask', 'past_key_values.0.key', 'past_key_values.0.value', 'past_key_values.1.key', 'past_key_values.1.value']);
      expect(d[dtype]!.outputs.map((o) => o.name)).toEqual([OUTPUT, 'present.0.key', 'present.0.value', 'present.1.key', 'present.1.value']);
    }
    expect(d['fp32']!.external_data).toEqual(['model.onnx_data']);
    expect(d['q4']!.ops).toContain('com.microsoft:MatMulNBits');
    expect(d['q8']!.ops).toContain('ai.onnx:DynamicQuantizeLinear');
  });

  it('tokenizes every probe input as the reference did (<|endoftext|> last)', () => {
    const tok = tokenizer();
    for (const p of probe) {
      const ids = tok.encode(p.input).ids;
      expect(ids.length, p.text).toBe(p.tokens);
      expect(ids.at(-1)).toBe(ENDOFTEXT_ID);
    }
  });

  it('onnxruntime-node fp32: alone = PyTorch; right-padded batch = alone; left-padded batch is not (the op assumes right padding)', async () => {
    const tok = tokenizer();
    const rows = probe.map((p) => tok.encode(p.input).ids);
    const alone = await ortLastTokenVectorsAlone(MODEL, DTYPE_FILES.fp32, rows, OUTPUT, { padId: ENDOFTEXT_ID, side: 'right' });
    const cosTorch = probe.map((p, i) => cosine(alone[i]!, p.embedding));
    // The batch: every text but the longest (805 tokens would pad the other 23, of 7..54, to it): mixed lengths.
    const order = rows.map((_, i) => i).sort((a, b) => rows[a]!.length - rows[b]!.length).slice(0, -1);
    expect(new Set(order.map((i) => rows[i]!.length)).size).toBeGreaterThan(5);
    const right = await ortVectors(DTYPE_FILES.fp32, order.map((i) => rows[i]!), 'right');
    const left = await ortVectors(DTYPE_FILES.fp32, order.map((i) => rows[i]!), 'left');
    const rightVsAlone = Math.max(...order.map((i, k) => maxAbs(right[k]!, alone[i]!)));
    const leftCos = order.map((i, k) => cosine(left[k]!, alone[i]!));
    report['ort-node fp32 alone, cos to PyTorch min'] = Math.min(...cosTorch);
    report['ort-node fp32 right-padded batch vs alone, max abs'] = rightVsAlone;
    report['ort-node fp32 left-padded batch, cos to alone min'] = Math.min(...leftCos.filter(Number.isFinite));
    report['ort-node fp32 left-padded batch, rows off (cos < 0.99)'] = leftCos.filter((c) => !(c >= 0.99)).length;
    cosTorch.forEach((c, i) => expect(c, probe[i]!.text.slice(0, 40)).toBeGreaterThanOrEqual(0.99999));
    expect(rightVsAlone).toBeLessThanOrEqual(1e-5);
    // Documents the operator's contract: left padding gives the shorter rows other (wrong) vectors, silently.
    expect(leftCos.filter((c) => !(c >= 0.99)).length).toBeGreaterThan(0);
  });

  describe('the library (createEmbedder, wasm)', () => {
    for (const dtype of ['fp32', 'q4', 'q8'] as const) {
      it(`${dtype}: right-padded (GroupQueryAttention), each text alone and in mixed-length batches`, async () => {
        const embedder = await createEmbedder({ model: server.folder(MODEL), worker: false, device: 'wasm', dtype, limits: ONE_BIG_BATCH });
        try {
          expect(embedder.info).toMatchObject({ paddingSide: 'right', pooling: 'last-token', dimensions: 64, dtype });
          expect(embedder.info.paddingReason).toMatch(/GroupQueryAttention/);
          // q8 is dynamic int8 (one activation scale over the batch): the library runs it one text per batch.
          expect(embedder.info.batching.maxBatchSize).toBe(dtype === 'q8' ? 1 : DEFAULT_LIMITS.maxBatchSize);
          // Each text alone, then one call per task.
          const { alone, batched } = await embedAloneAndPerTask(embedder, probe);
          // The per-task calls' batches must be of mixed lengths for this to test the padding: the plan
          // the library's batcher makes of these token counts under the same limits says so (except q8).
          let mixedBatches = 0;
          for (const task of TASKS) {
            const at = taskIndices(probe, task);
            const plan = planBatches(at.map((i) => probe[i]!.tokens), { ...DEFAULT_LIMITS, ...ONE_BIG_BATCH, maxBatchSize: embedder.info.batching.maxBatchSize });
            mixedBatches += plan.filter((b) => new Set(b.map((k) => probe[at[k]!]!.tokens)).size > 1).length;
          }
          if (dtype !== 'q8') expect(mixedBatches).toBeGreaterThan(0);
          // onnxruntime-node on the same file, each text alone: what the file itself gives.
          const tok = tokenizer();
          const oracle = await ortLastTokenVectorsAlone(MODEL, DTYPE_FILES[dtype], probe.map((p) => tok.encode(p.input).ids), OUTPUT, { padId: ENDOFTEXT_ID, side: 'right' });

          const cmp = compareProbe(probe, alone, batched, oracle);
          const { cosTorch, cosTorchBatch, cosOther: cosOrt, batchVsAlone } = cmp;
          report[`library ${dtype}`] = {
            info: { paddingSide: embedder.info.paddingSide, batching: embedder.info.batching.maxBatchSize },
            mixed_length_batches: mixedBatches,
            cos_pytorch_alone_min: Math.min(...cosTorch),
            cos_pytorch_batch_min: Math.min(...cosTorchBatch),
            cos_onnxruntime_node_min: Math.min(...cosOrt),
            batch_vs_alone_max_abs: batchVsAlone,
          };
          if (dtype === 'fp32') expectFp32EqualsPyTorch(probe, cmp);
          expectEachAtLeast(probe, cosOrt, 'vs onnxruntime-node', 0.9999);
          // No per-run quantization in fp32 and q4 graphs, and q8 runs alone: a text's vector does not depend on its batch.
          expect(batchVsAlone).toBeLessThanOrEqual(1e-5);
        } finally {
          await embedder.dispose();
        }
      });
    }

    it("left padding cannot be asked for: overrides.paddingSide 'left' is a RangeError naming GroupQueryAttention", async () => {
      const load = createEmbedder({ model: server.folder(MODEL), worker: false, device: 'wasm', dtype: 'fp32', overrides: { paddingSide: 'left' } });
      await expect(load).rejects.toThrow(RangeError);
      await expect(load).rejects.toThrow(/GroupQueryAttention/);
    });
  });
});
