/**
 * The network side of the cache: requests (plain, ranged, conditional), what a response says
 * about its body (size, validators, Range support), and reading a body as a stream into a place
 * in the file's one buffer. The browser's HTTP cache is bypassed (cache: 'no-store'): the bytes
 * are kept in IndexedDB, a second copy in the HTTP cache would only take room.
 */
import { ModelFileIsHtmlError, ModelLoadError } from '../errors.ts';
import { errorText, statusError } from '../models/fetch-file.ts';

export interface BodyFacts {
  /** the body's length in bytes, when the server says it and no content encoding changes it */
  size: number | undefined;
  etag?: string;
  lastModified?: string;
  /** Accept-Ranges: bytes */
  ranges: boolean;
}

/** One request; a failure to reach the server is a ModelLoadError, an abort the signal's reason. */
export async function send(fetchImpl: typeof fetch, url: string, headers: Record<string, string>, signal: AbortSignal | undefined): Promise<Response> {
  signal?.throwIfAborted();
  try {
    return await fetchImpl(url, { headers, cache: 'no-store', ...(signal ? { signal } : {}) });
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
 * its own would not keep its identity across the worker boundary), marked for the resume logic.
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
 * Reads a body into buffer[from, end): `onData(position)` after each piece (it may return a
 * promise: reading waits for it, which is how the chunk writer holds the download back). Throws
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
  if (!res.body) {
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (from + bytes.length > end) throw tooLong(url, end);
    buffer.set(bytes, from);
    at += bytes.length;
    await onData(at, bytes.length);
  } else {
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
        if (piece.done) break;
        if (at + piece.value.length > end) throw tooLong(url, end);
        buffer.set(piece.value, at);
        at += piece.value.length;
        await onData(at, piece.value.length);
      }
    } catch (err) {
      await reader.cancel().catch(() => {});
      throw err;
    } finally {
      reader.releaseLock();
    }
  }
  if (at < end) throw cutError(`The download of ${url} was cut short: got ${at} of ${end} bytes. Try again.`, url);
}

/** A body of unknown length (no Content-Length, or a content encoding), read whole. */
export async function readAll(url: string, res: Response, signal: AbortSignal | undefined, onData: (received: number) => void): Promise<Uint8Array> {
  const pieces: Uint8Array[] = [];
  let size = 0;
  try {
    if (!res.body) {
      const bytes = new Uint8Array(await res.arrayBuffer());
      onData(bytes.length);
      return bytes;
    }
    const reader = res.body.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      pieces.push(value);
      size += value.length;
      onData(size);
    }
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    throw new ModelLoadError(`The download of ${url} failed after ${size} bytes (${errorText(err)}): check the network connection and try again.`, url, { cause: err });
  }
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
