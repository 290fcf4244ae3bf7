/**
 * The real-encoder tests for one zoo model (test/fixtures/zoo: folders made as the hub's are), in
 * Node on wasm (`worker: false`), for every dtype file the model has. Three answers:
 *   - PyTorch sentence-transformers fp32 (reference.json: probe vectors, retrieval corpus vectors);
 *   - onnxruntime-node on the same ONNX file, each text alone, pooled by src/reference
 *     (zoo-oracle.ts): what the file itself computes, so a quantized file's own loss is told
 *     apart from ours; for dynamically quantized files also onnxruntime-web run bare;
 *   - ourselves: the probe texts in one mixed-length call against each text alone.
 * What it measured goes to test-results/real-encoders.{json,md} (real-encoders-report.ts).
 * One file per model (test/unit/real-encoders-*.test.ts), so the three can run side by side.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmbedder, type Embedder } from '../../../src/index.ts';
import { startServer, type TestServer } from './model-folders.ts';
import { recordReport, type DtypeRow, type ModelReport, type Score } from './real-encoders-report.ts';
import { agreement, maxAbsDiff, retrievalScore } from './vector-metrics.ts';
import { encodeTruncated, loadTokenizer, openZooOracle, type OracleEmbedding } from './zoo-oracle.ts';
import {
  dtypesPresent,
  dynamicallyQuantized,
  missingDtypeNotes,
  readReference,
  retrievalCorpus,
  ZOO,
  type ZooDtype,
  type ZooModel,
  type ZooProbe,
  type ZooReference,
  type ZooTask,
} from './zoo-reference.ts';

/** The bounds. */
const FP32_COS = 0.99999;
const FP32_ABS = 1e-4;
const BATCH_ABS = 1e-5;
const REDUCED_VS_ORT_COS = 0.999;
const FP16_VS_PYTORCH_COS = 0.999;
/** "equal to the third decimal": closer than half a unit of it */
const THIRD_DECIMAL = 5e-4;
/** A dtype's first test runs it through ours and the oracles (the retrieval corpus too): minutes on a busy 2-core machine. */
const MEASURE_TIMEOUT = 600_000;

const corpus = retrievalCorpus();
const relevant = corpus.queries.map((q) => corpus.paragraphs.findIndex((p) => p.id === q.expected));
const corpusItems: { text: string; task: ZooTask }[] = [
  ...corpus.queries.map((q) => ({ text: q.text, task: 'query' as const })),
  ...corpus.paragraphs.map((p) => ({ text: p.text, task: 'document' as const })),
];

const scoreOf = (vectors: readonly ArrayLike<number>[]): Score => {
  const s = retrievalScore(vectors.slice(0, corpus.queries.length), vectors.slice(corpus.queries.length), relevant);
  return { ndcg10: s.ndcg10, recall10: s.recall10 };
};

interface Embedded {
  vectors: Float32Array[];
  truncated: number[];
  tokens: number[];
}

/** Embeds items in input order, one call per task (each a mixed-length batch), or one call per text. */
async function embedItems(embedder: Embedder, items: readonly { text: string; task: ZooTask }[], alone = false): Promise<Embedded> {
  const out: Embedded = { vectors: new Array(items.length), truncated: [], tokens: new Array(items.length) };
  const calls = alone ? items.map((_, i) => [i]) : (['query', 'document'] as const).map((t) => items.flatMap((it, i) => (it.task === t ? [i] : [])));
  for (const at of calls.filter((c) => c.length)) {
    const r = await embedder.embed(at.map((i) => items[i]!.text), { task: items[at[0]!]!.task });
    at.forEach((i, k) => {
      out.vectors[i] = r[k]!;
      out.tokens[i] = r.tokens[k]!;
    });
    out.truncated.push(...r.truncated.map((k) => at[k]!));
  }
  out.truncated.sort((a, b) => a - b);
  return out;
}

interface Measured {
  /** ours, as users call it: the probe texts in one call per task */
  probe: Embedded;
  /** ours on the retrieval corpus (in one call per task; one text per call for a dynamically quantized file) */
  corpus?: Float32Array[];
  /** onnxruntime-node, each text alone */
  nodeProbe: OracleEmbedding[];
  nodeCorpus?: number[][];
  /** dynamically quantized files: ours with each probe text alone, and bare onnxruntime-web alone */
  alone?: { ours: Float32Array[]; web: number[][] };
}

async function measure(url: string, model: ZooModel, dtype: ZooDtype, ref: ZooReference, withCorpus: boolean): Promise<Measured> {
  const embedder = await createEmbedder({ model: url, worker: false, device: 'wasm', dtype });
  const node = await openZooOracle(model, dtype, ref);
  try {
    expect([embedder.info.dtype, embedder.info.pooling, embedder.info.maxTokens]).toEqual([dtype, ref.pooling, ref.maxTokens]);
    const dynamic = dynamicallyQuantized(model, dtype);
    const out: Measured = { probe: await embedItems(embedder, ref.probe), nodeProbe: [] };
    for (const p of ref.probe) out.nodeProbe.push(await node.embed(p.input));
    if (withCorpus) {
      out.corpus = (await embedItems(embedder, corpusItems, dynamic)).vectors;
      out.nodeCorpus = [];
      for (const it of corpusItems) out.nodeCorpus.push((await node.embed(ref.prompts[it.task] + it.text)).vector);
    }
    if (dynamic) {
      const web = await openZooOracle(model, dtype, ref, 'onnxruntime-web');
      out.alone = { ours: (await embedItems(embedder, ref.probe, true)).vectors, web: [] };
      for (const p of ref.probe) out.alone.web.push((await web.embed(p.input)).vector);
      await web.release();
    }
    return out;
  } finally {
    await node.release();
    await embedder.dispose();
  }
}

