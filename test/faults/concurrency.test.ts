/**
 * Concurrency and cancellation faults in Chromium (engine in the library's worker): 100 calls at
 * once from six places — a held embedder on WebGPU and one on wasm, the one-call embed() and
 * rerank(), a held reranker, a vector index scanning on its own GPUDevice — each compared with
 * the same call made alone (exactly on wasm, within 1e-6 on WebGPU); then 30 calls cancelled
 * with an AbortSignal at random moments, each with an uncancelled call beside it, and the next
 * call after it, both compared with the reference.
 */
import { afterAll, describe, it } from 'vitest';
import { useBrowser } from '../browser/harness/index.ts';
import type { CallCheck, CancelTrial } from './pages/concurrency.ts';
import { attempt, createTally, rng, SEED } from './tally.ts';

const ctx = useBrowser();
const tally = createTally(import.meta.url);
const PAGE = '/test/faults/pages/concurrency.ts';
const random = rng(SEED ^ 0xc0c0);
afterAll(async () => {
  await ctx.call(PAGE, 'teardown').catch(() => undefined);
  tally.write({ seed: SEED });
});

describe('concurrency and cancellation', () => {
  it('100 concurrent embed() / rerank() / search() calls from six places: each answered with what it gets alone', async () => {
    const f = tally.fault(70, 'concurrent embed() / rerank() / search() from 6 places, each vs. the same call alone', 100);
    const s = await ctx.call<{ indexDevice: string }>(PAGE, 'setup');
    const r = await ctx.call<{ checks: CallCheck[]; togetherMs: number; aloneMs: number }>(PAGE, 'concurrent', SEED & 0x7fffffff, 100);
    for (const c of r.checks) f.check(c.problem ? `${c.call}: ${c.problem}` : undefined);
    f.note(`index on ${s.indexDevice}; all at once ${(r.togetherMs / 1000).toFixed(1)} s (embed() and rerank() load their models on their first calls, here), then one by one ${(r.aloneMs / 1000).toFixed(1)} s`);
    f.assertNoLoss();
  });

  it('30 calls cancelled at random moments (12 embed, 12 rerank, 6 model loads): aborted or right; the call beside it and the next call are right', async () => {
    const f = tally.fault(80, 'AbortSignal at a random moment (12 embed, 12 rerank, 6 loads), a call beside each', 30);
    const times = await ctx.call<{ embedMs: number; rerankMs: number; createMs: number; embedBatches: number; rerankBatches: number }>(PAGE, 'cancelSetup');
    f.note(
      `reference durations: embed ${times.embedMs.toFixed(0)} ms (${times.embedBatches} batches), rerank ${times.rerankMs.toFixed(0)} ms ` +
        `(${times.rerankBatches} batches), createEmbedder ${times.createMs.toFixed(0)} ms`,
    );
    const kinds = [...Array(12).fill('embed'), ...Array(12).fill('rerank'), ...Array(6).fill('create')] as ('embed' | 'rerank' | 'create')[];
    let aborted = 0;
    for (let t = 0; t < kinds.length; t++) {
      const kind = kinds[t]!;
      const span = kind === 'embed' ? times.embedMs : kind === 'rerank' ? times.rerankMs : times.createMs;
      // A running call stops at its next batch boundary (README): one that resolves anyway may have
      // reported a few more batches (those done, or in flight, as the abort crossed to the worker),
      // never most of them. (A model load is checked for its outcome only.)
      const batches = kind === 'embed' ? times.embedBatches : kind === 'rerank' ? times.rerankBatches : Infinity;
      // from just before the call to a little past its usual end
      const delay = Math.round(-0.1 * span + random() * 1.3 * span);
      await attempt(f, `${kind} aborted ${delay < 0 ? 'before the call' : `after ${delay} ms`}`, async () => {
        const r = await ctx.call<CancelTrial>(PAGE, 'cancelTrial', kind, delay);
        const problems: string[] = [];
        if (r.cancelled === 'aborted') aborted++;
        else if (r.cancelled !== 'right') problems.push(`the cancelled call: ${r.cancelled}`);
        else if (r.batchesAfter !== undefined && r.batchesAfter > Math.max(4, batches / 4)) {
          problems.push(`the call ran ${r.batchesAfter} of its ${batches} batches (${r.ranOn!.toFixed(0)} ms) after its signal aborted, and resolved`);
        }
        if (r.beside !== 'right') problems.push(`the call beside it: ${r.beside}`);
        if (r.after !== 'right') problems.push(`the next call: ${r.after}`);
        return problems.join('; ') || undefined;
      });
    }
    f.note(`${aborted} of 30 ended with AbortError, the rest finished first and were right`);
    f.assertNoLoss();
  });
});
