/**
 * The zoo's embeddinggemma-shape (test/fixtures/zoo: a toy-size EmbeddingGemma whose ONNX graph pools
 * by itself, as onnx-community/embeddinggemma-300m-ONNX's: inputs input_ids + attention_mask,
 * outputs last_hidden_state and sentence_embedding [B, 768] = Normalize(Dense(Dense(mean))); every
 * file with external data; no sentence-transformers files in the folder), through the library
 * in-process in Node on wasm (`worker: false`), held to:
 *   - PyTorch (reference.json: sentence-transformers' own encode(), each text alone, at the full
 *     width and at truncate_dim 512 / 256 / 128): fp32 cos ≥ 0.99999 at every width, for every probe
 *     text alone and inside mixed-length calls;
 *   - onnxruntime-node on the same file (each text alone; its sentence_embedding cut and
 *     renormalized here in float64): cos ≥ 0.999 for every dtype, as the real-encoder tests hold
 *     reduced dtypes (helpers/real-encoder-suite.ts); fp16 also within cos 0.999 of PyTorch; the
 *     dynamic int8 file (q8) also equal to the same file run bare in onnxruntime-web, each text alone;
 *   - itself: a text inside a mixed-length call equals the text alone.
 * And the preset embeddinggemma-300m against this export of the hub's layout.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ortWeb from 'onnxruntime-web';
import type * as ortNode from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { createEmbedder, type Embedder } from '../../src/index.ts';
import { PRESETS } from '../../src/models/presets.ts';
import { cosine, dtypesPresent, embedAloneAndPerTask, maxAbs, ortSession, readJson, useZooServer, ZOO, zooHas, zooTokenizer, DTYPE_FILES, type DecoderReference, type ZooDtype, type ZooProbe } from './helpers/zoo-decoders.ts';

const MODEL = 'embeddinggemma-shape';
const PRESET = 'embeddinggemma-300m';
const BOS = 2;
const EOS = 1;
/** the bounds of the real-encoder tests (helpers/real-encoder-suite.ts) */
const FP32_COS = 0.99999;
const FP32_ABS = 1e-4;
const REDUCED_VS_ORT_COS = 0.999;
const FP16_VS_PYTORCH_COS = 0.999;
const BATCH_ABS = 1e-5;
/** dynamic quantization: activations quantized with one scale per tensor, over the whole batch */
const BATCH_DEPENDENT = new Set<ZooDtype>(['q8', 'int8', 'uint8']);
/** the widths checked: the full one and the Matryoshka sizes the card names */
const WIDTHS = ['full', 512, 256, 128] as const;
type Width = (typeof WIDTHS)[number];

interface Probe extends ZooProbe {
  truncated: Record<string, number[]>;
}
interface Reference extends DecoderReference<Probe> {
  dimensions: number;
  matryoshka: number[];
  maxTokens: number;
  prompts: Record<'query' | 'document', string>;
}
interface ManifestDtype {
  file: string;
  inputs: { name: string; dtype: string; shape: (string | number)[] }[];
  outputs: { name: string; dtype: string; shape: (string | number)[] }[];
  external_data: string[];
  ops: string[];
}

const present = zooHas(MODEL);
const ref = present ? readJson<Reference>(MODEL, 'reference.json') : undefined;
const dtypes = present ? dtypesPresent(MODEL) : [];
const manifest = () => (JSON.parse(readFileSync(join(ZOO, 'manifest.json'), 'utf8')) as { models: Record<string, { dtypes: Record<string, ManifestDtype> }> }).models[MODEL]!;
const tokenizer = () => zooTokenizer(MODEL);
const label = (p: Probe) => p.text.slice(0, 40);
const want = (p: Probe, w: Width) => (w === 'full' ? p.embedding : p.truncated[String(w)]!);

/** The first w values of v, renormalized, in float64: Matryoshka as sentence-transformers' truncate_dim does it. */
function cut(v: ArrayLike<number>, w: Width): number[] {
  const head = Array.from(v).slice(0, w === 'full' ? v.length : w);
  const n = Math.hypot(...head);
  return head.map((x) => x / n);
}

const report: Record<string, Record<string, number>> = {};
const server = useZooServer(MODEL, present, report);

/** Each probe text alone, and one call per task (each a mixed-length batch), at width w. */
const embedProbe = (embedder: Embedder, probe: Probe[], w: Width, input: 'text' | 'input' = 'text') =>
  embedAloneAndPerTask(embedder, probe, { input, options: w === 'full' ? {} : { dimensions: w } });

