/**
 * `npx tsx bench/cache.ts [model] [reps]`: time to first embedding, cold (downloaded from a
 * localhost server and stored in IndexedDB) versus warm (read from IndexedDB, no request), in
 * headless Chromium with the engine in its worker on the wasm device. Also: no cache at all
 * (download only), and warm with verify: 'full' (SHA-256 of every chunk). Each load runs in a
 * freshly loaded page (a new worker); medians of `reps` (default 3). Localhost makes the network
 * as fast as it gets, so cold-vs-warm here is the cost of the store, not the saving over a real
 * network. Writes bench/results/cache-<date>-<model>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launchBrowser } from '../test/browser/harness/browser.ts';
import { openPage } from '../test/browser/harness/page.ts';
import { startServer, REPO_ROOT } from '../test/browser/harness/server.ts';
import { ensureFixture } from '../test/fixtures/build/index.ts';
import { FIXTURES } from '../test/fixtures/build/registry.ts';
import type { TimedLoad } from './pages/cache.ts';

const model = process.argv[2] ?? 'minilm-shape';
const reps = Number(process.argv[3] ?? 3);
const fixture = FIXTURES.find((f) => f.name === model);
if (!fixture) throw new Error(`unknown fixture ${model}`);
await ensureFixture(fixture);

const server = await startServer();
const browser = await launchBrowser();
const scenarios = { 'no cache': [], cold: [], warm: [], 'warm, verify full': [] } as Record<string, TimedLoad[]>;
try {
  const url = server.url(`/test/fixtures/models/${model}/`);
  const run = async (cache: unknown) => {
    await openPage(browser.page, server); // a new page: a new worker, nothing in memory
    return (await browser.page.evaluate(
      `import('/bench/pages/cache.ts').then((m) => m.timeLoad(${JSON.stringify(url)}, 'fp32', ${JSON.stringify(cache)}))`,
    )) as TimedLoad;
  };
  for (let i = 0; i < reps; i++) {
    scenarios['no cache']!.push(await run(false));
    await openPage(browser.page, server);
    await browser.page.evaluate(`import('/bench/pages/cache.ts').then((m) => m.clear())`);
    scenarios.cold!.push(await run(undefined));
    scenarios.warm!.push(await run(undefined));
    scenarios['warm, verify full']!.push(await run({ verify: 'full' }));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(`\nweight cache — ${model} (fp32 ONNX), Chromium ${browser.context.browser()?.version() ?? ''} headless, wasm device, localhost server; median of ${reps}\n`);
  const summary: Record<string, { firstEmbeddingMs: number; onnxReadyMs: number; cache: unknown }> = {};
  for (const [name, runs] of Object.entries(scenarios)) {
    const s = { firstEmbeddingMs: median(runs.map((r) => r.firstEmbeddingMs)), onnxReadyMs: median(runs.map((r) => r.onnxReadyMs)), cache: runs[0]!.cache };
    summary[name] = s;
    const c = s.cache as { hits: number; misses: number; bytesFromNetwork: number; bytesFromCache: number } | undefined;
    const from = c ? `${(c.bytesFromNetwork / 1e6).toFixed(1)} MB network, ${(c.bytesFromCache / 1e6).toFixed(1)} MB cache` : 'cache off';
    console.log(`  ${name.padEnd(18)} first embedding ${s.firstEmbeddingMs.toFixed(0).padStart(6)} ms   ONNX bytes in ${s.onnxReadyMs.toFixed(0).padStart(6)} ms   (${from})`);
  }
  const dir = join(REPO_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `cache-${new Date().toISOString().slice(0, 10)}-${model}.json`);
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), model, device: 'wasm', reps, summary, runs: scenarios }, null, 2) + '\n');
  console.log(`\nwrote ${file}`);
} finally {
  await browser.close();
  await server.close();
}
