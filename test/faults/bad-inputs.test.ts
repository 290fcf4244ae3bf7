/**
 * Bad inputs, generated, in Chromium (engine in the library's worker): non-strings, empty and
 * whitespace-only texts, 1 MB texts, lone surrogates and other odd Unicode, NaN / negative / huge
 * dimensions and topK, unknown tasks, presets, devices and dtypes, and model folders whose files
 * 404, are web pages, are cut short or are not ONNX. Every case must end in a typed error whose
 * message names the bad thing, or in the result the README documents; none may hang (20 s), and
 * after each one the same normal embed(), rerank() and search() calls must give the same answers.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { REPO_ROOT, useBrowser, type Middleware } from '../browser/harness/index.ts';
import type { CaseResult } from './pages/bad-inputs.ts';
import { createTally, rng, SEED } from './tally.ts';

const tally = createTally(import.meta.url);
const PAGE = '/test/faults/pages/bad-inputs.ts';
const MODEL_DIR = join(REPO_ROOT, 'test', 'fixtures', 'models', 'tiny-e5');

/** /faulty/<case>/<file>: the tiny-e5 folder with one file broken, as a bad server would serve it. */
const faulty: Middleware = (req, res, next) => {
  const m = /^\/faulty\/([a-z-]+)\/(.*)$/.exec(req.url ?? '');
  if (!m) return next();
  const [, kind, file] = m as unknown as [string, string, string];
  const send = (status: number, type: string, body: Buffer | string) => {
    res.statusCode = status;
    res.setHeader('content-type', type);
    res.end(body);
  };
  const onnx = file.startsWith('onnx/model') && file.endsWith('.onnx');
  if (kind === 'missing') return send(404, 'text/plain', 'not found');
  if (kind === 'html-onnx' && onnx) return send(200, 'text/html', '<!DOCTYPE html><html><body>Sign in to continue</body></html>');
  if (kind === 'error-onnx' && onnx) return send(500, 'text/plain', 'internal server error');
  if (file === 'onnx/model.onnx') {
    const bytes = readFileSync(join(MODEL_DIR, file));
    if (kind === 'truncated-onnx') return send(200, 'application/octet-stream', bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    if (kind === 'garbage-onnx') {
      const r = rng(SEED);
      return send(200, 'application/octet-stream', Buffer.from(Uint8Array.from({ length: 100_000 }, () => Math.floor(r() * 256))));
    }
    if (kind === 'empty-onnx') return send(200, 'application/octet-stream', Buffer.alloc(0));
  }
  if (kind === 'html-config' && file === 'config.json') return send(200, 'text/html; charset=utf-8', '<!doctype html><title>Not here</title>');
  if (kind === 'bad-config' && file === 'config.json') return send(200, 'application/json', '{"model_type": "bert", "hidden_size": ');
  if (kind === 'truncated-tokenizer' && file === 'tokenizer.json') return send(200, 'application/json', readFileSync(join(MODEL_DIR, file)).subarray(0, 50_000));
  req.url = `/test/fixtures/models/tiny-e5/${file}`;
  next();
};

const ctx = useBrowser({ server: { middlewares: [faulty] } });
afterAll(async () => {
  await ctx.call(PAGE, 'teardown').catch(() => undefined);
  tally.write({ seed: SEED });
});

describe('bad inputs', () => {
  it('generated bad inputs to every entry point: a typed error naming the bad thing, or the documented result; no hang; later calls unchanged', async () => {
    await ctx.call(PAGE, 'setup');
    const labels = await ctx.call<string[]>(PAGE, 'listCases', SEED & 0x7fffffff);
    const f = tally.fault(90, 'generated bad inputs: non-strings, empty / 1 MB / odd-Unicode texts, bad dimensions, topK, tasks, options, broken model files', labels.length);
    const outcomes: string[] = [];
    for (let i = 0; i < labels.length; i += 10) {
      const results = await ctx.call<CaseResult[]>(PAGE, 'runCases', i, i + 10);
      for (const r of results) {
        f.check(r.problem ? `${r.label}: ${r.problem}` : undefined);
        outcomes.push(`${r.label} → ${r.outcome}`);
      }
    }
    console.log(`bad inputs and what they gave:\n  ${outcomes.join('\n  ')}`);
    f.assertNoLoss();
  });
});
