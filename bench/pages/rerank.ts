/**
 * Page side of bench/rerank.ts: one model, the same documents, three ways, in this page:
 *   ours, pruned head  — createReranker (engine in the page, worker: false, so its GPU buffers can
 *                        be counted), the graph edited to the yes/no rows at the last position;
 *   ours, full logits  — the same with head: 'full-logits' (the graph as exported);
 *   transformers.js    — AutoModelForCausalLM on the same folder and device, the way its model
 *                        card scores Qwen3-Reranker: logits of the whole batch, yes/no read on the CPU.
 * For each: documents per second (after one warm-up call that compiles the shaders), the GPU bytes
 * alive at the peak (every GPUDevice.createBuffer / destroy counted, ORT's pool included), the
 * bytes of the logits output, and the bytes read back to the CPU.
 */
import { createReranker, type RerankerInfo } from '../../src/index.ts';
import { gpuBytesNow, gpuBytesPeak, resetGpuPeak, trackGpuBuffers } from '../../test/browser/pages/gpu-buffers.ts';
import { configureTjs } from './tjs-env.ts';

export interface BenchRow {
  name: string;
  device: 'webgpu' | 'wasm';
  documents: number;
  batchSize: number;
  /** the median of the timed runs */
  ms: number;
  runsMs?: number[];
  docsPerSecond: number;
  /** bytes of the logits output of one full batch (logical: dims × element size) */
  logitsBytes: number;
  /** GPU bytes alive at the peak of the timed call, over what was alive before the model loaded */
  peakGpuBytes: number;
  /** bytes read back to the CPU for one timed call */
  readbackBytes: number;
  scores: number[];
  info?: Partial<RerankerInfo>;
}

const SYSTEM =
  '<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the Instruct provided. Note that the answer can only be "yes" or "no".<|im_end|>\n<|im_start|>user\n';
const SUFFIX = '<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n';
const WEB_SEARCH = 'Given a web search query, retrieve relevant passages that answer the query';

/** A loaded scorer: `score` ranks the documents in batches and returns their scores in input order. */
export interface LoadedScorer {
  name: string;
  score(query: string, documents: string[], batchSize: number): Promise<number[]>;
  /** bytes of the logits output of one batch of the last call, and bytes read back by it */
  logitsBytes(documents: string[], batchSize: number): number;
  readbackBytes(documents: string[]): number;
  info?: Partial<RerankerInfo>;
  dispose(): Promise<void>;
}

/** webgpu-embed's reranker (engine in this page, worker: false), loaded. */
export async function loadOurs(modelUrl: string, device: 'webgpu' | 'wasm', head: 'auto' | 'full-logits', batchSize: number): Promise<LoadedScorer> {
  const r = await createReranker({ model: modelUrl, device, head, worker: false, limits: { maxBatchSize: batchSize } });
  let longest = 0;
  return {
    name: r.info.head === 'pruned' ? 'webgpu-embed, pruned head' : 'webgpu-embed, full logits',
    async score(query, documents, b) {
      const ranked = await r.rerank(query, documents, { batchSize: b, onProgress: () => (globalThis as { __benchSampleHeap?: () => void }).__benchSampleHeap?.() });
      longest = Math.max(...ranked.tokens);
      return ranked.slice().sort((x, y) => x.index - y.index).map((x) => x.score);
    },
    logitsBytes: (_, b) => b * (r.info.head === 'pruned' ? 1 : longest) * (r.info.head === 'pruned' ? 2 : 151669) * 4,
    // WebGPU: the kernel's 4 bytes per document; wasm: nothing leaves a GPU
    readbackBytes: (documents) => (device === 'webgpu' ? documents.length * 4 : 0),
    info: { head: r.info.head, ...(r.info.headReason ? { headReason: r.info.headReason } : {}), device: r.info.device },
    dispose: () => r.dispose(),
  };
}

