/**
 * The --model argument → what createEmbedder / createReranker take (a folder URL or a preset id),
 * and file:// URLs made readable: the library reads model files with fetch(), and Node's fetch
 * has no file: scheme, so while a command runs, fetch() answers file: URLs from the disk (a
 * missing file is a 404, as a server would say) and passes every other URL on.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { findPreset, PRESETS } from '../models/presets.ts';
import { UsageError } from './usage.ts';

/**
 * A local folder path or file:// URL → its file:// URL ending in '/'; an http(s) URL → itself
 * with a trailing '/'; a preset id → itself. Anything else is a UsageError saying what is accepted.
 *
 * @example
 * await resolveModel('test/fixtures/models/glove-sif'); // 'file:///…/test/fixtures/models/glove-sif/'
 */
export async function resolveModel(model: string, cwd = process.cwd()): Promise<string> {
  if (/^https?:\/\//i.test(model)) return model.endsWith('/') ? model : `${model}/`;
  if (findPreset(model)) return model;
  let path: string;
  if (/^file:/i.test(model)) {
    try {
      path = fileURLToPath(model);
    } catch (e) {
      throw new UsageError(`--model ${model} is not a usable file: URL (${(e as Error).message})`);
    }
  } else {
    path = resolve(cwd, model);
  }
  const info = await stat(path).catch(() => undefined);
  if (!info) {
    throw new UsageError(
      `--model ${model}: no such folder, and not a preset id. Give a model folder (a path, or a file:// or http(s):// URL) ` +
        `holding config.json, tokenizer.json and onnx/model.onnx, or a preset: ${Object.keys(PRESETS).join(', ')}`,
    );
  }
  if (!info.isDirectory()) throw new UsageError(`--model ${model} is a file: give the model's folder (the one holding config.json, tokenizer.json and onnx/)`);
  const url = pathToFileURL(path).href;
  return url.endsWith('/') ? url : `${url}/`;
}

/**
 * Runs `fn` with a global fetch() that also reads file: URLs (streamed from disk, with their
 * Content-Length), then puts the original fetch back.
 *
 * @example
 * await withLocalFiles(() => createEmbedder({ model: 'file:///models/e5/', worker: false }));
 */
export async function withLocalFiles<T>(fn: () => Promise<T>): Promise<T> {
  const original = globalThis.fetch;
  const local: typeof fetch = async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (!/^file:/i.test(url)) return original(input, init);
    init?.signal?.throwIfAborted();
    return fileResponse(url);
  };
  globalThis.fetch = local;
  try {
    return await fn();
  } finally {
    if (globalThis.fetch === local) globalThis.fetch = original;
  }
}

async function fileResponse(url: string): Promise<Response> {
  let path: string;
  try {
    path = fileURLToPath(url);
  } catch {
    return new Response('bad file URL', { status: 400, statusText: 'Bad Request' });
  }
  const info = await stat(path).catch(() => undefined);
  if (!info || !info.isFile()) return new Response('not found', { status: 404, statusText: 'Not Found' });
  const body = Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>;
  return new Response(body, { status: 200, headers: { 'content-type': 'application/octet-stream', 'content-length': String(info.size) } });
}
