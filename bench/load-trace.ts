/**
 * Where a warm load's time goes, thread by thread: Chromium's own trace of one load of a model
 * through the public API (engine in its worker), from the library's IndexedDB cache, after two
 * loads that fill that cache and the browser's wasm code cache. Prints what each worker thread (the
 * engine's, the weight cache's chunk reader, ORT's own) spent its time on (module loading, IndexedDB
 * results, wasm lazy compilation, GC) and the
 * wasm top-tier compilation on background threads, beside `info.loadTimings`; writes the trace for
 * Perfetto or chrome://tracing. Not a benchmark: tracing slows what it watches.
 *
 *   npx tsx bench/load-trace.ts [model folder under test/fixtures/models/ = minilm-shape] [wasm|webgpu = wasm]
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launchBrowser } from '../test/browser/harness/browser.ts';
import { REPO_ROOT, startServer } from '../test/browser/harness/server.ts';
import type { FirstEmbedding } from './pages/throughput.ts';

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  args?: { name?: string };
}

const model = process.argv[2] ?? 'minilm-shape';
const device = process.argv[3] === 'webgpu' ? 'webgpu' : 'wasm';
const server = await startServer();
const browser = await launchBrowser();
try {
  const load = async (): Promise<FirstEmbedding> => {
    await browser.page.goto(server.url('/test/browser/pages/blank.html'));
    const o = { modelUrl: server.url(`/test/fixtures/models/${model}/`), modelsPath: '', model, device, dtype: 'fp32', pooling: 'mean', tjsOrt: '' };
    return browser.page.evaluate(`import('/bench/pages/throughput.ts').then((m) => m.firstEmbedding('webgpu-embed', 'warm', ${JSON.stringify(o)}))`) as Promise<FirstEmbedding>;
  };
  await browser.page.goto(server.url('/test/browser/pages/blank.html'));
  await browser.page.evaluate(`import('/bench/pages/throughput.ts').then((m) => m.clearCaches())`);
  await load();
  await load();

  const cdp = await browser.context.newCDPSession(browser.page);
  const events: TraceEvent[] = [];
  // (playwright-core's CDPSession types know only its own events: Tracing's are named as strings)
  const on = cdp.on.bind(cdp) as unknown as (event: string, listener: (e: { value: TraceEvent[] }) => void) => void;
  const complete = new Promise<void>((resolve) => on('Tracing.tracingComplete', () => resolve()));
  on('Tracing.dataCollected', (e) => void events.push(...e.value));
  const categories = ['v8', 'v8.wasm', 'v8.execute', 'devtools.timeline', 'disabled-by-default-devtools.timeline', 'disabled-by-default-v8.gc', 'blink', 'IndexedDB'];
  await cdp.send('Tracing.start', { traceConfig: { includedCategories: categories }, transferMode: 'ReportEvents' } as never);
  const traced = await load();
  await cdp.send('Tracing.end');
  await complete;

  const out = join(REPO_ROOT, '.cache', `load-trace-${model}-${device}.json`);
  writeFileSync(out, JSON.stringify({ traceEvents: events }));

  const threadName = new Map<string, string>();
  for (const e of events) if (e.ph === 'M' && e.name === 'thread_name') threadName.set(`${e.pid}:${e.tid}`, e.args?.name ?? '');
  const spans = events.filter((e) => e.ph === 'X' && e.dur !== undefined);
  const sum = (pred: (e: TraceEvent) => boolean) => spans.filter(pred).reduce((a, e) => a + e.dur! / 1000, 0);
  const onWorker = (e: TraceEvent) => threadName.get(`${e.pid}:${e.tid}`) === 'DedicatedWorker thread';
  const d = traced.detail as { createMs: number; firstEmbedMs: number; loadTimings: Record<string, number> };
  console.log(`${model} on ${device}, warm: ${traced.ms.toFixed(0)} ms to the first embedding (createEmbedder ${d.createMs.toFixed(0)}, first embed() ${d.firstEmbedMs.toFixed(0)})`);
  console.log(`info.loadTimings: ${Object.entries(d.loadTimings).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}`);
  console.log('worker threads, ms (a column per thread that did any of this: the engine\'s, the weight cache\'s chunk reader, ORT\'s):');
  const rows: [string, (e: TraceEvent) => boolean][] = [
    ['module loading (script compile, responses)', (e) => e.name === 'v8.compileModule' || e.name === 'ResponseBodyLoader::DidFinishLoadingBody'],
    ['wasm from the code cache', (e) => e.name === 'v8.wasm.compileConsume'],
    ['wasm lazy compilation (a function at its first call)', (e) => e.name === 'wasm.CompileLazy'],
    ['IndexedDB results (and the work their promises run)', (e) => e.name === 'IDBRequest::dispatchEvent'],
    ['structured-clone reads', (e) => e.name === 'SerializedScriptValueFactory::deserialize'],
    ['messages from the page (and the work they run)', (e) => e.name === 'HandlePostMessage'],
    ['major GC', (e) => e.name === 'MajorGC'],
  ];
  // one column per worker thread: its ms in each row, summed once
  const threads = [...new Set(spans.filter((e) => onWorker(e) && rows.some(([, pred]) => pred(e))).map((e) => `${e.pid}:${e.tid}`))].map((t) => {
    const ms = rows.map(([, pred]) => sum((e) => `${e.pid}:${e.tid}` === t && pred(e)));
    const [, codeCache, lazy, idb] = ms as [number, number, number, number];
    // Which is which: the engine's thread starts ORT's wasm (ORT's own threads, where it has any, run it too, but read no IndexedDB);
    // the chunk reader reads IndexedDB and runs no wasm.
    const label = codeCache + lazy > 0 && idb > 0 ? 'engine' : idb > 0 ? 'reader' : 'other';
    return { label, ms };
  });
  const order = ['engine', 'reader', 'other'];
  threads.sort((a, b) => order.indexOf(a.label) - order.indexOf(b.label));
  console.log(`  ${''.padEnd(56)} ${threads.map((t) => t.label.padStart(7)).join('')}`);
  rows.forEach(([what], i) => console.log(`  ${what.padEnd(56)} ${threads.map((t) => t.ms[i]!.toFixed(0).padStart(7)).join('')}`));
  console.log(`background threads: wasm top-tier compilation ${sum((e) => e.name === 'wasm.TopTierCompilation').toFixed(0)} ms`);
  console.log(`trace: ${out} (open in https://ui.perfetto.dev or chrome://tracing)`);
} finally {
  await browser.close();
  await server.close();
}
