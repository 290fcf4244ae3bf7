/**
 * What the browser benchmarks share: serving transformers.js' own onnxruntime-web build next to
 * ours, the results folder, and a page call that says what the browser printed when it fails.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserSession } from '../test/browser/harness/browser.ts';
import { REPO_ROOT, type Middleware, type TestServer } from '../test/browser/harness/server.ts';
import { serveFolder } from '../test/browser/harness/static-folder.ts';

/** transformers.js brings its own onnxruntime-web (a 1.31 dev build): its dist is served byte for byte here. */
export const TJS_ORT_PATH = '/tjs-ort/';
const TJS_ORT_DIR = join(REPO_ROOT, 'node_modules', '@huggingface', 'transformers', 'node_modules', 'onnxruntime-web', 'dist');

export const tjsOrt: Middleware = serveFolder(TJS_ORT_DIR, TJS_ORT_PATH);

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
