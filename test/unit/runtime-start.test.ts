/**
 * How onnxruntime-web is started (src/runtime/ort.ts, warm-start.ts): the threads a page gets by
 * default and the reason it is told, the identity model that starts the wasm while a load reads
 * its files, and the engine's own account of a load and a call (info.loadTimings,
 * stats().lastCall) adding up.
 */
import { describe, expect, it } from 'vitest';
import * as ortNode from 'onnxruntime-node';
import { createEmbedder } from '../../src/index.ts';
import { identityModel } from '../../src/models/onnx/identity-model.ts';
import { hasJspi, MAX_DEFAULT_THREADS, MIN_HIDDEN_FOR_THREADS, runtimeFor, threadsFor, webgpuBuildFor } from '../../src/runtime/ort.ts';
import { warmStart } from '../../src/runtime/warm-start.ts';
import { fixtureUrl } from './helpers/model-folders.ts';

const page = (crossOriginIsolated: boolean | undefined, cores: number) => ({ crossOriginIsolated, navigator: { hardwareConcurrency: cores } });

describe('threadsFor', () => {
  it("an isolated page gets every core but the page's, up to the cap, and is told so", () => {
    for (const [cores, threads] of [[1, 1], [2, 1], [3, 2], [4, 3], [5, 4], [8, 4], [64, 4]] as const) {
      const t = threadsFor({}, page(true, cores));
      expect(t.threads, `${cores} cores`).toBe(threads);
      expect(threads).toBeLessThanOrEqual(MAX_DEFAULT_THREADS);
      expect(t.reason).toMatch(/cross-origin isolated/);
      expect(t.reason).not.toMatch(/not cross-origin/);
    }
  });

  it('a page that is not isolated gets one thread, and the two headers that change that', () => {
    const t = threadsFor({}, page(false, 8));
    expect(t.threads).toBe(1);
    expect(t.reason).toContain("'Cross-Origin-Opener-Policy: same-origin'");
    expect(t.reason).toContain("'Cross-Origin-Embedder-Policy: require-corp'");
    expect(t.reason).toContain('use 4');
    expect(threadsFor({}, page(false, 2)).reason).not.toContain(' and use ');
  });

  it('numThreads wins where it can start; asked in a page that is not isolated, it says why it gets 1', () => {
    expect(threadsFor({ numThreads: 3 }, page(true, 2))).toEqual({ threads: 3, reason: 'numThreads 3 was asked' });
    expect(threadsFor({ numThreads: 1 }, page(false, 2))).toEqual({ threads: 1, reason: 'numThreads 1 was asked' });
    const t = threadsFor({ numThreads: 4 }, page(false, 8));
    expect(t.threads).toBe(1);
    expect(t.reason).toMatch(/numThreads 4 was asked, but the page is not cross-origin isolated/);
  });

  it('a model narrower than MIN_HIDDEN_FOR_THREADS gets one thread, and is told why; a real width gets the cores', () => {
    const t = threadsFor({}, page(true, 8), 32);
    expect(t.threads).toBe(1);
    expect(t.reason).toMatch(/hidden size \(32\) is below 256/);
    expect(threadsFor({}, page(true, 8), MIN_HIDDEN_FOR_THREADS - 1).threads).toBe(1);
    expect(threadsFor({}, page(true, 8), MIN_HIDDEN_FOR_THREADS).threads).toBe(4);
    expect(threadsFor({}, page(true, 4), 384).threads).toBe(3);
    // asked for, it is what is asked
    expect(threadsFor({ numThreads: 2 }, page(true, 8), 32).threads).toBe(2);
  });

  it("outside a browser (no crossOriginIsolated) it leaves onnxruntime-web's default", () => {
    expect(threadsFor({}, page(undefined, 8)).threads).toBe(0);
  });
});

