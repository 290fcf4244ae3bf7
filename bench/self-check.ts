/**
 * `npx tsx bench/self-check.ts [model] [reps]`: what the self-check adds to a load on WebGPU —
 * createEmbedder() time, time to the first vectors, and onnxruntime's wasm memory afterwards
 * (its peak: a WebAssembly.Memory never shrinks) — with selfCheck false against 'warn' (the check
 * without its action), each load in a freshly loaded page, medians of `reps` (default 3). On the
 * build machines WebGPU is SwiftShader, a CPU: compare the two columns, not the absolute times.
 * Writes bench/results/self-check-<date>-<model>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launchBrowser } from '../test/browser/harness/browser.ts';
import { openPage } from '../test/browser/harness/page.ts';
import { startServer, REPO_ROOT } from '../test/browser/harness/server.ts';
import { ensureFixture } from '../test/fixtures/build/index.ts';
import { FIXTURES } from '../test/fixtures/build/registry.ts';
import type { SelfCheckLoad } from './pages/self-check.ts';

const model = process.argv[2] ?? 'minilm-shape';
const reps = Number(process.argv[3] ?? 3);
const fixture = FIXTURES.find((f) => f.name === model);
if (!fixture) throw new Error(`unknown fixture ${model}`);
await ensureFixture(fixture);

const server = await startServer();
const browser = await launchBrowser();
const runs: Record<'off' | 'on', SelfCheckLoad[]> = { off: [], on: [] };
try {
  const url = server.url(`/test/fixtures/models/${model}/`);
  const run = async (selfCheck: false | 'warn') => {
    await openPage(browser.page, server); // a new page: a new wasm memory, nothing compiled
    return (await browser.page.evaluate(`import('/bench/pages/self-check.ts').then((m) => m.timeLoad(${JSON.stringify(url)}, ${JSON.stringify(selfCheck)}))`)) as SelfCheckLoad;
  };
  for (let i = 0; i < reps; i++) {
    runs.off.push(await run(false));
    runs.on.push(await run('warn'));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const summary = Object.fromEntries(
    Object.entries(runs).map(([k, rs]) => [k, { createMs: median(rs.map((r) => r.createMs)), firstEmbeddingMs: median(rs.map((r) => r.firstEmbeddingMs)), wasmMiB: median(rs.map((r) => r.wasmBytes)) / 2 ** 20 }]),
  ) as Record<'off' | 'on', { createMs: number; firstEmbeddingMs: number; wasmMiB: number }>;
  console.log(`\nself-check — ${model} (fp32), Chromium headless, WebGPU ${'(SwiftShader here)'}, engine in the page; median of ${reps}\n`);
  for (const [k, s] of Object.entries(summary)) {
    console.log(`  selfCheck ${k === 'on' ? "'warn'" : 'false '}  createEmbedder ${s.createMs.toFixed(0).padStart(6)} ms   first vectors ${s.firstEmbeddingMs.toFixed(0).padStart(6)} ms   wasm memory ${s.wasmMiB.toFixed(1).padStart(7)} MiB`);
  }
  console.log(`  the check: cosine ${runs.on.map((r) => (r.selfCheck.ran ? r.selfCheck.cosine : NaN)).join(', ')}; its own time ${runs.on.map((r) => (r.selfCheck.ran ? r.selfCheck.ms : NaN)).join(', ')} ms`);
  const dir = join(REPO_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `self-check-${new Date().toISOString().slice(0, 10)}-${model}.json`);
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), model, device: 'webgpu', reps, summary, runs }, null, 2) + '\n');
  console.log(`\nwrote ${file}`);
} finally {
  await browser.close();
  await server.close();
}
