/**
 * `npx tsx scripts/real-gpu/summarize.ts [--bench FILE.json] [--index FILE.json] [--gpu NAME]`
 *
 * The figures issue #16 asks for, from one real-GPU run (scripts/real-gpu/run.sh calls this):
 *  - MiniLM (minilm-shape) at B=128 on WebGPU: texts/s, webgpu-embed and transformers.js, and
 *    the arithmetic rate that implies as a fraction of the GPU's fp16 peak;
 *  - the vector index's GPU top-k against the JavaScript loop at 100k × 256 and 1M × 256.
 * Prints markdown on stdout.
 *
 * The arithmetic: BERT-style encoder, L layers, width d, FFN width f, per padded token
 * 2·L·(4d² + 2·d·f) FLOPs in the matrix products, plus attention 4·L·d·T per token for a batch
 * padded to T. The bench records padded tokens per run but not each batch's T, so T is taken
 * as the run's mean padded length: Σ B·T² ≥ (Σ B·T)²/Σ B, so the attention term, and the rate,
 * are lower bounds. Work is counted on the padded tokens (what the GPU computes). fp16 peaks
 * (dense, from NVIDIA's data sheets): the CUDA-core ("vector") rate, which is what WGSL can
 * reach (Chromium's WebGPU has no tensor-core matrix ops), and the tensor-core rate, for scale.
 * Unknown cards: set GPU_FP16_PEAK_TFLOPS (and GPU_FP16_TENSOR_PEAK_TFLOPS).
 */
import { readFileSync } from 'node:fs';
import type { BenchResult } from '../../bench/result.ts';

const argv = process.argv.slice(2);
const opt = (n: string) => {
  const i = argv.indexOf(`--${n}`);
  return i >= 0 ? argv[i + 1] : undefined;
};

/** dense fp16 TFLOP/s: CUDA cores (FMA = 2, half2 = 2×), tensor cores */
const PEAKS: { re: RegExp; name: string; vector: number; tensor: number }[] = [
  { re: /H200/i, name: 'H200 SXM', vector: 133.8, tensor: 989.4 },
  { re: /H100.*(PCIe)/i, name: 'H100 PCIe', vector: 102.4, tensor: 756.4 },
  { re: /H100.*(SXM|HBM3)/i, name: 'H100 SXM', vector: 133.8, tensor: 989.4 },
  { re: /A100/i, name: 'A100', vector: 78, tensor: 312 },
  { re: /\bL4\b/i, name: 'L4', vector: 30.3, tensor: 121 },
];

/** minilm-shape: all-MiniLM-L6-v2's shape (test/fixtures/models/minilm-shape/config.json) */
const MINILM = { layers: 6, hidden: 384, ffn: 1536 };

export function flopsPerPaddedToken(m: typeof MINILM, meanT: number): number {
  const dense = 2 * m.layers * (4 * m.hidden * m.hidden + 2 * m.hidden * m.ffn);
  const attention = 4 * m.layers * m.hidden * meanT;
  return dense + attention;
}

const L: string[] = [];
const gpuArg = opt('gpu');
const benchFile = opt('bench');
const indexFile = opt('index');
const fmt = (x: number, d = 1) => x.toLocaleString('en', { maximumFractionDigits: d, minimumFractionDigits: d });

let peak: { name: string; vector?: number; tensor?: number } | undefined;
const envVector = Number(process.env.GPU_FP16_PEAK_TFLOPS) || undefined;
const envTensor = Number(process.env.GPU_FP16_TENSOR_PEAK_TFLOPS) || undefined;
if (envVector || envTensor) peak = { name: `${gpuArg ?? 'this GPU'} (peaks from GPU_FP16_*PEAK_TFLOPS)`, vector: envVector, tensor: envTensor };
else if (gpuArg) {
  const p = PEAKS.find((k) => k.re.test(gpuArg));
  if (p) peak = p;
}

L.push(`## Real-GPU run: ${gpuArg ?? 'GPU unknown (no nvidia-smi)'}`, '');

