/**
 * The default FetchFile: one file of a model folder over HTTP(S), read as a stream so that a
 * multi-gigabyte weight file reports progress and lands in one buffer (no second copy when the
 * server sends Content-Length).
 */
import { ModelFileIsHtmlError, ModelFileNotFoundError, ModelLoadError } from '../errors.ts';
import { looksLikeWebPage } from './file-checks.ts';
import { localFileResponse } from './local-files.ts';
import type { FetchFile, FileProbe } from './types.ts';

const FOLDER_HINT = 'a folder must hold config.json, tokenizer.json, tokenizer_config.json and onnx/model.onnx (or onnx/model_<dtype>.onnx)';

/**
 * Makes a FetchFile over a given `fetch` (by default the global one, and in Node file: URLs read
 * from the disk: a local hub folder or model folder). Rejects with
 * ModelFileNotFoundError on 404, ModelLoadError on other failures, and with the signal's own
 * reason (an AbortError) when the signal aborts.
 *
 * @example
 * const fetchFile = createFetchFile();
 * const bytes = await fetchFile('https://host/model/config.json', { onBytes: (done, total) => console.log(done, total) });
 */
export function createFetchFile(fetchImpl: typeof fetch = defaultFetch): FetchFile {
  const fetchFile: FetchFile = async (url, opts = {}) => {
    const { signal, onBytes, onStage } = opts;
    signal?.throwIfAborted();
    let response: Response;
    try {
      response = await fetchImpl(url, signal ? { signal } : {});
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      throw new ModelLoadError(
        `Could not reach ${url} (${errorText(err)}): check the network connection, the URL, and that the server allows cross-origin requests (CORS) from this page.`,
        url,
        { cause: err },
      );
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => {});
      throw statusError(url, response.status, response.statusText);
    }
    const type = response.headers.get('content-type') ?? '';
    if (/^\s*text\/html/i.test(type)) {
      await response.body?.cancel().catch(() => {});
      throw new ModelFileIsHtmlError(
        `${url} returned a web page (content-type ${type}) instead of the file: the URL points at a page, not at the raw file. On huggingface.co use .../resolve/main/, not .../blob/main/ or .../tree/main/.`,
        url,
      );
    }
    // the file is there: its bytes start to arrive (transformers.js' 'download', after the answer's status)
    onStage?.({ stage: 'download' });
    return readBody(url, response, signal, onBytes);
  };
  fetchFile.probe = (url, opts = {}) => probeFile(fetchImpl, url, opts.signal);
  return fetchFile;
}

/**
 * Whether a file is at `url`, reading 64 bytes at most: a GET for `Range: bytes=0-63` (a server
 * without Range support sends the whole body, of which one chunk is read before cancelling). A
 * web page (text/html, or a body that starts with a tag: single-page-app hosts answer every
 * missing path with their index.html and a 200) is not the file.
 */
export async function probeFile(fetchImpl: typeof fetch, url: string, signal?: AbortSignal): Promise<FileProbe> {
  signal?.throwIfAborted();
  let response: Response;
  try {
    response = await fetchImpl(url, { headers: { Range: 'bytes=0-63' }, cache: 'no-store', ...(signal ? { signal } : {}) });
  } catch {
    signal?.throwIfAborted();
    return 'unknown';
  }
  const reader = response.body?.getReader();
  try {
    if (response.status === 404) return 'missing';
    if (!response.ok) return 'unknown';
    if (/^\s*text\/html/i.test(response.headers.get('content-type') ?? '')) return 'web-page';
    const head = reader ? (await reader.read()).value : new Uint8Array(await response.arrayBuffer());
    return head && looksLikeWebPage(head) ? 'web-page' : 'file';
  } catch {
    return 'unknown';
  } finally {
    await reader?.cancel().catch(() => {});
  }
}

/** The global fetch, except that in Node a file: URL is read from the disk (Node's fetch has no file: scheme). */
function defaultFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  return localFileResponse(url, init?.signal ?? undefined) ?? globalThis.fetch(input, init);
}

/** The FetchFile used when loadModel is given none. */
export const fetchFile: FetchFile = createFetchFile();

/** The typed error for an HTTP error status (404: ModelFileNotFoundError), saying what to do. */
export function statusError(url: string, status: number, statusText: string): ModelLoadError {
  const what = `${url} returned ${status}${statusText ? ` ${statusText}` : ''}`;
  if (status === 404) return new ModelFileNotFoundError(`${what}: check the model folder URL; ${FOLDER_HINT}.`, url);
  if (status === 401 || status === 403)
    return new ModelLoadError(`${what}: the model is private or gated, or the server refuses this origin; host the folder where the page can read it.`, url);
  if (status >= 500) return new ModelLoadError(`${what}: the server failed; try again later or host the model folder elsewhere.`, url);
  return new ModelLoadError(`${what}: check the model folder URL; ${FOLDER_HINT}.`, url);
}

async function readBody(
  url: string,
  response: Response,
  signal: AbortSignal | undefined,
  onBytes: ((done: number, total: number | undefined) => void) | undefined,
): Promise<Uint8Array> {
  const length = Number(response.headers.get('content-length'));
  // With a content encoding (gzip), Content-Length counts compressed bytes: usable for progress
  // only approximately, and never to preallocate or to detect a cut.
  const encoded = !!response.headers.get('content-encoding') && response.headers.get('content-encoding') !== 'identity';
  const total = Number.isSafeInteger(length) && length > 0 ? length : undefined;
  onBytes?.(0, total);

  if (!response.body) {
    const bytes = new Uint8Array(await response.arrayBuffer());
    onBytes?.(bytes.length, total ?? bytes.length);
    return bytes;
  }
  const reader = response.body.getReader();
  let buffer: Uint8Array | undefined = total !== undefined && !encoded ? new Uint8Array(total) : undefined;
  const chunks: Uint8Array[] = [];
  let done = 0;
  try {
    for (;;) {
      const { value, done: end } = await reader.read();
      if (end) break;
      if (buffer && done + value.length > buffer.length) {
        // The server sent more than it announced: fall back to collecting chunks.
        chunks.push(buffer.subarray(0, done));
        buffer = undefined;
      }
      if (buffer) buffer.set(value, done);
      else chunks.push(value);
      done += value.length;
      onBytes?.(done, total !== undefined ? Math.max(total, done) : undefined);
    }
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    throw new ModelLoadError(`The download of ${url} failed after ${done} bytes (${errorText(err)}): check the network connection and try again.`, url, {
      cause: err,
    });
  } finally {
    reader.releaseLock();
  }
  if (total !== undefined && !encoded && done < total) {
    throw new ModelLoadError(`The download of ${url} was cut short: got ${done} of ${total} bytes. Try again.`, url);
  }
  if (buffer) return done === buffer.length ? buffer : buffer.subarray(0, done);
  return concat(chunks, done);
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

export function errorText(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return `${err.message}${cause}`;
  }
  return String(err);
}
