/**
 * The real-encoder tables. Each test file that measures (test/unit/real-encoders-*.test.ts in
 * Node, test/browser/real-encoders.test.ts in Chromium) writes its part to
 * test-results/real-encoders/<source>.json; after each, the parts are merged cell by cell into
 * test-results/real-encoders.json and written out as test-results/real-encoders.md, so any file
 * may run alone, first, or beside the others. `npm run report:real-encoders` prints the Markdown.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ZOO_DTYPES, ZOO_MODELS, type ZooDtype } from './zoo-reference.ts';

export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test-results');
export const REPORT_JSON = join(RESULTS_DIR, 'real-encoders.json');
const PARTS_DIR = join(RESULTS_DIR, 'real-encoders');

/** A measurement, or a sentence saying why there is none (refused, failed: …). */
export type Cell = number | string;

/** Cosine against PyTorch's fp32 vector, the minimum over the texts compared (see the run's `texts`). */
export interface DtypeRow {
  oursWasm?: Cell;
  oursWebgpu?: Cell;
  ortNode?: Cell;
  tjsWasm?: Cell;
  tjsWebgpu?: Cell;
  /** cos(ours, onnxruntime-node on the same file), minimum, per place ours ran */
  oursVsOrt?: { node?: Cell; browserWasm?: Cell; browserWebgpu?: Cell };
}

export interface Score {
  ndcg10: number;
  recall10: number;
}

export interface ModelReport {
  /** what the model is (weights, pooling, maximum) */
  about?: string;
  dtypes?: Partial<Record<ZooDtype, DtypeRow>>;
  retrieval?: { pytorch?: Score; dtypes?: Partial<Record<ZooDtype, { ours?: Score; ortNode?: Score }>> };
}

export interface RunInfo {
  date: string;
  seconds: number;
  /** which texts each column's minimum is over */
  texts: string;
}

export interface RealEncodersReport {
  models: Record<string, ModelReport>;
  /** per source (a test file's run) */
  runs: Record<string, RunInfo>;
  /** per source: what could not be measured and why, and what else was measured */
  notes: Record<string, string[]>;
}

function deepMerge<T>(into: T, from: T): T {
  if (typeof into !== 'object' || into === null || typeof from !== 'object' || from === null || Array.isArray(from)) return from;
  const out = { ...into } as Record<string, unknown>;
  for (const [k, v] of Object.entries(from)) out[k] = k in out ? deepMerge(out[k], v) : v;
  return out as T;
}

export function readReport(path = REPORT_JSON): RealEncodersReport {
  return JSON.parse(readFileSync(path, 'utf8')) as RealEncodersReport;
}

/** Writes through a temporary file and a rename, so a reader never sees half a file. */
function writeWhole(path: string, text: string): void {
  writeFileSync(`${path}.${process.pid}.tmp`, text);
  renameSync(`${path}.${process.pid}.tmp`, path);
}

/** Records one source's part, then rewrites the merged JSON and Markdown from every part. */
export function recordReport(source: string, part: Partial<RealEncodersReport>): RealEncodersReport {
  mkdirSync(PARTS_DIR, { recursive: true });
  writeWhole(join(PARTS_DIR, `${source.replace(/[^\w.-]+/g, '-')}.json`), JSON.stringify(part, null, 2));
  const parts = readdirSync(PARTS_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(PARTS_DIR, f), 'utf8')) as Partial<RealEncodersReport>);
  const merged = parts.reduce<RealEncodersReport>((all, p) => deepMerge(all, { models: {}, runs: {}, notes: {}, ...p }), { models: {}, runs: {}, notes: {} });
  writeWhole(REPORT_JSON, JSON.stringify(merged, null, 2) + '\n');
  writeWhole(REPORT_JSON.replace(/\.json$/, '.md'), renderReport(merged));
  return merged;
}

const cos = (c: Cell | undefined): string => (c === undefined ? '' : typeof c === 'number' ? c.toFixed(6) : c);
const score = (s: number | undefined): string => (s === undefined ? '' : s.toFixed(4));

function minOf(cells: (Cell | undefined)[]): Cell | undefined {
  const nums = cells.filter((c): c is number => typeof c === 'number');
  return nums.length ? Math.min(...nums) : cells.find((c) => c !== undefined);
}

/** The tables as Markdown: per model, cosine to PyTorch by dtype and place, then retrieval. */
export function renderReport(r: RealEncodersReport): string {
  const out: string[] = [];
  const runs = Object.entries(r.runs).map(([k, v]) => `${k}: ${v.date.slice(0, 10)}, ${Math.round(v.seconds)} s (${v.texts})`);
  out.push(
    'Cosine to PyTorch sentence-transformers fp32 (normalized vectors), the minimum over the texts each run compared (below); ' +
      'the last column is the smallest cosine between ours and onnxruntime-node on the same file, over every run.',
    '',
  );
  for (const line of runs) out.push(`- ${line}`);
  const names = [...ZOO_MODELS.filter((m) => m in r.models), ...Object.keys(r.models).filter((m) => !(ZOO_MODELS as readonly string[]).includes(m))];
  for (const name of names) {
    const m = r.models[name]!;
    out.push('', `### ${name}${m.about ? ` (${m.about})` : ''}`, '');
    out.push('| dtype | ours wasm | ours WebGPU | onnxruntime-node | transformers.js wasm | transformers.js WebGPU | cos(ours, onnxruntime-node) min |');
    out.push('| --- | --- | --- | --- | --- | --- | --- |');
    for (const d of ZOO_DTYPES) {
      const row = m.dtypes?.[d];
      if (!row) continue;
      const vsOrt = minOf([row.oursVsOrt?.node, row.oursVsOrt?.browserWasm, row.oursVsOrt?.browserWebgpu]);
      out.push(`| ${d} | ${[row.oursWasm, row.oursWebgpu, row.ortNode, row.tjsWasm, row.tjsWebgpu, vsOrt].map(cos).join(' | ')} |`);
    }
    const ret = m.retrieval;
    if (ret) {
      out.push('', 'Retrieval, examples/corpus (40 queries, 240 paragraphs, one relevant each):', '');
      out.push('| vectors | nDCG@10 ours | nDCG@10 onnxruntime-node | recall@10 ours | recall@10 onnxruntime-node |');
      out.push('| --- | --- | --- | --- | --- |');
      if (ret.pytorch) out.push(`| PyTorch fp32 | ${score(ret.pytorch.ndcg10)} | | ${score(ret.pytorch.recall10)} | |`);
      for (const d of ZOO_DTYPES) {
        const s = ret.dtypes?.[d];
        if (s) out.push(`| ${d} | ${score(s.ours?.ndcg10)} | ${score(s.ortNode?.ndcg10)} | ${score(s.ours?.recall10)} | ${score(s.ortNode?.recall10)} |`);
      }
    }
  }
  const notes = Object.entries(r.notes).flatMap(([k, v]) => (v ?? []).map((n) => `- ${k}: ${n}`));
  if (notes.length) out.push('', 'Notes:', '', ...notes);
  return out.join('\n') + '\n';
}
