/**
 * The HTTP side of the browser test layer: Vite's dev server, run programmatically on
 * 127.0.0.1 with a free port, rooted at the repository.
 *
 *  - Every response carries COOP same-origin / COEP require-corp / CORP same-origin, so pages
 *    and workers are cross-origin isolated (SharedArrayBuffer, wasm threads).
 *  - TypeScript pages and workers are transpiled on request; bare imports (comlink, idb-keyval,
 *    onnxruntime-web, ...) resolve to node_modules like in an app.
 *  - onnxruntime-web is not pre-bundled (optimizeDeps.exclude): its loader (.mjs) and binary
 *    (.wasm) must stay files next to each other. Pages set `ort.env.wasm.wasmPaths = ORT_DIST_PATH`
 *    (see ORT_DIST_PATH below) and ORT imports/fetches them from there. The files under that
 *    prefix are served byte for byte (no Vite transform), see `rawOrtDist`.
 *  - Everything else in the repo is reachable by its path, e.g. the fixture models:
 *    `/test/fixtures/models/tiny-e5/onnx/model.onnx`.
 *
 * Hooks for later tests (request counting, fault injection): pass `middlewares` to
 * `startServer`, or call `server.use(fn)` at any time; hooks run, in order, before Vite's own
 * middlewares on every request, and may answer the request themselves or call `next()`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer, type PluginOption, type ViteDevServer } from 'vite';
import { serveFolder } from './static-folder.ts';

/** The repository root (this file is test/browser/harness/server.ts). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Where onnxruntime-web's dist files are served; use as `ort.env.wasm.wasmPaths` (with the origin). */
export const ORT_DIST_PATH = '/node_modules/onnxruntime-web/dist/';
const ORT_DIST_DIR = join(REPO_ROOT, 'node_modules', 'onnxruntime-web', 'dist');

/** Where the fixture model folders are served. */
export const MODELS_PATH = '/test/fixtures/models/';

export type NextFn = (err?: unknown) => void;
/** A connect-style middleware; answer `res` yourself or call `next()`. */
export type Middleware = (req: IncomingMessage, res: ServerResponse, next: NextFn) => void | Promise<void>;

export interface TestServer {
  /** e.g. http://127.0.0.1:41234 (no trailing slash) */
  origin: string;
  /** absolute URL of a repo path: `server.url('/test/browser/pages/blank.html')` */
  url(path: string): string;
  /** adds a hook in front of Vite (after the ones already added) */
  use(mw: Middleware): void;
  /** removes a hook added with `use` or `middlewares` */
  remove(mw: Middleware): void;
  vite: ViteDevServer;
  close(): Promise<void>;
}

export interface StartServerOptions {
  /** hooks run before Vite's middlewares, in order (request counters, fault injection...) */
  middlewares?: Middleware[];
  /** extra dependencies for Vite to pre-bundle (CommonJS packages imported by pages) */
  optimizeDepsInclude?: string[];
  /** extra Vite plugins (the repo's vite.config.ts is NOT loaded: configFile is false) */
  plugins?: PluginOption[];
  /** Vite's resolve.alias, e.g. PACKAGE_ALIAS: pages import 'webgpu-embed' as an app would */
  alias?: Record<string, string>;
  /** the port to listen on (default 0: any free port); taken, the next free one (strictPort false) */
  port?: number;
}

/** Resolves the package's own name to its source, for pages that import it as an app does (the examples). */
export const PACKAGE_ALIAS: Record<string, string> = { 'webgpu-embed': join(REPO_ROOT, 'src', 'index.ts') };

const ISOLATION_HEADERS: Record<string, string> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/**
 * Serves ORT's dist folder as plain files. Vite would otherwise run its import analysis over
 * the Emscripten loader (it tries to rewrite `new Worker(new URL(import.meta.url))` and dynamic
 * imports); ORT's files are self-contained ES modules and need none of that.
 */
const rawOrtDist = serveFolder(ORT_DIST_DIR, ORT_DIST_PATH);

/** Browsers ask for /favicon.ico on every page; a 404 there is noise in the test logs. */
function noFavicon(req: IncomingMessage, res: ServerResponse, next: NextFn): void {
  if (req.url !== '/favicon.ico') return next();
  res.statusCode = 204;
  res.end();
}

export async function startServer(opts: StartServerOptions = {}): Promise<TestServer> {
  const hooks: Middleware[] = [...(opts.middlewares ?? [])];
  const vite = await createServer({
    configFile: false,
    root: REPO_ROOT,
    // keep Vite's own cache out of node_modules (and out of the way of a running dev server)
    cacheDir: join(REPO_ROOT, '.cache', 'vite-browser-tests'),
    logLevel: 'warn',
    clearScreen: false,
    appType: 'mpa',
    resolve: { alias: opts.alias ?? {} },
    server: {
      host: '127.0.0.1',
      port: opts.port ?? 0,
      strictPort: false,
      headers: ISOLATION_HEADERS,
      hmr: false,
      // No file watching: other processes write fixtures while tests run; nothing here reloads.
      watch: null,
      fs: { strict: true, allow: [REPO_ROOT] },
    },
    optimizeDeps: {
      // No discovery at run time: a dependency discovered mid-test makes Vite re-optimize and
      // reload the page. ESM packages are served from node_modules as they are.
      noDiscovery: true,
      include: opts.optimizeDepsInclude ?? [],
      exclude: ['onnxruntime-web'],
    },
    plugins: [
      {
        name: 'webgpu-embed-test-hooks',
        configureServer(server) {
          // Registered directly (not as a returned post hook), so this runs before Vite's middlewares.
          server.middlewares.use((req, res, next) => {
            for (const [k, v] of Object.entries(ISOLATION_HEADERS)) res.setHeader(k, v);
            let i = 0;
            const chain: Middleware[] = [...hooks, rawOrtDist, noFavicon];
            const step: NextFn = (err) => {
              if (err) return next(err);
              const mw = chain[i++];
              if (!mw) return next();
              try {
                const r = mw(req, res, step);
                if (r && typeof (r as Promise<void>).catch === 'function') (r as Promise<void>).catch(next);
              } catch (e) {
                next(e);
              }
            };
            step();
          });
        },
      },
      ...(opts.plugins ?? []),
    ],
  });
  await vite.listen();
  const addr = vite.httpServer?.address() as AddressInfo | null;
  if (!addr || typeof addr === 'string') {
    await vite.close();
    throw new Error('Vite did not report a TCP address');
  }
  const origin = `http://127.0.0.1:${addr.port}`;
  return {
    origin,
    url: (path: string) => new URL(path, origin + '/').href,
    use: (mw) => void hooks.push(mw),
    remove: (mw) => {
      const i = hooks.indexOf(mw);
      if (i >= 0) hooks.splice(i, 1);
    },
    vite,
    close: () => vite.close(),
  };
}
