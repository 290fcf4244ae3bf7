/// <reference types="vitest/config" />
import { chmod } from 'node:fs/promises';
import { build as viteBuild, defineConfig, type Plugin } from 'vite';
import pkg from './package.json' with { type: 'json' };

// Runtime dependencies stay imports in dist/, for the app's bundler to resolve once: one copy of
// onnxruntime-web in the app, shared by our worker and anything else that uses it. '#ort' too:
// the app's bundler (or Node) picks the browser or Node build by its conditions.
const external = [...Object.keys(pkg.dependencies).flatMap((d) => [d, new RegExp(`^${d}/`)]), ...Object.keys(pkg.imports)];

/**
 * One config for the library build and the three test layers (DESIGN.md):
 *   unit    — Node, plain logic and the CPU reference;
 *   gpu     — Node with the `webgpu` package (Dawn on SwiftShader): WGSL kernels against the reference;
 *   browser — playwright-core driving Debian's Chromium with WebGPU, pages served from 127.0.0.1.
 */
/**
 * In dist/, each worker is its own entry — the engine's (dist/worker.js) and the weight cache's
 * chunk reader (dist/chunk-reader.js) — started with the literal
 * `new Worker(new URL('./worker.js', import.meta.url), ...)`: the form an app's bundler (Vite,
 * webpack 5, Rollup) recognises, so the app bundles our workers (and resolves their imports) itself.
 * Vite's own worker transform would hide that form from the app, so it is rewritten first.
 */
const WORKER_ENTRIES = [
  { module: '/src/client/worker.ts', from: "new URL('../worker/index.ts', import.meta.url)", to: './worker.js' },
  { module: '/src/cache/chunk-reader.ts', from: "new URL('./chunk-reader.worker.ts', import.meta.url)", to: './chunk-reader.js' },
];

function workerAsEntry(): Plugin {
  const placeholder = (i: number) => `__WEBGPU_EMBED_WORKER_URL_${i}__`;
  return {
    name: 'webgpu-embed:worker-as-entry',
    enforce: 'pre',
    apply: 'build',
    transform(code, id) {
      const i = WORKER_ENTRIES.findIndex((w) => id.endsWith(w.module));
      if (i < 0) return null;
      const { from } = WORKER_ENTRIES[i]!;
      if (!code.includes(from)) this.error(`expected ${from} in ${id}`);
      return { code: code.replace(from, `new URL(${placeholder(i)}, import.meta.url)`), map: null };
    },
    renderChunk(code) {
      let out = code;
      WORKER_ENTRIES.forEach((w, i) => (out = out.replace(placeholder(i), `'${w.to}'`)));
      return out === code ? null : { code: out, map: null };
    },
  };
}

/**
 * The `webgpu-embed` bin (package.json "bin"): src/cli/main.ts built for Node into one file,
 * dist/cli.js, with its shebang, after the library's own build and apart from it (its chunks and
 * files stay as they are). Node's built-ins and the runtime dependencies stay imports; '#ort'
 * resolves to onnxruntime-web's Node build through the package's "imports"; the kernels' WGSL
 * is inlined as in the library.
 */
function cliBin(): Plugin {
  let root = process.cwd();
  return {
    name: 'webgpu-embed:cli-bin',
    apply: (_config, env) => env.command === 'build' && !env.isSsrBuild,
    configResolved(config) {
      root = config.root;
    },
    async closeBundle() {
      await viteBuild({
        root,
        configFile: false,
        logLevel: 'warn',
        plugins: [workerAsEntry()],
        build: {
          ssr: 'src/cli/main.ts',
          outDir: 'dist',
          emptyOutDir: false,
          target: 'node20',
          sourcemap: false,
          rollupOptions: {
            external: [...external, /^node:/],
            // one file; main.ts's own '#!/usr/bin/env node' line is kept at its top
            output: { entryFileNames: 'cli.js', codeSplitting: false },
          },
        },
      });
      await chmod(`${root}/dist/cli.js`, 0o755);
    },
  };
}

export default defineConfig({
  plugins: [workerAsEntry(), cliBin()],
  build: {
    lib: { entry: { index: 'src/index.ts', worker: 'src/worker/index.ts', 'chunk-reader': 'src/cache/chunk-reader.worker.ts' }, formats: ['es'] },
    outDir: 'dist',
    target: 'es2022',
    sourcemap: true,
    rollupOptions: { external },
  },
  worker: {
    format: 'es',
    rollupOptions: { external },
  },
  test: {
    globalSetup: ['test/setup/fixtures.ts'],
    reporters: ['default', './test/setup/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'gpu',
          include: ['test/gpu/**/*.test.ts'],
          environment: 'node',
          pool: 'forks',
          testTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          environment: 'node',
          pool: 'forks',
          // One Chromium at a time: the machine has two cores and SwiftShader is CPU-bound.
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          name: 'faults',
          include: ['test/faults/**/*.test.ts'],
          environment: 'node',
          pool: 'forks',
          // One Chromium at a time, as the browser layer, and in a group of its own (groupOrder 1), so
          // never beside the browser layer: two Chromiums on SwiftShader starve each other on two cores.
          // The tally's table is printed and written to test-results/faults.{md,json} by this setup's teardown.
          fileParallelism: false,
          sequence: { groupOrder: 1 },
          globalSetup: ['test/faults/setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
