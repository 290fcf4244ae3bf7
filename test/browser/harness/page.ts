/**
 * Driving a page: open a served page, call an exported function of a page module, or wait for
 * a result a page posts on `window.__result`.
 *
 * Calls go through string expressions, not serialized functions: the test files are
 * transformed (vitest rewrites `import()`, esbuild/tsx may add `__name` helpers), and a
 * serialized function would carry those into the page.
 */
import type { Page } from 'playwright-core';
import type { BrowserSession } from './browser.ts';
import type { TestServer } from './server.ts';

/** The empty page tests load modules into. */
export const BLANK_PAGE = '/test/browser/pages/blank.html';

/** Navigates to a served page and waits for its load event. */
export async function openPage(page: Page, server: TestServer, path = BLANK_PAGE): Promise<void> {
  const res = await page.goto(server.url(path), { waitUntil: 'load' });
  if (!res || !res.ok()) throw new Error(`GET ${path}: ${res ? res.status() : 'no response'}`);
}

/**
 * Imports a page module (a repo path such as '/test/browser/pages/foundation.ts', transpiled by
 * Vite) into the current page and awaits `exportName(...args)`. Arguments and the result cross
 * as JSON-like values: return plain arrays, not typed arrays.
 */
export async function callModule<R = unknown>(page: Page, modulePath: string, exportName: string, ...args: unknown[]): Promise<R> {
  const expr = `(async () => {
    const m = await import(${JSON.stringify(modulePath)});
    const f = m[${JSON.stringify(exportName)}];
    if (typeof f !== 'function') throw new Error(${JSON.stringify(`${modulePath} has no exported function ${exportName}`)});
    return await f(...${JSON.stringify(args)});
  })()`;
  return (await page.evaluate(expr)) as R;
}

/**
 * Waits for a page that runs on its own to set `window.__result` (or `window.__error`), and
 * returns it. For pages with their own <script type="module"> entry.
 */
export async function waitForResult<R = unknown>(page: Page, timeoutMs = 120_000): Promise<R> {
  await page.waitForFunction('window.__result !== undefined || window.__error !== undefined', undefined, {
    timeout: timeoutMs,
    polling: 100,
  });
  const { result, error } = (await page.evaluate('({ result: window.__result, error: window.__error })')) as {
    result: R;
    error?: unknown;
  };
  if (error !== undefined) throw new Error(`page reported an error: ${String(error)}`);
  return result;
}

/**
 * Runs `fn`; if it throws, the error message gets the last browser log lines appended (the
 * page's and its workers' console, page errors), so the test output says what happened there.
 */
export async function withBrowserLogs<R>(session: BrowserSession, fn: () => Promise<R>, tail = 60): Promise<R> {
  try {
    return await fn();
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    const lines = session.formatLogs().split('\n');
    const shown = lines.slice(-tail).join('\n');
    err.message += `\n--- browser log (last ${Math.min(tail, lines.length)} of ${lines.length} lines) ---\n${shown}`;
    throw err;
  }
}
