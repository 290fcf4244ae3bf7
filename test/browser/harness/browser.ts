/**
 * Debian's Chromium driven by playwright-core, with WebGPU on (SwiftShader here, a real GPU
 * where there is one). A fresh profile folder per launch, removed on close.
 *
 * Console output of the page AND of its workers (dedicated module workers, ORT's threads) is
 * collected in `logs`, as are uncaught page errors and crashes, so a failing test can print
 * everything the browser said (`formatLogs`).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type ConsoleMessage, type Page, type Worker } from 'playwright-core';

/**
 * Which Chromium, and extra flags for it, from the environment (scripts/real-gpu/run.sh sets
 * both to run the tests and benchmarks on an unpacked Chromium with a real GPU):
 *   WEBGPU_EMBED_CHROMIUM       path of the chromium binary (or a wrapper script); default
 *                               /usr/bin/chromium (CHROMIUM_PATH is still read as before)
 *   WEBGPU_EMBED_CHROMIUM_ARGS  extra flags, space-separated, appended after CHROMIUM_ARGS
 *                               (e.g. '--enable-features=Vulkan --use-angle=vulkan')
 */
export const CHROMIUM_PATH = process.env.WEBGPU_EMBED_CHROMIUM || process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--enable-unsafe-webgpu',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** WEBGPU_EMBED_CHROMIUM_ARGS, split on whitespace (no quoting). */
export const CHROMIUM_EXTRA_ARGS = (process.env.WEBGPU_EMBED_CHROMIUM_ARGS ?? '').split(/\s+/).filter(Boolean);

export interface LogEntry {
  /** 'page' | 'worker:<url>' | 'http' (responses >= 400, failed requests) */
  source: string;
  /** console type (log, error, warning, ...), 'pageerror', 'crash', 'info' (worker start/close), or for 'http' the status / 'failed' */
  type: string;
  text: string;
  /** ms since launch */
  t: number;
}

export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  logs: LogEntry[];
  /** the collected output, one line per entry (for failure messages) */
  formatLogs(filter?: (e: LogEntry) => boolean): string;
  /** clears `logs` (e.g. between tests that share one page) */
  clearLogs(): void;
  profileDir: string;
  close(): Promise<void>;
}

export interface LaunchOptions {
  /** reuse a profile folder (cache tests: restart with the same profile); not removed on close */
  profileDir?: string;
  /** extra Chromium flags */
  args?: string[];
  /** echo every console line to the test's stdout as it arrives (or set BROWSER_LOG=1) */
  echo?: boolean;
}

/** Throws, with the install command, when Debian's Chromium is not there. Never skip. */
export function assertChromiumInstalled(): void {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}. The browser tests need Debian's Chromium (it ships ` +
        `SwiftShader, a software WebGPU adapter). Install it with:\n` +
        `  apt-get update && apt-get install -y chromium\n` +
        `or point WEBGPU_EMBED_CHROMIUM at another Chromium build.`,
    );
  }
}

export async function launchBrowser(opts: LaunchOptions = {}): Promise<BrowserSession> {
  assertChromiumInstalled();
  const owned = !opts.profileDir;
  const profileDir = opts.profileDir ?? mkdtempSync(join(tmpdir(), 'webgpu-embed-chromium-'));
  const echo = opts.echo ?? process.env.BROWSER_LOG === '1';
  const t0 = performance.now();
  const logs: LogEntry[] = [];
  const push = (source: string, type: string, text: string) => {
    const e: LogEntry = { source, type, text, t: Math.round(performance.now() - t0) };
    logs.push(e);
    if (echo) console.log(`[browser ${e.t}ms ${source} ${type}] ${text}`);
  };

  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profileDir, {
      headless: true,
      executablePath: CHROMIUM_PATH,
      args: [...CHROMIUM_ARGS, ...CHROMIUM_EXTRA_ARGS, ...(opts.args ?? [])],
    });
  } catch (e) {
    if (owned) rmSync(profileDir, { recursive: true, force: true });
    throw e;
  }

  // Playwright delivers console messages of dedicated workers on the page's 'console' event too
  // (ConsoleMessage.worker() tells them apart), so one listener per page sees everything; the
  // test `harness: console of a module worker reaches the logs` holds this.
  const sourceOf = (m: ConsoleMessage): string => {
    const w: Worker | null = m.worker();
    return w ? `worker:${shortUrl(w.url())}` : 'page';
  };
  const watchPage = (page: Page) => {
    page.on('console', (m) => push(sourceOf(m), m.type(), m.text()));
    page.on('pageerror', (err) => push('page', 'pageerror', err.stack ?? String(err)));
    page.on('crash', () => push('page', 'crash', 'the page crashed'));
    // Chromium's own "Failed to load resource: 404" line has no URL; these do (workers' requests included)
    page.on('response', (r) => {
      if (r.status() >= 400) push('http', String(r.status()), `${r.request().method()} ${shortUrl(r.url())}`);
    });
    page.on('requestfailed', (r) => push('http', 'failed', `${r.method()} ${shortUrl(r.url())}: ${r.failure()?.errorText ?? '?'}`));
    page.on('worker', (w) => {
      push(`worker:${shortUrl(w.url())}`, 'info', 'worker started');
      w.on('close', () => push(`worker:${shortUrl(w.url())}`, 'info', 'worker closed'));
    });
  };
  context.on('page', watchPage);
  for (const p of context.pages()) watchPage(p);
  const page = context.pages()[0] ?? (await context.newPage());

  return {
    context,
    page,
    logs,
    profileDir,
    formatLogs: (filter) =>
      logs
        .filter(filter ?? (() => true))
        .map((e) => `[${e.t}ms ${e.source} ${e.type}] ${e.text}`)
        .join('\n'),
    clearLogs: () => void logs.splice(0, logs.length),
    close: async () => {
      await context.close().catch(() => {});
      if (owned) rmSync(profileDir, { recursive: true, force: true });
    },
  };
}

function shortUrl(u: string): string {
  try {
    const url = new URL(u);
    return url.protocol === 'blob:' ? u : url.pathname + url.search;
  } catch {
    return u;
  }
}