/** onnxruntime-node (or onnxruntime-web, bare) on the dtype's file, each text alone: sentence_embedding as the graph gives it. */
async function oracle(dtype: ZooDtype, probe: Probe[], runtime: 'node' | 'web'): Promise<Float32Array[]> {
  const file = DTYPE_FILES[dtype];
  const session =
    runtime === 'node'
      ? await ortSession(MODEL, file)
      : ((await ortWeb.InferenceSession.create(new Uint8Array(readFileSync(join(ZOO, MODEL, 'onnx', file))), {
          externalData: [{ path: `${file}_data`, data: new Uint8Array(readFileSync(join(ZOO, MODEL, 'onnx', `${file}_data`))) }],
        })) as unknown as ortNode.InferenceSession);
  const Tensor = runtime === 'node' ? (await import('onnxruntime-node')).Tensor : (ortWeb.Tensor as unknown as typeof ortNode.Tensor);
  const tok = tokenizer();
  const out: Float32Array[] = [];
  for (const p of probe) {
    const ids = tok.encode(p.input).ids;
    const i64 = (f: (t: number) => number) => new Tensor('int64', BigInt64Array.from(ids, (_, t) => BigInt(f(t))), [1, ids.length]);
    const r = await session.run({ input_ids: i64((t) => ids[t]!), attention_mask: i64(() => 1) }, ['sentence_embedding']);
    out.push(Float32Array.from(r['sentence_embedding']!.data as Float32Array));
  }
  if (runtime === 'web') await session.release();
  return out;
}

