/**
 * The zoo's nv-embed-shape (test/fixtures/zoo: a toy-size NV-Embed-v2-shaped checkpoint with random
 * weights, turned into the library's folder by scripts/export/nv_embed.py, the script users run on
 * their own checkpoint: a bidirectional Mistral decoder as ONNX in two external data chunks, NV-Embed's
 * latent-attention head as latent_attention.safetensors, Mistral-7B-v0.1's tokenizer), through the
 * library in-process in Node on wasm (`worker: false`), held to:
 *   - PyTorch (reference.json: NV-Embed's encode() recipe on the PyTorch model the checkpoint was
 *     saved from: queries "Instruct: {task}\nQuery: " + text + </s> with the instruction's tokens
 *     out of the mean, passages + </s>, each task's texts in one right-padded batch of mixed
 *     lengths): fp32 cos ≥ 0.99999 for every probe text, alone and in mixed-length batches;
 *   - for fp16 / q4 / q4f16, that same file in onnxruntime (Python, CPU, each text alone) followed by
 *     the PyTorch head (reference.json's by_dtype), so a reduced dtype answers for its own file;
 *   - itself: a text in a mixed-length batch equals the text alone.
 * None of the expected vectors comes from this library's code: the head's PyTorch twin is the
 * oracle, and the library's CPU head (src/reference/latent-attention.ts) is what runs here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEmbedder } from '../../src/index.ts';
import { compareProbe, dtypesPresent, embedAloneAndPerTask, expectEachAtLeast, expectInfo, expectFp32EqualsPyTorch, readJson, useZooServer, ZOO, zooHas, zooTokenizer, type ZooProbe } from './helpers/zoo-decoders.ts';

const MODEL = 'nv-embed-shape';
const BOS_ID = 1;
const EOS_ID = 2;

interface Probe extends ZooProbe {
  /** <s> + input + </s> */
  tokens: number;
  /** len(tokenizer.tokenize(instruction)): positions [0, pool_skip) are out of the mean */
  pool_skip: number;
}
interface Reference {
  pooling: string;
  instruction: string;
  probe: Probe[];
  by_dtype: Record<string, number[][]>;
}

/**
 * Reduced dtypes against their own file's onnxruntime + PyTorch-head vectors: the two runtimes
 * (onnxruntime 1.20 CPU in Python, onnxruntime-web 1.30 wasm here) may round fp16 casts and 4-bit
 * dequantization differently, and the library's head runs in float64 from f32 inputs.
 */
const SAME_FILE_MIN_COS = 0.9999;
/** fp16 rounds per op, so a batch's other lengths may change a value by about an fp16 ulp. */
const BATCH_MAX_ABS: Record<string, number> = { fp32: 1e-5, fp16: 2e-3, q4: 1e-5, q4f16: 2e-3 };

// NV-Embed's head, by the names its checkpoint uses (MODELS.md; the modeling code's module tree).
const HEAD_TENSORS = [
  'latent_attention_model.latents',
  'latent_attention_model.cross_attend_blocks.0.norm.weight',
  'latent_attention_model.cross_attend_blocks.0.norm.bias',
  'latent_attention_model.cross_attend_blocks.0.norm_context.weight',
  'latent_attention_model.cross_attend_blocks.0.norm_context.bias',
  'latent_attention_model.cross_attend_blocks.0.fn.to_q.weight',
  'latent_attention_model.cross_attend_blocks.0.fn.to_kv.weight',
  'latent_attention_model.cross_attend_blocks.0.fn.to_out.weight',
  'latent_attention_model.cross_attend_blocks.1.norm.weight',
  'latent_attention_model.cross_attend_blocks.1.norm.bias',
  'latent_attention_model.cross_attend_blocks.1.fn.net.0.weight',
  'latent_attention_model.cross_attend_blocks.1.fn.net.0.bias',
  'latent_attention_model.cross_attend_blocks.1.fn.net.2.weight',
  'latent_attention_model.cross_attend_blocks.1.fn.net.2.bias',
].sort();

const present = zooHas(MODEL);
const ref = present ? readJson<Reference>(MODEL, 'reference.json') : undefined;
const dtypes = present ? dtypesPresent(MODEL) : [];
const report: Record<string, Record<string, number>> = {};
const server = useZooServer(MODEL, present, report);

