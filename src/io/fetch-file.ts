/**
 * The default FetchFile: one file of a model folder over HTTP(S), read as a stream (http.ts) so
 * that a multi-gigabyte weight file reports progress and lands in one buffer (no second copy when
 * the server sends Content-Length).
 */
import { answerError, bodyFacts, discardBody, isHtml, looksLikeWebPage, readBody, send } from './http.ts';
import { localFileResponse } from './local-files.ts';
import type { FetchFile, FileProbe } from './types.ts';

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
    const response = await send(fetchImpl, url, {}, signal);
    if (!response.ok || isHtml(response)) {
      await discardBody(response);
      throw answerError(url, response);
    }
    // the file is there: its bytes start to arrive (transformers.js' 'download', after the answer's status)
    onStage?.({ stage: 'download' });
    // Progress counts against Content-Length even under a content encoding (gzip), where it counts
    // the compressed bytes: approximate, and so never used to preallocate or to detect a cut.
    const length = Number(response.headers.get('content-length'));
    const total = Number.isSafeInteger(length) && length > 0 ? length : undefined;
    onBytes?.(0, total);
    return readBody(url, response, bodyFacts(response).size, signal, (done) => onBytes?.(done, total !== undefined ? Math.max(total, done) : undefined));
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
    if (isHtml(response)) return 'web-page';
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
