/**
 * `npx tsx scripts/real-gpu/probe-adapter.ts [--allow-software] [--json FILE] [--gpu-page FILE]`
 *
 * Prints the WebGPU adapter that the benchmarks' browser gives a page — the same Vite server
 * (startServer) and the same Chromium launch (launchBrowser: WEBGPU_EMBED_CHROMIUM and
 * WEBGPU_EMBED_CHROMIUM_ARGS included) that `npm run bench` uses — and refuses a software one.
 *
 * Exit status: 0 a hardware adapter ran a compute dispatch; 2 the adapter is software (a
 * fallback adapter, or SwiftShader / llvmpipe / lavapipe / softpipe by name); 3 no adapter;
 * 4 the adapter's device failed a dispatch; 1 anything else (the browser did not start...).
 * With --allow-software a software adapter is reported and the status is 0 (for proving the
 * path end to end on a machine without a GPU).
 *
 * --json FILE      writes the page's full answer (info, features, limits, dispatch) and the verdict
 * --gpu-page FILE  writes the text of chrome://gpu (driver, Vulkan and GPU process errors): the
 *                  first thing to read when a GPU machine still gets SwiftShader
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { CHROMIUM_ARGS, CHROMIUM_EXTRA_ARGS, CHROMIUM_PATH, launchBrowser, type BrowserSession } from '../../test/browser/harness/browser.ts';
import { callModule, openPage } from '../../test/browser/harness/page.ts';
import { startServer, type TestServer } from '../../test/browser/harness/server.ts';
import type { ProbeResult } from './probe-page.ts';

const argv = process.argv.slice(2);
const allowSoftware = argv.includes('--allow-software');
const opt = (name: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const jsonFile = opt('json');
const gpuPageFile = opt('gpu-page');

/** Software rasterizers that must never be timed as a GPU. */
export const SOFTWARE_NAMES = /swiftshader|llvmpipe|lavapipe|softpipe|software rasterizer|microsoft basic render/i;

export type Verdict = { ok: true; hardware: boolean; why: string } | { ok: false; code: 2 | 3 | 4; why: string };

export function verdictOf(r: ProbeResult, allowSoftware: boolean): Verdict {
  if (!r.adapter || !r.info) return { ok: false, code: 3, why: r.reason ?? 'no WebGPU adapter' };
  const named = [r.info.vendor, r.info.architecture, r.info.device, r.info.description].join(' ');
  const soft = r.isFallbackAdapter ? 'isFallbackAdapter is true' : SOFTWARE_NAMES.test(named) ? `its name says software ('${named.match(SOFTWARE_NAMES)![0]}')` : undefined;
  if (r.dispatch && !r.dispatch.ok) return { ok: false, code: 4, why: `the adapter's device failed a compute dispatch: ${r.dispatch.error}` };
  if (soft) {
    return allowSoftware
      ? { ok: true, hardware: false, why: `SOFTWARE adapter (${soft}), allowed by --allow-software: its timings are the CPU's, never a GPU's` }
      : { ok: false, code: 2, why: `the adapter is a software rasterizer (${soft}), not a GPU` };
  }
  return { ok: true, hardware: true, why: 'hardware adapter; a compute dispatch ran and read back correct numbers' };
}

async function chromeGpuPage(browser: BrowserSession): Promise<string> {
  const page = await browser.context.newPage();
  try {
    await page.goto('chrome://gpu', { timeout: 15_000 });
    // The page fills in asynchronously from the GPU process' info, inside a shadow root; its CSP
    // forbids eval (so no waitForFunction): poll with plain evaluations.
    const read = () => page.evaluate(`(() => { const a = document.querySelector('info-view'); const c = a && a.shadowRoot ? a.shadowRoot.querySelector('#content') : null; return (c ? c.innerText : '') || document.body.innerText || ''; })()`) as Promise<string>;
    let text = '';
    for (let i = 0; i < 40 && !/Graphics Feature Status/.test(text); i++) {
      await page.waitForTimeout(250);
      text = await read();
    }
    await page.waitForTimeout(1000);
    return await read();
  } finally {
    await page.close().catch(() => {});
  }
}