describe.skipIf(!present)(`zoo ${MODEL}`, () => {
  it('has the signature and files of onnx-community/embeddinggemma-300m-ONNX: two inputs, last_hidden_state + sentence_embedding [B, 768], external data per file', () => {
    expect(dtypes).toEqual(expect.arrayContaining(['fp32', 'q8', 'q4']));
    const m = manifest();
    for (const dtype of dtypes) {
      const d = m.dtypes[dtype]!;
      expect(d.inputs.map((i) => [i.name, i.dtype]), dtype).toEqual([['input_ids', 'int64'], ['attention_mask', 'int64']]);
      expect(d.outputs.map((o) => [o.name, o.dtype]), dtype).toEqual([['last_hidden_state', 'float'], ['sentence_embedding', 'float']]);
      // the pooled width is the graph's (768), not config.json's hidden_size (64)
      expect(d.outputs[1]!.shape, dtype).toEqual(['batch_size', 768]);
      expect(d.external_data, dtype).toEqual([`${DTYPE_FILES[dtype]}_data`]);
    }
    expect(readJson<{ hidden_size: number }>(MODEL, 'config.json').hidden_size).toBe(64);
    // the 4-bit file quantizes the embedding table as the hub's size says (GatherBlockQuantized)
    expect(m.dtypes['q4']!.ops).toEqual(expect.arrayContaining(['com.microsoft:GatherBlockQuantized', 'com.microsoft:MatMulNBits']));
    // like the hub's folder: no sentence-transformers files, so no pooling or prompts from the folder
    expect(readdirSync(join(ZOO, MODEL)).filter((f) => /modules|Pooling|sentence/.test(f))).toEqual([]);
  });

  it('tokenizes every probe input as the reference did, wrapped in <bos> … <eos>', () => {
    const tok = tokenizer();
    for (const p of ref!.probe) {
      const ids = tok.encode(p.input).ids;
      expect(ids.length, label(p)).toBe(p.tokens);
      expect([ids[0], ids.at(-1)], label(p)).toEqual([BOS, EOS]);
    }
  });

  it("without a preset the graph alone decides: pooling 'graph', width 768, and the vectors are PyTorch's", async () => {
    const embedder = await createEmbedder({ model: server.folder(MODEL), worker: false, device: 'wasm', dtype: 'fp32' });
    try {
      expect(embedder.info).toMatchObject({ pooling: 'graph', dimensions: 768, matryoshka: { trained: false }, normalize: true, paddingSide: 'right' });
      expect(embedder.info.prompts).toEqual({});
      // the folder has no prompts, so the prompt goes in with the text
      const { alone, batched } = await embedProbe(embedder, ref!.probe, 'full', 'input');
      ref!.probe.forEach((p, i) => {
        expect(cosine(alone[i]!, p.embedding), label(p)).toBeGreaterThanOrEqual(FP32_COS);
        expect(cosine(batched[i]!, p.embedding), label(p)).toBeGreaterThanOrEqual(FP32_COS);
      });
    } finally {
      await embedder.dispose();
    }
  });

  it('the preset fits the export: its dtype files and their external data are in the folder, its prompts are the reference\'s, its width and Matryoshka are the graph\'s', async () => {
    const p = PRESETS[PRESET];
    const m = manifest();
    for (const [dtype, file] of Object.entries(p.dtypes)) {
      const d = m.dtypes[dtype];
      expect(d, `the zoo has no ${dtype}`).toBeDefined();
      expect(file!.externalData, dtype).toEqual(d!.external_data.map((f) => `onnx/${f}`));
    }
    expect(p.prompts).toEqual(ref!.prompts);
    expect(p.maxTokens).toBe(ref!.maxTokens);
    const embedder = await createEmbedder({ model: server.folder(MODEL), preset: PRESET, worker: false, device: 'wasm', dtype: 'fp32' });
    try {
      expect(embedder.info).toMatchObject({ pooling: 'graph', dimensions: ref!.dimensions, prompts: ref!.prompts, paddingSide: 'right' });
      expect(embedder.info.matryoshka).toEqual({ trained: true, sizes: { min: Math.min(...ref!.matryoshka), max: ref!.dimensions }, source: 'preset' });
      await expect(embedder.embed(['x'], { dimensions: ref!.dimensions + 1 })).rejects.toThrow(RangeError);
    } finally {
      await embedder.dispose();
    }
  });

  for (const dtype of dtypes) {
    it(`${dtype}: every width (768, 512, 256, 128), alone and in mixed-length calls, against PyTorch and onnxruntime on the same file`, async () => {
      const probe = ref!.probe;
      // The preset lists only the dtypes the card calls usable; the others get its prompts and Matryoshka by hand.
      const viaPreset = dtype in PRESETS[PRESET].dtypes;
      const embedder = await createEmbedder({
        model: server.folder(MODEL),
        worker: false,
        device: 'wasm',
        dtype,
        ...(viaPreset ? { preset: PRESET } : { overrides: { prompts: ref!.prompts, matryoshka: { min: 128 } } }),
      });
      try {
        expect([embedder.info.dtype, embedder.info.pooling, embedder.info.dimensions]).toEqual([dtype, 'graph', 768]);
        const node = await oracle(dtype, probe, 'node');
        const web = BATCH_DEPENDENT.has(dtype) ? await oracle(dtype, probe, 'web') : undefined;
        const row: Record<string, number> = {};
        for (const w of WIDTHS) {
          const { alone, batched } = await embedProbe(embedder, probe, w);
          const cosTorch = probe.map((p, i) => cosine(alone[i]!, want(p, w)));
          const cosTorchBatch = probe.map((p, i) => cosine(batched[i]!, want(p, w)));
          const cosNode = probe.map((_, i) => cosine(alone[i]!, cut(node[i]!, w)));
          const batchVsAlone = Math.max(...probe.map((_, i) => maxAbs(batched[i]!, alone[i]!)));
          Object.assign(row, {
            [`${w}_cos_pytorch_min`]: Math.min(...cosTorch, ...cosTorchBatch),
            [`${w}_cos_onnxruntime_node_min`]: Math.min(...cosNode),
            [`${w}_batch_vs_alone_max_abs`]: batchVsAlone,
          });
          // Truncated AND renormalized: cosine alone cannot tell a vector that was only cut.
          for (const v of [...alone, ...batched]) {
            expect(v.length).toBe(w === 'full' ? 768 : w);
            expect(Math.abs(Math.hypot(...v) - 1)).toBeLessThanOrEqual(1e-5);
          }
          if (dtype === 'fp32') {
            cosTorch.forEach((c, i) => expect(c, `${w} alone: ${label(probe[i]!)}`).toBeGreaterThanOrEqual(FP32_COS));
            cosTorchBatch.forEach((c, i) => expect(c, `${w} batch: ${label(probe[i]!)}`).toBeGreaterThanOrEqual(FP32_COS));
            probe.forEach((p, i) => expect(maxAbs(batched[i]!, want(p, w)), `${w} batch: ${label(p)}`).toBeLessThanOrEqual(FP32_ABS));
          }
          if (dtype === 'fp16') cosTorch.forEach((c, i) => expect(c, `${w} vs PyTorch: ${label(probe[i]!)}`).toBeGreaterThanOrEqual(FP16_VS_PYTORCH_COS));
          cosNode.forEach((c, i) => expect(c, `${w} vs onnxruntime-node: ${label(probe[i]!)}`).toBeGreaterThanOrEqual(REDUCED_VS_ORT_COS));
          if (web) {
            // Dynamic int8: the engine runs one text per batch, so ours is the file's own answer for the text alone.
            const vsWeb = Math.max(...probe.map((_, i) => maxAbs(alone[i]!, cut(web[i]!, w))));
            row[`${w}_alone_vs_onnxruntime_web_max_abs`] = vsWeb;
            expect(vsWeb).toBeLessThanOrEqual(BATCH_ABS);
          }
          expect(batchVsAlone).toBeLessThanOrEqual(dtype === 'fp32' || web ? BATCH_ABS : 1e-3);
        }
        report[dtype] = row;
      } finally {
        await embedder.dispose();
      }
    }, 600_000);
  }
});