describe.skipIf(!present)(`zoo ${MODEL}`, () => {
  it('is the folder scripts/export/nv_embed.py writes: decoder graph, chunked external data, the head by its checkpoint names', () => {
    expect(dtypes).toEqual(['fp32', 'fp16', 'q4', 'q4f16']);
    const manifest = JSON.parse(readFileSync(join(ZOO, 'manifest.json'), 'utf8')) as {
      models: Record<string, { dtypes: Record<string, { inputs: { name: string }[]; outputs: { name: string }[]; external_data: string[]; ops: string[] }> }>;
    };
    const fp32 = manifest.models[MODEL]!.dtypes['fp32']!;
    expect(fp32.inputs.map((i) => i.name)).toEqual(['input_ids', 'attention_mask', 'position_ids']);
    expect(fp32.outputs.map((o) => o.name)).toEqual(['last_hidden_state']);
    // The export's 4 MiB chunk limit puts the 8 MB embedding table in a file of its own.
    expect(fp32.external_data).toEqual(['model.onnx_data', 'model.onnx_data_1']);
    expect(manifest.models[MODEL]!.dtypes['q4']!.ops).toContain('com.microsoft:MatMulNBits');
    const config = readJson<Record<string, unknown>>(MODEL, 'config.json');
    expect(config['transformers.js_config']).toEqual({ use_external_data_format: { 'model.onnx': 2, 'model_fp16.onnx': 2, 'model_q4.onnx': 2, 'model_q4f16.onnx': 1 } });
    expect(config).toMatchObject({ model_type: 'nvembed', add_eos: true, is_mask_instruction: true, padding_side: 'right' });
    // safetensors: an 8-byte little-endian header length, then the JSON header.
    const bytes = readFileSync(join(ZOO, MODEL, 'latent_attention.safetensors'));
    const header = JSON.parse(bytes.subarray(8, 8 + Number(bytes.readBigUInt64LE(0))).toString('utf8')) as Record<string, unknown>;
    expect(Object.keys(header).filter((k) => k !== '__metadata__').sort()).toEqual(HEAD_TENSORS);
  });

  it("tokenizes every probe input as the reference did (<s> first; the library appends </s>); the instruction's token count agrees", () => {
    const tok = zooTokenizer(MODEL);
    for (const p of ref!.probe) {
      const ids = tok.encode(p.input).ids;
      expect(ids[0], p.text).toBe(BOS_ID);
      expect(ids.at(-1), p.text).not.toBe(EOS_ID); // the post-processor does not add it: config.json's add_eos does
      expect(ids.length + 1, p.text).toBe(p.tokens);
      const skip = p.task === 'query' ? tok.encode(ref!.instruction, { add_special_tokens: false }).ids.length : 0;
      expect(skip, p.text).toBe(p.pool_skip);
    }
    expect(ref!.probe.some((p) => p.pool_skip > 0)).toBe(true);
  });

  for (const dtype of dtypes) {
    it(`${dtype}: PyTorch, alone vs mixed batch`, async () => {
      const probe = ref!.probe;
      const own = ref!.by_dtype[dtype]!;
      const embedder = await createEmbedder({ model: server.folder(MODEL), worker: false, dtype });
      try {
        expectInfo(embedder.info, { pooling: 'latent-attention', dimensions: 64, dtype });
        // Each text alone, then one call per task: mixed-length batches (8 to 856 tokens).
        const { alone, batched } = await embedAloneAndPerTask(embedder, probe);
        const cmp = compareProbe(probe, alone, batched, own);
        const { cosTorch, cosTorchBatch, cosOther: cosOwn, batchVsAlone } = cmp;
        report[dtype] = {
          cos_pytorch_min: Math.min(...cosTorch),
          cos_pytorch_batch_min: Math.min(...cosTorchBatch),
          cos_same_file_onnxruntime_min: Math.min(...cosOwn),
          batch_vs_alone_max_abs: batchVsAlone,
        };
        if (dtype === 'fp32') expectFp32EqualsPyTorch(probe, cmp);
        expectEachAtLeast(probe, cosOwn, 'vs onnxruntime + PyTorch head', SAME_FILE_MIN_COS);
        expect(batchVsAlone).toBeLessThanOrEqual(BATCH_MAX_ABS[dtype]!);
      } finally {
        await embedder.dispose();
      }
    });
  }
});
