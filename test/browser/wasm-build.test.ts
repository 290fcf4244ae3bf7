/**
 * Which onnxruntime-web build runs where (src/runtime/ort.ts), in Chromium through the library's
 * worker: device 'wasm' loads the plain build (ort-wasm-simd-threaded.wasm), never the asyncify
 * build that WebGPU needs, and runs on the threads a cross-origin isolated page allows (this
 * server sends COOP/COEP; the packed app's server, which does not, is checked in
 * package.test.ts); WebGPU runs the JSPI build where the browser has JSPI (this Chromium does),
 * the asyncify build where it has not or `jspi: false` asks for it. Vectors are checked against
 * onnxruntime-node (oracle.ts), an independent runtime.
 */
import type { Response } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { useBrowser } from './harness/index.ts';
import { onnxRuntimeOracle } from './oracle.ts';
import type { LoadCheckRun } from './pages/load-checks.ts';

const ctx = useBrowser();
const PAGE = '/test/browser/pages/load-checks.ts';
const TEXTS = ['the probe is one sentence', 'a second text, somewhat longer than the first one, about bread and butter'];
const tinyE5 = () => ctx.server.url('/test/fixtures/models/tiny-e5/');

/** The .wasm files the page and its workers fetched while `fn` ran. */
async function wasmFetched<R>(fn: () => Promise<R>): Promise<{ value: R; wasm: string[] }> {
  const wasm: string[] = [];
  const listener = (r: Response) => {
    const name = new URL(r.url()).pathname.split('/').pop()!;
    if (name.endsWith('.wasm')) wasm.push(name);
  };
  ctx.browser.page.on('response', listener);
  try {
    return { value: await fn(), wasm };
  } finally {
    ctx.browser.page.off('response', listener);
  }
}

const minilm = () => ctx.server.url('/test/fixtures/models/minilm-shape/');
const embed = (create: Record<string, unknown>) => ctx.call<LoadCheckRun>(PAGE, 'embedWithWarnings', { model: tinyE5(), cache: false, ...create }, TEXTS, { task: 'document' });

async function oracle(name: 'tiny-e5' | 'minilm-shape' = 'tiny-e5'): Promise<number[][]> {
  return (await onnxRuntimeOracle(name, TEXTS.map((text) => ({ text, task: 'document' as const })))).map((o) => o.vector);
}
const maxDiff = (a: number[][], b: number[][]) => Math.max(...a.flatMap((row, i) => row.map((x, k) => Math.abs(x - b[i]![k]!))));

describe("onnxruntime-web's builds", () => {
  it("device 'wasm' runs the plain build on every core but one (up to 4) of an isolated page, with onnxruntime-node's vectors", async () => {
    // a 384-wide model: threads pay (ort.ts MIN_HIDDEN_FOR_THREADS)
    const { value: r, wasm } = await wasmFetched(() => embed({ model: minilm(), device: 'wasm' }));
    expect(r.error).toBeUndefined();
    expect(wasm).toContain('ort-wasm-simd-threaded.wasm');
    expect(wasm.filter((f) => f !== 'ort-wasm-simd-threaded.wasm'), 'no other build is downloaded for wasm').toEqual([]);
    const cores = await ctx.browser.page.evaluate('navigator.hardwareConcurrency');
    expect(r.info!.device).toBe('wasm');
    expect(r.info!.threads).toBe(Math.max(1, Math.min(Number(cores) - 1, 4)));
    expect(r.info!.threadsReason).toMatch(/cross-origin isolated/);
    // pthread workers started from the plain build's loader
    const pthreads = ctx.browser.logs.filter((e) => e.source.startsWith('worker:') && e.text === 'worker started' && !e.source.includes('/src/worker/'));
    if (Number(r.info!.threads) > 1) expect(pthreads.length, ctx.browser.formatLogs()).toBeGreaterThan(0);
    expect(maxDiff(r.vectors!, await oracle('minilm-shape'))).toBeLessThan(1e-5);
  });

  it('a model too narrow for threads to pay (32 wide) runs on one, and info says why', async () => {
    const r = await embed({ device: 'wasm' });
    expect(r.error).toBeUndefined();
    expect(r.info!.threads).toBe(1);
    expect(r.info!.threadsReason).toMatch(/hidden size \(32\) is below 256/);
    const pthreads = ctx.browser.logs.filter((e) => e.source.startsWith('worker:') && e.text === 'worker started' && !e.source.includes('/src/worker/'));
    expect(pthreads, 'no pthread worker for one thread').toEqual([]);
    expect(maxDiff(r.vectors!, await oracle())).toBeLessThan(1e-5);
  });

  it('numThreads asks for a number of threads: they start (pthread workers of the plain build), and info says it was asked', async () => {
    // the worker's wasm module starts once: a fresh page gives a fresh worker
    const r = await embed({ model: minilm(), device: 'wasm', numThreads: 2 });
    expect(r.error).toBeUndefined();
    expect(r.info!.threads).toBe(2);
    expect(r.info!.threadsReason).toBe('numThreads 2 was asked');
    const pthreads = ctx.browser.logs.filter((e) => e.source.startsWith('worker:') && e.text === 'worker started' && !e.source.includes('/src/worker/'));
    expect(pthreads.length, ctx.browser.formatLogs()).toBeGreaterThan(0);
    expect(maxDiff(r.vectors!, await oracle('minilm-shape'))).toBeLessThan(1e-5);
  });

  it('WebGPU runs the JSPI build where the browser has JSPI, and downloads no other build', async () => {
    const jspi = await ctx.browser.page.evaluate("typeof WebAssembly.Suspending === 'function' && typeof WebAssembly.promising === 'function'");
    // Debian's Chromium 156 has JSPI (shipped in 137): the path this test is for
    expect(jspi, 'this Chromium has no JSPI: the test would only see the asyncify fallback').toBe(true);
    const { value: r, wasm } = await wasmFetched(() => embed({ device: 'webgpu', selfCheck: false }));
    expect(r.error).toBeUndefined();
    expect(r.info!.device).toBe('webgpu');
    expect(r.info!.threads).toBeUndefined();
    expect(wasm).toEqual(['ort-wasm-simd-threaded.jspi.wasm']);
    expect(maxDiff(r.vectors!, await oracle())).toBeLessThan(1e-4);
  });

  it('jspi: false keeps WebGPU on the asyncify build, with the same vectors', async () => {
    const { value: r, wasm } = await wasmFetched(() => embed({ device: 'webgpu', selfCheck: false, jspi: false }));
    expect(r.error).toBeUndefined();
    expect(r.info!.device).toBe('webgpu');
    expect(wasm).toEqual(['ort-wasm-simd-threaded.asyncify.wasm']);
    expect(maxDiff(r.vectors!, await oracle())).toBeLessThan(1e-4);
  });
});