describe('the WebGPU build', () => {
  const jspiEngine = { WebAssembly: { Suspending: function Suspending() {}, promising: () => undefined } };
  it('is the JSPI build where WebAssembly has Suspending and promising, unless jspi: false', () => {
    expect(hasJspi(jspiEngine)).toBe(true);
    expect(webgpuBuildFor({}, jspiEngine)).toBe('jspi');
    expect(webgpuBuildFor({ jspi: true }, jspiEngine)).toBe('jspi');
    expect(webgpuBuildFor({ jspi: false }, jspiEngine)).toBe('asyncify');
  });

  it('is the asyncify build where either is missing, whatever jspi says', () => {
    for (const g of [{}, { WebAssembly: {} }, { WebAssembly: { Suspending: function Suspending() {} } }, { WebAssembly: { promising: () => undefined } }]) {
      expect(hasJspi(g)).toBe(false);
      expect(webgpuBuildFor({}, g)).toBe('asyncify');
      expect(webgpuBuildFor({ jspi: true }, g)).toBe('asyncify');
    }
  });
});

describe('the identity model and the warm start', () => {
  it('is a model onnxruntime-node (an independent runtime) runs: y = x', async () => {
    const s = await ortNode.InferenceSession.create(identityModel());
    const out = await s.run({ x: new ortNode.Tensor('float32', new Float32Array([-2.25]), [1]) });
    expect(Array.from(out.y!.data as Float32Array)).toEqual([-2.25]);
    await s.release();
  });

  it('starts the wasm build and releases its session; other backends start nothing', async () => {
    const ort = await runtimeFor('wasm');
    const create = ort.InferenceSession.create;
    const created: unknown[] = [];
    (ort.InferenceSession as { create: unknown }).create = async (...a: Parameters<typeof create>) => {
      const s = await create(...a);
      created.push(a[0]);
      return s;
    };
    try {
      await warmStart('wasm').release();
      await warmStart('webgpu').release();
      await warmStart('cpu').release();
    } finally {
      (ort.InferenceSession as { create: unknown }).create = create;
    }
    expect(created).toHaveLength(1);
    expect(created[0]).toEqual(identityModel());
  });
});

describe("the engine's account of its time", () => {
  it('info.loadTimings and stats().lastCall: every stage measured, the parts within the whole', async () => {
    const e = await createEmbedder({ model: fixtureUrl('tiny-e5'), device: 'wasm', worker: false, cache: false });
    try {
      const t = e.info.loadTimings;
      for (const k of ['filesMs', 'tokenizerMs', 'graphMs', 'sessionMs', 'selfCheckMs'] as const) expect(t[k], k).toBeGreaterThanOrEqual(0);
      expect(t.tokenizerMs).toBeGreaterThan(0);
      expect(t.sessionMs).toBeGreaterThan(0);
      expect(t.filesMs + t.tokenizerMs + t.graphMs + t.sessionMs + t.selfCheckMs).toBeLessThanOrEqual(t.totalMs + 1e-6);
      expect((await e.stats()).lastCall).toBeUndefined();
      const texts = Array.from({ length: 9 }, (_, i) => `text number ${i} ${'word '.repeat(i * 3)}`);
      const t0 = performance.now();
      await e.embed(texts);
      const wall = performance.now() - t0;
      const c = (await e.stats()).lastCall!;
      expect(c.batches).toBeGreaterThanOrEqual(1);
      for (const k of ['tokenizeMs', 'feedsMs', 'runMs', 'headMs'] as const) expect(c[k], k).toBeGreaterThan(0);
      const parts = c.tokenizeMs + c.planMs + c.waitMs + c.feedsMs + c.runMs + c.headMs + c.gatherMs;
      expect(parts).toBeLessThanOrEqual(c.totalMs + 1e-6);
      expect(c.totalMs).toBeLessThanOrEqual(wall + 1e-6);
      // the clocked stages are most of the call: nothing big goes unmeasured
      expect(parts / c.totalMs).toBeGreaterThan(0.8);
    } finally {
      await e.dispose();
    }
  });
});
