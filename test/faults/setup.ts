/**
 * The faults project's global setup: clears the rows of an earlier run before the files start,
 * and after the last file merges their rows into the table, prints it, and writes
 * test-results/faults.json and test-results/faults.md (git-ignored).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem, type } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import type { FaultRow } from './tally.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** one seed for the whole run (FAULT_SEED, else random), so a run's faults can be replayed */
    faultSeed: number;
  }
}

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const RESULTS_DIR = join(ROOT, 'test-results');
const PARTS_DIR = join(RESULTS_DIR, 'faults-parts');

interface Part {
  file: string;
  ms: number;
  rows: FaultRow[];
  chromium?: string;
  seed?: number;
}

export function setup(project: TestProject): void {
  rmSync(PARTS_DIR, { recursive: true, force: true });
  const seed = Number(process.env.FAULT_SEED ?? Math.floor(Math.random() * 2 ** 31));
  project.provide('faultSeed', seed);
  console.log(`fault suite seed ${seed} (replay with FAULT_SEED=${seed})`);
}

export function teardown(): void {
  if (!existsSync(PARTS_DIR)) return;
  const parts: Part[] = readdirSync(PARTS_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(PARTS_DIR, f), 'utf8')) as Part);
  if (!parts.length) return;
  const rows = parts.flatMap((p) => p.rows).sort((a, b) => a.order - b.order);
  const chromium = parts.find((p) => p.chromium)?.chromium ?? 'unknown';
  const seeds = [...new Set(parts.map((p) => p.seed).filter((s) => s !== undefined))];
  const machine = `${type()} ${release()}, ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; Chromium ${chromium} headless, WebGPU on SwiftShader`;
  const date = new Date().toISOString().slice(0, 10);
  const total = { tried: 0, survived: 0, lost: 0 };
  for (const r of rows) (total.tried += r.tried), (total.survived += r.survived), (total.lost += r.lost);

  const md: string[] = [
    `| fault | tried | survived | lost |`,
    `|---|---|---|---|`,
    ...rows.map((r) => `| ${r.fault} | ${r.tried}${r.tried !== r.stated ? ` (of ${r.stated})` : ''} | ${r.survived} | ${r.lost} |`),
    `| **all** | ${total.tried} | ${total.survived} | ${total.lost} |`,
  ];
  const notes = rows.flatMap((r) => [...r.notes.map((n) => `- ${r.fault}: ${n}`), ...r.losses.map((l) => `- LOST — ${r.fault}: ${l}`)]);
  const seconds = parts.reduce((s, p) => s + p.ms, 0) / 1000;
  const header = `webgpu-embed fault suite, ${date}, seed ${seeds.join(', ')} (FAULT_SEED replays it); ${machine}; ${seconds.toFixed(0)} s in the browser`;
  const text = [header, '', ...md, ...(notes.length ? ['', ...notes] : [])].join('\n');

  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, 'faults.md'), text + '\n');
  writeFileSync(join(RESULTS_DIR, 'faults.json'), JSON.stringify({ date, machine, chromium, seeds, seconds, total, rows }, null, 2) + '\n');
  console.log(`\n${text}\n\n(written to test-results/faults.md and faults.json)`);
}
