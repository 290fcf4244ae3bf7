/**
 * HTTP for model files, written once for the plain FetchFile (fetch-file.ts) and the weight cache
 * (src/cache): one request and its "could not reach" error; what an answer says (an error status,
 * a web page where the file should be, the body's size, validators, Range support); and the one
 * body reader, whole or into a place in a file's one buffer.
 */
import { ModelFileIsHtmlError, ModelFileNotFoundError, ModelLoadError } from '../errors.ts';

const FOLDER_HINT = 'a folder must hold config.json, tokenizer.json, tokenizer_config.json and onnx/model.onnx (or onnx/model_<dtype>.onnx)';

export interface BodyFacts {
  /** the body's length in bytes, when the server says it and no content encoding changes it */
  size: number | undefined;
  etag?: string;
  lastModified?: string;
  /** Accept-Ranges: bytes */
  ranges: boolean;
}

/** One request; a failure to reach the server is a ModelLoadError, an abort the signal's reason. */
export async function send(fetchImpl: typeof fetch, url: string, init: { headers?: Record<string, string>; cache?: RequestCache }, signal: AbortSignal | undefined): Promise<Response> {
  signal?.throwIfAborted();
  try {
    return await fetchImpl(url, { ...init, ...(signal ? { signal } : {}) });
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    throw new ModelLoadError(
      `Could not reach ${url} (${errorText(err)}): check the network connection, the URL, and that the server allows cross-origin requests (CORS) from this page.`,
      url,
      { cause: err },
    );
  }
}

export function isHtml(res: Response): boolean {
  return /^\s*text\/html/i.test(res.headers.get('content-type') ?? '');
}

/** A web page's (or an XML error's) first bytes, after white space, are a tag; no model file starts so. */
export function looksLikeWebPage(head: Uint8Array): boolean {
  return new TextDecoder('utf-8', { fatal: false }).decode(head.subarray(0, 64)).trimStart().startsWith('<');
}

/** The typed error for an answer that is not the file (an HTTP error, or a web page). */
export function answerError(url: string, res: Response): ModelLoadError {
  if (res.ok && isHtml(res)) {
    return new ModelFileIsHtmlError(
      `${url} returned a web page (content-type ${res.headers.get('content-type')}) instead of the file: the URL points at a page, not at the raw file. On huggingface.co use .../resolve/main/, not .../blob/main/ or .../tree/main/.`,
      url,
    );
  }
  return statusError(url, res.status, res.statusText);
}

/** The typed error for an HTTP error status (404: ModelFileNotFoundError), saying what to do. */
function statusError(url: string, status: number, statusText: string): ModelLoadError {
  const what = `${url} returned ${status}${statusText ? ` ${statusText}` : ''}`;
  if (status === 404) return new ModelFileNotFoundError(`${what}: check the model folder URL; ${FOLDER_HINT}.`, url);
  if (status === 401 || status === 403)
    return new ModelLoadError(`${what}: the model is private or gated, or the server refuses this origin; host the folder where the page can read it.`, url);
  if (status >= 500) return new ModelLoadError(`${what}: the server failed; try again later or host the model folder elsewhere.`, url);
  return new ModelLoadError(`${what}: check the model folder URL; ${FOLDER_HINT}.`, url);
}

export function bodyFacts(res: Response): BodyFacts {
  const encoding = res.headers.get('content-encoding');
  const length = Number(res.headers.get('content-length') ?? NaN);
  const etag = res.headers.get('etag') ?? undefined;
  const lastModified = res.headers.get('last-modified') ?? undefined;
  return {
    // With a content encoding (gzip), Content-Length counts the compressed bytes, and ranges would too.
    size: (!encoding || encoding === 'identity') && Number.isSafeInteger(length) && length >= 0 ? length : undefined,
    ...(etag ? { etag } : {}),
    ...(lastModified ? { lastModified } : {}),
    ranges: /\bbytes\b/i.test(res.headers.get('accept-ranges') ?? '') && (!encoding || encoding === 'identity'),
  };
}

/** Content-Range: bytes start-end/total (a 206's). */
export function contentRange(res: Response): { start: number; end: number; total: number | undefined } | undefined {
  const m = /^\s*bytes\s+(\d+)-(\d+)\/(\d+|\*)\s*$/i.exec(res.headers.get('content-range') ?? '');
  if (!m) return undefined;
  return { start: Number(m[1]), end: Number(m[2]), total: m[3] === '*' ? undefined : Number(m[3]) };
}

/**
 * If-Range for a resume: a strong ETag, else Last-Modified (a weak ETag is not allowed there).
 * The server then answers 206 only when the file is still the one the stored chunks came from.
 */
export function ifRange(v: { etag?: string | undefined; lastModified?: string | undefined }): Record<string, string> {
  if (v.etag && !v.etag.startsWith('W/')) return { 'If-Range': v.etag };
  if (v.lastModified) return { 'If-Range': v.lastModified };
  return {};
}