export interface SuiteOptions {
  /**
   * The dtypes whose retrieval is compared with onnxruntime-node's. On a model with random weights
   * every paragraph scores nearly alike, so ranks swap under any perturbation: there the check
   * says nothing about us past fp32.
   */
  retrievalDtypes: 'all' | 'fp32';
}

export function describeRealEncoder(model: ZooModel, opts: SuiteOptions): void {
  let server: TestServer;
  let ref: ZooReference;
  const started = performance.now();
  const notes: string[] = [];
  const report: ModelReport = {};
  const measured = new Map<ZooDtype, Promise<Measured>>();
  const withCorpus = (dtype: ZooDtype) => opts.retrievalDtypes === 'all' || dtype === 'fp32';
  /** Each dtype is run once; the tests read the results. */
  const results = (dtype: ZooDtype): Promise<Measured> => {
    let m = measured.get(dtype);
    if (!m) measured.set(dtype, (m = measure(server.folder(model), model, dtype, ref, withCorpus(dtype))));
    return m;
  };
  const row = (dtype: ZooDtype): DtypeRow => ((report.dtypes ??= {})[dtype] ??= {});
  const retrieval = () => (report.retrieval ??= {});
  const label = (p: ZooProbe) => p.text.slice(0, 60);
  const vectorsOf = (o: OracleEmbedding[]) => o.map((x) => x.vector);

  beforeAll(async () => {
    server = await startServer({}, ZOO);
    ref = readReference(model);
    report.about = `${ref.pooling} pooling, ${ref.maxTokens} tokens`;
    retrieval().pytorch = scoreOf([...ref.retrieval.queries, ...ref.retrieval.paragraphs]);
  });
  afterAll(async () => {
    await server?.close();
    recordReport(`node ${model}`, {
      models: { [model]: report },
      runs: { [`node ${model}`]: { date: new Date().toISOString(), seconds: (performance.now() - started) / 1000, texts: `Node: ours on wasm (one call per task; the retrieval corpus one text per call for dynamic int8 files) and onnxruntime-node (each text alone) on all ${ref.probe.length} probe texts, and on the 280 retrieval texts for ${opts.retrievalDtypes === 'all' ? 'every dtype' : 'fp32'}` } },
      notes: { [`node ${model}`]: [...notes, ...missingDtypeNotes(model)] },
    });
  });

  describe(`${model} in Node on wasm`, () => {
    it('the reference fed prompt + text, and the oracle cuts each probe text to the token count PyTorch saw', () => {
      const tokenizer = loadTokenizer(model);
      expect(ref.retrieval.queries).toHaveLength(corpus.queries.length);
      expect(ref.retrieval.paragraphs).toHaveLength(corpus.paragraphs.length);
      for (const p of ref.probe) {
        expect(p.input, label(p)).toBe(ref.prompts[p.task] + p.text);
        expect(encodeTruncated(tokenizer, p.input, ref.maxTokens).ids.length, label(p)).toBe(p.tokens);
      }
      // at least one probe text is past the maximum, so truncation is exercised
      expect(ref.probe.some((p) => encodeTruncated(tokenizer, p.input, ref.maxTokens).truncated)).toBe(true);
    });

    it('fp32: every probe text is within cos 0.99999 and 1e-4 of PyTorch, the long one cut where PyTorch cut it and reported', async () => {
      const m = await results('fp32');
      const vsPt = agreement(m.probe.vectors, ref.probe.map((p) => p.embedding));
      const nodeVsPt = agreement(vectorsOf(m.nodeProbe), ref.probe.map((p) => p.embedding));
      notes.push(`fp32 vs PyTorch: ours min cos ${vsPt.minCosine.toFixed(8)}, max |diff| ${vsPt.maxAbsDiff.toExponential(2)}; onnxruntime-node min cos ${nodeVsPt.minCosine.toFixed(8)}`);
      ref.probe.forEach((p, i) => {
        expect(vsPt.cosines[i], label(p)).toBeGreaterThanOrEqual(FP32_COS);
        expect(maxAbsDiff(m.probe.vectors[i]!, p.embedding), label(p)).toBeLessThanOrEqual(FP32_ABS);
      });
      // `tokens` counts before the cut; `truncated` names the texts past the maximum, as PyTorch cut them
      expect(m.probe.tokens.map((t) => Math.min(t, ref.maxTokens))).toEqual(ref.probe.map((p) => p.tokens));
      expect(m.probe.truncated).toEqual(m.nodeProbe.flatMap((o, i) => (o.truncated ? [i] : [])));
      // the onnxruntime-node oracle is right on fp32, so it can speak for the other files
      expect(nodeVsPt.minCosine).toBeGreaterThanOrEqual(FP32_COS);
    }, MEASURE_TIMEOUT);

    it("fp32: retrieval (nDCG@10, recall@10) from our vectors equals PyTorch's to the third decimal", async () => {
      const ours = scoreOf((await results('fp32')).corpus!);
      const pt = retrieval().pytorch!;
      expect(Math.abs(ours.ndcg10 - pt.ndcg10)).toBeLessThan(THIRD_DECIMAL);
      expect(Math.abs(ours.recall10 - pt.recall10)).toBeLessThan(THIRD_DECIMAL);
    }, MEASURE_TIMEOUT);

    it('fp32: the probe texts embedded in one mixed-length call per task equal each text embedded alone', async () => {
      const embedder = await createEmbedder({ model: server.folder(model), worker: false, device: 'wasm', dtype: 'fp32' });
      try {
        const together = await embedItems(embedder, ref.probe);
        const alone = await embedItems(embedder, ref.probe, true);
        const worst = agreement(together.vectors, alone.vectors).maxAbsDiff;
        const lengths = ref.probe.map((p) => p.tokens);
        notes.push(`fp32: the probe texts (${Math.min(...lengths)}–${Math.max(...lengths)} tokens) in one call per task vs each alone: max |diff| ${worst.toExponential(2)}`);
        expect(worst).toBeLessThanOrEqual(BATCH_ABS);
      } finally {
        await embedder.dispose();
      }
    }, MEASURE_TIMEOUT);

    for (const dtype of dtypesPresent(model)) {
      it(`${dtype}: ours equals onnxruntime-node on the same file${dtype === 'fp16' ? ', and PyTorch within cos 0.999' : ''}`, async () => {
        const m = await results(dtype);
        const pytorch = ref.probe.map((p) => p.embedding);
        const vsNode = agreement([...m.probe.vectors, ...(m.corpus ?? [])], [...vectorsOf(m.nodeProbe), ...(m.nodeCorpus ?? [])]);
        const oursVsPt = agreement(m.probe.vectors, pytorch);
        Object.assign(row(dtype), { oursWasm: oursVsPt.minCosine, ortNode: agreement(vectorsOf(m.nodeProbe), pytorch).minCosine, oursVsOrt: { node: vsNode.minCosine } });
        if (dtype === 'fp16') ref.probe.forEach((p, i) => expect(oursVsPt.cosines[i], label(p)).toBeGreaterThanOrEqual(FP16_VS_PYTORCH_COS));
        if (!m.alone) {
          expect(vsNode.minCosine).toBeGreaterThanOrEqual(REDUCED_VS_ORT_COS);
          return;
        }
        // Dynamic int8: activations are quantized with one scale per tensor, so a text's vector
        // depends on its batch, and onnxruntime-web's wasm kernels round differently from
        // onnxruntime-node's native ones. Ours to answer for: each text alone equals the same file
        // run bare in onnxruntime-web; and, since the engine runs such files one text per batch,
        // a text in a mixed call equals the same text alone. The rest is measured and reported.
        const aloneVsWeb = agreement(m.alone.ours, m.alone.web);
        const webVsNode = agreement(m.alone.web, vectorsOf(m.nodeProbe));
        const batchVsAlone = agreement(m.probe.vectors, m.alone.ours);
        notes.push(
          `${dtype} (dynamic int8): cos(ours, onnxruntime-node) min ${vsNode.minCosine.toFixed(5)} over ${vsNode.cosines.length} texts; ` +
            `each probe text alone: ours = bare onnxruntime-web (max |diff| ${aloneVsWeb.maxAbsDiff.toExponential(1)}), onnxruntime-web vs onnxruntime-node min cos ${webVsNode.minCosine.toFixed(5)}; ` +
            `ours in one call per task vs each alone: min cos ${batchVsAlone.minCosine.toFixed(5)}`,
        );
        expect(aloneVsWeb.maxAbsDiff).toBeLessThanOrEqual(BATCH_ABS);
        expect(batchVsAlone.maxAbsDiff).toBeLessThanOrEqual(BATCH_ABS);
      }, MEASURE_TIMEOUT);

      if (!withCorpus(dtype)) continue;
      it(`${dtype}: retrieval (nDCG@10, recall@10) from our vectors equals onnxruntime-node's on the same file to the third decimal`, async () => {
        const m = await results(dtype);
        const ours = scoreOf(m.corpus!);
        const node = scoreOf(m.nodeCorpus!);
        (retrieval().dtypes ??= {})[dtype] = { ours, ortNode: node };
        expect(Math.abs(ours.ndcg10 - node.ndcg10)).toBeLessThan(THIRD_DECIMAL);
        expect(Math.abs(ours.recall10 - node.recall10)).toBeLessThan(THIRD_DECIMAL);
      }, MEASURE_TIMEOUT);
    }
  });
}
