/**
 * `npx tsx bench/index-search.ts [runs] [--large]`: vector index search latency
 * for 10k and 100k vectors of 256 and 1024 dimensions (and 1M × 256 with --large), the GPU path against the CPU path (the
 * plain JavaScript loop), in the same run of headless Chromium; int8 and binary storage too, with
 * their recall@10 against exact search. Writes bench/results/index-search-<date>.json.
 *
 * On the build machines the WebGPU adapter is SwiftShader (the "GPU" is these 2 CPU cores), so
 * the GPU figures here are not GPU speeds: they show the cost of the GPU path's fixed work and
 * that the page's main thread stays free while a scan runs.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launchBrowser } from '../test/browser/harness/browser.ts';
import { REPO_ROOT, startServer } from '../test/browser/harness/server.ts';
import type { ConfigResult } from './pages/index-search.ts';

const args = process.argv.slice(2);
/** --large: also 1,000,000 × 256 (1 GiB of float32 vectors: a real GPU's job; float32 storage only) */
const large = args.includes('--large');
const runs = Number(args.find((a) => /^\d+$/.test(a)) ?? 15);
const CONFIGS: [number, number, ('float32' | 'int8' | 'binary')[]][] = [
  [10_000, 256, ['float32', 'int8', 'binary']],
  [10_000, 1024, ['float32', 'int8', 'binary']],
  [100_000, 256, ['float32', 'int8', 'binary']],
  [100_000, 1024, ['float32', 'int8', 'binary']],
  ...(large ? [[1_000_000, 256, ['float32']] as [number, number, 'float32'[]]] : []),
];

const server = await startServer();
const browser = await launchBrowser({ args: ['--js-flags=--max-old-space-size=8192'] });
try {
  await browser.page.goto(server.url('/test/browser/pages/blank.html'));
  const call = <T>(expr: string) => browser.page.evaluate(`import('/bench/pages/index-search.ts').then((m) => ${expr})`) as Promise<T>;
  const adapter = await call<{ description: string; architecture: string; isFallbackAdapter: boolean } | null>('m.adapterInfo()');
  const version = browser.context.browser()?.version() ?? '';
  console.log(`\nvector index search — Chromium ${version} (headless), adapter: ${adapter ? `${adapter.description} (${adapter.architecture}${adapter.isFallbackAdapter ? ', software fallback' : ''})` : 'none'}`);
  console.log(`topK 10, a query vector per search (scan + top-k + rescoring); median of ${runs} searches after a warm-up\n`);
  const results: ConfigResult[] = [];
  for (const [rows, dims, storages] of CONFIGS) {
    const r = await call<ConfigResult>(`m.benchConfig(${rows}, ${dims}, ${runs}, ${JSON.stringify(storages)})`);
    results.push(r);
    console.log(`${rows.toLocaleString('en')} × ${dims}:`);
    for (const t of r.timings) {
      const recall = t.recallAt10 !== undefined ? `  recall@10 ${t.recallAt10.toFixed(3)}` : '';
      console.log(
        `  ${t.path.padEnd(6)} ${t.storage.padEnd(7)} median ${t.median.toFixed(1).padStart(7)} ms  p90 ${t.p90.toFixed(1).padStart(7)} ms  ` +
          `longest main-thread stall ${t.maxStallMs.toFixed(0).padStart(4)} ms  long tasks ${t.longTasks}${t.longTasks ? ` (longest ${t.longestTaskMs.toFixed(0)} ms)` : ''}${recall}`,
      );
    }
  }
  const dir = join(REPO_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `index-search-${new Date().toISOString().slice(0, 10)}.json`);
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), chromium: version, adapter, runs, topK: 10, results }, null, 2) + '\n');
  console.log(`\nwrote ${file}`);
} finally {
  await browser.close();
  await server.close();
}
