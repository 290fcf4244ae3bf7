/**
 * A folder without the file of the dtype asked for names the dtypes it does have: the other
 * dtypes' files are probed (64 bytes at most, over HTTP with Range), never downloaded, and only on
 * that error path; a web page where a file should be (a single-page-app host's index.html, with or
 * without a text/html type) is not a file. The weight cache answers probes from what it remembers.
 * Truncated or foreign ONNX files of any dtype stay typed errors that name the file.
 */
import 'fake-indexeddb/auto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createStore } from 'idb-keyval';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCachedFetchFile } from '../../src/cache/cached-fetch-file.ts';
import { DtypeNotFoundError, ModelLoadError } from '../../src/errors.ts';
import { createEmbedder } from '../../src/index.ts';
import { probeFile } from '../../src/io/fetch-file.ts';
import { loadModel } from '../../src/models/folder.ts';
import { DTYPES, onnxFileFor } from '../../src/models/onnx-files.ts';
import { MODELS } from './helpers/model-folders.ts';
import { startRangeServer, type RangeServer } from './helpers/range-server.ts';

const ONNX = new Uint8Array(readFileSync(join(MODELS, 'tiny-e5', 'onnx', 'model.onnx')));
const SPA_PAGE = '<!doctype html><html><head><title>My app</title></head><body><div id="app"></div></body></html>';

let server: RangeServer;
beforeAll(async () => {
  server = await startRangeServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.files.clear();
  server.log.length = 0;
  server.ranges = true;
});

const base = () => server.url('/models/tiny-e5/');
const fileOf = (dtype: (typeof DTYPES)[number]) => `/models/tiny-e5/${onnxFileFor(dtype)}`;
const onnxRequests = () => server.log.filter((r) => r.path.startsWith('/models/tiny-e5/onnx/'));

async function loadError(options: Parameters<typeof loadModel>[1]): Promise<unknown> {
  return loadModel(base(), options).then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe('a missing dtype file lists the dtypes the folder has', () => {
  it("asked for 'q4' in a folder with fp32 and q8: a DtypeNotFoundError naming both, their files, and what to pass", async () => {
    server.files.set(fileOf('q8'), { body: ONNX });
    const err = await loadError({ dtype: 'q4' });
    expect(err).toBeInstanceOf(DtypeNotFoundError);
    const e = err as DtypeNotFoundError;
    expect(e.url).toBe(base() + 'onnx/model_q4.onnx');
    expect(e.available).toEqual(['fp32', 'q8']);
    expect(e.message).toBe(
      `The model folder ${base()} has no onnx/model_q4.onnx (dtype 'q4'); it has 'fp32', 'q8' (onnx/model.onnx, onnx/model_quantized.onnx): pass one of those as dtype.`,
    );
  });

  it('each other dtype is probed once with Range: bytes=0-63, and no probe receives more than 64 bytes', async () => {
    await loadError({ dtype: 'bnb4' });
    const probes = onnxRequests().filter((r) => r.range === 'bytes=0-63');
    expect(probes.map((r) => r.path).sort()).toEqual(DTYPES.filter((d) => d !== 'bnb4').map(fileOf).sort());
    for (const r of probes) expect(r.sent, r.path).toBeLessThanOrEqual(64);
  });

  it('a server that ignores Range: the file is still found, from the first chunk of its body, and the rest is never read', async () => {
    server.ranges = false;
    const big = new Uint8Array(8 << 20);
    big.set(ONNX);
    server.files.set(fileOf('fp16'), { body: big });
    const err = (await loadError({ dtype: 'q4' })) as DtypeNotFoundError;
    expect(err.available).toEqual(['fp32', 'fp16']);
    expect(onnxRequests().filter((r) => r.path === fileOf('fp16'))).toHaveLength(1);

    // what the probe reads of such a body: its first chunk, then it cancels the stream
    let pulled = 0;
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      pull: (c) => void (pulled++, c.enqueue(ONNX.subarray(0, 4096))),
      cancel: () => void (cancelled = true),
    }, { highWaterMark: 0 });
    const fetchImpl = (async () => new Response(body, { status: 200, headers: { 'content-type': 'application/octet-stream' } })) as typeof fetch;
    expect(await probeFile(fetchImpl, base() + 'onnx/model_fp16.onnx')).toBe('file');
    expect(pulled).toBe(1);
    expect(cancelled).toBe(true);
  });

  it('a single-page-app host (text/html index page for every missing path): the asked file counts as missing, and so do the other pages', async () => {
    for (const d of DTYPES) if (d !== 'fp32') server.files.set(fileOf(d), { body: new TextEncoder().encode(SPA_PAGE), type: 'text/html; charset=utf-8' });
    const err = (await loadError({ dtype: 'q4f16' })) as DtypeNotFoundError;
    expect(err).toBeInstanceOf(DtypeNotFoundError);
    expect(err.available).toEqual(['fp32']);
  });

  it('the same host sending its index page as binary: the asked file is named as a web page, not as ONNX', async () => {
    for (const d of DTYPES) if (d !== 'fp32') server.files.set(fileOf(d), { body: new TextEncoder().encode(SPA_PAGE), type: 'application/octet-stream' });
    const err = (await loadError({ dtype: 'q4f16' })) as ModelLoadError;
    expect(err).toBeInstanceOf(ModelLoadError);
    expect(err.url).toBe(base() + 'onnx/model_q4f16.onnx');
    expect(err.message).toMatch(/model_q4f16\.onnx is not an ONNX model: it starts with '<!doctype' — the server returned a web page/);
  });

  it('probes of the other dtypes on a single-page-app host do not count its index pages', async () => {
    for (const d of DTYPES) if (d !== 'fp32' && d !== 'q4') server.files.set(fileOf(d), { body: new TextEncoder().encode(SPA_PAGE), type: 'application/octet-stream' });
    server.files.set('/models/tiny-e5/onnx/model_fp16.onnx', { body: new TextEncoder().encode(SPA_PAGE), type: 'text/html' });
    const err = (await loadError({ dtype: 'q4' })) as DtypeNotFoundError;
    expect(err).toBeInstanceOf(DtypeNotFoundError);
    expect(err.available).toEqual(['fp32']);
  });

  it('a folder with no other ONNX file says so and what a folder holds', async () => {
    server.files.set(fileOf('fp32'), { body: new Uint8Array(), status: 404 });
    const err = (await loadError({ dtype: 'q8' })) as DtypeNotFoundError;
    expect(err).toBeInstanceOf(DtypeNotFoundError);
    expect(err.available).toEqual([]);
    expect(err.message).toMatch(/has no onnx\/model_quantized\.onnx \(dtype 'q8'\); nor any other onnx\/model\*\.onnx: check the URL; a model folder holds config\.json/);
  });

  it("with no dtype asked, a folder holding only a dtype not tried by default (int8) names it", async () => {
    server.files.set(fileOf('fp32'), { body: new Uint8Array(), status: 404 });
    server.files.set(fileOf('int8'), { body: ONNX });
    const err = (await loadError({})) as DtypeNotFoundError;
    expect(err).toBeInstanceOf(DtypeNotFoundError);
    expect(err.available).toEqual(['int8']);
    expect(err.message).toMatch(/it has 'int8' \(onnx\/model_int8\.onnx\): pass one of those as dtype/);
  });

  it('a load that finds its file makes no probe', async () => {
    server.files.set(fileOf('q8'), { body: ONNX });
    await loadModel(base(), { dtype: 'q8' });
    expect(onnxRequests().map((r) => r.path)).toEqual([fileOf('q8')]);
    expect(server.log.some((r) => r.range)).toBe(false);
  });
});

