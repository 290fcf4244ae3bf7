/**
 * The packed library in an app's PRODUCTION build: `npm pack` into a fresh Vite app
 * (test/browser/production-app), `vite build` with its default minification, served by
 * `vite preview`, driven in Chromium. The unit and browser tests elsewhere run the unminified
 * source; a minifier renames classes ('ie', 'j'), which once left errors from the worker as plain
 * `Error`s named after the minified class.
 *
 *  - Every error class the package exports (found from its exports, in the app and here, so a new
 *    class cannot be forgotten) is thrown for real in the built app, through the worker where the
 *    library throws it there, and checked: `e.name` is the class's name, and `instanceof` holds
 *    for the class and each of its ancestors (the exported ones and the built-ins) and for no
 *    other, exactly as in the source. Conditions an app cannot create (no WebGPU adapter, a full
 *    storage quota, a lost GPU device, a wrong WebGPU result) are made in the library's worker
 *    through Playwright: the platform is patched (navigator.gpu, the storage estimate,
 *    GPUBuffer.mapAsync) or the library's test hook is set; the library code that throws is the
 *    built app's. Every class, thrown or not, is also revived from the worker's wire format.
 *  - Progress events arrive through the worker in transformers.js' shape and order, each call's
 *    events before the call resolves, a warm load's files as 'cache_hit'.
 */
import { createServer as createNetServer } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import type { Page, Worker } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as api from '../../src/index.ts';
import type { EmbedProgress, LoadProgress } from '../../src/index.ts';
import { launchBrowser, previewPackedApp, serveFolderOr404, waitForResult, withBrowserLogs, type BrowserSession, type PreviewedApp } from './harness/index.ts';

const MODELS = join(import.meta.dirname, '..', 'fixtures', 'models');

/** The exported error classes of the source, as the app finds them in the package: by walking the exports. */
const ERROR_CLASSES = (Object.entries(api) as [string, unknown][]).filter((e): e is [string, new (m: string) => Error] => typeof e[1] === 'function' && (e[1] as { prototype?: unknown }).prototype instanceof Error);
const BUILTINS: Record<string, new (m: string) => Error> = { Error, RangeError, TypeError };

/** For class `name`: whether its instances are instanceof each exported class and built-in, as the source says. */
function expectedInstanceOf(name: string): Record<string, boolean> {
  const Cls = ERROR_CLASSES.find(([k]) => k === name)![1];
  return Object.fromEntries([...ERROR_CLASSES, ...Object.entries(BUILTINS)].map(([k, C]) => [k, Cls === C || Cls.prototype instanceof C]));
}

interface Caught {
  name?: string;
  message?: string;
  instanceOf?: Record<string, boolean>;
  fields?: Record<string, unknown>;
  resolved?: true;
  notAnError?: string;
}

/** The worker's platform, changed for one scenario (evaluated in the library's worker). */
const PATCH = {
  selfCheckHook: `globalThis[Symbol.for('webgpu-embed.test-hooks')] = { corruptWebGpuOutput: true }`,
  noAdapter: `GPU.prototype.requestAdapter = async () => null`,
  storageFull: `StorageManager.prototype.estimate = async () => ({ quota: 1000, usage: 1000 })`,
  // The next readback after arming (globalThis.__testLoseAtNextRead) first destroys the GPU device
  // the library's buffers were last made on, as a driver reset would, and waits until it is lost.
  deviceLoss: `(() => {
    const create = GPUDevice.prototype.createBuffer;
    GPUDevice.prototype.createBuffer = function (d) { globalThis.__testLastDevice = this; return create.call(this, d); };
    const map = GPUBuffer.prototype.mapAsync;
    GPUBuffer.prototype.mapAsync = async function (...a) {
      if (globalThis.__testLoseAtNextRead) {
        globalThis.__testLoseAtNextRead = false;
        const d = globalThis.__testLastDevice;
        d.destroy();
        await d.lost;
      }
      return map.apply(this, a);
    };
  })()`,
};

interface Scenario {
  cls: string;
  /** where the library throws it: the worker (the error crossed the boundary) or the main thread */
  via: 'worker' | 'main thread';
  /** evaluated in the library's worker before the scenario runs */
  patch?: string;
  /** app steps before the throw, each followed by the evaluation of `arm` in the worker */
  setup?: string;
  arm?: string;
  /** more scenarios of the app that must throw the same class */
  also?: string[];
  fields?: (f: Record<string, unknown>) => void;
}

let closedPort = 0;

