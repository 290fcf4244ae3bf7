/**
 * The self-check (src/engine/self-check.ts) in Chromium, through the library's worker: on a real
 * fixture on WebGPU (SwiftShader) the WebGPU result agrees with the wasm path's and nothing
 * changes; with the WebGPU output corrupted through the test seam (engine/test-hooks.ts, set
 * inside the worker as the fault suite reaches into it) each action does what it says —
 * 'fallback' embeds right on wasm and says why, 'error' throws a SelfCheckError that is one on
 * this side of the worker too, 'warn' warns and stays on WebGPU — and a reduced dtype gets the
 * check without asking.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { useBrowser } from './harness/index.ts';
import { QUANTIZED_ENCODER, writeQuantizedEncoderFolder } from './op-probes.ts';
import { onnxRuntimeOracle } from './oracle.ts';
import type { LoadCheckRun } from './pages/load-checks.ts';

const ctx = useBrowser();
const PAGE = '/test/browser/pages/load-checks.ts';
const TEXTS = ['the probe is one sentence', 'a second text, somewhat longer than the first one'];
const tinyE5 = () => ctx.server.url('/test/fixtures/models/tiny-e5/');

beforeAll(() => {
  writeQuantizedEncoderFolder();
});

/** Negates every vector the WebGPU path reads back, inside the library's worker. */
async function corruptWebGpuInWorker(): Promise<void> {
  await ctx.call(PAGE, 'startWorker');
  const worker = ctx.browser.page.workers().find((w) => w.url().includes('/src/worker/index.ts'));
  if (!worker) throw new Error(`no library worker among ${ctx.browser.page.workers().map((w) => w.url()).join(', ')}`);
  await worker.evaluate(`globalThis[Symbol.for('webgpu-embed.test-hooks')] = { corruptWebGpuOutput: true }`);
}

const embed = (create: Record<string, unknown>) => ctx.call<LoadCheckRun>(PAGE, 'embedWithWarnings', { cache: false, ...create }, TEXTS, { task: 'document' });

async function oracle(): Promise<number[][]> {
  return (await onnxRuntimeOracle('tiny-e5', TEXTS.map((text) => ({ text, task: 'document' as const })))).map((o) => o.vector);
}

const maxDiff = (a: number[][], b: number[][]) => Math.max(...a.flatMap((row, i) => row.map((x, k) => Math.abs(x - b[i]![k]!))));

