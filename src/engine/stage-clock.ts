/**
 * Where one call's time went, by stage: what `stats().lastCall` reports, and what the benchmark
 * prints beside each library's total (issue 16: per-call cost at B = 1 and at fixed length).
 * Plain sums of performance.now() differences, kept per call: nothing accumulates in the page's
 * performance timeline (user-timing entries would grow without bound over millions of calls).
 *
 * On WebGPU, ORT's run() returns once the work is queued; the GPU's time shows up in `head`,
 * where our kernels' result is read back.
 */

/** The stages of a call, in the order a batch meets them. */
export type Stage = 'tokenize' | 'plan' | 'wait' | 'feeds' | 'run' | 'head' | 'gather';
const STAGES: readonly Stage[] = ['tokenize', 'plan', 'wait', 'feeds', 'run', 'head', 'gather'];

/** Milliseconds per stage of the last call, and the call's own wall time in the engine (`totalMs`). */
export type CallTimings = Record<`${Stage}Ms`, number> & { totalMs: number; batches: number };

export class StageClock {
  private readonly ms: Record<Stage, number> = { tokenize: 0, plan: 0, wait: 0, feeds: 0, run: 0, head: 0, gather: 0 };
  private readonly start = performance.now();
  private batches = 0;

  /** Times `fn` (sync or async) into `stage`. */
  time<T>(stage: Stage, fn: () => T): T {
    const t0 = performance.now();
    const r = fn();
    if (r instanceof Promise) return r.finally(() => (this.ms[stage] += performance.now() - t0)) as T;
    this.ms[stage] += performance.now() - t0;
    return r;
  }

  /** Adds time measured elsewhere (a wait that began outside the function timed). */
  add(stage: Stage, ms: number): void {
    this.ms[stage] += ms;
  }

  batch(): void {
    this.batches++;
  }

  done(): CallTimings {
    const out = { totalMs: performance.now() - this.start, batches: this.batches } as CallTimings;
    for (const s of STAGES) out[`${s}Ms`] = this.ms[s];
    return out;
  }
}