const SCENARIOS: Scenario[] = [
  { cls: 'ModelFileNotFoundError', via: 'worker', fields: (f) => expect(f.url).toMatch(/\/models\/no-such-model\/config\.json$/) },
  { cls: 'ModelLoadError', via: 'worker', fields: (f) => expect(f.url).toBe(`http://127.0.0.1:${closedPort}/models/x/config.json`) },
  { cls: 'DtypeNotFoundError', via: 'worker', fields: (f) => expect(f.available).toEqual(['fp32']) },
  { cls: 'ModelFileIsHtmlError', via: 'worker', fields: (f) => expect(f.url).toMatch(/\/html-models\/x\/config\.json$/) },
  { cls: 'ModelInputsError', via: 'worker', fields: (f) => expect(f.inputs).toEqual(['cache_position', 'inputs_embeds']) },
  { cls: 'YesNoTokenError', via: 'worker' },
  { cls: 'DtypeUnsupportedError', via: 'worker' },
  { cls: 'SelfCheckError', via: 'worker', patch: PATCH.selfCheckHook, fields: (f) => expect(f.cosine as number).toBeLessThan(f.threshold as number) },
  { cls: 'WebGPUUnavailableError', via: 'worker', patch: PATCH.noAdapter },
  {
    cls: 'StorageQuotaError',
    via: 'worker',
    patch: PATCH.storageFull,
    fields: (f) => {
      expect(f.needed as number).toBeGreaterThan(0);
      expect(f.available).toBe(0);
    },
  },
  { cls: 'GpuDeviceLostError', via: 'worker', patch: PATCH.deviceLoss, setup: 'GpuDeviceLostError:setup', arm: 'globalThis.__testLoseAtNextRead = true' },
  // embed() after dispose() is refused on the main thread; stats() after dispose() by the worker
  { cls: 'DisposedError', via: 'main thread', also: ['DisposedError:worker'] },
  { cls: 'WorkerCrashedError', via: 'main thread' },
  { cls: 'EmptyQueryError', via: 'main thread' },
  { cls: 'IndexFormatError', via: 'main thread' },
];
/** Exported, but never thrown as itself: the base class every other of ours extends (checked in each scenario's instanceof, and revived from the wire). */
const NOT_THROWN = ['WebGPUEmbedError'];

let app: PreviewedApp;
let browser: BrowserSession;

/** tiny-qwen3-embedding's graph with two inputs the library cannot fill (as newer decoder exports have). */
function withExtraInputs(): Uint8Array {
  const { onnx } = onnxProto;
  const m = onnx.ModelProto.decode(readFileSync(join(MODELS, 'tiny-qwen3-embedding', 'onnx', 'model.onnx')));
  for (const name of ['cache_position', 'inputs_embeds']) {
    m.graph!.input!.push(
      onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: onnx.TensorProto.DataType.INT64, shape: { dim: [{ dimParam: 'batch_size' }, { dimParam: 'sequence_length' }] } } } }),
    );
  }
  return onnx.ModelProto.encode(m).finish();
}

/** A port nothing listens on (bound, then released): a host the worker cannot reach. */
async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

