/**
 * A stand-in for the Hugging Face hub on 127.0.0.1: serves `/{owner}/{name}/resolve/{revision}/{file}`
 * from local model folders (the fixtures), as huggingface.co lays a repository out. A repository it
 * does not know answers 401, as the hub answers an anonymous request for a repository that does
 * not exist (or is private); a file missing from a known repository answers 404 "Entry not
 * found". Answers carry `Access-Control-Allow-Origin: *`, as the hub's do, so a page on another
 * origin reads them; `handler` mounts the same answers under a path of another server (a Vite
 * app's '/hub').
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize, sep } from 'node:path';

export interface HubServer {
  /** the host to set as `hub: { host }`: http://127.0.0.1:<port>/ */
  host: string;
  /** paths asked, in order, as sent (a revision 'refs/pr/3' arrives as refs%2Fpr%2F3) */
  requests: string[];
  /** the same answers as a connect-style middleware (paths relative to where it is mounted) */
  handler(req: IncomingMessage, res: ServerResponse): void;
  close(): Promise<void>;
}

/**
 * `repos` maps 'owner/name' (any revision) or 'owner/name@revision' (that revision only; wins over
 * the plain entry) to a local model folder.
 *
 * @example
 * const hub = await startHubServer({ 'test-org/tiny-e5': join(MODELS, 'tiny-e5') });
 * await createEmbedder({ model: 'test-org/tiny-e5@v1', hub: { host: hub.host }, worker: false });
 */
export async function startHubServer(repos: Record<string, string>): Promise<HubServer> {
  const requests: string[] = [];
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    res.setHeader('access-control-allow-origin', '*');
    res.setHeader('access-control-expose-headers', 'content-length, etag, content-range, accept-ranges');
    // No keep-alive: an engine in this process blocks the event loop while it computes, and a
    // socket the server times out meanwhile would reset the client's next request.
    res.shouldKeepAlive = false;
    if (req.method === 'OPTIONS') {
      // the preflight of a cross-origin request with Range / If-None-Match (the weight cache's)
      res.setHeader('access-control-allow-headers', '*');
      res.setHeader('access-control-allow-methods', 'GET, HEAD');
      res.statusCode = 204;
      res.end();
      return;
    }
    const raw = new URL(req.url ?? '/', 'http://x').pathname;
    requests.push(raw);
    // The revision is one URL segment (the hub's own URLs encode 'refs/pr/3' as refs%2Fpr%2F3).
    const m = /^\/([^/]+)\/([^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(raw);
    if (!m) return text(res, 404, 'not a /{owner}/{name}/resolve/{revision}/{file} path');
    const [, owner, name, revision, file] = m.map((x) => decodeURIComponent(x)) as [string, string, string, string, string];
    const repo = `${owner}/${name}`;
    const folder = repos[`${repo}@${revision}`] ?? repos[repo];
    if (!folder) return text(res, 401, JSON.stringify({ error: 'Repository not found' }), 'application/json');
    const path = normalize(join(folder, file));
    if (!path.startsWith(normalize(folder) + sep)) return text(res, 400, 'bad path');
    let size: number;
    try {
      const st = statSync(path);
      if (!st.isFile()) return text(res, 404, 'Entry not found');
      size = st.size;
    } catch {
      return text(res, 404, 'Entry not found');
    }
    res.statusCode = 200;
    res.setHeader('content-type', file.endsWith('.json') ? 'application/json' : 'application/octet-stream');
    res.setHeader('content-length', size);
    if (req.method === 'HEAD') return void res.end();
    createReadStream(path).pipe(res);
  };
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `http://127.0.0.1:${port}/`,
    requests,
    handler,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function text(res: ServerResponse, status: number, body: string, type = 'text/plain'): void {
  res.statusCode = status;
  res.setHeader('content-type', type);
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(body);
}
