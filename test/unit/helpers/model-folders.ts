/**
 * Serving the fixture model folders to loadModel in tests: from disk through a FetchFile (with
 * per-file replacements), or over a real HTTP server on 127.0.0.1.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ModelFileNotFoundError } from '../../../src/errors.ts';
import type { FetchFile } from '../../../src/io/types.ts';

export const MODELS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'models');

/** The folder URL (file://, ending in '/') of a fixture model. */
export function fixtureUrl(name: string): string {
  return pathToFileURL(join(MODELS, name)).href + '/';
}

/** What to serve instead of a file: bytes, or 'missing' for a 404. */
export type Replacement = Uint8Array | string | 'missing';

/**
 * A FetchFile over file:// URLs. `replace` maps a path relative to the fixture folder
 * ('tokenizer.json', 'onnx/model.onnx') to other content or to a 404. `log` records each URL asked.
 */
export function diskFetchFile(replace: Record<string, Replacement> = {}, log: string[] = []): FetchFile {
  return async (url, opts) => {
    opts?.signal?.throwIfAborted();
    log.push(url);
    const path = fileURLToPath(url);
    const rel = Object.keys(replace).find((r) => path.endsWith('/' + r));
    const swap = rel === undefined ? undefined : replace[rel];
    if (swap === 'missing') throw new ModelFileNotFoundError(`${url} not found`, url);
    if (swap !== undefined) return typeof swap === 'string' ? new TextEncoder().encode(swap) : swap;
    try {
      const bytes = new Uint8Array(await readFile(path));
      opts?.onBytes?.(bytes.length, bytes.length);
      return bytes;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ModelFileNotFoundError(`${url} not found`, url);
      throw err;
    }
  };
}

export interface Route {
  status?: number;
  type?: string;
  body?: Uint8Array | string;
  /** announce this Content-Length, send the body, then cut the connection */
  claimLength?: number;
}

export interface TestServer {
  /** base URL of a fixture folder on this server, ending in '/' */
  folder(name: string): string;
  /** requests seen, as paths */
  requests: string[];
  close(): Promise<void>;
}

/**
 * An HTTP server on 127.0.0.1 serving test/fixtures/models/, or another folder of model folders
 * (`root`), as application/octet-stream or JSON with Content-Length; `routes` replaces given paths
 * ('/tiny-e5/config.json') with other answers.
 */
export async function startServer(routes: Record<string, Route> = {}, root = MODELS): Promise<TestServer> {
  const requests: string[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(path);
    // No keep-alive: an engine in this process blocks the event loop while it computes, and a
    // socket the server times out meanwhile would reset the client's next request (ECONNRESET).
    res.shouldKeepAlive = false;
    void answer(join(root, path), routes[path], res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    folder: (name) => `http://127.0.0.1:${port}/${name}/`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function answer(file: string, route: Route | undefined, res: ServerResponse): Promise<void> {
  if (route) {
    const body = typeof route.body === 'string' ? Buffer.from(route.body) : Buffer.from(route.body ?? new Uint8Array());
    res.statusCode = route.status ?? 200;
    res.setHeader('content-type', route.type ?? 'application/octet-stream');
    if (route.claimLength !== undefined) {
      res.setHeader('content-length', route.claimLength);
      res.write(body, () => res.socket?.destroy());
      return;
    }
    res.setHeader('content-length', body.length);
    res.end(body);
    return;
  }
  try {
    const bytes = await readFile(file);
    res.setHeader('content-type', file.endsWith('.json') ? 'application/json' : 'application/octet-stream');
    res.setHeader('content-length', bytes.length);
    res.end(bytes);
  } catch {
    res.statusCode = 404;
    res.setHeader('content-type', 'text/plain');
    res.end('Entry not found');
  }
}
