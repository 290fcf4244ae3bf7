/**
 * `npx tsx bench/rerank.ts [documents] [batchSize]`: reranking tiny-qwen3-reranker in headless
 * Chromium, three ways on the same documents in the same browser run (bench/pages/rerank.ts):
 * webgpu-embed with the edited yes/no head, webgpu-embed with the full logits, and transformers.js
 * (AutoModelForCausalLM, as the onnx-community model card scores Qwen3-Reranker) — on WebGPU and on
 * wasm. Prints documents per second, peak GPU bytes, logits bytes per batch and bytes read back,
 * and the largest score difference from our pruned run. On the build machines the WebGPU adapter
 * is SwiftShader (a CPU): compare ratios within one run, not absolute speeds.
 * Writes bench/results/rerank-<date>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launchBrowser } from '../test/browser/harness/browser.ts';
import { REPO_ROOT, startServer } from '../test/browser/harness/server.ts';
import { ensureFixture } from '../test/fixtures/build/index.ts';
import { FIXTURES } from '../test/fixtures/build/registry.ts';
import { RERANK_QUERY as QUERY, rerankDocuments } from './corpus.ts';
import { tjsOrt, TJS_ORT_PATH } from './harness.ts';
import type { BenchRow } from './pages/rerank.ts';

const MODEL = 'tiny-qwen3-reranker';
const count = Number(process.argv[2] ?? 8);
const batchSize = Number(process.argv[3] ?? 4);
await ensureFixture(FIXTURES.find((f) => f.name === MODEL)!);

const documents = rerankDocuments(count);

const server = await startServer({ middlewares: [tjsOrt] });
const browser = await launchBrowser();
const rows: BenchRow[] = [];
try {
  const modelUrl = server.url(`/test/fixtures/models/${MODEL}/`);
  // Each run in a fresh page: no JS heap (transformers.js' logits are hundreds of MB) or GPU device carried over.
  const call = async (expr: string) => {
    await browser.page.goto(server.url('/test/browser/pages/blank.html'));
    return (await browser.page.evaluate(`import('/bench/pages/rerank.ts').then((m) => ${expr})`)) as BenchRow;
  };
  const args = (...a: unknown[]) => a.map((x) => JSON.stringify(x)).join(', ');
  for (const device of ['webgpu', 'wasm'] as const) {
    for (const head of ['auto', 'full-logits'] as const) {
      rows.push(await call(`m.ours(${args(modelUrl, device, head, QUERY, documents, batchSize)})`));
      console.log(`done: ours ${head} on ${device} (${rows.at(-1)!.ms.toFixed(0)} ms)`);
    }
    rows.push(await call(`m.transformersJs(${args('/test/fixtures/models/', MODEL, device, server.url(TJS_ORT_PATH), QUERY, documents, batchSize)})`));
    console.log(`done: transformers.js on ${device} (${rows.at(-1)!.ms.toFixed(0)} ms)`);
  }
} finally {
  await browser.close();
  await server.close();
}

const bytes = (b: number) => (b >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(1)} MiB` : b >= 1024 ? `${(b / 1024).toFixed(1)} KiB` : `${b} B`);
console.log(`\nrerank, ${MODEL}, ${count} documents in batches of ${batchSize}, headless Chromium (WebGPU adapter: SwiftShader)\n`);
console.log('| device | pipeline | docs/s | peak GPU memory | logits per batch | read back | max abs score diff vs pruned |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) {
  const ref = rows.find((x) => x.device === r.device && x.name.includes('pruned'))!;
  const d = Math.max(...r.scores.map((s, i) => Math.abs(s - ref.scores[i]!)));
  const gpu = r.device === 'webgpu' ? bytes(r.peakGpuBytes) : '–';
  console.log(`| ${r.device} | ${r.name} | ${r.docsPerSecond.toFixed(2)} | ${gpu} | ${bytes(r.logitsBytes)} | ${r.device === 'webgpu' ? bytes(r.readbackBytes) : '–'} | ${d.toExponential(1)} |`);
}
const dir = join(REPO_ROOT, 'bench', 'results');
mkdirSync(dir, { recursive: true });
const file = join(dir, `rerank-${new Date().toISOString().slice(0, 10)}-${MODEL}.json`);
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), model: MODEL, documents: count, batchSize, rows }, null, 2) + '\n');
console.log(`\nwrote ${file}`);
