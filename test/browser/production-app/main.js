// A user's app, built for production (vite build: minified) from the packed library. The test
// (test/browser/production-build.test.ts) calls window.app.* from Playwright; model folders are
// served by the preview server under /models/ (a missing file is a 404), /html-models/ (every
// path a web page) and /extra-inputs/ (a decoder export with inputs the library cannot fill).
import * as lib from 'webgpu-embed';
// comlink as the library's worker client uses it (the same module in this bundle): its 'throw'
// handler is the library's (src/worker/protocol.ts), which revives errors from the worker's wire.
import { transferHandlers } from 'comlink';

/**
 * Every error class the package exports, found from its exports rather than listed here, so a
 * class added to the package is checked without editing this app. The minifier renames the
 * classes themselves, never the keys of the module namespace.
 */
const ERROR_CLASSES = Object.entries(lib).filter(([, v]) => typeof v === 'function' && v.prototype instanceof Error);
const BUILTINS = { Error, RangeError, TypeError };

const at = (path) => new URL(path, location.href).href;
const TINY_E5 = at('/models/tiny-e5/');

/** What the test needs to know of a caught error: its name and message, its class by every exported class (and the built-ins), its fields. */
function describe(e) {
  if (!(e instanceof Object)) return { notAnError: String(e) };
  const fields = {};
  for (const k of ['url', 'available', 'inputs', 'needed', 'cosine', 'threshold', 'scoreDifference']) if (e[k] !== undefined) fields[k] = e[k];
  return {
    name: e.name,
    message: String(e.message),
    instanceOf: Object.fromEntries([...ERROR_CLASSES, ...Object.entries(BUILTINS)].map(([k, C]) => [k, e instanceof C])),
    fields,
  };
}

async function caught(fn) {
  try {
    await fn();
  } catch (e) {
    return describe(e);
  }
  return { resolved: true };
}

/** State kept between the steps of a scenario (the test changes the worker's platform in between). */
const held = {};

/**
 * Each scenario makes the library throw one class, the way an app meets it. `where`: the worker
 * (the error crossed the boundary) or the main thread.
 */
const scenarios = {
  // a folder that is not there: config.json is a 404
  ModelFileNotFoundError: () => lib.createEmbedder({ model: at('/models/no-such-model/'), device: 'wasm', cache: false }),
  // an unreachable host (the port the test closed)
  ModelLoadError: ({ port }) => lib.createEmbedder({ model: `http://127.0.0.1:${port}/models/x/`, device: 'wasm', cache: false }),
  // a dtype the folder has no file for (tiny-e5 has fp32 only)
  DtypeNotFoundError: () => lib.createEmbedder({ model: TINY_E5, device: 'wasm', dtype: 'q4', cache: false }),
  // a server that answers every path with a web page (a wrong URL, a sign-in page)
  ModelFileIsHtmlError: () => lib.createEmbedder({ model: at('/html-models/x/'), device: 'wasm', cache: false }),
  ModelInputsError: () => lib.createEmbedder({ model: at('/extra-inputs/'), device: 'wasm', dtype: 'fp32', cache: false }),
  // answer words that are no single token of the reranker's tokenizer
  YesNoTokenError: () => lib.createReranker({ model: at('/models/tiny-qwen3-reranker/'), device: 'wasm', cache: false, overrides: { yesToken: 'definitely-not-one-token' } }),
  // fp16 files on an adapter without 'shader-f16' (SwiftShader's)
  DtypeUnsupportedError: () => lib.createEmbedder({ model: TINY_E5, device: 'webgpu', dtype: 'fp16', cache: false }),
  // the worker's WebGPU result is corrupted by the library's test hook (set by the test in the worker)
  SelfCheckError: () => lib.createEmbedder({ model: TINY_E5, device: 'webgpu', selfCheck: 'error', cache: false }),
  // the worker's navigator.gpu gives no adapter (patched by the test)
  WebGPUUnavailableError: () => lib.createEmbedder({ model: TINY_E5, device: 'webgpu', cache: false }),
  // the worker's storage estimate says it is full (patched by the test): the weight cache cannot store the files
  StorageQuotaError: async () => {
    await lib.clearCache();
    await lib.createEmbedder({ model: TINY_E5, device: 'wasm' });
  },
  // the GPU device is lost during embed() (the test arms the loss in the worker after 'GpuDeviceLostError:setup')
  'GpuDeviceLostError:setup': async () => {
    held.gpu = await lib.createEmbedder({ model: TINY_E5, device: 'webgpu', cache: false });
    await held.gpu.embed(['a first call, before the loss']);
  },
  GpuDeviceLostError: () => held.gpu.embed(['a call during which the device is lost']),
  // after dispose(): embed() is refused on the main thread, stats() by the worker
  DisposedError: async () => {
    const e = await lib.createEmbedder({ model: TINY_E5, device: 'wasm', cache: false });
    await e.dispose();
    held.disposed = e;
    await e.embed(['too late']);
  },
  'DisposedError:worker': () => held.disposed.stats(),
  // the worker ended while a load is pending
  WorkerCrashedError: async () => {
    const pending = lib.createEmbedder({ model: TINY_E5, device: 'wasm', cache: false });
    lib.terminateEngineWorker();
    await pending;
  },
  EmptyQueryError: () => lib.rerank('   ', ['a document'], { model: at('/models/tiny-cross-encoder/'), device: 'wasm', cache: false }),
  IndexFormatError: async () => {
    const embedder = await lib.createEmbedder({ model: TINY_E5, device: 'wasm', cache: false });
    try {
      const index = await lib.createIndex({ embedder });
      await index.import(new Uint8Array([1, 2, 3, 4]));
    } finally {
      await embedder.dispose();
    }
  },
};

/** Loads and embeds through the worker, collecting onProgress events; then loads again from the weight cache. */
async function progressRun() {
  await lib.clearCache();
  const first = [];
  const embedder = await lib.createEmbedder({ model: TINY_E5, device: 'wasm', limits: { maxBatchSize: 2 }, onProgress: (e) => first.push(e) });
  const firstAtResolve = first.length;
  const batches = [];
  await embedder.embed(['one', 'two', 'three', 'four', 'five'], { onProgress: (e) => batches.push(e) });
  const batchesAtResolve = batches.length;
  await embedder.dispose();
  const second = [];
  const again = await lib.createEmbedder({ model: TINY_E5, device: 'wasm', onProgress: (e) => second.push(e) });
  const secondAtResolve = second.length;
  await again.dispose();
  // events that would arrive after their call resolved get the time to do so, and are counted
  await new Promise((r) => setTimeout(r, 300));
  return { model: TINY_E5, first, firstAtResolve, batches, batchesAtResolve, second, secondAtResolve };
}

window.app = {
  errorClassNames: () => ERROR_CLASSES.map(([k]) => k),
  /** starts the library's worker without WebGPU (a load that fails at once), so the test can reach it */
  startWorker: () => lib.createEmbedder({ model: at('/models/no-such-model/'), device: 'wasm', cache: false }).catch(() => 'started'),
  provoke: (scenario, arg = {}) => caught(() => scenarios[scenario](arg)),
  /** an error of class `name` as it arrives from the worker's wire (src/worker/protocol.ts), with a field as ModelLoadError has */
  revive: (name) =>
    caught(() => transferHandlers.get('throw').deserialize({ isError: true, wire: { name, message: `a ${name} from the wire`, fields: { url: 'https://example.com/m/' }, isDomException: false } })),
  progressRun,
};
window.__result = 'ready';
document.getElementById('out').textContent = 'ready';
