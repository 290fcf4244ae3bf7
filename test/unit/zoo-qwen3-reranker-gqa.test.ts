/**
 * The zoo's qwen3-reranker-gqa-shape (test/fixtures/zoo: a toy-size Qwen3ForCausalLM whose attention
 * is com.microsoft.GroupQueryAttention, as onnx-community/Qwen3-Reranker-0.6B-ONNX's card says its
 * files are; built by onnxruntime-genai's model builder, see scripts/zoo/qwen3_reranker_gqa.py):
 *   - the fp32 graph in onnxruntime-node, each pair alone, equals PyTorch's yes/no score
 *     (reference.json: the exact template, each pair alone) within 1e-4, and GroupQueryAttention is
 *     in it; a right-padded batch equals the pairs alone, a left-padded one does not;
 *   - the library (createReranker, in-process on wasm) right-pads this graph (GroupQueryAttention
 *     assumes right padding) and prunes its LM head at every dtype: fp32 equals PyTorch within 1e-4
 *     at batch sizes 1, 3 and 16 of mixed lengths; q4 gives the same scores at every batch size;
 *     left padding is refused. Measured numbers are printed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createReranker } from '../../src/index.ts';
import { ortSession, readJson, runDecoder, useZooServer, ZOO, zooHas, zooTokenizer } from './helpers/zoo-decoders.ts';

const MODEL = 'qwen3-reranker-gqa-shape';
const PAD_ID = 151643;

interface Pair {
  query: string;
  document: string;
  tokens: number;
  ids: number[];
  yes_logit: number;
  no_logit: number;
  score: number;
}
interface Reference {
  query: string;
  instruction: string;
  yes_id: number;
  no_id: number;
  pairs: Pair[];
}

const present = zooHas(MODEL);
const ref = present ? readJson<Reference>(MODEL, 'reference.json') : undefined;
const want = ref ? ref.pairs.map((p) => p.score) : [];
const docs = ref ? ref.pairs.map((p) => p.document) : [];
const report: Record<string, unknown> = {};
const server = useZooServer(MODEL, present, report);

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.max(...Array.from(a, (x, i) => Math.abs(x - b[i]!)));
const round = (xs: ArrayLike<number>) => Array.from(xs, (x) => Number(x.toPrecision(6)));
const yesNo = (data: Float32Array, V: number, T: number, b: number, t: number) => {
  const yes = data[(b * T + t) * V + ref!.yes_id]!;
  const no = data[(b * T + t) * V + ref!.no_id]!;
  const m = Math.max(yes, no);
  return Math.exp(yes - m) / (Math.exp(yes - m) + Math.exp(no - m));
};

/** onnxruntime-node on the fp32 graph: rows as one batch padded on `side`, scores at each row's last real token. */
async function ortScores(rows: number[][], side: 'left' | 'right'): Promise<number[]> {
  const s = await ortSession(MODEL, 'model.onnx');
  const { data, dims, last } = await runDecoder(s, rows, 'logits', { padId: PAD_ID, side });
  return last.map((t, b) => yesNo(data, dims[2]!, dims[1]!, b, t));
}

