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

let current = 0;
let peak = 0;
const sizes = new Map<GPUBuffer, number>();
function trackBuffers(): void {
  if ((globalThis as { __tracked?: boolean }).__tracked) return;
  (globalThis as { __tracked?: boolean }).__tracked = true;
  const create = GPUDevice.prototype.createBuffer;
  GPUDevice.prototype.createBuffer = function (this: GPUDevice, d: GPUBufferDescriptor) {
    const b = create.call(this, d);
    sizes.set(b, d.size);
    current += d.size;
    peak = Math.max(peak, current);
    return b;
  };
  const destroy = GPUBuffer.prototype.destroy;
  GPUBuffer.prototype.destroy = function (this: GPUBuffer) {
    const s = sizes.get(this);
    if (s !== undefined) {
      current -= s;
      sizes.delete(this);
    }
    return destroy.call(this);
  };
}
const resetPeak = () => (peak = current);

export interface BenchRow {
  name: string;
  device: 'webgpu' | 'wasm';
  documents: number;
  batchSize: number;
  ms: number;
  docsPerSecond: number;
  /** bytes of the logits output of one full batch (logical: dims × element size) */
  logitsBytes: number;
  /** GPU bytes alive at the peak of the timed call, over what was alive before the model loaded */
  peakGpuBytes: number;
  /** bytes read back to the CPU for the timed call */
  readbackBytes: number;
  scores: number[];
  info?: Partial<RerankerInfo>;
}

const SYSTEM =
  '<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the Instruct provided. Note that the answer can only be "yes" or "no".<|im_end|>\n<|im_start|>user\n';
const SUFFIX = '<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n';
const WEB_SEARCH = 'Given a web search query, retrieve relevant passages that answer the query';

export async function ours(modelUrl: string, device: 'webgpu' | 'wasm', head: 'auto' | 'full-logits', query: string, documents: string[], batchSize: number): Promise<BenchRow> {
  trackBuffers();
  const base = current;
  resetPeak();
  const r = await createReranker({ model: modelUrl, device, head, worker: false, limits: { maxBatchSize: batchSize } });
  try {
    await r.rerank(query, documents.slice(0, 1)); // warm-up: shader compilation
    const t0 = performance.now();
    const ranked = await r.rerank(query, documents, { batchSize });
    const ms = performance.now() - t0;
    const V = r.info.head === 'pruned' ? 2 : 151669;
    const longest = Math.max(...ranked.tokens);
    return {
      name: r.info.head === 'pruned' ? 'webgpu-embed, pruned head' : 'webgpu-embed, full logits',
      device,
      documents: documents.length,
      batchSize,
      ms,
      docsPerSecond: (documents.length / ms) * 1000,
      logitsBytes: batchSize * (r.info.head === 'pruned' ? 1 : longest) * V * 4,
      peakGpuBytes: peak - base,
      // WebGPU: the kernel's 4 bytes per document; wasm: nothing leaves a GPU
      readbackBytes: device === 'webgpu' ? documents.length * 4 : 0,
      scores: ranked.slice().sort((a, b) => a.index - b.index).map((x) => x.score),
      info: { head: r.info.head, ...(r.info.headReason ? { headReason: r.info.headReason } : {}), device: r.info.device },
    };
  } finally {
    await r.dispose();
  }
}

export async function transformersJs(modelsPath: string, model: string, device: 'webgpu' | 'wasm', ortDist: string, query: string, documents: string[], batchSize: number): Promise<BenchRow> {
  trackBuffers();
  const tjs = await import('@huggingface/transformers');
  tjs.env.allowRemoteModels = false;
  tjs.env.allowLocalModels = true;
  tjs.env.localModelPath = modelsPath;
  tjs.env.useBrowserCache = false;
  const wasm = tjs.env.backends.onnx.wasm as { wasmPaths?: unknown };
  wasm.wasmPaths = { mjs: `${ortDist}ort-wasm-simd-threaded.asyncify.mjs`, wasm: `${ortDist}ort-wasm-simd-threaded.asyncify.wasm` };
  const base = current;
  resetPeak();
  const tokenizer = await tjs.AutoTokenizer.from_pretrained(model);
  tokenizer.padding_side = 'left';
  const lm = await tjs.AutoModelForCausalLM.from_pretrained(model, { device, dtype: 'fp32' });
  const ids = tokenizer as unknown as { convert_tokens_to_ids(t: string): number };
  const yes = ids.convert_tokens_to_ids('yes');
  const no = ids.convert_tokens_to_ids('no');
  const prompts = documents.map((d) => `${SYSTEM}<Instruct>: ${WEB_SEARCH}\n<Query>: ${query}\n<Document>: ${d}${SUFFIX}`);
  let readback = 0;
  let logitsBytes = 0;
  const score = async (batch: string[]) => {
    const inputs = tokenizer(batch, { padding: true });
    const out = (await lm(inputs)) as { logits: { dims: number[]; data: Float32Array } };
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
  try {
    await score(prompts.slice(0, 1));
    readback = 0;
    const t0 = performance.now();
    const scores: number[] = [];
    for (let i = 0; i < prompts.length; i += batchSize) scores.push(...(await score(prompts.slice(i, i + batchSize))));
    const ms = performance.now() - t0;
    return { name: 'transformers.js AutoModelForCausalLM', device, documents: documents.length, batchSize, ms, docsPerSecond: (documents.length / ms) * 1000, logitsBytes, peakGpuBytes: peak - base, readbackBytes: readback, scores };
  } finally {
    await lm.dispose();
  }
}
