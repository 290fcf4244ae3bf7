/**
 * One run's JSON (bench/results/<date>-<machine>.json) as markdown tables: throughput against
 * transformers.js and the onnxruntime-node ceiling, reranking, time to first embedding, main-thread
 * long tasks, memory, and the issue's targets — with the browser, adapter and CPU it ran on.
 *
 * Written into README.md between `<!-- bench:start -->` and `<!-- bench:end -->`; where README.md
 * has no such markers, printed and written to bench/results/<date>-<machine>.md instead.
 *
 * `npx tsx bench/report.ts [results.json]` (the newest run's JSON by default) re-judges the targets
 * from the JSON's figures (the rules in bench/result.ts), stores them in it, and writes the table.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchResult, FirstEmbeddingSummary } from './result.ts';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS_DIR = join(REPO_ROOT, 'bench', 'results');

export const START = '<!-- bench:start -->';
export const END = '<!-- bench:end -->';

export function bytes(b: number): string {
  if (!Number.isFinite(b)) return '–';
  const a = Math.abs(b);
  return a >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(2)} GiB` : a >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(1)} MiB` : a >= 1024 ? `${(b / 1024).toFixed(1)} KiB` : `${Math.round(b)} B`;
}

/** 3 significant digits, no exponent */
export function num(v: number): string {
  if (!Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : v.toFixed(3);
}

const ms = (v: number) => (v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : `${v.toFixed(0)} ms`);
const ratio = (v: number) => `**${v.toFixed(2)}×**`;
const row = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
const head = (cells: string[]) => [row(cells), row(cells.map(() => '---'))];

/** What the engine said of one load (bench/pages/throughput.ts firstEmbedding's detail). */
type LoadDetail = { createMs?: number; firstEmbedMs?: number; loadTimings?: Record<string, number> };
/** A library's median time to the first embedding, cold or warm; NaN where it was not timed. */
const loadMedian = (fe: FirstEmbeddingSummary, lib: string, cache: string) => fe.rows.find((x) => x.lib === lib && x.cache === cache)?.medianMs ?? NaN;
/** The median (the upper one of an even count) of one figure of a library's load details; NaN where none has it. */
function detailMedian(fe: FirstEmbeddingSummary, lib: string, cache: string, f: (d: LoadDetail) => number | undefined): number {
  const v = fe.runs
    .filter((x) => x.lib === lib && x.cache === cache)
    .flatMap((x) => {
      const d = x.detail as LoadDetail | undefined;
      const n = d ? f(d) : undefined;
      return n !== undefined ? [n] : [];
    })
    .sort((p, q) => p - q);
  return v.length ? v[Math.floor(v.length / 2)]! : NaN;
}

export function renderReport(r: BenchResult, opts: { chart?: string; json?: string } = {}): string {
  const L: string[] = [];
  const f16 = r.adapter.shaderF16 ? 'shader-f16' : 'no shader-f16';
  L.push(`**${r.date.slice(0, 10)}, \`npm run bench${r.mode === 'quick' ? ' -- --quick' : r.mode === 'large' ? ' -- --large' : ''}\`** (${(r.wallMs / 60000).toFixed(1)} min) on **${r.machine.name}**: ${r.machine.cpu}, ${r.machine.cores} cores, ${bytes(r.machine.memoryBytes)}, ${r.machine.os}, Node ${r.machine.node}; ` +
    `${r.browser.name} ${r.browser.version}${r.browser.headless ? ' (headless)' : ''}; WebGPU adapter: ${r.adapter.description} (${r.adapter.isFallbackAdapter ? 'software fallback adapter' : 'hardware'}, ${f16}).`);
  L.push('');
  L.push(`> ${r.gpuNote}`);
  L.push('');
  const runs = r.throughput[0]?.runs;
  L.push(`Each figure is the median of ${runs ?? '?'} timed runs after a warm-up, webgpu-embed and transformers.js ${r.versions['@huggingface/transformers'] ?? ''} alternating in one page on the same model files, device, dtype, pooling and normalization. ` +
    `webgpu-embed gets all texts in one call and batches them itself (length-sorted, at most B per batch); transformers.js' pipeline gets them in calls of B, in order (it has no batching of its own). Tokens/s counts real tokens. ` +
    `Read back: bytes mapped for reading from each library's GPU device (GPUBuffer.mapAsync), per batch.`);
  L.push('');

  // throughput
  L.push(...head(['model', 'device', 'texts', 'B', 'webgpu-embed texts/s', 'tokens/s', 'transformers.js texts/s', 'tokens/s', 'ratio', 'padding ours / theirs', 'read back per batch ours / theirs', 'onnxruntime-node texts/s']));
  for (const t of r.throughput) {
    const ceiling = r.nodeCeiling.find((n) => n.model === t.model && n.dtype === t.dtype);
    for (const c of t.cases) {
      const [a, b] = c.results as [(typeof c.results)[0], (typeof c.results)[0]];
      const node = t.device === 'wasm' ? ceiling?.cases.find((n) => n.corpus === c.corpus && n.texts === c.texts && n.batchSize === c.batchSize) : undefined;
      L.push(row([
        `${t.model} ${t.dtype}`,
        t.device,
        `${c.texts} ${c.corpus}${c.corpus === 'fixed' ? ` (${c.fixedTokens ?? 64} tok)` : ''}`,
        c.batchSize,
        num(a.textsPerSecond),
        num(a.tokensPerSecond),
        num(b.textsPerSecond),
        num(b.tokensPerSecond),
        ratio(c.speedup),
        `${a.paddingRatio.toFixed(2)} / ${b.paddingRatio.toFixed(2)}`,
        t.device === 'webgpu' ? `${bytes(a.readbackPerBatch)} / ${bytes(b.readbackPerBatch)}` : '– (wasm)',
        node ? `${num(node.textsPerSecond)} (ours ${((a.textsPerSecond / node.textsPerSecond) * 100).toFixed(0)} %)` : '–',
      ]));
    }
  }
  const wasm = r.throughput.find((t) => t.device === 'wasm' && t.wasmThreads);
  const threads = wasm?.wasmThreads ? `wasm threads in the page: webgpu-embed ${String(wasm.wasmThreads['webgpu-embed'])} (by default every core but one, up to 4, in a cross-origin isolated page, for a model ≥ 256 wide; onnxruntime-web's plain wasm build), transformers.js ${String(wasm.wasmThreads['transformers.js'])} (onnxruntime-web's default, min(4, cores / 2), unless --threads set both). ` : '';
  if (r.nodeCeiling.length || threads) {
    L.push('');
    L.push(threads + (r.nodeCeiling.length ? `onnxruntime-node: ${r.nodeCeiling[0]!.runtime}, CPU execution provider, ${r.nodeCeiling[0]!.threads} threads, the same ONNX file, webgpu-embed's tokenization and length-sorted batches.` : ''));
  }

  // every dtype of the zoo's real exports
  if (r.dtypes?.length) {
    L.push('');
    L.push(`Every dtype, on the zoo's exports (test/fixtures/zoo: all-MiniLM-L6-v2 with its real weights; bge-small-en-v1.5's and Qwen3-Embedding's architectures and files with random weights), both libraries on the same file, device and dtype, median of ${r.dtypes[0]!.runs} runs. Goal: ≥ 2× on the mixed corpus, ≥ 1× on equal lengths.`);
    L.push('');
    L.push(...head(['model', 'dtype', 'device', 'texts', 'B', 'webgpu-embed texts/s', 'transformers.js texts/s', 'ratio', 'goal met']));
    for (const t of r.dtypes) {
      for (const c of t.cases) {
        const [a, b] = c.results as [(typeof c.results)[0], (typeof c.results)[0]];
        const goal = c.corpus === 'mixed' ? 2 : 1;
        L.push(row([t.model, t.dtype, t.device, `${c.texts} ${c.corpus}`, c.batchSize, num(a.textsPerSecond), num(b.textsPerSecond), ratio(c.speedup), c.speedup >= goal ? `yes (≥ ${goal}×)` : `**no** (≥ ${goal}×)`]));
      }
    }
  }

  // how cost grows
  if (r.curves?.length) {
    L.push('');
    L.push(`How cost grows (median of ${r.curves[0]!.result.runs} runs; chart: ${opts.chart ? `[${opts.chart.replace(/\.svg$/, '-curves.svg')}](${opts.chart.replace(/\.svg$/, '-curves.svg')})` : 'the -curves.svg beside the JSON'}):`);
    L.push('');
    L.push(...head(['model, device', 'texts', 'tokens per text', 'webgpu-embed texts/s', 'transformers.js texts/s', 'ratio', 'peak JS heap growth ours / theirs', 'GPU bytes at peak ours / theirs']));
    for (const { axis, result: t } of r.curves) {
      for (const c of t.cases) {
        const [a, b] = c.results as [(typeof c.results)[0], (typeof c.results)[0]];
        L.push(row([`${t.model}, ${t.device}`, c.texts.toLocaleString('en-US'), axis === 'tokens' ? String(c.fixedTokens ?? 64) : 'mixed 8–256', num(a.textsPerSecond), num(b.textsPerSecond), ratio(c.speedup), `${bytes(a.heapDeltaBytes)} / ${bytes(b.heapDeltaBytes)}`, t.device === 'webgpu' ? `${bytes(a.peakGpuBytes)} / ${bytes(b.peakGpuBytes)}` : '–']));
      }
    }
  }

  // where a call's time goes
  const staged = r.throughput.flatMap((t) => t.cases.filter((c) => c.results[0]?.stages).map((c) => ({ t, c })));
  if (staged.length) {
    L.push('');
    L.push('Where one run\'s time goes (the median run, ms): webgpu-embed by its own stage clock (`stats().lastCall`: tokenize, batch planning, waits, feeds, onnxruntime\'s run, head = pooling + readback, gather; on WebGPU the GPU\'s work shows in head, since run() returns once the work is queued), transformers.js as its ORT session\'s run() and the rest of its pipeline (tokenizer, tensors, pooling, normalization).');
    L.push('');
    L.push(...head(['model', 'device', 'texts', 'B', 'ours: total', 'tokenize', 'feeds', 'ORT run', 'head', 'other', 'theirs: total', 'ORT run', 'other']));
    for (const { t, c } of staged) {
      const a = c.results[0]!.stages!, b = c.results[1]?.stages;
      const known = ['tokenizeMs', 'feedsMs', 'runMs', 'headMs'].reduce((s, k) => s + (a[k] ?? 0), 0);
      L.push(row([`${t.model} ${t.dtype}`, t.device, `${c.texts} ${c.corpus}`, c.batchSize, num(c.results[0]!.medianMs), num(a.tokenizeMs ?? NaN), num(a.feedsMs ?? NaN), num(a.runMs ?? NaN), num(a.headMs ?? NaN), num(c.results[0]!.medianMs - known), num(c.results[1]?.medianMs ?? NaN), num(b?.runMs ?? NaN), num((c.results[1]?.medianMs ?? NaN) - (b?.runMs ?? NaN))]));
    }
  }

  // memory
  L.push('');
  L.push(...head(['memory', 'device', 'texts', 'B', 'peak JS heap over the run start, ours / theirs', 'GPU bytes alive at peak ours / theirs', 'largest single readback ours / theirs']));
  for (const t of r.throughput) {
    for (const c of t.cases) {
      const [a, b] = c.results as [(typeof c.results)[0], (typeof c.results)[0]];
      L.push(row([`${t.model} ${t.dtype}`, t.device, `${c.texts} ${c.corpus}`, c.batchSize, `${bytes(a.heapDeltaBytes)} / ${bytes(b.heapDeltaBytes)}`, t.device === 'webgpu' ? `${bytes(a.peakGpuBytes)} / ${bytes(b.peakGpuBytes)}` : '–', t.device === 'webgpu' ? `${bytes(a.largestReadback)} / ${bytes(b.largestReadback)}` : '–']));
    }
  }

  // reranking
  if (r.rerank.length) {
    L.push('');
    L.push(...head(['reranker', 'device', 'docs', 'B', 'webgpu-embed docs/s', 'transformers.js docs/s', 'ratio', 'read back per call ours / theirs', 'GPU bytes at peak ours / theirs', 'max score diff']));
    for (const k of r.rerank) {
      const [a, b] = k.results as [(typeof k.results)[0], (typeof k.results)[0]];
      L.push(row([k.model, k.device, k.documents, k.batchSize, num(a.docsPerSecond), num(b.docsPerSecond), ratio(k.speedup), k.device === 'webgpu' ? `${bytes(a.readbackBytes)} / ${bytes(b.readbackBytes)}` : '– (wasm)', k.device === 'webgpu' ? `${bytes(a.peakGpuBytes)} / ${bytes(b.peakGpuBytes)}` : '–', k.maxScoreDiff.toExponential(1)]));
    }
    L.push('');
    L.push('transformers.js scores with AutoModelForCausalLM as the Qwen3-Reranker model card does (the full [B, T, vocab] logits, yes/no read on the CPU); webgpu-embed with its pruned yes/no head.');
  }

  // first embedding
  const fe = r.firstEmbedding;
  if (fe) {
    L.push('');
    const get = (lib: string, cache: string) => loadMedian(fe, lib, cache);
    L.push(...head([`time to first embedding (${fe.model} ${fe.dtype}, ${fe.device}, median of ${fe.reps})`, 'cold (localhost network)', 'warm (own cache)', 'warm ÷ cold']));
    const what: Record<string, string> = {
      'webgpu-embed': 'IndexedDB, engine in its worker; from source under Vite\'s dev server',
      'webgpu-embed (built)': 'the same, from dist/ as built: the worker one chunk; warm only',
      'transformers.js': 'Cache API, pipeline in the page',
    };
    for (const lib of ['webgpu-embed', 'webgpu-embed (built)', 'transformers.js']) {
      const c = get(lib, 'cold'), w = get(lib, 'warm');
      if (!Number.isFinite(w)) continue;
      L.push(row([`${lib} (${what[lib]})`, ms(c), ms(w), Number.isFinite(c) ? `${(w / c).toFixed(2)}` : '–']));
    }
    // webgpu-embed's own breakdown of a load (info.loadTimings), medians over the reps
    const parts = (lib: string, cache: 'cold' | 'warm') => {
      const med = (f: (x: LoadDetail) => number | undefined) => detailMedian(fe, lib, cache, f);
      const lt = (k: string) => med((x) => x.loadTimings?.[k]);
      return { total: get(lib, cache), files: lt('filesMs'), tokenizer: lt('tokenizerMs'), graph: lt('graphMs'), session: lt('sessionMs'), selfCheck: lt('selfCheckMs'), engine: lt('totalMs'), create: med((x) => x.createMs), first: med((x) => x.firstEmbedMs) };
    };
    const rowsOf = [['cold', parts('webgpu-embed', 'cold')], ['warm', parts('webgpu-embed', 'warm')], ['warm, built', parts('webgpu-embed (built)', 'warm')]] as const;
    if (rowsOf.some(([, p]) => Number.isFinite(p.files))) {
      L.push('');
      L.push(...head(['webgpu-embed load, by stage (median ms)', 'files (IndexedDB or network, checks)', 'tokenizer', 'ONNX graph read', 'ORT session (wasm start + graph optimization)', 'self-check', 'worker start, messages, the rest', 'first embed() call', 'total', 'total ÷ files']));
      for (const [c, p] of rowsOf.filter(([, p]) => Number.isFinite(p.total))) L.push(row([c, ms(p.files), ms(p.tokenizer), ms(p.graph), ms(p.session), ms(p.selfCheck), ms(p.create - p.engine), ms(p.first), ms(p.total), `${(p.total / p.files).toFixed(2)}×`]));
    }
  }

  // first embedding on WebGPU: each library on its own onnxruntime-web build
  const fg = r.firstEmbeddingWebgpu;
  if (fg) {
    L.push('');
    const get = (lib: string, cache: string) => loadMedian(fg, lib, cache);
    const session = (lib: string, cache: string) => detailMedian(fg, lib, cache, (d) => d.loadTimings?.sessionMs);
    L.push(...head([`time to first embedding (${fg.model} ${fg.dtype}, ${fg.device}, median of ${fg.reps})`, 'cold (localhost network)', 'warm (own cache)', 'ORT session, warm']));
    L.push(row(["webgpu-embed (onnxruntime-web's JSPI build where the browser has JSPI)", ms(get('webgpu-embed', 'cold')), ms(get('webgpu-embed', 'warm')), ms(session('webgpu-embed', 'warm'))]));
    L.push(row(["transformers.js (its onnxruntime-web's asyncify build)", ms(get('transformers.js', 'cold')), ms(get('transformers.js', 'warm')), '–']));
    L.push(row(['ratio (transformers.js ÷ webgpu-embed)', ratio(get('transformers.js', 'cold') / get('webgpu-embed', 'cold')), ratio(get('transformers.js', 'warm') / get('webgpu-embed', 'warm')), '']));
  }

  // long tasks
  if (r.longTasks.length) {
    L.push('');
    L.push(...head(['main thread while texts are embedded', 'texts', 'time', 'long tasks (> 50 ms)', 'longest', 'blocking time']));
    for (const l of r.longTasks) L.push(row([`${l.lib}, in ${l.where}`, l.texts.toLocaleString('en-US'), ms(l.ms), l.longTasks, ms(l.longestMs), ms(l.blockingMs)]));
  }

  // GPU soak
  const s = r.gpuSoak;
  if (s) {
    L.push('');
    const pick = s.samples.filter((p, i) => i === 0 || p.batches % Math.max(1, Math.round(s.batches / 5)) === 0 || i === s.samples.length - 1);
    L.push(`GPU bytes alive (webgpu-embed, ${s.model}, ${s.perBatch} texts per batch, WebGPU): ${pick.map((p) => `after ${p.batches}: ${bytes(p.liveBytes)}`).join(', ')}; after dispose: ${bytes(s.afterDisposeBytes)}. Read back per batch: ${s.readbackPerBatch} B (B × d × 4 = ${s.expectedReadbackPerBatch}).`);
  }

  // targets
  L.push('');
  L.push(...head(['target', 'goal', 'measured', 'met', 'note']));
  for (const t of r.targets) L.push(row([t.name, t.target, t.measured, t.met ? 'yes' : '**no**', t.note]));

  if (r.skipped.length) {
    L.push('');
    L.push('Not run: ' + r.skipped.map((k) => `${k.what} (${k.why})`).join('; ') + '.');
  }
  if (opts.chart || opts.json) {
    L.push('');
    L.push([opts.chart ? `Chart: [${opts.chart}](${opts.chart})` : '', opts.json ? `data: [${opts.json}](${opts.json})` : ''].filter(Boolean).join(', ') + '.');
  }
  return L.join('\n') + '\n';
}

/** Puts the report between the markers of `readme`; false when the markers are not there. */
export function spliceReadme(readme: string, report: string): string | undefined {
  const a = readme.indexOf(START);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) return undefined;
  return readme.slice(0, a + START.length) + '\n' + report + readme.slice(b);
}

