/**
 * Download faults, in Chromium with the weight cache on (tiny-e5's 4 MB model.onnx in 256 KiB
 * chunks, so a cut can land in any of 16): connections dropped at random bytes (by a server that
 * honours Range, and by one that ignores it), tabs closed mid-download, chunks in IndexedDB
 * damaged, and the origin out of storage. After each, the model onnxruntime-web receives must be
 * byte-identical to the served file (SHA-256), resumes must be Range requests from the last whole
 * chunk where the server offers them, damaged chunks must be fetched again (alone) and never used,
 * and a full origin must give StorageQuotaError while memory mode still answers.
 */
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { callModule, launchBrowser, MODELS_PATH, openPage, REPO_ROOT, useBrowser, type Middleware } from '../browser/harness/index.ts';
import type { Damage, HashedLoad, Meta, QuotaTrial } from './pages/downloads.ts';
import { attempt, createTally, rng, SEED } from './tally.ts';

const ctx = useBrowser();
const tally = createTally(import.meta.url);
const PAGE = '/test/faults/pages/downloads.ts';
const MODEL = 'tiny-e5';
const FILE = 'onnx/model.onnx';
const PATH = join(REPO_ROOT, 'test', 'fixtures', 'models', MODEL, FILE);
const URL_PATH = `${MODELS_PATH}${MODEL}/${FILE}`;
const CHUNK = 256 * 1024;
const CACHE = { chunkSize: CHUNK };
const random = rng(SEED ^ 0x0d0a);

let chromium = '';
afterAll(() => tally.write({ chromium, seed: SEED }));

const file = () => {
  const bytes = readFileSync(PATH);
  return { size: bytes.length, hash: createHash('sha256').update(bytes).digest('hex') };
};

/** Requests for the model file, as the server saw them. */
const seen: (string | null)[] = [];
const counter: Middleware = (req, _res, next) => {
  if (req.url === URL_PATH) seen.push(req.headers.range ?? null);
  next();
};

/** Vite's static server's validators for the file (so If-Range resumes match). */
function validators() {
  const st = statSync(PATH);
  return { etag: `W/"${st.size}-${st.mtime.getTime()}"`, 'last-modified': st.mtime.toUTCString() };
}

/**
 * Serves the model file with faults: the i-th request is cut after absolute byte `cuts[i]`
 * (undefined: served whole), by a reset (`destroy()`: bytes still in flight may be lost with it)
 * or by closing the connection early (every byte sent arrives, then the body ends short).
 * `ranges`: answer Range requests with 206 (else 200 and the whole file, as a server without
 * Range support does).
 */
function faultyServer(cuts: (number | undefined)[], ranges: boolean, how: 'reset' | 'close'): Middleware {
  let n = 0;
  return (req: IncomingMessage, res: ServerResponse, next) => {
    if (req.url !== URL_PATH) return next();
    const cut = cuts[n++];
    const size = statSync(PATH).size;
    const m = ranges ? /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '') : null;
    if (cut === undefined && ranges) return next();
    const start = m ? Number(m[1]) : 0;
    const end = m && m[2] ? Number(m[2]) : size - 1;
    res.writeHead(m ? 206 : 200, {
      'content-type': 'application/octet-stream',
      'content-length': end - start + 1,
      ...validators(),
      ...(ranges ? { 'accept-ranges': 'bytes' } : {}),
      ...(m ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}),
    });
    res.flushHeaders();
    if (cut === undefined) return void createReadStream(PATH, { start, end }).pipe(res);
    const drop = () => (how === 'reset' ? res.socket?.destroy() : res.socket?.end());
    if (cut <= start) return void setTimeout(drop, 20);
    createReadStream(PATH, { start, end: Math.min(end, cut - 1) })
      .on('end', () => setTimeout(drop, 20))
      .pipe(res, { end: false });
  };
}