describe('the weight cache answers probes from what it remembers', () => {
  it('a stored file and a remembered 404 need no request; anything else asks the server without storing', async () => {
    const store = createStore('folder-dtypes-probe', 'weights');
    const fetchFile = createCachedFetchFile({ store, storage: null });
    server.files.set(fileOf('q8'), { body: ONNX });
    await fetchFile(base() + onnxFileFor('fp32'));
    await fetchFile(base() + onnxFileFor('q4')).catch(() => undefined); // a 404, remembered
    server.log.length = 0;

    expect(await fetchFile.probe!(base() + onnxFileFor('fp32'))).toBe('file');
    expect(await fetchFile.probe!(base() + onnxFileFor('q4'))).toBe('missing');
    expect(server.log).toEqual([]);
    expect(await fetchFile.probe!(base() + onnxFileFor('q8'))).toBe('file');
    expect(await fetchFile.probe!(base() + onnxFileFor('bnb4'))).toBe('missing');
    expect(server.log.map((r) => r.range)).toEqual(['bytes=0-63', 'bytes=0-63']);

    const err = (await loadModel(base(), { dtype: 'q4', fetchFile }).catch((e: unknown) => e)) as DtypeNotFoundError;
    expect(err.available).toEqual(['fp32', 'q8']);
  });
});

describe('a truncated or foreign ONNX file of any dtype is a typed error naming the file', () => {
  it('model_q4.onnx that is not ONNX (a JSON error body)', async () => {
    server.files.set(fileOf('q4'), { body: new TextEncoder().encode('{"error":"Entry not found"}') });
    const err = (await loadError({ dtype: 'q4' })) as ModelLoadError;
    expect(err).toBeInstanceOf(ModelLoadError);
    expect(err.url).toBe(base() + 'onnx/model_q4.onnx');
    expect(err.message).toMatch(/model_q4\.onnx is not an ONNX model: it starts with '\{"error"/);
  });

  it('model_q4.onnx whose download is cut short', async () => {
    server.files.set(fileOf('q4'), { body: ONNX });
    server.cut(fileOf('q4'), 1000);
    const err = (await loadError({ dtype: 'q4' })) as ModelLoadError;
    expect(err).toBeInstanceOf(ModelLoadError);
    expect(err.url).toBe(base() + 'onnx/model_q4.onnx');
    expect(err.message).toMatch(/model_q4\.onnx (was cut short|failed after)/);
  });

  it('model_q4.onnx served whole but truncated (a valid start, half the bytes): onnxruntime refuses it, and the error names the file', async () => {
    server.files.set(fileOf('q4'), { body: ONNX.subarray(0, ONNX.length >> 1) });
    const err = (await createEmbedder({ model: base(), dtype: 'q4', worker: false }).catch((e: unknown) => e)) as ModelLoadError;
    expect(err).toBeInstanceOf(ModelLoadError);
    expect(err.url).toBe(base() + 'onnx/model_q4.onnx');
    expect(err.message).toMatch(/could not load .*model_q4\.onnx on wasm: .*Check that the file is a complete ONNX export/);
  });
});