if (benchFile) {
  const r = JSON.parse(readFileSync(benchFile, 'utf8')) as BenchResult;
  const software = r.adapter.isFallbackAdapter;
  L.push(
    `\`${r.command}\` on ${r.date.slice(0, 10)}, ${r.machine.cpu} × ${r.machine.cores}; Chromium ${r.browser.version}; ` +
      `WebGPU adapter: **${r.adapter.description}**${software ? ' — SOFTWARE (SwiftShader): these are not GPU figures' : ''}; shader-f16 ${r.adapter.shaderF16 ? 'yes' : 'no'}.`,
    '',
  );
  const minilm = r.throughput.filter((t) => t.model === 'minilm-shape' && t.device === 'webgpu');
  if (!minilm.length) L.push('MiniLM on WebGPU: not in this run.', '');
  for (const t of minilm) {
    const maxB = Math.max(...t.cases.map((c) => c.batchSize));
    const cases = t.cases.filter((c) => c.batchSize === 128);
    const shown = cases.length ? cases : t.cases.filter((c) => c.batchSize === maxB);
    L.push(`### MiniLM (minilm-shape) ${t.dtype} on WebGPU${cases.length ? ', B=128' : `, B=${maxB} (no B=128 case in this run: --large has it)`}`, '');
    L.push('| corpus | texts | B | library | texts/s | tokens/s (real) | padding | GFLOP/s (lower bound) | of fp16 CUDA-core peak | of fp16 tensor peak |');
    L.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const c of shown) {
      for (const x of c.results) {
        const meanT = x.paddedTokens / c.texts;
        const flops = (x.paddedTokens * flopsPerPaddedToken(MINILM, meanT)) / (x.medianMs / 1000);
        const frac = (p?: number) => (p && !software ? `${fmt((100 * flops) / (p * 1e12), 2)} %` : '–');
        L.push(`| ${c.corpus} | ${c.texts} | ${c.batchSize} | ${x.lib} | ${fmt(x.textsPerSecond)} | ${fmt(x.tokensPerSecond, 0)} | ${x.paddingRatio.toFixed(2)} | ${fmt(flops / 1e9)} | ${frac(peak?.vector)} | ${frac(peak?.tensor)} |`);
      }
    }
    L.push('');
  }
  if (peak) L.push(`fp16 peaks used: ${peak.name}: ${peak.vector ?? '?'} TFLOP/s on CUDA cores, ${peak.tensor ?? '?'} TFLOP/s on tensor cores (dense).`, '');
  else L.push(`No fp16 peak known for ${gpuArg ?? 'this GPU'}: set GPU_FP16_PEAK_TFLOPS (and GPU_FP16_TENSOR_PEAK_TFLOPS) for the fractions.`, '');
  L.push('For fp32 rows the fractions are of the fp16 peaks too, for scale (the issue asks for fp16; the fp16 rows are the ones to quote).', '');
  L.push(`FLOPs per padded token: 2·L·(4d² + 2df) + 4·L·d·T̄ with L=${MINILM.layers}, d=${MINILM.hidden}, f=${MINILM.ffn}, T̄ the run's mean padded length (a lower bound; see scripts/real-gpu/summarize.ts).`, '');
} else {
  L.push('No bench result (npm run bench did not write one).', '');
}

interface IndexRun {
  adapter: { description: string; architecture: string; isFallbackAdapter: boolean } | null;
  results: { rows: number; dims: number; timings: { path: string; storage: string; median: number; p90: number }[] }[];
}
if (indexFile) {
  const ix = JSON.parse(readFileSync(indexFile, 'utf8')) as IndexRun;
  L.push(`### Vector index: GPU top-k against the JavaScript loop (float32, topK 10, median ms per search)`, '');
  L.push(`Adapter: ${ix.adapter ? `${ix.adapter.description || ix.adapter.architecture}${ix.adapter.isFallbackAdapter ? ' (SOFTWARE)' : ''}` : 'none'}.`, '');
  L.push('| rows × dims | GPU ms | JS loop ms | JS / GPU |', '| --- | --- | --- | --- |');
  for (const [rows, dims] of [
    [100_000, 256],
    [1_000_000, 256],
  ] as const) {
    const c = ix.results.find((x) => x.rows === rows && x.dims === dims);
    const gpu = c?.timings.find((t) => t.path === 'webgpu' && t.storage === 'float32');
    const cpu = c?.timings.find((t) => t.path === 'cpu' && t.storage === 'float32');
    L.push(
      gpu && cpu
        ? `| ${rows.toLocaleString('en')} × ${dims} | ${fmt(gpu.median, 2)} | ${fmt(cpu.median, 2)} | ${fmt(cpu.median / gpu.median, 1)}× |`
        : `| ${rows.toLocaleString('en')} × ${dims} | not measured: bench/index-search.ts runs ${[...new Set(ix.results.map((x) => `${x.rows.toLocaleString('en')} × ${x.dims}`))].join(', ')} | | |`,
    );
  }
  L.push('');
} else {
  L.push('No index bench result (npm run bench:index did not run or wrote none).', '');
}

console.log(L.join('\n'));
