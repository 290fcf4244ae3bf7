/**
 * An HTTP server on 127.0.0.1 for the weight cache tests: serves given files (and the fixture
 * model folders) with Content-Length, ETag and, when enabled, Range (206 + Content-Range,
 * If-Range) and If-None-Match (304); logs every request with its headers; and can cut a
 * response's connection after some bytes, as a failing network would.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { MODELS } from './model-folders.ts';

export interface Served {
  body: Uint8Array;
  type?: string;
  /** a fixed status (404, 503, ...) with this body */
  status?: number;
}

export interface LoggedRequest {
  path: string;
  status: number;
  range?: string;
  ifRange?: string;
  ifNoneMatch?: string;
  /** body bytes actually sent */
  sent: number;
}

export interface RangeServer {
  url(path: string): string;
  /** files by path ('/m/onnx/model.onnx'); replace an entry to change a file (its ETag follows its bytes) */
  files: Map<string, Served>;
  log: LoggedRequest[];
  /** honour Range requests (default true); false answers every GET with 200 and no Accept-Ranges */
  ranges: boolean;
  /** the next `times` answers for `path` stop after `after` body bytes and drop the connection */
  cut(path: string, after: number, times?: number): void;
  /** requests for paths under a prefix */
  requestsFor(prefix: string): LoggedRequest[];
  close(): Promise<void>;
}

export async function startRangeServer(): Promise<RangeServer> {
  const files = new Map<string, Served>();
  const log: LoggedRequest[] = [];
  const cuts = new Map<string, { after: number; times: number }>();
  const self: Partial<RangeServer> & { ranges: boolean } = { ranges: true };

  const server = createServer((req, res) => {
    void answer(req, res).catch(() => res.destroy());
  });

  async function answer(req: IncomingMessage, res: ServerResponse) {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const entry: LoggedRequest = { path, status: 0, sent: 0 };
    const h = (name: string) => (typeof req.headers[name] === 'string' ? (req.headers[name] as string) : undefined);
    if (h('range')) entry.range = h('range');
    if (h('if-range')) entry.ifRange = h('if-range');
    if (h('if-none-match')) entry.ifNoneMatch = h('if-none-match');
    log.push(entry);

    let served = files.get(path);
    if (!served && path.startsWith('/models/')) {
      try {
        served = { body: new Uint8Array(await readFile(join(MODELS, path.slice('/models/'.length)))) };
      } catch {
        served = undefined;
      }
    }
    if (!served) return end(res, entry, 404, { 'content-type': 'text/plain' }, Buffer.from('Entry not found'));
    if (served.status) return end(res, entry, served.status, { 'content-type': served.type ?? 'text/plain' }, Buffer.from(served.body));

    const body = Buffer.from(served.body.buffer, served.body.byteOffset, served.body.byteLength);
    const etag = `"${createHash('sha256').update(body).digest('hex').slice(0, 16)}"`;
    const headers: Record<string, string | number> = {
      'content-type': served.type ?? (path.endsWith('.json') ? 'application/json' : 'application/octet-stream'),
      etag,
    };
    if (self.ranges) headers['accept-ranges'] = 'bytes';
    if (entry.ifNoneMatch === etag) return end(res, entry, 304, headers, Buffer.alloc(0));

    const m = self.ranges ? /^bytes=(\d+)-(\d*)$/.exec(entry.range ?? '') : null;
    const rangeOk = m && (!entry.ifRange || entry.ifRange === etag);
    if (m && rangeOk) {
      const start = Number(m[1]);
      const last = m[2] ? Math.min(Number(m[2]), body.length - 1) : body.length - 1;
      if (start >= body.length) return end(res, entry, 416, { 'content-range': `bytes */${body.length}` }, Buffer.alloc(0));
      headers['content-range'] = `bytes ${start}-${last}/${body.length}`;
      return end(res, entry, 206, headers, body.subarray(start, last + 1));
    }
    return end(res, entry, 200, headers, body);
  }

  function end(res: ServerResponse, entry: LoggedRequest, status: number, headers: Record<string, string | number>, body: Buffer) {
    entry.status = status;
    res.statusCode = status;
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    res.setHeader('content-length', body.length);
    const cut = cuts.get(entry.path);
    if (cut && cut.times > 0 && status < 300 && body.length > cut.after) {
      cut.times--;
      entry.sent = cut.after;
      res.flushHeaders();
      res.write(body.subarray(0, cut.after), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    entry.sent = body.length;
    res.end(body);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(self, {
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    files,
    log,
    cut: (path: string, after: number, times = 1) => void cuts.set(path, { after, times }),
    requestsFor: (prefix: string) => log.filter((r) => r.path.startsWith(prefix)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  }) as RangeServer;
}

/** Deterministic bytes (a xorshift stream), different per seed. */
export function bytesOf(size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed * 2654435761 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
