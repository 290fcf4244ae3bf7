/**
 * onnxruntime-web, through the package's own subpath imports (package.json "imports"), so the
 * app's bundler (or Node) picks the build by its conditions and emits the .wasm next to our
 * worker (`new URL('…wasm', import.meta.url)` in ORT's bundles), never fetched from a CDN. Each
 * build is imported when a backend first asks for it (`runtimeFor`):
 *
 *  - WebGPU, where the browser has JSPI (WebAssembly.Suspending and WebAssembly.promising: Chrome
 *    and Edge 137+): '#ort-jspi', 'onnxruntime-web/jspi'. WebGPU's calls are asynchronous and
 *    ORT's C++ waits for them; JSPI suspends the wasm stack in the engine, where the asyncify
 *    build instruments every function that may suspend (27 MB against 16.8 MB). In Chromium on
 *    SwiftShader a MiniLM-shaped WebGPU session was created in 1122–1401 ms against asyncify's
 *    1628–2200 ms, and its runs took the same time (the software GPU is the cost there); measured
 *    on bare onnxruntime-web, 2026-12-07. `npm run bench` times both libraries' first embedding.
 *  - WebGPU elsewhere (or `jspi: false`): '#ort', 'onnxruntime-web/webgpu', the asyncify build.
 *  - '#ort-wasm': in browsers 'onnxruntime-web/wasm', the *plain* build (ort-wasm-simd-threaded.wasm,
 *    14 MB). On the CPU path nothing suspends. In Node the plain build ran a MiniLM-shaped graph
 *    ~1.45× faster than asyncify; in Chromium MiniLM ran the same (850 against 849 ms, one thread)
 *    and the small Qwen3 shapes up to 1.3× faster (`npm run bench`, 2026-12-07). So device 'wasm'
 *    loads this one, and only when it is asked for: a WebGPU engine never downloads it (its
 *    self-check's wasm reference and a fallback after a lost device do).
 *
 * In Node the three names are one module (its Node build). In a browser, two builds in one page
 * are two onnxruntime-web instances (each its own onnxruntime-common, env and wasm memory); a
 * session and the tensors it is fed come from the same one (`runtimeFor`). An app that serves
 * ORT's files itself sets `wasmPaths` (every build's files are in ORT's dist/).
 */
import type * as ort from '#ort';

export type { ort };

/** onnxruntime-web's API, as either build exports it */
export type OrtModule = typeof import('#ort');

export interface OrtSettings {
  /** where ort-wasm-*.wasm/.mjs are served, when the app's bundler does not place them */
  wasmPaths?: string;
  /** wasm threads (used when the page is cross-origin isolated); `threadsFor` chooses otherwise */
  numThreads?: number;
  /** false: WebGPU on the asyncify build even where the browser has JSPI */
  jspi?: boolean;
}

/** What the wasm build runs on: the threads asked of it, and why that many. */
export interface ThreadsInfo {
  threads: number;
  reason: string;
}

/** The most threads taken by default: ORT's kernels gain little past 4 on these models, and the page needs a core. */
export const MAX_DEFAULT_THREADS = 4;

/**
 * Below this hidden size a model's ops are too small to split: ORT's thread pool costs more than
 * it saves (the 32-wide tiny-qwen3-embedding ran 1.9× slower on 2 threads than on 1, a 384-wide
 * MiniLM 2× faster; `npm run bench`, 2 cores). Every released text-embedding model is ≥ 384 wide.
 */
export const MIN_HIDDEN_FOR_THREADS = 256;

let current: OrtSettings = {};
/** the hidden size of the model whose load starts the wasm build (its thread count is fixed then) */
let hiddenHint: number | undefined;
/** the threads the wasm build started with, once handed out (ORT reads numThreads once, at its first session) */
let started: ThreadsInfo | undefined;

function apply(m: OrtModule): void {
  if (current.wasmPaths) m.env.wasm.wasmPaths = current.wasmPaths;
  if (!started) {
    const t = threadsFor(current, globalThis, hiddenHint);
    if (t.threads) m.env.wasm.numThreads = t.threads;
  }
  m.env.logLevel = 'error';
}

/** The hidden size of the model about to start the wasm build (before `runtimeFor('wasm')`); later loads share its threads. */
export function hintModel(hiddenSize: number | undefined): void {
  if (!started) hiddenHint = hiddenSize;
}

/** The wasm build's threads as it started (ORT lowers what it cannot start to 1), and why. */
export async function wasmThreads(): Promise<ThreadsInfo> {
  const m = await runtimeFor('wasm');
  const asked = started!;
  const threads = m.env.wasm.numThreads ?? asked.threads;
  return { threads, reason: asked.threads && threads !== asked.threads ? `${asked.reason}; onnxruntime-web started ${threads}` : asked.reason };
}

