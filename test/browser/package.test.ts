/**
 * The package as a user meets it: `npm pack`, installed into a fresh Vite app that imports it
 * with one line and no configuration, built (and served by Vite's dev server), run in Chromium;
 * and the same app bundled by webpack 5 with an empty configuration.
 * Proves that the app's bundler picks up our worker and its dependencies, that the kernels are
 * inlined, and that the worker gets WebGPU and computes the reference's answer.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, preview, type PreviewServer, type ViteDevServer } from 'vite';
import webpack from 'webpack';
import type { Diagnosis } from '../../src/index.ts';
import { createPackedApp, launchBrowser, waitForResult, type BrowserSession, type PackedApp } from './harness/index.ts';

const repo = join(import.meta.dirname, '..', '..');
let packed: PackedApp;
let app: string;
let browser: BrowserSession;

beforeAll(async () => {
  packed = await createPackedApp(join(import.meta.dirname, 'consumer-app'));
  app = packed.dir;
  cpSync(join(repo, 'test', 'fixtures', 'models', 'tiny-e5'), join(app, 'public', 'models', 'tiny-e5'), { recursive: true });
  browser = await launchBrowser();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  packed?.remove();
});

interface AppResult {
  diagnosis: Diagnosis;
  runs: Record<'wasm' | 'webgpu', { device: string; threads?: number; threadsReason?: string; vectors: number[][] }>;
}

/** The worker scripts Chromium started for the app (the engine's, the weight cache's chunk reader). */
const workerUrls = () => [...new Set(browser.logs.filter((e) => e.source.startsWith('worker:') && e.text === 'worker started').map((e) => e.source.slice('worker:'.length)))];

function expectHealthy({ diagnosis: d, runs }: AppResult): void {
  // The worker, its kernels and onnxruntime-web's .wasm all reached the app through its bundler.
  expect(runs.wasm.device).toBe('wasm');
  expect(runs.webgpu.device).toBe('webgpu');
  // these servers send no COOP/COEP: one wasm thread, and info names the two headers that give more
  expect(runs.wasm.threads).toBe(1);
  expect(runs.wasm.threadsReason).toMatch(/not cross-origin isolated.*Cross-Origin-Opener-Policy: same-origin.*Cross-Origin-Embedder-Policy: require-corp/);
  for (const { vectors } of Object.values(runs)) {
    expect(vectors).toHaveLength(2);
    for (const v of vectors) expect(Math.hypot(...v)).toBeCloseTo(1, 5);
  }
  let diff = 0;
  runs.wasm.vectors.forEach((v, i) => v.forEach((x, k) => (diff = Math.max(diff, Math.abs(x - runs.webgpu.vectors[i]![k]!)))));
  expect(diff).toBeLessThanOrEqual(1e-5);
  expect(d.context).toBe('worker');
  expect(d.adapter.available).toBe(true);
  expect(typeof d.adapter.isFallbackAdapter).toBe('boolean');
  expect(d.kernelsOk).toBe(true);
  expect(d.kernelMaxAbsDiff).toBeLessThanOrEqual(1e-5);
}

describe('npm pack → a fresh Vite app → Chromium', () => {
  it('works from the app\'s production build (vite build, served statically)', async () => {
    packed.run('npx', ['vite', 'build', '--logLevel', 'warn']);
    const assets = readdirSync(join(app, 'dist', 'assets'));
    // The app's bundler found `new Worker(new URL('./worker.js', import.meta.url))` and emitted our
    // worker, and onnxruntime-web's `new URL('…wasm', import.meta.url)` and emitted its wasm.
    expect(assets.some((f) => /^worker-.*\.js$/.test(f))).toBe(true);
    // and the worker's own `new Worker(new URL('./chunk-reader.js', import.meta.url))`: the weight cache's reader
    expect(assets.some((f) => /^chunk-reader-.*\.js$/.test(f))).toBe(true);
    // the three onnxruntime-web builds: the plain one for device 'wasm', JSPI for WebGPU where the
    // browser has it, asyncify where it has not (src/runtime/ort.ts); a page fetches one or two
    expect(assets.filter((f) => /^ort-wasm.*\.wasm$/.test(f)).map((f) => f.replace(/-[\w-]{8}\.wasm$/, '.wasm')).sort()).toEqual(['ort-wasm-simd-threaded.asyncify.wasm', 'ort-wasm-simd-threaded.jspi.wasm', 'ort-wasm-simd-threaded.wasm']);
    let server: PreviewServer | undefined;
    try {
      server = await preview({ root: app, configFile: false, logLevel: 'silent', preview: { host: '127.0.0.1', port: 0 } });
      const url = server.resolvedUrls?.local[0];
      if (!url) throw new Error('vite preview gave no URL');
      browser.clearLogs();
      await browser.page.goto(url);
      expectHealthy(await waitForResult<AppResult>(browser.page, 120_000));
      // the second load read model.onnx's four cached chunks through the chunk reader
      expect(workerUrls().filter((u) => /chunk-reader-.*\.js/.test(u))).toHaveLength(1);
    } finally {
      await server?.close();
    }
  });

  it("works under the app's Vite dev server, with no optimizeDeps configuration", async () => {
    let server: ViteDevServer | undefined;
    try {
      server = await createServer({ root: app, configFile: false, logLevel: 'silent', server: { host: '127.0.0.1', port: 0, hmr: false } });
      await server.listen();
      const url = server.resolvedUrls?.local[0];
      if (!url) throw new Error('vite dev server gave no URL');
      browser.clearLogs();
      await browser.page.goto(url);
      expectHealthy(await waitForResult<AppResult>(browser.page, 120_000));
      expect(workerUrls().filter((u) => u.includes('chunk-reader'))).toHaveLength(1);
    } finally {
      await server?.close();
    }
  });
});

