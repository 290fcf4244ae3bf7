/**
 * Content Security Policy: what a page with a strict CSP must allow for the library to run. The
 * policy is sent on every response (page, modules, the worker script, model files), so it governs
 * the library's worker as well as the page. A control run without 'wasm-unsafe-eval' shows the
 * policy is really enforced here (WebAssembly compilation is refused).
 */
import { describe, expect, it } from 'vitest';
import { useBrowser, type Middleware } from './harness/index.ts';
import type { EmbedRun } from './pages/embed.ts';

const STRICT = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self'; style-src 'self' 'unsafe-inline'";
const NO_WASM = "default-src 'self'; script-src 'self'; worker-src 'self'; connect-src 'self'";

const ctx = useBrowser({ page: null });

function withPolicy(policy: string | null): Middleware {
  return (_req, res, next) => {
    if (policy) res.setHeader('Content-Security-Policy', policy);
    next();
  };
}

async function embedUnder(policy: string | null, device: 'wasm' | 'webgpu'): Promise<{ runs?: EmbedRun[]; error?: string; violations: string[] }> {
  const mw = withPolicy(policy);
  ctx.server.use(mw);
  try {
    const { page } = ctx.browser;
    ctx.browser.clearLogs();
    await page.goto(ctx.server.url('/test/browser/pages/blank.html'));
    await page.evaluate(`window.__csp = []; document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI))`);
    const r = (await page.evaluate(`import('/test/browser/pages/embed.ts').then(
      (m) => m.smoke('tiny-e5', ${JSON.stringify(device)}).then((runs) => ({ runs }), (e) => ({ error: String(e && e.name) + ': ' + String(e && e.message) })),
    )`)) as { runs?: EmbedRun[]; error?: string };
    const pageViolations = (await page.evaluate('window.__csp')) as string[];
    const logged = ctx.browser.logs.filter((l) => /Content Security Policy/i.test(l.text)).map((l) => l.text);
    return { ...r, violations: [...pageViolations, ...logged] };
  } finally {
    ctx.server.remove(mw);
  }
}

describe('Content Security Policy', () => {
  for (const device of ['wasm', 'webgpu'] as const) {
    it(`runs on ${device} under "${STRICT}" with the vectors it gives without a policy`, async () => {
      const open = await embedUnder(null, device);
      const strict = await embedUnder(STRICT, device);
      expect(strict.error, strict.violations.join('\n')).toBeUndefined();
      expect(strict.violations).toEqual([]);
      expect(strict.runs![0]!.vectors).toEqual(open.runs![0]!.vectors);
    });
  }

  it("fails with an error, not silently, without 'wasm-unsafe-eval' (the policy is enforced here)", async () => {
    const r = await embedUnder(NO_WASM, 'wasm');
    expect(r.runs).toBeUndefined();
    expect(r.error).toMatch(/^ModelLoadError: .*add 'wasm-unsafe-eval' to script-src/);
    console.log(`without 'wasm-unsafe-eval': ${r.error?.slice(0, 300)}`);
  });
});