/** Median of a list of numbers. */
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** One warm-up call (shader compilation), then `runs` timed calls: the median is reported. */
async function measure(s: LoadedScorer, device: 'webgpu' | 'wasm', query: string, documents: string[], batchSize: number, runs: number, onTimedStart?: () => void): Promise<BenchRow> {
  await s.score(query, documents.slice(0, 1), batchSize); // warm-up: shader compilation
  onTimedStart?.();
  const runsMs: number[] = [];
  let scores: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    scores = await s.score(query, documents, batchSize);
    runsMs.push(performance.now() - t0);
  }
  const ms = median(runsMs);
  return {
    name: s.name,
    device,
    documents: documents.length,
    batchSize,
    ms,
    runsMs,
    docsPerSecond: (documents.length / ms) * 1000,
    logitsBytes: s.logitsBytes(documents, batchSize),
    peakGpuBytes: 0,
    readbackBytes: s.readbackBytes(documents) * runs,
    scores,
    ...(s.info ? { info: s.info } : {}),
  };
}

export async function ours(modelUrl: string, device: 'webgpu' | 'wasm', head: 'auto' | 'full-logits', query: string, documents: string[], batchSize: number, runs = 1): Promise<BenchRow> {
  trackGpuBuffers();
  const base = gpuBytesNow();
  resetGpuPeak();
  const s = await loadOurs(modelUrl, device, head, batchSize);
  try {
    const row = await measure(s, device, query, documents, batchSize, runs);
    return { ...row, readbackBytes: s.readbackBytes(documents), peakGpuBytes: gpuBytesPeak() - base };
  } finally {
    await s.dispose();
  }
}

/** transformers.js' AutoModelForCausalLM on the model folder, loaded; yes/no read from its logits on the CPU. */
export async function loadTransformersJs(modelsPath: string, model: string, device: 'webgpu' | 'wasm', ortDist: string): Promise<LoadedScorer & { readback(): number; resetReadback(): void }> {
  const tjs = await import('@huggingface/transformers');
  configureTjs(tjs, ortDist, modelsPath, false);
  const tokenizer = await tjs.AutoTokenizer.from_pretrained(model);
  tokenizer.padding_side = 'left';
  const lm = await tjs.AutoModelForCausalLM.from_pretrained(model, { device, dtype: 'fp32' });
  const ids = tokenizer as unknown as { convert_tokens_to_ids(t: string): number };
  const yes = ids.convert_tokens_to_ids('yes');
  const no = ids.convert_tokens_to_ids('no');
  let readback = 0;
  let logitsBytes = 0;
  const scoreBatch = async (batch: string[]) => {
    const inputs = tokenizer(batch, { padding: true });
    const out = (await lm(inputs)) as { logits: { dims: number[]; data: Float32Array } };
    (globalThis as { __benchSampleHeap?: () => void }).__benchSampleHeap?.(); // npm run bench: the heap with the logits alive
    const [B, T, V] = out.logits.dims as [number, number, number];
    // transformers.js hands every output back as a CPU tensor: on WebGPU the whole [B, T, V] is read back
    if (device === 'webgpu') readback += out.logits.data.byteLength;
    logitsBytes = Math.max(logitsBytes, B * T * V * 4);
    // left padding: every row's last real token is at T - 1
    return Array.from({ length: B }, (_, b) => {
      const y = out.logits.data[(b * T + T - 1) * V + yes]!, n = out.logits.data[(b * T + T - 1) * V + no]!;
      return 1 / (1 + Math.exp(n - y));
    });
  };
  return {
    name: 'transformers.js AutoModelForCausalLM',
    async score(query, documents, batchSize) {
      const prompts = documents.map((d) => `${SYSTEM}<Instruct>: ${WEB_SEARCH}\n<Query>: ${query}\n<Document>: ${d}${SUFFIX}`);
      const scores: number[] = [];
      for (let i = 0; i < prompts.length; i += batchSize) scores.push(...(await scoreBatch(prompts.slice(i, i + batchSize))));
      return scores;
    },
    logitsBytes: () => logitsBytes,
    readbackBytes: () => readback,
    readback: () => readback,
    resetReadback: () => void (readback = 0),
    dispose: async () => void (await lm.dispose()),
  };
}

export async function transformersJs(modelsPath: string, model: string, device: 'webgpu' | 'wasm', ortDist: string, query: string, documents: string[], batchSize: number, runs = 1): Promise<BenchRow> {
  trackGpuBuffers();
  const base = gpuBytesNow();
  resetGpuPeak();
  const s = await loadTransformersJs(modelsPath, model, device, ortDist);
  try {
    const row = await measure(s, device, query, documents, batchSize, runs, s.resetReadback);
    return { ...row, readbackBytes: s.readback() / runs, peakGpuBytes: gpuBytesPeak() - base };
  } finally {
    await s.dispose();
  }
}