/** Writes the report into README.md, or beside the JSON when README.md has no markers. */
export function writeReport(r: BenchResult, jsonPath: string, readmePath = join(REPO_ROOT, 'README.md')): { path: string; inReadme: boolean; markdown: string } {
  const svg = jsonPath.replace(/\.json$/, '.svg');
  // links relative to the file the table goes into
  const links = (from: string) => ({ chart: relative(from, svg), json: relative(from, jsonPath) });
  const readme = readFileSync(readmePath, 'utf8');
  const inReadme = renderReport(r, links(dirname(readmePath)));
  const spliced = spliceReadme(readme, inReadme);
  if (spliced !== undefined) {
    writeFileSync(readmePath, spliced);
    return { path: readmePath, inReadme: true, markdown: inReadme };
  }
  const out = jsonPath.replace(/\.json$/, '.md');
  const markdown = renderReport(r, links(dirname(out)));
  writeFileSync(out, markdown);
  return { path: out, inReadme: false, markdown };
}

/** Writes the report and says where it went (printing it when README.md has no markers). */
export function publishReport(r: BenchResult, jsonPath: string): string {
  const w = writeReport(r, jsonPath);
  if (!w.inReadme) {
    console.log('\n' + w.markdown);
    console.log(`README.md has no ${START} … ${END} markers: the table went to ${relative(REPO_ROOT, w.path)}`);
  }
  return w.path;
}

/** The newest run JSON in bench/results (named <date>-<machine>.json). */
export function latestResult(dir = RESULTS_DIR): string {
  const files = readdirSync(dir)
    .filter((f) => /^\d{4}-\d{2}-\d{2}-.+\.json$/.test(f))
    .map((f) => join(dir, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (!files[0]) throw new Error(`no <date>-<machine>.json in ${dir}: run npm run bench first`);
  return files[0];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const file = process.argv[2] ?? latestResult();
  const r = JSON.parse(readFileSync(file, 'utf8')) as BenchResult;
  // the targets are derived from the measured figures: judged again with this code's rules
  const { evaluateTargets } = await import('./result.ts');
  r.targets = evaluateTargets(r);
  writeFileSync(file, JSON.stringify(r, null, 2) + '\n');
  console.log(`${basename(file)} → ${publishReport(r, file)}`);
}
