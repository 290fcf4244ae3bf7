/**
 * The ceiling for the wasm path: native onnxruntime-node (CPU execution provider) on the same
 * ONNX file, with webgpu-embed's own tokenization, batching and feeds (src/models/prepare.ts,
 * src/engine/batching.ts, src/engine/feeds.ts) and the CPU reference pooling: what this CPU can do
 * with the model when nothing is in the way of native code.
 */
import * as ortNode from 'onnxruntime-node';
import { cpus } from 'node:os';
import { paddingRatio, planBatches } from '../src/engine/batching.ts';
import { buildFeeds, padBatch } from '../src/engine/feeds.ts';
import { loadModel } from '../src/models/folder.ts';
import { prepareTexts } from '../src/models/prepare.ts';
import { maskedMeanPool } from '../src/reference/masked-mean.ts';
import { lastTokenPool } from '../src/reference/token-pooling.ts';
import { diskFetchFile, fixtureUrl } from '../test/unit/helpers/model-folders.ts';
import { corpus, median, type CorpusKind } from './corpus.ts';

export interface CeilingCase {
  corpus: CorpusKind;
  texts: number;
  batchSize: number;
  runsMs: number[];
  medianMs: number;
  textsPerSecond: number;
  tokensPerSecond: number;
  paddingRatio: number;
}

export interface CeilingResult {
  model: string;
  dtype: 'fp32' | 'fp16';
  runtime: string;
  /** intra-op threads (onnxruntime-node's default: the machine's cores) */
  threads: number;
  cases: CeilingCase[];
}

export async function nodeCeiling(
  model: string,
  dtype: 'fp32' | 'fp16',
  cases: { corpus: CorpusKind; texts: number; batchSize: number; fixedTokens?: number }[],
  runs: number,
): Promise<CeilingResult> {
  const loaded = await loadModel(fixtureUrl(model), { dtype, fetchFile: diskFetchFile() });
  const { spec, tokenizer } = loaded;
  const threads = cpus().length;
  const session = await ortNode.InferenceSession.create(loaded.onnx, { graphOptimizationLevel: 'all', intraOpNumThreads: threads });
  const inputs = session.inputNames.map((name) => {
    const m = session.inputMetadata.find((x) => x.name === name);
    return m && m.isTensor ? { name, type: m.type, shape: m.shape } : { name };
  });
  const hiddenName = session.outputNames.includes('last_hidden_state') ? 'last_hidden_state' : session.outputNames[0]!;
  const out: CeilingCase[] = [];
  try {
    for (const c of cases) {
      const texts = corpus(c.corpus, c.texts, c.fixedTokens ?? 64);
      const limits = { maxBatchSize: c.batchSize, maxBatchTokens: c.batchSize * spec.maxTokens };
      const once = async () => {
        // tokenization and batching are inside the timed run, as in the browser
        const prepared = prepareTexts(loaded, texts);
        const batches = planBatches(prepared.map((p) => p.ids.length), limits);
        for (const b of batches) {
          const padded = padBatch({ ids: b.map((i) => prepared[i]!.ids), padId: tokenizer.padId, side: spec.paddingSide });
          const feeds = buildFeeds(inputs, padded, spec.config);
          const tensors = Object.fromEntries(Object.entries(feeds).map(([k, f]) => [k, new ortNode.Tensor(f.type, f.data, f.dims)]));
          const res = await session.run(tensors);
          const h = res[hiddenName]!;
          const [B, T, H] = h.dims as [number, number, number];
          const pooled = spec.pooling === 'last-token' ? lastTokenPool(h.data as Float32Array, padded.maskF32, B, T, H) : maskedMeanPool(h.data as Float32Array, padded.maskF32, B, T, H);
          for (let r = 0; r < B; r++) {
            let n = 0;
            for (let k = 0; k < H; k++) n += pooled[r * H + k]! ** 2;
            n = Math.sqrt(n) || 1;
            for (let k = 0; k < H; k++) pooled[r * H + k]! /= n;
          }
          for (const t of Object.values(res)) t.dispose();
        }
        return { prepared, batches };
      };
      const { prepared, batches } = await once(); // warm-up
      const ms: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        await once();
        ms.push(performance.now() - t0);
      }
      const lengths = prepared.map((p) => p.ids.length);
      const real = lengths.reduce((a, b) => a + b, 0);
      const m = median(ms);
      out.push({
        corpus: c.corpus,
        texts: c.texts,
        batchSize: c.batchSize,
        runsMs: ms,
        medianMs: m,
        textsPerSecond: (texts.length / m) * 1000,
        tokensPerSecond: (real / m) * 1000,
        paddingRatio: paddingRatio(lengths, batches),
      });
    }
  } finally {
    await session.release();
  }
  return { model, dtype, runtime: `onnxruntime-node ${ortNode.env.versions?.common ?? ''}`.trim(), threads, cases: out };
}