beforeAll(async () => {
  closedPort = await freePort();
  const qwen = serveFolderOr404(join(MODELS, 'tiny-qwen3-embedding'));
  const extraInputs = withExtraInputs();
  // the app's own production build: Vite's defaults, minified
  app = await previewPackedApp(join(import.meta.dirname, 'production-app'), {
    name: 'test-model-folders',
    configurePreviewServer: (s) => {
      s.middlewares.use('/models', serveFolderOr404(MODELS));
      s.middlewares.use('/html-models', (_req, res) => {
        res.setHeader('Content-Type', 'text/html; charset=utf-8');
        res.end('<!doctype html><html><body>Sign in to see this model</body></html>');
      });
      s.middlewares.use('/extra-inputs', (req, res) => {
        if (req.url === '/onnx/model.onnx') {
          res.setHeader('Content-Type', 'application/octet-stream');
          res.setHeader('Content-Length', extraInputs.length);
          return void res.end(extraInputs);
        }
        qwen(req, res);
      });
    },
  });
  browser = await launchBrowser();
}, 400_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

/** A fresh load of the built app (so a fresh library worker, with nothing patched). */
async function openApp(): Promise<Page> {
  const page = browser.page;
  browser.clearLogs();
  await page.goto(app.url);
  expect(await waitForResult<string>(page, 60_000)).toBe('ready');
  return page;
}

const appCall = <R>(page: Page, fn: string, ...args: unknown[]) => page.evaluate(`window.app.${fn}(...${JSON.stringify(args)})`) as Promise<R>;

/** The library's worker in the built app (its chunk is assets/worker-<hash>.js), started first. */
async function libraryWorker(page: Page): Promise<Worker> {
  expect(await appCall(page, 'startWorker')).toBe('started');
  const w = page.workers().filter((x) => /\/assets\/worker-[^/]*\.js$/.test(x.url())).at(-1);
  if (!w) throw new Error(`no library worker among ${page.workers().map((x) => x.url()).join(', ') || 'none'}`);
  return w;
}

function expectClass(r: Caught, cls: string): void {
  expect(r.resolved, `${cls}: the call resolved`).toBeUndefined();
  expect(r.notAnError).toBeUndefined();
  expect(r.name, r.message).toBe(cls);
  expect(r.instanceOf, `${cls}: ${r.message}`).toEqual(expectedInstanceOf(cls));
}

describe('npm pack → a fresh Vite app, production build (minified) → Chromium', () => {
  it('the app finds the same error classes in the package as the source exports, and each has a scenario here (or is the base class)', async () => {
    const page = await openApp();
    const inApp = await appCall<string[]>(page, 'errorClassNames');
    expect([...inApp].sort()).toEqual(ERROR_CLASSES.map(([k]) => k).sort());
    expect(inApp.length).toBeGreaterThan(10);
    expect([...SCENARIOS.map((s) => s.cls), ...NOT_THROWN].sort()).toEqual([...inApp].sort());
  });

  for (const s of SCENARIOS) {
    it(`${s.cls}: thrown in the ${s.via}, caught by the app with its name and instanceof${s.patch ? ' (platform condition made in the worker)' : ''}`, () =>
      withBrowserLogs(browser, async () => {
        const page = await openApp();
        if (s.patch || s.arm) await (await libraryWorker(page)).evaluate(s.patch ?? 'undefined');
        if (s.setup) {
          expect(await appCall<Caught>(page, 'provoke', s.setup)).toEqual({ resolved: true });
          await (await libraryWorker(page)).evaluate(s.arm ?? 'undefined');
        }
        const r = await appCall<Caught>(page, 'provoke', s.cls, { port: closedPort });
        expectClass(r, s.cls);
        s.fields?.(r.fields ?? {});
        for (const more of s.also ?? []) expectClass(await appCall<Caught>(page, 'provoke', more), s.cls);
      }),
    );
  }

  it("every exported error class, revived from the worker's wire in the built app, keeps its name, instanceof and fields", async () => {
    const page = await openApp();
    await libraryWorker(page); // the client registers the wire's handlers when it starts the worker
    for (const [cls] of ERROR_CLASSES) {
      const r = await appCall<Caught>(page, 'revive', cls);
      expectClass(r, cls);
      expect(r.fields).toMatchObject({ url: 'https://example.com/m/' });
    }
  });

  it("progress events through the worker: transformers.js' statuses in order, each call's events before it resolves, a warm load from the cache", () =>
    withBrowserLogs(browser, async () => {
      const page = await openApp();
      const r = await appCall<{
        model: string;
        first: EmbedProgress[];
        firstAtResolve: number;
        batches: EmbedProgress[];
        batchesAtResolve: number;
        second: EmbedProgress[];
        secondAtResolve: number;
      }>(page, 'progressRun');
      // nothing arrived after its call resolved
      expect([r.firstAtResolve, r.batchesAtResolve, r.secondAtResolve]).toEqual([r.first.length, r.batches.length, r.second.length]);
      for (const e of [...r.first, ...r.batches, ...r.second]) {
        expect(e.name).toBe(r.model);
        expect('type' in e).toBe(false);
      }
      const ready = { status: 'ready', name: r.model, model: r.model, task: 'feature-extraction' };
      expect(r.first.at(-1)).toEqual(ready);
      expect(r.second.at(-1)).toEqual(ready);

      const sequences = (events: EmbedProgress[]) => {
        const map = new Map<string, string[]>();
        for (const e of events as LoadProgress[]) if ('file' in e) map.set(e.file, [...(map.get(e.file) ?? []), e.status === 'done' && e.missing ? 'done (missing)' : e.status]);
        // consecutive 'progress' events as one
        return new Map([...map].map(([f, s]) => [f, s.filter((x, i) => x !== 'progress' || s[i - 1] !== 'progress')]));
      };
      const cold = sequences(r.first);
      const warm = sequences(r.second);
      expect(cold.get('onnx/model.onnx')).toEqual(['initiate', 'download', 'progress', 'done']);
      expect(warm.get('onnx/model.onnx')).toEqual(['initiate', 'cache_hit', 'progress', 'done']);
      expect([...warm.keys()].sort()).toEqual([...cold.keys()].sort());
      // wasm prefers q8 (onnx/model_quantized.onnx), which tiny-e5 lacks: asked, closed as missing, no bytes
      // (the warm load asks again; the cache remembers the 404, so no request goes out)
      const missing = ['initiate', 'done (missing)'];
      expect(cold.get('onnx/model_quantized.onnx')).toEqual(missing);
      for (const [file, seq] of cold) if (file !== 'onnx/model_quantized.onnx') expect(seq, file).toEqual(['initiate', 'download', 'progress', 'done']);
      for (const [file, seq] of warm) expect(seq, file).toEqual(file === 'onnx/model_quantized.onnx' ? missing : ['initiate', 'cache_hit', 'progress', 'done']);
      const total = r.first.filter((e) => e.status === 'progress_total').at(-1);
      expect(total).toMatchObject({ progress: 100 });
      expect(total && total.status === 'progress_total' && total.loaded).toBe(total && total.status === 'progress_total' && total.total);

      expect(r.batches.map((e) => e.status)).toEqual(Array(r.batches.length).fill('embed'));
      expect(r.batches.length).toBeGreaterThanOrEqual(3); // five texts, at most two a batch
      expect(r.batches.at(-1)).toEqual({ status: 'embed', name: r.model, done: 5, total: 5, progress: 100 });
    }));
});
