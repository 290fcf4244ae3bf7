/**
 * What the browser benchmarks share: serving transformers.js' own onnxruntime-web build next to
 * ours, the results folder, and a page call that says what the browser printed when it fails.
 */
import { createReadStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import type { BrowserSession } from '../test/browser/harness/browser.ts';
import { REPO_ROOT, type Middleware, type TestServer } from '../test/browser/harness/server.ts';

/** transformers.js brings its own onnxruntime-web (a 1.31 dev build): its dist is served byte for byte here. */
export const TJS_ORT_PATH = '/tjs-ort/';
const TJS_ORT_DIR = join(REPO_ROOT, 'node_modules', '@huggingface', 'transformers', 'node_modules', 'onnxruntime-web', 'dist');

export const tjsOrt: Middleware = (req, res, next) => {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  if (!path.startsWith(TJS_ORT_PATH)) return next();
  const file = normalize(join(TJS_ORT_DIR, path.slice(TJS_ORT_PATH.length)));
  if (!file.startsWith(TJS_ORT_DIR + sep) || !existsSync(file)) return next();
  res.setHeader('Content-Type', extname(file) === '.wasm' ? 'application/wasm' : 'text/javascript');
  res.setHeader('Content-Length', statSync(file).size);
  createReadStream(file).pipe(res);
};

export const RESULTS_DIR = join(REPO_ROOT, 'bench', 'results');
export function resultsDir(): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  return RESULTS_DIR;
}

/**
 * In a freshly loaded blank page (no JS heap, GPU device or worker carried over), imports a
 * bench page module and evaluates `expr` on it (`m` is the module). On failure the browser's
 * last log lines are part of the error.
 */
export async function callPage<R>(browser: BrowserSession, server: TestServer, module: string, expr: string): Promise<R> {
  await browser.page.goto(server.url('/test/browser/pages/blank.html'));
  try {
    return (await browser.page.evaluate(`import(${JSON.stringify(module)}).then((m) => ${expr})`)) as R;
  } catch (e) {
    const tail = browser.formatLogs((l) => l.type === 'error' || l.type === 'pageerror' || l.type === 'crash' || l.source === 'http').split('\n').slice(-20).join('\n');
    throw new Error(`${(e as Error).message}\n--- browser log (last lines) ---\n${tail}`, { cause: e });
  }
}

/** JSON arguments for a page call. */
export const args = (...a: unknown[]): string => a.map((x) => JSON.stringify(x)).join(', ');
