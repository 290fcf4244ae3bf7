/**
 * For the zoo's decoder tests: an HTTP server on 127.0.0.1 serving test/fixtures/zoo/ (the same
 * answers as helpers/model-folders.ts gives the fixture folders), the zoo's dtype files, and an
 * onnxruntime-node oracle that runs a decoder export on token rows with an empty KV cache.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ortNode from 'onnxruntime-node';
import { halfToFloat } from '../../../src/reference/half-to-float.ts';
import { DTYPE_FILES, type ZooDtype } from './zoo-reference.ts';
export { DTYPE_FILES, type ZooDtype };
export { cosine, maxAbsDiff as maxAbs } from './vector-metrics.ts';

export const ZOO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'zoo');


export function zooHas(model: string): boolean {
  return existsSync(join(ZOO, model, 'reference.json'));
}

export function dtypesPresent(model: string): ZooDtype[] {
  return (Object.keys(DTYPE_FILES) as ZooDtype[]).filter((d) => existsSync(join(ZOO, model, 'onnx', DTYPE_FILES[d])));
}

export function readJson<T>(model: string, file: string): T {
  return JSON.parse(readFileSync(join(ZOO, model, file), 'utf8')) as T;
}

export interface ZooServer {
  folder(name: string): string;
  close(): Promise<void>;
}

export async function serveZoo(): Promise<ZooServer> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (path.includes('..')) {
      res.statusCode = 400;
      res.end();
      return;
    }
    readFile(join(ZOO, path)).then(
      (bytes) => {
        res.setHeader('content-type', path.endsWith('.json') ? 'application/json' : 'application/octet-stream');
        res.setHeader('content-length', bytes.length);
        res.end(bytes);
      },
      () => {
        res.statusCode = 404;
        res.setHeader('content-type', 'text/plain');
        res.end('Entry not found');
      },
    );
  });
  // Node's fetch (undici) reuses idle keep-alive sockets; the server's default 5 s keepAliveTimeout can close
  // one just as a request goes out on it (ECONNRESET), between two loads that sit seconds apart.
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    folder: (name) => `http://127.0.0.1:${port}/${name}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const sessions = new Map<string, Promise<ortNode.InferenceSession>>();
export function ortSession(model: string, file: string): Promise<ortNode.InferenceSession> {
  const path = join(ZOO, model, 'onnx', file);
  let s = sessions.get(path);
  if (!s) sessions.set(path, (s = ortNode.InferenceSession.create(path, { intraOpNumThreads: 2 })));
  return s;
}

/**
 * One run of a decoder export in onnxruntime-node: rows padded on `side` with padId, positions
 * counted over real tokens (cumsum(mask) - 1), every past_key_values.* empty. Returns the named
 * output as float32 with its dims, and each row's last real slot.
 */
export async function runDecoder(
  session: ortNode.InferenceSession,
  rows: number[][],
  output: string,
  { padId, side }: { padId: number; side: 'left' | 'right' },
): Promise<{ data: Float32Array; dims: readonly number[]; last: number[] }> {
  const B = rows.length;
  const T = Math.max(...rows.map((r) => r.length));
  const ids = new BigInt64Array(B * T).fill(BigInt(padId));
  const mask = new BigInt64Array(B * T);
  const pos = new BigInt64Array(B * T);
  const last: number[] = [];
  rows.forEach((r, b) => {
    const start = side === 'left' ? T - r.length : 0;
    r.forEach((id, j) => {
      ids[b * T + start + j] = BigInt(id);
      mask[b * T + start + j] = 1n;
      pos[b * T + start + j] = BigInt(j);
    });
    last.push(start + r.length - 1);
  });
  const feeds: Record<string, ortNode.Tensor> = {};
  const meta = session.inputMetadata as unknown as { name: string; isTensor: boolean; type?: string; shape?: (number | string)[] }[];
  for (const name of session.inputNames) {
    if (name === 'input_ids') feeds[name] = new ortNode.Tensor('int64', ids, [B, T]);
    else if (name === 'attention_mask') feeds[name] = new ortNode.Tensor('int64', mask, [B, T]);
    else if (name === 'position_ids') feeds[name] = new ortNode.Tensor('int64', pos, [B, T]);
    else if (name.startsWith('past_key_values.')) {
      const m = meta.find((x) => x.name === name);
      const [, heads, , dim] = (m?.shape ?? []) as number[];
      const half = m?.type === 'float16';
      feeds[name] = new ortNode.Tensor(half ? 'float16' : 'float32', half ? new Uint16Array(0) : new Float32Array(0), [B, heads!, 0, dim!]);
    } else throw new Error(`runDecoder: no feed for input ${name}`);
  }
  const out = (await session.run(feeds, [output]))[output]!;
  const raw = out.data;
  const data = raw instanceof Float32Array ? raw : Float32Array.from(raw as ArrayLike<number>, (x) => (typeof x === 'number' ? x : Number(x)));
  if (out.type === 'float16' && raw instanceof Uint16Array) return { data: Float32Array.from(raw, halfToFloat), dims: out.dims, last };
  return { data, dims: out.dims, last };
}

export function normalize(v: ArrayLike<number>): Float64Array {
  const out = Float64Array.from(v as ArrayLike<number>);
  const n = Math.hypot(...out);
  return out.map((x) => x / n);
}