describe('the self-check at load', () => {
  it('passes on tiny-e5 on WebGPU: the two paths agree, the embedder stays on WebGPU, no warning', async () => {
    const run = await embed({ model: tinyE5(), device: 'webgpu', selfCheck: 'error' });
    expect(run.error).toBeUndefined();
    expect(run.info!.device).toBe('webgpu');
    expect(run.info!.selfCheck).toMatchObject({ ran: true, passed: true, action: 'none', threshold: 0.99 });
    const { cosine, ms } = run.info!.selfCheck as { cosine: number; ms: number };
    console.log(`tiny-e5 fp32, WebGPU (SwiftShader) vs wasm: cosine ${cosine} (1 − ${(1 - cosine).toExponential(1)}), the check took ${ms} ms of a ${run.createMs.toFixed(0)} ms load`);
    expect(cosine).toBeGreaterThan(0.99999);
    expect(run.warnings).toEqual([]);
    expect(maxDiff(run.vectors!, await oracle())).toBeLessThanOrEqual(1e-4);
  });

  it('is off by default for fp32 on WebGPU, and never runs on wasm', async () => {
    const onGpu = await embed({ model: tinyE5(), device: 'webgpu' });
    expect(onGpu.info!.selfCheck).toEqual({ ran: false, reason: "off by default for fp32 (pass selfCheck: 'fallback' | 'error' | 'warn' to run it)" });
    const onWasm = await embed({ model: tinyE5(), device: 'wasm', selfCheck: 'error' });
    expect(onWasm.info!.selfCheck).toEqual({ ran: false, reason: 'the model runs on wasm, the path the check compares with' });
  });

  it("'fallback' with a wrong WebGPU result: the embedder runs on wasm, embeds right, and info and a warning say why", async () => {
    await corruptWebGpuInWorker();
    const run = await embed({ model: tinyE5(), device: 'webgpu', selfCheck: 'fallback' });
    expect(run.error).toBeUndefined();
    expect(run.info!.device).toBe('wasm');
    expect(run.info!.deviceReason).toMatch(/self-check found this model's WebGPU result for a probe text at cosine -1\.0000 to the wasm path's .*; it runs on wasm instead/);
    expect(run.info!.selfCheck).toMatchObject({ ran: true, passed: false, action: 'fallback' });
    expect((run.info!.selfCheck as { cosine: number }).cosine).toBeCloseTo(-1, 5);
    expect(run.info!.cpuNodes).toBeUndefined();
    expect(run.warnings).toEqual([{ status: 'warning', name: tinyE5(), code: 'self-check', message: expect.stringMatching(/webgpu-embed runs it on wasm instead/) as unknown }]);
    expect(maxDiff(run.vectors!, await oracle())).toBeLessThanOrEqual(1e-5);
  });

  it("'error' with a wrong WebGPU result: a SelfCheckError across the worker, with the cosine and what to do", async () => {
    await corruptWebGpuInWorker();
    const run = await embed({ model: tinyE5(), device: 'webgpu', selfCheck: 'error' });
    expect(run.error).toBeDefined();
    expect(run.error!.is).toEqual(expect.arrayContaining(['SelfCheckError', 'WebGPUEmbedError']));
    expect(run.error!.name).toBe('SelfCheckError');
    expect(run.error!.cosine).toBeCloseTo(-1, 5);
    expect(run.error!.message).toMatch(/^The self-check found .* at cosine -1\.0000 .*Load it with device: 'wasm', another dtype \(e\.g\. 'fp32'\), or selfCheck: 'fallback'/);
  });

  it("'warn' with a wrong WebGPU result: a warning, and the embedder stays on WebGPU (its vectors as wrong as the GPU made them)", async () => {
    await corruptWebGpuInWorker();
    const run = await embed({ model: tinyE5(), device: 'webgpu', selfCheck: 'warn' });
    expect(run.info!.device).toBe('webgpu');
    expect(run.info!.selfCheck).toMatchObject({ ran: true, passed: false, action: 'warn' });
    expect(run.warnings.map((w) => w.code)).toEqual(['self-check']);
    expect(run.warnings[0]!.message).toMatch(/it stays on WebGPU \(selfCheck: 'warn'\), so its vectors may be wrong/);
    const negated = (await oracle()).map((v) => v.map((x) => -x));
    expect(maxDiff(run.vectors!, negated)).toBeLessThanOrEqual(1e-4);
  });

  it("a reduced dtype (q8) on WebGPU is checked without asking, and falls back to wasm by default", async () => {
    const clean = await embed({ model: ctx.server.url(QUANTIZED_ENCODER), device: 'webgpu', dtype: 'q8' });
    expect(clean.info!.selfCheck).toMatchObject({ ran: true, passed: true, action: 'none' });
    expect(clean.info!.device).toBe('webgpu');

    await corruptWebGpuInWorker();
    const broken = await embed({ model: ctx.server.url(QUANTIZED_ENCODER), device: 'webgpu', dtype: 'q8' });
    expect(broken.info!.selfCheck).toMatchObject({ ran: true, passed: false, action: 'fallback' });
    expect(broken.info!.device).toBe('wasm');
    expect(broken.warnings.map((w) => w.code)).toEqual(['cpu-nodes', 'self-check']);
  });

  it('an unknown selfCheck value is a RangeError naming the choices', async () => {
    const run = await embed({ model: tinyE5(), device: 'webgpu', selfCheck: 'always' });
    expect(run.error!.is).toContain('RangeError');
    // checked on the main thread with every other option (src/client/option-rules.ts)
    expect(run.error!.message).toBe(`createEmbedder(): selfCheck must be one of 'fallback', 'error', 'warn', false, got the string "always"`);
  });
});
