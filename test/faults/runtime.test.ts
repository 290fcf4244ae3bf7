/**
 * Runtime faults in Chromium: ORT's GPU device destroyed during embed() and rerank() calls (at
 * random moments, and right after a batch), and the library's worker killed with calls of every
 * kind pending (terminateEngineWorker(), and an uncaught error thrown inside the worker). The call
 * in flight must resolve right or fail with the typed error; the next calls must be right, on a
 * new device or in a new worker.
 */
import { afterAll, describe, it } from 'vitest';
import { useBrowser } from '../browser/harness/index.ts';
import type { DeviceLossTrial, WorkerKillTrial } from './pages/runtime.ts';
import { attempt, createTally, rng, SEED } from './tally.ts';

const ctx = useBrowser();
const tally = createTally(import.meta.url);
const PAGE = '/test/faults/pages/runtime.ts';
const random = rng(SEED ^ 0x6e0e);
afterAll(() => tally.write({ seed: SEED }));

const GPU_TOLERANCE = 1e-6;

describe('runtime faults', () => {
  it('5 GPU devices lost mid-call (device.destroy()): the call fails with GpuDeviceLostError or is right; the next calls are right on a new device', async () => {
    const f = tally.fault(50, 'GPU device lost mid-call, `device.destroy()` (3 in embed, 2 in rerank)', 5);
    const setup = await ctx.call<{ embedMs: number; rerankMs: number; device: string }>(PAGE, 'gpuSetup');
    f.note(`embedder and reranker on ${setup.device}; a reference call takes ${setup.embedMs.toFixed(0)} ms (embed, 4 batches) / ${setup.rerankMs.toFixed(0)} ms (rerank, 3 batches)`);
    // embed and rerank alternate: each call first recovers from the loss the other one saw
    const plans: { kind: 'embed' | 'rerank'; when: { delayMs: number } | { afterBatch: number } }[] = [
      { kind: 'embed', when: { afterBatch: 1 + Math.floor(random() * 3) } },
      { kind: 'rerank', when: { afterBatch: 1 + Math.floor(random() * 2) } },
      { kind: 'embed', when: { delayMs: Math.floor(random() * setup.embedMs * 0.9) } },
      { kind: 'rerank', when: { delayMs: Math.floor(random() * setup.rerankMs * 0.9) } },
      { kind: 'embed', when: { delayMs: Math.floor(random() * setup.embedMs * 0.9) } },
    ];
    for (const plan of plans) {
      await attempt(f, `${plan.kind}, destroyed ${'delayMs' in plan.when ? `after ${plan.when.delayMs} ms` : `after batch ${plan.when.afterBatch}`}`, async () => {
        const r = await ctx.call<DeviceLossTrial>(PAGE, 'deviceLossTrial', plan.kind, plan.when);
        const problems: string[] = [];
        if (r.duringDiff !== undefined) {
          if (r.duringDiff > GPU_TOLERANCE) problems.push(`the call resolved ${r.destroyedBeforeEnd ? 'after' : 'before'} the loss with results off by ${r.duringDiff}`);
        } else if (!/^GpuDeviceLostError: .*next call runs on a new device/.test(r.during)) problems.push(`the call in flight: ${r.during.slice(0, 400)}`);
        if (typeof r.next === 'string' || r.next > GPU_TOLERANCE) problems.push(`the next ${plan.kind}(): ${r.next}`);
        if (!r.newDevice) problems.push('ORT kept the lost device');
        if (r.duringDiff !== undefined && r.destroyedBeforeEnd) f.note(`${plan.kind}: the device was destroyed during the call and the call still resolved right`);
        return problems.join('; ') || undefined;
      });
    }
    await ctx.call(PAGE, 'gpuTeardown');
    f.assertNoLoss();
  });

  it('5 workers killed with 5 calls pending (3 terminateEngineWorker(), 2 uncaught errors in the worker): pending calls reject with WorkerCrashedError, the next calls start a new worker', async () => {
    const f = tally.fault(60, 'worker killed with 5 calls pending (3 `terminateEngineWorker()`, 2 uncaught errors)', 5);
    const setup = await ctx.call<{ ms: number }>(PAGE, 'workerSetup');
    const heldAfter = new Set<string>();
    for (let t = 0; t < 5; t++) {
      const how = t % 2 === 0 ? 'terminate' : 'crash';
      const delay = Math.floor(random() * 40);
      await attempt(f, `${how} after ${delay} ms`, async () => {
        const worker = ctx.browser.page.workers().filter((w) => w.url().includes('/src/worker/index.ts')).at(-1);
        if (!worker) return `no library worker found among ${ctx.browser.page.workers().map((w) => w.url()).join(', ')}`;
        await ctx.call(PAGE, 'startPending');
        await new Promise((r) => setTimeout(r, delay));
        if (how === 'terminate') await ctx.call(PAGE, 'terminate');
        else await worker.evaluate(`setTimeout(() => { throw new Error('a crash injected by the fault suite') }, 0)`);
        const r = await ctx.call<WorkerKillTrial>(PAGE, 'collectAfterKill');
        const problems: string[] = [];
        for (const p of r.pending) if (!p.crashed && !p.right) problems.push(`pending ${p.what}: ${p.outcome}`);
        if (!r.pending.some((p) => p.crashed)) f.note(`${how} after ${delay} ms: every call had finished before the kill`);
        for (const h of r.held) if (!h.typed && !h.right) problems.push(`${h.what} afterwards: ${h.outcome}`);
        heldAfter.add(r.held.map((h) => `${h.what}: ${h.right ? 'right' : h.outcome.split(' [')[0]}`).join(', '));
        for (const c of [...r.oneCall, ...r.fresh]) if (!c.right) problems.push(`${c.what} afterwards: ${c.outcome}`);
        return problems.join('; ') || undefined;
      });
    }
    for (const h of heldAfter) f.note(`an embedder and a reranker held from before the kill, called afterwards: ${h} (typed; new ones work)`);
    f.assertNoLoss();
  });
});
