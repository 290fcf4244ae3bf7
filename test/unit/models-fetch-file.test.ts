/**
 * The default FetchFile against a real HTTP server on 127.0.0.1: a whole model folder loads over
 * it with progress events that add up to the files' sizes; a 404, a web page, a cut download, a
 * refused connection and an abort each fail with a typed error that names the URL and says what
 * to do.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelFileIsHtmlError, ModelFileNotFoundError, ModelLoadError } from '../../src/errors.ts';
import { createFetchFile, fetchFile } from '../../src/io/fetch-file.ts';
import { loadModel, type LoadProgress } from '../../src/models/folder.ts';
import { MODELS, startServer, type TestServer } from './helpers/model-folders.ts';

const RANDOM = new Uint8Array([0x42, 0x13, 0x37, 0x00, 0xff, 0x10, 0x20, 0x30]);
const PAGE = '<!DOCTYPE html><html><head><title>Model</title></head><body>model card</body></html>';

let server: TestServer;

beforeAll(async () => {
  server = await startServer({
    '/page.json': { type: 'text/html; charset=utf-8', body: PAGE },
    '/gone.bin': { status: 404, type: 'text/plain', body: 'Entry not found' },
    '/private.bin': { status: 403, type: 'text/plain', body: 'Forbidden' },
    '/broken.bin': { status: 503, type: 'text/plain', body: 'busy' },
    '/cut.bin': { claimLength: 100_000, body: new Uint8Array(1000) },
    '/bytes.bin': { body: RANDOM },
    // A folder whose weights are not an ONNX model, served as application/octet-stream.
    '/tiny-e5-random/onnx/model.onnx': { body: RANDOM },
    '/tiny-e5-empty/onnx/model.onnx': { body: new Uint8Array() },
    '/tiny-e5-page/onnx/model.onnx': { body: PAGE },
    '/tiny-e5-html/config.json': { type: 'text/html', body: PAGE },
    // A single-page-app host (Vite's dev server among them) answers a missing path with its index.html.
    '/tiny-e5-spa/modules.json': { type: 'text/html', body: PAGE },
    '/tiny-e5-spa/sentence_bert_config.json': { type: 'text/html', body: PAGE },
    '/tiny-e5-spa/onnx/model.onnx_data': { type: 'text/html', body: PAGE },
  });
});

afterAll(async () => {
  await server.close();
});

/** A route prefix like /tiny-e5-random/ that serves tiny-e5's files except the replaced ones. */
function variant(name: string): string {
  return server.folder(name);
}

/** Each file's events (all but the aggregate), in the order sent. */
function fileSequences(events: LoadProgress[]): Map<string, Exclude<LoadProgress, { status: 'progress_total' }>[]> {
  const map = new Map<string, Exclude<LoadProgress, { status: 'progress_total' }>[]>();
  for (const e of events) if (e.status !== 'progress_total') map.set(e.file, [...(map.get(e.file) ?? []), e]);
  return map;
}