/** The first plain GET sends `after` bytes, then holds the connection open, silent. */
function stallingServer(after: number): Middleware & { open: ServerResponse[] } {
  let armed = true;
  const open: ServerResponse[] = [];
  const mw: Middleware = (req, res, next) => {
    if (!armed || req.url !== URL_PATH || req.headers.range) return next();
    armed = false;
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': statSync(PATH).size, 'accept-ranges': 'bytes', ...validators() });
    open.push(res);
    createReadStream(PATH, { start: 0, end: after - 1 }).pipe(res, { end: false });
  };
  return Object.assign(mw, { open });
}

async function withMiddlewares<T>(mws: Middleware[], fn: () => Promise<T>): Promise<T> {
  for (const mw of mws) ctx.server.use(mw);
  try {
    return await fn();
  } finally {
    for (const mw of mws) ctx.server.remove(mw);
  }
}

/** What is wrong with a load: an error, or a model ORT received that is not the served file. */
function badLoad(r: HashedLoad, want: { size: number; hash: string }): string | undefined {
  if (r.error) return `the load failed: ${r.error.name}: ${r.error.message.slice(0, 300)}`;
  if (r.models.length !== 1) return `onnxruntime-web received ${r.models.length} models`;
  const got = r.models[0]!;
  if (got.hash !== want.hash) return `onnxruntime-web received ${got.size} bytes with SHA-256 ${got.hash.slice(0, 12)}…, the served file has ${want.size} bytes, ${want.hash.slice(0, 12)}…`;
  if (r.vectors.length !== 2) return `embed gave ${r.vectors.length} vectors`;
  return undefined;
}

const leading = (m: Meta | undefined) => {
  if (!m) return 0;
  const i = m.chunks.findIndex((h) => h === null);
  return i < 0 ? m.chunks.length : i;
};

