/**
 * `npm run bench:cli [-- --texts N] [--runs N]`: the CLI's throughput on the real all-MiniLM-L6-v2
 * (test/fixtures/models/all-minilm-l6-v2, fp32) with its two runtimes — onnxruntime-node
 * (`--device cpu`, the default where it is installed) and its fallback, onnxruntime-web's wasm build
 * (`--device wasm`) — on the same texts (bench/corpus.ts' mixed lengths, 8–256 tokens), run as a
 * user runs it: `webgpu-embed embed` in a child process, from start to the last vector written (so
 * the model load is in it). The two alternate (A/B), median of `runs` each; the ratio is what to read
 * on a shared machine. It also checks the two outputs agree (max |Δ| over every vector).
 *
 * Writes bench/results/cli-<date>-all-minilm-l6-v2.json and prints the line.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../test/browser/harness/server.ts';
import { ensureFixture } from '../test/fixtures/build/index.ts';
import { FIXTURES } from '../test/fixtures/build/registry.ts';
import { corpus, median } from './corpus.ts';
import { resultsDir } from './harness.ts';

const MODEL = 'all-minilm-l6-v2';
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const TEXTS = arg('texts', 400);
const RUNS = arg('runs', 3);

interface Run {
  device: 'cpu' | 'wasm';
  seconds: number;
  vectors: number[][];
}

function runCli(device: 'cpu' | 'wasm', input: string): Run {
  const tsx = join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [tsx, 'src/cli/main.ts', 'embed', '-q', '--no-text', '--device', device, '--model', `test/fixtures/models/${MODEL}`, input], {
    cwd: REPO_ROOT,
    maxBuffer: 1 << 30,
    encoding: 'utf8',
  });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`webgpu-embed embed --device ${device} exited ${r.status}: ${r.stderr}`);
  const vectors = r.stdout
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { embedding: number[] }).embedding);
  return { device, seconds, vectors };
}

await ensureFixture(FIXTURES.find((f) => f.name === MODEL)!);
const dir = mkdtempSync(join(tmpdir(), 'webgpu-embed-bench-cli-'));
const input = join(dir, 'texts.txt');
writeFileSync(input, corpus('mixed', TEXTS).map((t) => t.replace(/\s+/g, ' ')).join('\n') + '\n');

const runs: Run[] = [];
for (let i = 0; i < RUNS; i++) for (const device of i % 2 ? (['wasm', 'cpu'] as const) : (['cpu', 'wasm'] as const)) runs.push(runCli(device, input));
const seconds = (device: 'cpu' | 'wasm') => median(runs.filter((r) => r.device === device).map((r) => r.seconds));
const cpu = runs.find((r) => r.device === 'cpu')!.vectors;
const wasm = runs.find((r) => r.device === 'wasm')!.vectors;
let maxAbs = 0;
cpu.forEach((v, i) => v.forEach((x, d) => (maxAbs = Math.max(maxAbs, Math.abs(x - wasm[i]![d]!)))));

const result = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model },
  model: MODEL,
  dtype: 'fp32',
  texts: TEXTS,
  runs: RUNS,
  seconds: { cpu: runs.filter((r) => r.device === 'cpu').map((r) => r.seconds), wasm: runs.filter((r) => r.device === 'wasm').map((r) => r.seconds) },
  textsPerSecond: { cpu: TEXTS / seconds('cpu'), wasm: TEXTS / seconds('wasm') },
  ratio: seconds('wasm') / seconds('cpu'),
  maxAbsDifference: maxAbs,
};
const file = join(resultsDir(), `cli-${result.date.slice(0, 10)}-${MODEL}.json`);
writeFileSync(file, JSON.stringify(result, null, 1) + '\n');
console.log(
  `CLI embed, ${MODEL} fp32, ${TEXTS} texts (8–256 tokens), ${cpus().length} cores, median of ${RUNS}, model load included: ` +
    `onnxruntime-node ${result.textsPerSecond.cpu.toFixed(1)} texts/s, wasm fallback ${result.textsPerSecond.wasm.toFixed(1)} texts/s — ` +
    `${result.ratio.toFixed(2)}× (vectors within ${maxAbs.toExponential(1)})\n→ ${file}`,
);