describe.skipIf(!present)(`zoo ${MODEL}`, () => {
  it('is a GroupQueryAttention graph with the builder signature (no position_ids)', () => {
    const manifest = JSON.parse(readFileSync(join(ZOO, 'manifest.json'), 'utf8')) as {
      models: Record<string, { dtypes: Record<string, { inputs: { name: string }[]; outputs: { name: string }[]; ops: string[]; op_counts?: Record<string, number> }> }>;
    };
    const d = manifest.models[MODEL]!.dtypes;
    expect(Object.keys(d).sort()).toEqual(['fp32', 'q4', 'q8']);
    for (const dtype of ['fp32', 'q4', 'q8']) {
      expect(JSON.stringify(d[dtype]!.ops), dtype).toContain('GroupQueryAttention');
      expect(d[dtype]!.inputs.map((i) => i.name)).toEqual(['input_ids', 'attention_mask', 'past_key_values.0.key', 'past_key_values.0.value', 'past_key_values.1.key', 'past_key_values.1.value']);
      expect(d[dtype]!.outputs.map((o) => o.name)).toEqual(['logits', 'present.0.key', 'present.0.value', 'present.1.key', 'present.1.value']);
    }
    expect(JSON.stringify(d['q4']!.ops)).toContain('MatMulNBits');
    expect(JSON.stringify(d['q8']!.ops)).toContain('MatMulInteger');
    report['fp32 op_counts'] = d['fp32']!.op_counts ?? d['fp32']!.ops;
  });

  it('tokenizes the template pairs as the reference did', () => {
    // The library tokenizes template prefix, body and suffix apart, as Qwen3-Reranker's own code does.
    const tok = zooTokenizer(MODEL);
    for (const p of ref!.pairs) expect(p.ids.length).toBe(p.tokens);
    expect(tok.encode('yes', { add_special_tokens: false }).ids).toEqual([ref!.yes_id]);
    expect(tok.encode('no', { add_special_tokens: false }).ids).toEqual([ref!.no_id]);
  });

  it('onnxruntime-node fp32, each pair alone, equals PyTorch within 1e-4; right-padded batch = alone, left-padded is not', async () => {
    const rows = ref!.pairs.map((p) => p.ids);
    const alone: number[] = [];
    for (const r of rows) alone.push((await ortScores([r], 'right'))[0]!);
    const right = await ortScores(rows, 'right');
    const left = await ortScores(rows, 'left');
    report['ort-node alone vs PyTorch'] = maxDiff(alone, want);
    report['ort-node right-padded batch vs alone'] = maxDiff(right, alone);
    report['ort-node left-padded batch vs alone'] = maxDiff(left, alone);
    report['PyTorch'] = round(want);
    report['ort-node left-padded batch'] = round(left);
    expect(maxDiff(alone, want)).toBeLessThan(1e-4);
    expect(maxDiff(right, alone)).toBeLessThan(1e-5);
    // Documents the operator's contract: left padding gives other (wrong) scores for the shorter rows, silently.
    expect(maxDiff(left, alone)).toBeGreaterThan(1e-2);
  });

  describe('the library (createReranker, wasm)', () => {
    // The graph's GroupQueryAttention needs right padding, so the library right-pads it (Qwen3's
    // tokenizer says left) and reads each pair's yes/no logits at its own last real token. fp32 is
    // held to PyTorch at batch sizes 1, 3 and 16 (16 mixed-length documents: the six, repeated);
    // q8 and q4 are held to their own pairs alone (q8 batches one pair at a time by default:
    // dynamic int8) and their distance to PyTorch is printed.
    const docs16 = Array.from({ length: 16 }, (_, i) => docs[(i * 5) % docs.length]!);
    const want16 = Array.from({ length: 16 }, (_, i) => want[(i * 5) % docs.length]!);
    const runs = [
      ['fp32', 'auto'],
      ['fp32', 'full-logits'],
      ['q8', 'auto'],
      ['q4', 'auto'],
    ] as const;
    for (const [dtype, head] of runs) {
      it(`${dtype}, head '${head}': right-padded, the same scores at batch sizes 1, 3 and 16`, async () => {
        const r = await createReranker({ model: server.folder(MODEL), worker: false, device: 'wasm', dtype, head });
        try {
          expect(r.info).toMatchObject({ paddingSide: 'right', head: head === 'auto' ? 'pruned' : 'full-logits' });
          expect(r.info.paddingReason).toMatch(/GroupQueryAttention/);
          const res = await r.rerank(ref!.query, docs);
          expect(res.tokens).toEqual(ref!.pairs.map((p) => p.tokens));
          const bySize: Record<number, number[]> = {};
          for (const batchSize of [1, 3, 16]) {
            const out = await r.rerank(ref!.query, docs16, { batchSize });
            bySize[batchSize] = docs16.map((_, i) => out.find((x) => x.index === i)!.score);
          }
          const spread = Math.max(maxDiff(bySize[3]!, bySize[1]!), maxDiff(bySize[16]!, bySize[1]!));
          report[`library ${dtype} head=${head}`] = {
            info: { head: r.info.head, paddingSide: r.info.paddingSide, batching: r.info.batching },
            'batch 1 vs PyTorch': maxDiff(bySize[1]!, want16),
            'batch 16 vs PyTorch': maxDiff(bySize[16]!, want16),
            'batch 3 / 16 vs batch 1': spread,
            'batch 16': round(bySize[16]!),
          };
          if (dtype === 'fp32') {
            for (const size of [1, 3, 16]) expect(maxDiff(bySize[size]!, want16), `batch ${size} vs PyTorch`).toBeLessThan(1e-4);
          } else if (dtype === 'q4') {
            // No per-run quantization in a q4 graph: a pair's score does not depend on its batch.
            expect(spread).toBeLessThan(1e-4);
          }
        } finally {
          await r.dispose();
        }
      });
    }
    it("left padding cannot be asked for: overrides.paddingSide 'left' is a RangeError naming GroupQueryAttention", async () => {
      await expect(
        createReranker({ model: server.folder(MODEL), worker: false, device: 'wasm', dtype: 'fp32', overrides: { paddingSide: 'left' } }),
      ).rejects.toThrow(/GroupQueryAttention/);
    });
  });
});
