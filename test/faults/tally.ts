/**
 * The fault suite's tally: each scenario states how many times it breaks the library, and
 * records every attempt as survived or lost (with the reason). Each test file writes its rows to
 * test-results/faults-parts/<file>.json when it ends; the project's global teardown
 * (test/faults/setup.ts) merges them into the table `| fault | tried | survived | lost |`, prints
 * it, and writes test-results/faults.json and faults.md.
 *
 * A scenario's test fails when anything was lost (after recording it), so the table and the test
 * result say the same thing.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { expect, inject } from 'vitest';
import { REPO_ROOT } from '../browser/harness/index.ts';

export const RESULTS_DIR = join(REPO_ROOT, 'test-results');
export const PARTS_DIR = join(RESULTS_DIR, 'faults-parts');

export interface FaultRow {
  /** sort key: the table lists rows in this order */
  order: number;
  fault: string;
  /** how many times the scenario means to break the library */
  stated: number;
  tried: number;
  survived: number;
  lost: number;
  /** one line per lost attempt */
  losses: string[];
  /** measurements worth printing under the table (memory numbers, timings) */
  notes: string[];
  ms: number;
}

export interface Fault {
  readonly row: FaultRow;
  /** one attempt that survived */
  ok(): void;
  /** one attempt that was lost, and why */
  lose(reason: string): void;
  /** records an attempt from a check: '' or undefined is survived, any other string is lost */
  check(problem: string | undefined | null): void;
  note(line: string): void;
  /** fails the test if anything was lost (call last) */
  assertNoLoss(): void;
}

export interface Tally {
  fault(order: number, name: string, stated: number): Fault;
  /** writes this file's rows (afterAll) */
  write(extra?: Record<string, unknown>): void;
}

/** One tally per test file: `const tally = createTally(import.meta.url)`. */
export function createTally(fileUrl: string): Tally {
  const rows: FaultRow[] = [];
  const t0 = performance.now();
  return {
    fault(order, name, stated) {
      const started = performance.now();
      const row: FaultRow = { order, fault: name, stated, tried: 0, survived: 0, lost: 0, losses: [], notes: [], ms: 0 };
      rows.push(row);
      const done = () => (row.ms = Math.round(performance.now() - started));
      return {
        row,
        ok() {
          row.tried++;
          row.survived++;
          done();
        },
        lose(reason) {
          row.tried++;
          row.lost++;
          row.losses.push(reason);
          done();
        },
        check(problem) {
          if (problem) this.lose(problem);
          else this.ok();
        },
        note(line) {
          row.notes.push(line);
        },
        assertNoLoss() {
          expect(row.losses, `${name}: ${row.lost} of ${row.tried} lost`).toEqual([]);
          expect(row.tried, `${name}: tried ${row.tried} of the ${stated} stated`).toBe(stated);
        },
      };
    },
    write(extra = {}) {
      mkdirSync(PARTS_DIR, { recursive: true });
      const name = basename(new URL(fileUrl).pathname).replace(/\.test\.ts$/, '');
      writeFileSync(join(PARTS_DIR, `${name}.json`), JSON.stringify({ file: name, ms: Math.round(performance.now() - t0), rows, ...extra }, null, 2));
      for (const r of rows) {
        console.log(`[faults] ${r.fault}: tried ${r.tried}, survived ${r.survived}, lost ${r.lost} (${(r.ms / 1000).toFixed(1)} s)`);
        for (const l of r.losses) console.log(`  lost: ${l}`);
        for (const n of r.notes) console.log(`  ${n}`);
      }
    },
  };
}

/** Runs `attempt` for one fault, turning a thrown error into a loss (so one bad attempt does not hide the rest). */
export async function attempt(f: Fault, label: string, run: () => Promise<string | undefined | null>): Promise<void> {
  try {
    f.check(prefix(label, await run()));
  } catch (e) {
    f.lose(`${label}: the test step threw ${(e as Error)?.stack?.split('\n').slice(0, 3).join(' | ') ?? String(e)}`);
  }
}

function prefix(label: string, problem: string | undefined | null): string | undefined {
  return problem ? `${label}: ${problem}` : undefined;
}

/** A deterministic PRNG (mulberry32), so a run's random cuts and inputs can be replayed by seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The run's seed, from the project's global setup (FAULT_SEED, else a fresh one, printed so a run can be replayed). */
export const SEED: number = inject('faultSeed');