function write(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

const fmtBytes = (n: number | undefined) => (n === undefined ? '?' : n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(2)} GiB` : `${(n / 2 ** 20).toFixed(0)} MiB`);

let server: TestServer | undefined;
let browser: BrowserSession | undefined;
let code = 1;
try {
  console.log(`probe: chromium ${CHROMIUM_PATH}`);
  console.log(`probe: flags ${[...CHROMIUM_ARGS, ...CHROMIUM_EXTRA_ARGS].join(' ')}`);
  server = await startServer();
  browser = await launchBrowser();
  const cdp = await browser.context.newCDPSession(browser.page);
  const version = ((await cdp.send('Browser.getVersion')) as { product: string }).product;
  await openPage(browser.page, server);
  const r = await callModule<ProbeResult>(browser.page, '/scripts/real-gpu/probe-page.ts', 'probe');
  const v = verdictOf(r, allowSoftware);

  console.log(`probe: ${version}; ${r.userAgent}`);
  console.log(`probe: crossOriginIsolated ${r.crossOriginIsolated}; navigator.gpu ${r.webgpu ? 'present' : 'MISSING'}`);
  if (r.info) {
    const L = r.limits ?? {};
    console.log(`probe: adapter vendor='${r.info.vendor}' architecture='${r.info.architecture}' device='${r.info.device}' description='${r.info.description}'`);
    console.log(`probe: isFallbackAdapter ${r.isFallbackAdapter}; shader-f16 ${r.features?.includes('shader-f16') ? 'yes' : 'no'}; subgroups ${r.features?.includes('subgroups') ? 'yes' : 'no'}`);
    console.log(`probe: features ${r.features?.join(' ') || '(none)'}`);
    console.log(
      `probe: limits maxBufferSize ${fmtBytes(L.maxBufferSize)}, maxStorageBufferBindingSize ${fmtBytes(L.maxStorageBufferBindingSize)}, ` +
        `maxComputeWorkgroupStorageSize ${L.maxComputeWorkgroupStorageSize}, maxComputeInvocationsPerWorkgroup ${L.maxComputeInvocationsPerWorkgroup}, ` +
        `maxComputeWorkgroupsPerDimension ${L.maxComputeWorkgroupsPerDimension}`,
    );
    console.log(`probe: limits (all) ${JSON.stringify(L)}`);
    if (r.dispatch) console.log(`probe: compute dispatch ${r.dispatch.ok ? `ok (${r.dispatch.ms.toFixed(0)} ms, device creation and pipeline included)` : `FAILED: ${r.dispatch.error}`}`);
    if (r.f16) console.log(`probe: f16 shader ${r.f16.ok ? 'ok' : `FAILED: ${r.f16.error}`}`);
  } else {
    console.log(`probe: NO ADAPTER: ${r.reason}`);
  }

  if (gpuPageFile) {
    try {
      write(gpuPageFile, await chromeGpuPage(browser));
      console.log(`probe: chrome://gpu written to ${gpuPageFile}`);
    } catch (e) {
      console.log(`probe: chrome://gpu could not be read: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  if (jsonFile) write(jsonFile, JSON.stringify({ chromium: version, path: CHROMIUM_PATH, flags: [...CHROMIUM_ARGS, ...CHROMIUM_EXTRA_ARGS], probe: r, verdict: v }, null, 2) + '\n');

  if (v.ok) {
    console.log(`probe: ${v.hardware ? 'OK' : 'WARNING'}: ${v.why}`);
    code = 0;
  } else {
    console.log(`probe: REFUSED: ${v.why}. Nothing will be timed on it.`);
    const tail = browser.formatLogs().split('\n').slice(-30).join('\n');
    if (tail.trim()) console.log(`--- browser log (last lines) ---\n${tail}`);
    code = v.code;
  }
} catch (e) {
  console.error(`probe: FAILED before an answer: ${(e as Error).stack ?? e}`);
  if (browser) console.error(`--- browser log ---\n${browser.formatLogs().split('\n').slice(-40).join('\n')}`);
  code = 1;
} finally {
  await browser?.close();
  await server?.close();
}
process.exit(code);