describe('npm pack → the same app bundled by webpack 5 (no configuration but entry and output) → Chromium', () => {
  it('bundles our worker, onnxruntime-web and its .wasm, and runs on wasm and WebGPU', async () => {
    const out = join(app, 'webpack-dist');
    // webpack's Node API from our devDependencies; the app's node_modules hold the installed package.
    const stats = await new Promise<webpack.Stats>((resolve, reject) =>
      webpack({ mode: 'production', context: app, entry: './main.js', output: { path: out, filename: 'main.js' }, devtool: false, performance: { hints: false } }, (err, s) =>
        err || !s ? reject(err ?? new Error('webpack gave no stats')) : resolve(s),
      ),
    );
    expect(stats.hasErrors(), stats.toString('errors-only')).toBe(false);
    // the optional native runtime's import (device 'cpu', Node only) is no dependency webpack tries to resolve
    expect(stats.toJson({ all: false, warnings: true }).warnings?.map((w) => w.message).filter((m) => /onnxruntime-node|Critical dependency/.test(m))).toEqual([]);
    const assets = readdirSync(out);
    expect(assets.some((f) => f.endsWith('.wasm'))).toBe(true); // onnxruntime-web's binary, emitted by webpack itself
    writeFileSync(join(out, 'index.html'), '<!doctype html><meta charset="utf-8"><pre id="out">running</pre><script src="main.js"></script>');
    cpSync(join(repo, 'test', 'fixtures', 'models', 'tiny-e5'), join(out, 'models', 'tiny-e5'), { recursive: true });
    let server: PreviewServer | undefined;
    try {
      server = await preview({ root: app, configFile: false, logLevel: 'silent', build: { outDir: 'webpack-dist' }, preview: { host: '127.0.0.1', port: 0 } });
      const url = server.resolvedUrls?.local[0];
      if (!url) throw new Error('vite preview gave no URL');
      browser.clearLogs();
      await browser.page.goto(url);
      expectHealthy(await waitForResult<AppResult>(browser.page, 240_000));
      // webpack names worker chunks by number: two worker scripts, the engine's and the chunk reader
      expect(workerUrls()).toHaveLength(2);
    } finally {
      await server?.close();
    }
  });
});

describe('npm pack → the installed bin, `npx webgpu-embed`', () => {
  const texts = ['bread and butter', 'planets orbit the sun on elliptical paths', 'a'];
  const embedWith = (device: 'cpu' | 'wasm') => {
    writeFileSync(join(app, 'texts.txt'), texts.join('\n') + '\n');
    const r = spawnSync('npx', ['webgpu-embed', 'embed', '--device', device, '--model', 'public/models/tiny-e5', '--task', 'query', 'texts.txt'], { cwd: app, encoding: 'utf8', timeout: 240_000 });
    expect(r.status, r.stderr).toBe(0);
    return { stderr: r.stderr, vectors: r.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { embedding: number[] }).embedding) };
  };

  it('without onnxruntime-node (an optional peer: not installed with the package) it runs on wasm and says why; installed, on it, with the same vectors', () => {
    expect(existsSync(join(app, 'node_modules', 'onnxruntime-node'))).toBe(false);
    const fallback = embedWith('cpu');
    expect(fallback.stderr).toMatch(/on onnxruntime-web wasm \(device 'cpu': onnxruntime-node is not installed \(npm i onnxruntime-node\)/);
    const wasm = embedWith('wasm');
    expect(fallback.vectors).toEqual(wasm.vectors);

    const version = JSON.parse(readFileSync(join(repo, 'node_modules', 'onnxruntime-node', 'package.json'), 'utf8')).version as string;
    packed.run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', `onnxruntime-node@${version}`]);
    const native = embedWith('cpu');
    expect(native.stderr).toMatch(/on onnxruntime-node\n/);
    expect(native.vectors).toHaveLength(texts.length);
    native.vectors.forEach((v, i) => v.forEach((x, d) => expect(Math.abs(x - wasm.vectors[i]![d]!)).toBeLessThan(1e-6)));
  }, 600_000);
});
