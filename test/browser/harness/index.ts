/**
 * The browser test layer: a Vite server with COOP/COEP on 127.0.0.1, Debian's Chromium with
 * WebGPU, and helpers to drive pages. A test file calls `useBrowser()` at its top level:
 *
 *   const ctx = useBrowser();
 *   it('...', async () => {
 *     const r = await ctx.call<MyResult>('/test/browser/pages/foo.ts', 'run', arg1);
 *   });
 *
 * One server and one browser per file; each test gets a freshly loaded blank page and an empty
 * log; when a test fails, the browser log (page + workers) is printed.
 */
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { launchBrowser, type BrowserSession, type LaunchOptions, type LogEntry } from './browser.ts';
import { BLANK_PAGE, callModule, openPage } from './page.ts';
import { startServer, type StartServerOptions, type TestServer } from './server.ts';

export * from './browser.ts';
export * from './packed-app.ts';
export * from './page.ts';
export * from './server.ts';
export * from './static-folder.ts';

export interface BrowserContextHandle {
  readonly server: TestServer;
  readonly browser: BrowserSession;
  /** callModule on the current page (a failing test prints the browser log) */
  call<R = unknown>(modulePath: string, exportName: string, ...args: unknown[]): Promise<R>;
}

export interface UseBrowserOptions {
  server?: StartServerOptions;
  launch?: LaunchOptions;
  /** the page loaded before each test (default: the blank page); null: do not navigate */
  page?: string | null;
  /** how many log lines a failed test prints (default 200) */
  failureLogLines?: number;
}

export function useBrowser(opts: UseBrowserOptions = {}): BrowserContextHandle {
  let server: TestServer | undefined;
  let browser: BrowserSession | undefined;
  const page = opts.page === undefined ? BLANK_PAGE : opts.page;

  beforeAll(async () => {
    server = await startServer(opts.server);
    browser = await launchBrowser(opts.launch);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });
  beforeEach(async (ctx) => {
    if (!browser || !server) throw new Error('browser harness did not start (see beforeAll)');
    const b = browser;
    b.clearLogs();
    ctx.onTestFailed(() => {
      const n = opts.failureLogLines ?? 200;
      // ORT's info/verbose lines (logSeverityLevel 0) drown everything else: count them, show the rest
      const isOrtChatter = (e: LogEntry) => /\[[VI]:onnxruntime/.test(e.text);
      const chatter = b.logs.filter(isOrtChatter).length;
      const lines = b.formatLogs((e) => !isOrtChatter(e)).split('\n');
      console.error(
        `--- browser log of the failed test: last ${Math.min(n, lines.length)} of ${lines.length} lines` +
          ` (${chatter} onnxruntime info/verbose lines left out) ---\n${lines.slice(-n).join('\n')}`,
      );
    });
    if (page) await openPage(b.page, server, page);
  });

  const handle: BrowserContextHandle = {
    get server() {
      if (!server) throw new Error('server not started');
      return server;
    },
    get browser() {
      if (!browser) throw new Error('browser not started');
      return browser;
    },
    call<R>(modulePath: string, exportName: string, ...args: unknown[]) {
      return callModule<R>(handle.browser.page, modulePath, exportName, ...args);
    },
  };
  return handle;
}
