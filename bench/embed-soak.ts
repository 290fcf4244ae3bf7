/**
 * `npm run bench:soak [model]`: embed() over many batches in headless Chromium (WebGPU; on the
 * build machines the adapter is SwiftShader, so times are not GPU speeds — the figures here are
 * bytes and counts). Prints readback bytes per batch (target B × dims × 4), GPU buffers alive
 * every 100 of 1,000 batches (target: flat), and main-thread long tasks while the worker embeds
 * 1,000 texts (target: none over 50 ms). Writes bench/results/soak-<date>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launchBrowser } from '../test/browser/harness/browser.ts';
import { startServer, REPO_ROOT } from '../test/browser/harness/server.ts';
import { ensureFixture } from '../test/fixtures/build/index.ts';
import { FIXTURES } from '../test/fixtures/build/registry.ts';
import type { SoakResult } from './pages/soak.ts';

const model = process.argv[2] ?? 'glove-sif';
const batches = Number(process.argv[3] ?? 1000);
const fixture = FIXTURES.find((f) => f.name === model);
if (!fixture) throw new Error(`unknown fixture ${model}`);
await ensureFixture(fixture);

const server = await startServer();
const browser = await launchBrowser();
try {
  await browser.page.goto(server.url('/test/browser/pages/blank.html'));
  const url = server.url(`/test/fixtures/models/${model}/`);
  const r = (await browser.page.evaluate(
    `import('/bench/pages/soak.ts').then((m) => m.soak(${JSON.stringify(url)}, ${JSON.stringify(model)}, ${batches}))`,
  )) as SoakResult;
  console.log(`\nembed() soak — ${model}, Chromium ${browser.context.browser()?.version() ?? ''} (headless, SwiftShader WebGPU)\n`);
  console.log('readback per batch:');
  for (const x of r.readback) console.log(`  B=${String(x.batch).padStart(2)} d=${x.dimensions}: ${x.bytes} bytes (B × d × 4 = ${x.expected})${x.bytes === x.expected ? '' : '  ← differs'}`);
  console.log(`GPU buffers alive (engine in the page, ${batches} batches of 4 texts):`);
  for (const g of r.gpu) console.log(`  ${g.batches === -1 ? 'after dispose' : `after ${g.batches}`.padEnd(13)}: ${g.liveBuffers} buffers, ${g.liveBytes} bytes`);
  const m = r.mainThread;
  console.log(`main thread while the worker embeds ${m.texts} texts (${(m.ms / 1000).toFixed(1)} s): ${m.longTasks} long tasks, longest ${m.longestMs.toFixed(0)} ms`);
  const dir = join(REPO_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `soak-${new Date().toISOString().slice(0, 10)}-${model}.json`);
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), ...r }, null, 2) + '\n');
  console.log(`\nwrote ${file}`);
} finally {
  await browser.close();
  await server.close();
}
