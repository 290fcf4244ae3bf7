/**
 * `npm run bench`'s generators on a given JSON: the markdown table (README.md between markers,
 * else a .md next to the JSON), the targets, and the SVG of the ratios. No timing is measured here.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ratios, renderChart } from '../../bench/chart.ts';
import { END, renderReport, spliceReadme, START, writeReport } from '../../bench/report.ts';
import { evaluateTargets, type BenchResult } from '../../bench/result.ts';
import type { LibCase } from '../../bench/pages/throughput.ts';

function lib(name: LibCase['lib'], textsPerSecond: number, paddingRatio: number, readbackPerBatch: number, batches: number): LibCase {
  return {
    lib: name,
    runsMs: [1000, 1000, 1000, 1000, 1000],
    medianMs: 1000,
    textsPerSecond,
    tokensPerSecond: textsPerSecond * 80,
    realTokens: 5120,
    paddedTokens: Math.round(5120 * paddingRatio),
    paddingRatio,
    batches,
    readbackBytes: readbackPerBatch * batches,
    readbackPerBatch,
    largestReadback: readbackPerBatch,
    heapDeltaBytes: 3 * 2 ** 20,
    heapPeakBytes: 100 * 2 ** 20,
    peakGpuBytes: 90 * 2 ** 20,
  };
}

function sample(): BenchResult {
  const partial: Omit<BenchResult, 'targets'> = {
    schema: 1,
    date: '2026-11-24T09:00:00.000Z',
    mode: 'default',
    wallMs: 21 * 60_000,
    command: 'npm run bench',
    machine: { name: 'vm (AMD EPYC)', hostname: 'vm', cpu: 'AMD EPYC', cores: 2, memoryBytes: 24 * 2 ** 30, os: 'Linux 6.18', node: 'v20.20.2' },
    browser: { name: 'Chromium', version: '156.0.8078.79', userAgent: 'HeadlessChrome/156', headless: true, crossOriginIsolated: true },
    adapter: { description: 'google swiftshader', isFallbackAdapter: true, shaderF16: false, report: { available: true, isFallbackAdapter: true } },
    gpuNote: 'No hardware GPU was available to this run.',
    versions: { '@huggingface/transformers': '4.3.1' },
    throughput: [
      {
        model: 'minilm-shape',
        device: 'wasm',
        dtype: 'fp32',
        runs: 5,
        libraries: { 'webgpu-embed': { dimensions: 384 }, 'transformers.js': {} },
        wasmThreads: { 'webgpu-embed': 1, 'transformers.js': 1 },
        loadMs: { 'webgpu-embed': 3000, 'transformers.js': 4000 },
        cases: [
          { corpus: 'mixed', texts: 64, batchSize: 32, results: [lib('webgpu-embed', 12.5, 1.1, 0, 2), lib('transformers.js', 5, 3, 0, 2)], speedup: 2.5 },
          { corpus: 'mixed', texts: 16, batchSize: 1, results: [lib('webgpu-embed', 4, 1, 0, 16), lib('transformers.js', 4.1, 1, 0, 16)], speedup: 4 / 4.1 },
        ],
      },
      {
        model: 'tiny-qwen3-embedding',
        device: 'webgpu',
        dtype: 'fp32',
        runs: 5,
        libraries: { 'webgpu-embed': { dimensions: 32 }, 'transformers.js': {} },
        loadMs: { 'webgpu-embed': 3000, 'transformers.js': 4000 },
        cases: [{ corpus: 'mixed', texts: 32, batchSize: 8, results: [lib('webgpu-embed', 3, 1.3, 8 * 32 * 4, 4), lib('transformers.js', 2, 2.8, 465_408, 4)], speedup: 1.5 }],
      },
    ],
    nodeCeiling: [{ model: 'minilm-shape', dtype: 'fp32', runtime: 'onnxruntime-node 1.30.0', threads: 2, cases: [{ corpus: 'mixed', texts: 64, batchSize: 32, runsMs: [], medianMs: 1000, textsPerSecond: 50, tokensPerSecond: 4000, paddingRatio: 1.1 }] }],
    firstEmbedding: {
      model: 'minilm-shape',
      device: 'wasm',
      dtype: 'fp32',
      reps: 5,
      rows: [
        { lib: 'webgpu-embed', cache: 'cold', medianMs: 3850, runsMs: [] },
        { lib: 'webgpu-embed', cache: 'warm', medianMs: 3000, runsMs: [] },
        { lib: 'transformers.js', cache: 'cold', medianMs: 4100, runsMs: [] },
        { lib: 'transformers.js', cache: 'warm', medianMs: 3500, runsMs: [] },
      ],
      runs: [],
    },
    longTasks: [
      { lib: 'webgpu-embed', where: 'its worker (default)', texts: 1000, ms: 2700, longTasks: 0, longestMs: 0, blockingMs: 0 },
      { lib: 'transformers.js', where: 'the page (its pipeline)', texts: 1000, ms: 5126, longTasks: 1, longestMs: 5126, blockingMs: 5076 },
    ],
    gpuSoak: {
      model: 'tiny-qwen3-embedding',
      batches: 1000,
      perBatch: 2,
      samples: [
        { batches: 1, liveBytes: 19_656_576 },
        { batches: 500, liveBytes: 19_996_672 },
        { batches: 1000, liveBytes: 19_996_672 },
      ],
      afterDisposeBytes: 0,
      readbackPerBatch: 256,
      expectedReadbackPerBatch: 256,
      ms: 200_000,
    },
    rerank: [
      {
        model: 'tiny-qwen3-reranker',
        device: 'wasm',
        documents: 8,
        batchSize: 4,
        runs: 5,
        results: [
          { lib: 'webgpu-embed', runsMs: [], medianMs: 106, docsPerSecond: 75.47, readbackBytes: 0, peakGpuBytes: 0, heapDeltaBytes: 0, scores: [0.5] },
          { lib: 'transformers.js', runsMs: [], medianMs: 948, docsPerSecond: 8.44, readbackBytes: 0, peakGpuBytes: 0, heapDeltaBytes: 0, scores: [0.5] },
        ],
        speedup: 8.94,
        maxScoreDiff: 7.8e-8,
      },
    ],
    skipped: [{ what: 'minilm-shape fp16 on WebGPU', why: "the adapter has no 'shader-f16'" }],
  };
  return { ...partial, targets: evaluateTargets(partial) };
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('bench report', () => {
  it('puts the run\'s figures, browser, adapter and CPU into the table', () => {
    const md = renderReport(sample());
    expect(md).toContain('Chromium 156.0.8078.79');
    expect(md).toContain('google swiftshader (software fallback adapter, no shader-f16)');
    expect(md).toContain('AMD EPYC, 2 cores');
    expect(md).toContain('No hardware GPU was available to this run.');
    // throughput rows: texts/s, tokens/s, ratio, padding, node ceiling
    expect(md).toContain('| minilm-shape fp32 | wasm | 64 mixed | 32 | 12.5 | 1000 | 5.00 | 400 | **2.50×** | 1.10 / 3.00 | – (wasm) | 50.0 (ours 25 %) |');
    expect(md).toContain('| tiny-qwen3-embedding fp32 | webgpu | 32 mixed | 8 | 3.00 | 240 | 2.00 | 160 | **1.50×** | 1.30 / 2.80 | 1.0 KiB / 454.5 KiB | – |');
    // reranking, first embedding, long tasks, soak
    expect(md).toContain('| tiny-qwen3-reranker | wasm | 8 | 4 | 75.5 | 8.44 | **8.94×** |');
    expect(md).toContain("| webgpu-embed (IndexedDB, engine in its worker; from source under Vite's dev server) | 3850 ms | 3000 ms | 0.78 |");
    expect(md).toContain('| transformers.js, in the page (its pipeline) | 1,000 | 5126 ms | 1 | 5126 ms | 5076 ms |');
    expect(md).toContain('after dispose: 0 B');
    expect(md).toContain("minilm-shape fp16 on WebGPU (the adapter has no 'shader-f16')");
  });

  it('judges the targets from the figures and says by how much one is missed', () => {
    const t = Object.fromEntries(sample().targets.map((x) => [x.name, x]));
    expect(t['throughput minilm-shape fp32 on wasm']!.met).toBe(true); // B=32: 2.5×; B=1 not judged
    expect(t['throughput minilm-shape fp32 on wasm']!.note).toMatch(/B=1 \(0\.98×\) is not judged/);
    expect(t['throughput tiny-qwen3-embedding fp32 on webgpu']!.met).toBe(false);
    expect(t['throughput tiny-qwen3-embedding fp32 on webgpu']!.note).toMatch(/Missed by 1\.33× at B=8/);
    expect(t['readback']!.met).toBe(true);
    expect(t['padding ratio']!.met).toBe(false); // 1.3 at B=8
    expect(t['padding ratio']!.note).toMatch(/missed by 0\.150/);
    expect(t['padding ratio']!.note).toMatch(/met at 64 texts B=32 on wasm: 1\.100/);
    expect(t['main-thread long tasks']!.met).toBe(true);
    expect(t['GPU memory']!.met).toBe(true);
    const md = renderReport(sample());
    expect(md).toContain('| padding ratio | tokens computed / real tokens ≤ 1.15 (mixed corpus) |');
    expect(md).toMatch(/\| readback \| B × dimensions × 4 bytes per batch \| tiny-qwen3-embedding B=8: 1024 B\/batch \(4096 for 32 × 32 × 4 = 4096\)/);
  });

  it('writes the table between the README markers, or next to the JSON when there are none', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-report-'));
    dirs.push(dir);
    const json = join(dir, '2026-11-24-vm.json');
    writeFileSync(json, JSON.stringify(sample()));
    const readme = join(dir, 'README.md');
    writeFileSync(readme, '# x\n\nno markers\n');
    expect(writeReport(sample(), json, readme)).toMatchObject({ path: join(dir, '2026-11-24-vm.md'), inReadme: false });
    expect(readFileSync(readme, 'utf8')).toBe('# x\n\nno markers\n');
    expect(readFileSync(join(dir, '2026-11-24-vm.md'), 'utf8')).toContain('**2.50×**');
    expect(readFileSync(join(dir, '2026-11-24-vm.md'), 'utf8')).toContain('Chart: [2026-11-24-vm.svg](2026-11-24-vm.svg)');

    writeFileSync(readme, `# x\n\n${START}\nold table\n${END}\n\nafter\n`);
    expect(writeReport(sample(), json, readme)).toMatchObject({ path: readme, inReadme: true });
    const text = readFileSync(readme, 'utf8');
    expect(text).not.toContain('old table');
    expect(text).toContain('**2.50×**');
    expect(text.endsWith(`${END}\n\nafter\n`)).toBe(true);
    expect(text.startsWith(`# x\n\n${START}\n`)).toBe(true);
    expect(spliceReadme('no markers', 'x')).toBeUndefined();
    expect(existsSync(join(dir, '2026-11-24-vm.svg'))).toBe(false); // the chart is bench/chart.ts' job
  });

  it('draws one bar per ratio, labelled with its value', () => {
    const r = sample();
    const bars = ratios(r);
    expect(bars.map((b) => Number(b.ratio.toFixed(2)))).toEqual([2.5, 0.98, 1.5, 8.94, 0.25]);
    const svg = renderChart(r);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<rect [^>]*><title>/g)).toHaveLength(bars.length);
    for (const v of ['2.50×', '0.98×', '1.50×', '8.94×', '0.25×']) expect(svg).toContain(`>${v}</text>`);
    expect(svg).toContain('the 2× target');
    expect(svg).toContain('software: no real GPU in this run');
  });
});