/**
 * The threads for the wasm build. Asked (`numThreads`): that many. Else, where the page (or worker)
 * is cross-origin isolated: every core but one (the page's), up to MAX_DEFAULT_THREADS — ORT's own
 * default takes half the cores (2 of 4, 3 of 6; ours 3 and 4) — for a model at least
 * MIN_HIDDEN_FOR_THREADS wide. Not isolated: one (SharedArrayBuffer is missing, so
 * ORT can start no thread), and the reason names the two headers that change that. In Node
 * (no `crossOriginIsolated`): ORT's default (`threads` 0).
 */
export function threadsFor(settings: OrtSettings, g: { crossOriginIsolated?: boolean; navigator?: { hardwareConcurrency?: number } } = globalThis, hiddenSize?: number): ThreadsInfo {
  const isolated = g.crossOriginIsolated;
  const headers = "serve the page with the headers 'Cross-Origin-Opener-Policy: same-origin' and 'Cross-Origin-Embedder-Policy: require-corp' (or 'credentialless') to make it cross-origin isolated";
  if (settings.numThreads) {
    if (settings.numThreads > 1 && isolated === false) return { threads: 1, reason: `numThreads ${settings.numThreads} was asked, but the page is not cross-origin isolated, so the wasm build runs on 1 thread: ${headers}` };
    return { threads: settings.numThreads, reason: `numThreads ${settings.numThreads} was asked` };
  }
  if (isolated === undefined) return { threads: 0, reason: "onnxruntime-web's default (no crossOriginIsolated here: not a browser)" };
  const cores = Math.max(1, g.navigator?.hardwareConcurrency ?? 1);
  // every core but one, for the page's own thread and the browser: on the 2-core build VM, two
  // threads ran MiniLM 1.46× (B=1) to 1.72× (B=8) faster on a quiet machine, but 1.5× slower on
  // single texts while other processes took the second core
  const spare = Math.max(1, Math.min(cores - 1, MAX_DEFAULT_THREADS));
  if (!isolated) return { threads: 1, reason: `1 thread: the page is not cross-origin isolated; ${headers}${spare > 1 ? ` and use ${spare}` : ''}` };
  if (hiddenSize !== undefined && hiddenSize < MIN_HIDDEN_FOR_THREADS && cores > 1) {
    return { threads: 1, reason: `1 thread: the model's hidden size (${hiddenSize}) is below ${MIN_HIDDEN_FOR_THREADS}, too small for threads to pay off (numThreads sets it)` };
  }
  return { threads: spare, reason: `${spare} thread${spare === 1 ? '' : 's'}: the page is cross-origin isolated and has ${cores} core${cores === 1 ? '' : 's'} (the default takes every core but one, up to ${MAX_DEFAULT_THREADS}; numThreads sets it)` };
}

/** Settings for the builds: applied now to those loaded, and to the others as they load. */
export function configureOrt(settings: OrtSettings = {}): void {
  current = settings;
  if (webgpuBuild) void webgpuBuild.then(apply);
  if (wasmBuild) void wasmBuild.then(apply);
}

/** Whether this browser has JSPI (WebAssembly's JavaScript Promise Integration), which ORT's jspi build needs. */
export function hasJspi(g: { WebAssembly?: unknown } = globalThis): boolean {
  const wa = g.WebAssembly as { Suspending?: unknown; promising?: unknown } | undefined;
  return typeof wa?.Suspending === 'function' && typeof wa?.promising === 'function';
}

/** Which build runs WebGPU: 'jspi' where the browser has JSPI and the settings allow it, else 'asyncify'. */
export function webgpuBuildFor(settings: OrtSettings, g: { WebAssembly?: unknown } = globalThis): 'jspi' | 'asyncify' {
  return settings.jspi !== false && hasJspi(g) ? 'jspi' : 'asyncify';
}

const moduleOf = (m: unknown): OrtModule => ((m as { default?: OrtModule }).default?.InferenceSession ? (m as { default: OrtModule }).default : m) as OrtModule;

let webgpuBuild: Promise<OrtModule> | undefined;
let wasmBuild: Promise<OrtModule> | undefined;

/** The onnxruntime-web build that runs a backend: the plain wasm build for 'wasm', the WebGPU build (JSPI or asyncify) otherwise. */
export function runtimeFor(backend: 'webgpu' | 'wasm'): Promise<OrtModule> {
  // WebGPU: the build is chosen at its first use in this thread; later settings do not change it
  if (backend === 'webgpu') {
    return (webgpuBuild ??= (webgpuBuildFor(current) === 'jspi' ? import('#ort-jspi') : import('#ort')).then((m) => {
      const mod = moduleOf(m);
      apply(mod);
      return mod;
    }));
  }
  return (wasmBuild ??= import('#ort-wasm').then((m) => {
    const mod = moduleOf(m);
    apply(mod);
    // handed out: its first session starts it with these threads, whatever later settings say
    started ??= threadsFor(current, globalThis, hiddenHint);
    return mod;
  }));
}