describe('download faults', () => {
  it('20 downloads cut at random bytes (16 by a server with Range, 4 without), each resumed in the same call: ORT gets the served bytes', async () => {
    chromium = ctx.browser.context.browser()?.version() ?? '';
    const f = tally.fault(10, 'download cut at a random byte, resumed in the call (server resets or closes; 16 with Range, 4 without)', 20);
    const want = file();
    const refetched: number[] = [];
    for (let t = 0; t < 20; t++) {
      const ranges = t % 5 !== 4;
      const how = t % 2 ? 'reset' : 'close';
      const c1 = Math.floor(random() * want.size);
      // one trial in three is cut twice: the resume itself is cut too (the cache resumes twice at most)
      const from = Math.floor(c1 / CHUNK) * CHUNK;
      const c2 = random() < 0.33 ? (ranges ? from + 1 + Math.floor(random() * (want.size - from - 1)) : Math.floor(random() * want.size)) : undefined;
      const cuts = c2 === undefined ? [c1] : [c1, c2];
      await attempt(f, `${how} at ${cuts.join(' then ')} of ${want.size} (${ranges ? 'Range' : 'no Range'})`, async () => {
        await ctx.call(PAGE, 'clear', MODEL);
        seen.length = 0;
        const r = await withMiddlewares([counter, faultyServer(cuts, ranges, how)], () => ctx.call<HashedLoad>(PAGE, 'load', MODEL, CACHE));
        const bad = badLoad(r, want);
        if (bad) return bad;
        const requests = [...seen];
        if (requests[0] !== null) return `the first request had Range ${requests[0]}`;
        if (requests.length !== cuts.length + 1) return `${requests.length} requests for the file (${JSON.stringify(requests)}), expected ${cuts.length + 1}`;
        if (ranges) {
          // Each resume asks from a chunk boundary: the first chunk that had not fully reached the
          // page. Bytes the browser had received but not yet handed to the page are dropped with the
          // connection (the body stream errors), so that is at or before the last boundary before the
          // cut, and never behind the previous resume.
          let last = 0;
          for (let i = 0; i < cuts.length; i++) {
            const m = /^bytes=(\d+)-$/.exec(requests[i + 1] ?? '');
            const boundary = Math.floor(cuts[i]! / CHUNK) * CHUNK;
            const at = m ? Number(m[1]) : NaN;
            if (!m || at % CHUNK !== 0 || at < last || at > boundary) return `resume ${i + 1} asked ${requests[i + 1]}; expected bytes=N- with N a multiple of ${CHUNK}, ${last} <= N <= ${boundary}`;
            refetched.push(cuts[i]! - at);
            last = at;
          }
        }
        if (t % 4 === 3) {
          // now and then a warm load: the cache kept the same bytes, and asks nothing
          seen.length = 0;
          const warm = await withMiddlewares([counter], () => ctx.call<HashedLoad>(PAGE, 'load', MODEL, CACHE));
          const badWarm = badLoad(warm, want);
          if (badWarm) return `the warm load after: ${badWarm}`;
          if (seen.length) return `the warm load after asked the server again: ${JSON.stringify(seen)}`;
        }
        return undefined;
      });
    }
    if (refetched.length) f.note(`the ${refetched.length} Range resumes restarted a median ${(refetched.sort((a, b) => a - b)[refetched.length >> 1]! / 1024).toFixed(0)} KiB before the cut (bytes in flight are lost with the connection; whole chunks only are kept)`);
    f.assertNoLoss();
  });

  it('5 tabs closed mid-download, then a normal load in another tab resumes with a Range request: ORT gets the served bytes', async () => {
    const f = tally.fault(20, 'tab closed mid-download, then a normal load in another tab', 5);
    const want = file();
    for (let t = 0; t < 5; t++) {
      const after = 2 * CHUNK + Math.floor(random() * (want.size - 3 * CHUNK));
      await attempt(f, `tab closed after ${after} of ${want.size} bytes`, async () => {
        await ctx.call(PAGE, 'clear', MODEL);
        const stall = stallingServer(after);
        return withMiddlewares([counter, stall], async () => {
          const tab = await ctx.browser.context.newPage();
          try {
            await openPage(tab, ctx.server);
            await callModule(tab, PAGE, 'startLoad', MODEL, FILE, CHUNK);
            await tab.waitForFunction(`window.__progress >= ${after}`, undefined, { timeout: 60_000, polling: 50 });
            // the chunk writes behind the download land (they are not waited for: closing may cut one)
            const whole = Math.floor(after / CHUNK);
            for (let i = 0; i < 40 && leading(await ctx.call<Meta | undefined>(PAGE, 'meta', MODEL, FILE)) < whole - 1; i++) await new Promise((r) => setTimeout(r, 50));
          } finally {
            await tab.close();
            for (const res of stall.open) res.destroy();
          }
          const partial = await ctx.call<Meta | undefined>(PAGE, 'meta', MODEL, FILE);
          if (partial?.complete) return 'the file was marked complete after the tab closed mid-download';
          const stored = leading(partial);
          seen.length = 0;
          const r = await ctx.call<HashedLoad>(PAGE, 'load', MODEL, CACHE);
          const bad = badLoad(r, want);
          if (bad) return bad;
          const expected = partial ? [`bytes=${stored * CHUNK}-`] : [null];
          if (JSON.stringify(seen) !== JSON.stringify(expected)) return `requests ${JSON.stringify(seen)}, expected ${JSON.stringify(expected)} (${stored} chunks were stored)`;
          if (partial && stored === 0) f.note(`tab after ${after} bytes: no chunk stored yet; resumed from 0 with a Range request`);
          return undefined;
        });
      });
    }
    f.assertNoLoss();
  });

  it('10 chunks damaged in IndexedDB (garbage, cut, longer, emptied, deleted): each found, fetched again alone with Range, never given to ORT', async () => {
    const f = tally.fault(30, 'chunk in IndexedDB garbage, truncated, lengthened, emptied or deleted', 10);
    const want = file();
    const chunks = Math.ceil(want.size / CHUNK);
    await ctx.call(PAGE, 'clear', MODEL);
    const first = await ctx.call<HashedLoad>(PAGE, 'load', MODEL, CACHE);
    const setupProblem = badLoad(first, want);
    const kinds: Damage[] = ['garbage', 'truncate', 'longer', 'empty', 'missing'];
    for (let t = 0; t < 10; t++) {
      const index = Math.floor(random() * chunks);
      const how = kinds[t % kinds.length]!;
      await attempt(f, `chunk ${index} ${how}`, async () => {
        if (setupProblem) return `the clean load before: ${setupProblem}`;
        await ctx.call(PAGE, 'damageChunk', MODEL, FILE, index, how, Math.floor(random() * 2 ** 31));
        seen.length = 0;
        // same-length garbage is seen only by the full check (SHA-256 per chunk); the rest by the size check on every read
        const r = await withMiddlewares([counter], () => ctx.call<HashedLoad>(PAGE, 'load', MODEL, how === 'garbage' ? { ...CACHE, verify: 'full' } : CACHE));
        const bad = badLoad(r, want);
        if (bad) return bad;
        const span = `bytes=${index * CHUNK}-${index === chunks - 1 ? '' : (index + 1) * CHUNK - 1}`;
        if (JSON.stringify(seen) !== JSON.stringify([span])) return `requests ${JSON.stringify(seen)}, expected one for the chunk alone: ${span}`;
        return undefined;
      });
    }
    seen.length = 0;
    const warm = await withMiddlewares([counter], () => ctx.call<HashedLoad>(PAGE, 'load', MODEL, { ...CACHE, verify: 'full' }));
    const bad = badLoad(warm, want) ?? (seen.length ? `requests ${JSON.stringify(seen)}` : undefined);
    if (bad) f.note(`the full check after the 10 repairs failed: ${bad}`);
    f.assertNoLoss();
    if (bad) throw new Error(bad);
  });

  it('5 origins out of storage (3 tiny quotas through CDP, 2 filled origins): StorageQuotaError across the worker, embed() answers from memory when allowed', async () => {
    const f = tally.fault(40, 'storage quota exhausted (3 tiny quotas via CDP, 2 filled origins)', 5);
    // A browser of its own: the quota override applies to the origin, in this profile only.
    const own = await launchBrowser();
    try {
      await openPage(own.page, ctx.server);
      const cdp = await own.context.newCDPSession(own.page);
      const call = <R>(name: string, ...args: unknown[]) => callModule<R>(own.page, PAGE, name, ...args);
      const reference = await call<number[][]>('reference', MODEL);
      for (let t = 0; t < 5; t++) {
        const filled = t >= 3;
        const quota = filled ? 24_000_000 : 100_000 + Math.floor(random() * 3_000_000);
        await attempt(f, filled ? `origin filled to its ${quota}-byte quota` : `quota ${quota} bytes`, async () => {
          await cdp.send('Storage.overrideQuotaForOrigin', { origin: ctx.server.origin, quotaSize: quota });
          if (filled) {
            const fill = await call<{ stored: number; refused: boolean }>('fillOrigin', 2 * quota);
            if (!fill.refused) return `the origin took ${fill.stored} bytes of junk without refusing (quota ${quota})`;
          }
          const r = await call<QuotaTrial>('quotaTrial', MODEL, reference);
          if (typeof r.refused === 'string') return `the load with no room: ${r.refused}`;
          if (!r.refused.is.includes('StorageQuotaError')) return `the load with no room threw ${r.refused.name} [${r.refused.is}]: ${r.refused.message}`;
          if (!/onQuotaExceeded: 'memory'/.test(r.refused.message) || !/clearCache|persist/.test(r.refused.message)) return `StorageQuotaError's message does not say what to do: ${r.refused.message}`;
          if (typeof r.memory === 'string') return r.memory;
          if (r.memory !== 0) return `embed() in memory mode differs from a load without the cache by ${r.memory}`;
          if (r.after) return `half a file stayed in the cache: ${JSON.stringify({ complete: r.after.complete, stored: r.after.chunks.filter(Boolean).length })}`;
          if (filled) {
            // room again: the cache works again
            await call('emptyJunk');
            const again = await call<QuotaTrial>('quotaTrial', MODEL, reference);
            if (again.refused !== 'resolved') return `with room again, the load: ${JSON.stringify(again.refused).slice(0, 400)}`;
            if (!again.after?.complete) return 'with room again, the model file was not cached';
            await call('clear', MODEL);
          }
          return undefined;
        });
      }
    } finally {
      await own.close();
    }
    f.assertNoLoss();
  });
});