describe('a model folder over HTTP', () => {
  it("loads with transformers.js' progress events: per file initiate → download → progress… → done, progress_total before each progress once the weights start, never backwards", async () => {
    const events: LoadProgress[] = [];
    const folder = server.folder('tiny-e5');
    const model = await loadModel(folder, { onProgress: (e) => events.push(e) });
    expect(model.spec.pooling).toBe('mean');

    const FILES = ['1_Pooling/config.json', 'config.json', 'config_sentence_transformers.json', 'modules.json', 'onnx/model.onnx', 'sentence_bert_config.json', 'tokenizer.json', 'tokenizer_config.json'];
    expect(events.every((e) => e.name === folder)).toBe(true);
    const perFile = fileSequences(events);
    expect([...perFile.keys()].sort()).toEqual([...FILES].sort());
    let sum = 0;
    for (const file of FILES) {
      const size = statSync(join(MODELS, 'tiny-e5', file)).size;
      sum += size;
      const seq = perFile.get(file)!;
      expect(seq.map((e) => e.status).filter((s, i, a) => s !== a[i - 1]), file).toEqual(['initiate', 'download', 'progress', 'done']);
      const progress = seq.filter((e) => e.status === 'progress');
      expect(progress.at(-1), file).toEqual({ status: 'progress', name: folder, file, progress: 100, loaded: size, total: size });
      for (let i = 1; i < progress.length; i++) expect(progress[i]!.loaded).toBeGreaterThanOrEqual(progress[i - 1]!.loaded);
      expect(seq.at(-1)).toEqual({ status: 'done', name: folder, file });
    }

    // the aggregate: from the weights on, right before each file event; one total, loaded only grows, ends at 100 %
    const totals = events.filter((e) => e.status === 'progress_total');
    expect(totals.length).toBeGreaterThan(0);
    events.forEach((e, i) => e.status === 'progress_total' && expect(events[i + 1]?.status).toBe('progress'));
    expect(new Set(totals.map((e) => e.total))).toEqual(new Set([sum]));
    for (let i = 1; i < totals.length; i++) expect(totals[i]!.loaded).toBeGreaterThanOrEqual(totals[i - 1]!.loaded);
    expect(totals.at(-1)).toMatchObject({ status: 'progress_total', name: folder, progress: 100, loaded: sum, total: sum });
    expect(Object.keys(totals.at(-1)!.files).sort()).toEqual([...FILES].sort());
    // before the weights start, the size of all files is not known: no aggregate yet
    const firstWeights = events.findIndex((e) => e.status === 'initiate' && e.file === 'onnx/model.onnx');
    expect(events.slice(0, firstWeights).some((e) => e.status === 'progress_total')).toBe(false);
    // The graph names no external data, so none was asked for (no probing).
    expect(server.requests.some((r) => r.endsWith('_data'))).toBe(false);
  });

  it("a file the folder does not have gets its 'done' (missing: true) after 'initiate', with no bytes, and stays out of the totals", async () => {
    const events: LoadProgress[] = [];
    const folder = server.folder('tiny-e5');
    // q8 first: tiny-e5 has no onnx/model_quantized.onnx, so it is tried and found missing, then fp32 loads
    const { spec } = await loadModel(folder, { dtypeOrder: ['q8', 'fp32'], onProgress: (e) => events.push(e) });
    expect(spec.dtype).toBe('fp32');
    expect(fileSequences(events).get('onnx/model_quantized.onnx')).toEqual([
      { status: 'initiate', name: folder, file: 'onnx/model_quantized.onnx' },
      { status: 'done', name: folder, file: 'onnx/model_quantized.onnx', missing: true },
    ]);
    const last = events.filter((e) => e.status === 'progress_total').at(-1)!;
    expect(Object.keys(last.files)).not.toContain('onnx/model_quantized.onnx');
    expect(last).toMatchObject({ progress: 100, loaded: last.total });
  });

  it("a server that sends no Content-Length: a file's total is its bytes so far (as transformers.js says it), and the aggregate waits for its size", async () => {
    const events: LoadProgress[] = [];
    const folder = server.folder('tiny-e5');
    const noLength: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (!String(input).endsWith('onnx/model.onnx')) return res;
      const headers = new Headers(res.headers);
      headers.delete('content-length');
      return new Response(res.body, { status: res.status, headers });
    };
    await loadModel(folder, { fetchFile: createFetchFile(noLength), onProgress: (e) => events.push(e) });
    const onnx = fileSequences(events).get('onnx/model.onnx')!.filter((e) => e.status === 'progress');
    for (const e of onnx) expect(e).toMatchObject({ total: e.loaded, progress: 100 });
    // progress_total only once the ONNX file's size is known, i.e. when it is done
    const done = events.findIndex((e) => e.status === 'done' && e.file === 'onnx/model.onnx');
    // one aggregate: with the file's final size, just before its last 'progress' and its 'done'
    expect(events.flatMap((e, i) => (e.status === 'progress_total' ? [i] : []))).toEqual([done - 2]);
  });

  it('a folder URL that 404s everywhere names config.json and what a folder holds', async () => {
    const err = await loadModel(server.folder('no-such-model')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFileNotFoundError);
    expect((err as Error).message).toMatch(/has no config\.json .*config\.json, tokenizer\.json, tokenizer_config\.json and onnx\/model\.onnx/);
  });

  it("loads from a single-page-app host that answers missing optional files with its index page", async () => {
    const spa = 'tiny-e5-spa';
    const { spec } = await loadModel(server.folder(spa), {
      fetchFile: (url, opts) => fetchFile(url.includes(`/${spa}/`) && !/modules\.json|sentence_bert_config|_data$/.test(url) ? url.replace(`/${spa}/`, '/tiny-e5/') : url, opts),
    });
    expect(spec).toMatchObject({ pooling: 'mean', normalize: true, dimensions: 32 });
  });

  it('a page served as text/html instead of config.json is refused by its content type', async () => {
    const base = server.folder('tiny-e5');
    const err = await loadModel(base, {
      fetchFile: (url, opts) => fetchFile(url.endsWith('/config.json') && !url.includes('1_Pooling') ? variant('tiny-e5-html') + 'config.json' : url, opts),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelLoadError);
    expect((err as Error).message).toMatch(/returned a web page \(content-type text\/html\).*\/resolve\/main\//);
  });
});

describe('fetchFile', () => {
  const url = (path: string) => server.folder('x').replace('/x/', path);

  it('reads the bytes and reports them as they come', async () => {
    const seen: [number, number | undefined][] = [];
    const bytes = await fetchFile(server.folder('tiny-e5') + 'tokenizer.json', { onBytes: (d, t) => seen.push([d, t]) });
    const disk = readFileSync(join(MODELS, 'tiny-e5', 'tokenizer.json'));
    expect(Buffer.from(bytes).equals(disk)).toBe(true);
    expect(seen[0]).toEqual([0, disk.length]);
    expect(seen.at(-1)).toEqual([disk.length, disk.length]);
  });

  it('404 → ModelFileNotFoundError with the URL and what a folder must hold', async () => {
    const err = await fetchFile(url('/gone.bin')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFileNotFoundError);
    expect((err as ModelLoadError).url).toBe(url('/gone.bin'));
    expect((err as Error).message).toMatch(/returned 404 Not Found: check the model folder URL; a folder must hold config\.json, tokenizer\.json/);
  });

  it('403 and 503 → ModelLoadError saying what to do', async () => {
    await expect(fetchFile(url('/private.bin'))).rejects.toThrow(/returned 403 Forbidden: the model is private or gated/);
    const err = await fetchFile(url('/broken.bin')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelLoadError);
    expect(err).not.toBeInstanceOf(ModelFileNotFoundError);
    expect((err as Error).message).toMatch(/returned 503.*try again later/);
  });

  it('text/html → ModelLoadError pointing at /resolve/', async () => {
    await expect(fetchFile(url('/page.json'))).rejects.toThrow(/returned a web page .*use \.\.\.\/resolve\/main\//);
  });

  it('a connection cut before Content-Length → ModelLoadError saying how far it got', async () => {
    const err = await fetchFile(url('/cut.bin')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelLoadError);
    expect((err as Error).message).toMatch(/cut\.bin (failed after|was cut short)/);
  });

  it('an unreachable server → ModelLoadError naming the URL and CORS', async () => {
    const closed = await startServer();
    const dead = closed.folder('model') + 'config.json';
    await closed.close();
    const err = await fetchFile(dead).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelLoadError);
    expect((err as ModelLoadError).url).toBe(dead);
    expect((err as Error).message).toMatch(/Could not reach .*CORS/);
  });

  it('an abort rejects with the signal reason, not a ModelLoadError', async () => {
    const reason = new DOMException('user left', 'AbortError');
    await expect(fetchFile(url('/bytes.bin'), { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    const controller = new AbortController();
    const pending = fetchFile(server.folder('tiny-e5') + 'onnx/model.onnx', {
      signal: controller.signal,
      onBytes: (done) => {
        if (done > 0) controller.abort(reason);
      },
    });
    await expect(pending).rejects.toBe(reason);
  });

  it('a body that ends early without an error → ModelLoadError: cut short', async () => {
    const short = createFetchFile(async () => new Response(new Uint8Array(10), { headers: { 'content-length': '50' } }));
    await expect(short('https://example.test/m.onnx')).rejects.toThrow(/https:\/\/example\.test\/m\.onnx was cut short: got 10 of 50 bytes/);
  });

  it('uses the fetch it is given', async () => {
    const calls: string[] = [];
    const custom = createFetchFile(async (input) => {
      calls.push(String(input));
      return new Response(new Uint8Array([8, 1]), { headers: { 'content-length': '2' } });
    });
    expect(Array.from(await custom('https://example.test/a.onnx'))).toEqual([8, 1]);
    expect(calls).toEqual(['https://example.test/a.onnx']);
  });
});
