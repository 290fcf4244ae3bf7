/**
 * file: URLs in Node, for the default FetchFile: a hub host or a model folder on the local disk
 * (`hub: { host: './models' }` in Node). Node's fetch() has no file: scheme, so these are answered
 * here, streamed from the disk with their Content-Length, a missing file a 404 as a server would
 * say. Node's modules come through process.getBuiltinModule, so a browser bundle of the library
 * imports nothing from Node; in a browser this answers nothing and fetch() decides.
 */

type NodeProcess = { getBuiltinModule?: (id: string) => unknown; versions?: { node?: string } };

/** A Response for a file: URL in Node, or undefined (not a file: URL, or not Node) to let fetch() answer. */
export function localFileResponse(url: string, signal?: AbortSignal): Promise<Response> | undefined {
  if (!/^file:/i.test(url)) return undefined;
  const proc = (globalThis as { process?: NodeProcess }).process;
  if (!proc?.versions?.node || typeof proc.getBuiltinModule !== 'function') return undefined;
  const fs = proc.getBuiltinModule('node:fs') as typeof import('node:fs');
  const nodeUrl = proc.getBuiltinModule('node:url') as typeof import('node:url');
  return (async () => {
    signal?.throwIfAborted();
    let path: string;
    try {
      path = nodeUrl.fileURLToPath(url);
    } catch {
      return new Response('not a usable file: URL', { status: 400, statusText: 'Bad Request' });
    }
    const info = await fs.promises.stat(path).catch(() => undefined);
    if (!info?.isFile()) return new Response('not found', { status: 404, statusText: 'Not Found' });
    // openAsBlob reads lazily: a multi-GB weight file streams, as over HTTP, rather than sitting in memory twice.
    const blob = await fs.openAsBlob(path);
    const type = path.endsWith('.json') ? 'application/json' : 'application/octet-stream';
    return new Response(blob.stream(), { status: 200, headers: { 'content-type': type, 'content-length': String(info.size) } });
  })();
}