/** If-None-Match (or If-Modified-Since) for a revalidation; empty when there is no validator. */
export function conditional(v: { etag?: string | undefined; lastModified?: string | undefined }): Record<string, string> {
  if (v.etag) return { 'If-None-Match': v.etag };
  if (v.lastModified) return { 'If-Modified-Since': v.lastModified };
  return {};
}

export async function discardBody(res: Response): Promise<void> {
  await res.body?.cancel().catch(() => {});
}

const cuts = new WeakSet<Error>();

/**
 * A body that ended before its announced length, or whose connection broke: the bytes so far are
 * good, the rest may come with a Range request. A plain ModelLoadError to the caller (a class of
 * its own would not keep its identity across the worker boundary), marked for the cache's resume logic.
 */
function cutError(message: string, url: string, cause?: unknown): ModelLoadError {
  const err = new ModelLoadError(message, url, cause === undefined ? undefined : { cause });
  cuts.add(err);
  return err;
}

export function isDownloadCut(err: unknown): boolean {
  return err instanceof Error && cuts.has(err);
}

/**
 * The one body reader: each piece of the body to `onPiece`, awaited (a slow consumer holds the
 * download back). A connection that breaks is a cut error (isDownloadCut) naming the position
 * reached (`at`, plus the bytes read), an abort the signal's reason; an error of `onPiece` passes as it is.
 */
async function eachPiece(url: string, res: Response, signal: AbortSignal | undefined, at: number, onPiece: (piece: Uint8Array) => void | Promise<void>): Promise<void> {
  if (!res.body) return onPiece(new Uint8Array(await res.arrayBuffer()));
  const reader = res.body.getReader();
  try {
    for (;;) {
      let piece: ReadableStreamReadResult<Uint8Array>;
      try {
        piece = await reader.read();
      } catch (err) {
        if (signal?.aborted) throw signal.reason;
        throw cutError(`The download of ${url} failed after ${at} bytes (${errorText(err)}): check the network connection and try again.`, url, err);
      }
      if (piece.done) return;
      await onPiece(piece.value);
      at += piece.value.length;
    }
  } catch (err) {
    await reader.cancel().catch(() => {});
    throw err;
  } finally {
    reader.releaseLock();
  }
}

/**
 * A whole body. With its `size` known (bodyFacts) it lands in one buffer of that size, no second
 * copy (a server that sends more than it announced falls back to joining the pieces), and a body
 * that ends short is a cut error; without, the pieces are joined. `onData(received)` after each piece.
 */
export async function readBody(url: string, res: Response, size: number | undefined, signal: AbortSignal | undefined, onData?: (received: number) => void): Promise<Uint8Array> {
  let buffer = size !== undefined ? new Uint8Array(size) : undefined;
  const pieces: Uint8Array[] = [];
  let received = 0;
  await eachPiece(url, res, signal, 0, (piece) => {
    if (buffer && received + piece.length > buffer.length) {
      pieces.push(buffer.subarray(0, received));
      buffer = undefined;
    }
    if (buffer) buffer.set(piece, received);
    else pieces.push(piece);
    received += piece.length;
    onData?.(received);
  });
  if (size !== undefined && received < size) throw cutError(cutShort(url, received, size), url);
  return buffer ?? join(pieces, received);
}

/**
 * Reads a body into buffer[from, end): `onData(position, received)` after each piece (it may return
 * a promise: reading waits for it, which is how the chunk writer holds the download back). Throws
 * a cut error (isDownloadCut) when the body breaks or ends early, ModelLoadError when it runs past `end`.
 */
export async function streamInto(
  url: string,
  res: Response,
  buffer: Uint8Array,
  from: number,
  end: number,
  signal: AbortSignal | undefined,
  onData: (position: number, received: number) => void | Promise<void>,
): Promise<void> {
  let at = from;
  await eachPiece(url, res, signal, from, async (piece) => {
    if (at + piece.length > end) throw tooLong(url, end);
    buffer.set(piece, at);
    at += piece.length;
    await onData(at, piece.length);
  });
  if (at < end) throw cutError(cutShort(url, at, end), url);
}

function cutShort(url: string, got: number, of: number): string {
  return `The download of ${url} was cut short: got ${got} of ${of} bytes. Try again.`;
}

function join(pieces: Uint8Array[], size: number): Uint8Array {
  if (pieces.length === 1) return pieces[0]!;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function tooLong(url: string, end: number): ModelLoadError {
  return new ModelLoadError(`${url} sent more bytes than it announced (${end}): the server's Content-Length or Content-Range is wrong; try again, or host the file elsewhere.`, url);
}

/** An error's message, with its cause's, for "could not reach … (why)". */
function errorText(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return `${err.message}${cause}`;
  }
  return String(err);
}
