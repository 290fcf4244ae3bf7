/**
 * For the zoo's decoder tests: an HTTP server on 127.0.0.1 serving test/fixtures/zoo/ (the same
 * answers as helpers/model-folders.ts gives the fixture folders) with the test file's hooks, the
 * zoo's dtype files, the probe texts' shape in reference.json, the embedding runs the tests share
 * (each text alone, one call per task) and their comparisons, and an onnxruntime-node oracle that
 * runs a decoder export on token rows with an empty KV cache.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tokenizer } from '@huggingface/tokenizers';
import * as ortNode from 'onnxruntime-node';
import { afterAll, beforeAll, expect } from 'vitest';
import type { EmbedOptions, Embedder } from '../../../src/index.ts';
import { halfToFloat } from '../../../src/reference/half-to-float.ts';
import { cosine, maxAbsDiff } from './vector-metrics.ts';
import { DTYPE_FILES, type ZooDtype, type ZooProbe, type ZooTask } from './zoo-reference.ts';
export { DTYPE_FILES, type ZooDtype, type ZooProbe };
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

/**
 * A test file's hooks around its zoo server: before the file's tests, serveZoo() when `present`;
 * after them, close it, print `report` (under "`model` (wasm, Node):") when anything was put in it,
 * then `after`. The server returned answers for the one started.
 */
export function useZooServer(model: string, present: boolean, report: Record<string, unknown>, after?: () => void): ZooServer {
  let server: ZooServer | undefined;
  beforeAll(async () => {
    if (present) server = await serveZoo();
  });
  afterAll(async () => {
    await server?.close();
    if (Object.keys(report).length) console.log(`${model} (wasm, Node):\n${JSON.stringify(report, null, 1)}`);
    after?.();
  });
  return {
    folder: (name) => {
      if (!server) throw new Error('the zoo server is not started (see beforeAll)');
      return server.folder(name);
    },
    close: async () => server?.close(),
  };
}

/** reference.json of an embedding decoder: PyTorch's vector of each probe text, each text alone. */
export interface DecoderReference<P extends ZooProbe = ZooProbe> {
  pooling: string;
  prompts: Record<string, string>;
  probe: P[];
}

export const TASKS = ['query', 'document'] as const satisfies readonly ZooTask[];

/** The indices of the probe texts of `task`, in probe order. */
export function taskIndices(probe: readonly ZooProbe[], task: ZooTask): number[] {
  return probe.flatMap((p, i) => (p.task === task ? [i] : []));
}

/**
 * Each probe text alone, then one call per task (each a mixed-length batch); both in probe order.
 * `input` 'text' embeds p.text with its task, 'input' embeds p.input (the prompt already in) with
 * no task; `options` go with every call.
 */
export async function embedAloneAndPerTask(
  embedder: Embedder,
  probe: readonly ZooProbe[],
  { input = 'text', options = {} }: { input?: 'text' | 'input'; options?: EmbedOptions } = {},
): Promise<{ alone: Float32Array[]; batched: Float32Array[] }> {
  const withTask = (task: ZooTask): EmbedOptions => (input === 'text' ? { task, ...options } : options);
  const alone: Float32Array[] = [];
  for (const p of probe) alone.push((await embedder.embed([p[input]], withTask(p.task)))[0]!);
  const batched: Float32Array[] = new Array(probe.length);
  for (const task of TASKS) {
    const at = taskIndices(probe, task);
    const got = await embedder.embed(at.map((i) => probe[i]![input]), withTask(task));
    at.forEach((i, k) => (batched[i] = got[k]!));
  }
  return { alone, batched };
}

/** The embedder's info.pooling, info.dimensions and info.dtype, each checked on its own, in that order. */
export function expectInfo(info: Embedder['info'], want: { pooling: string; dimensions: number; dtype: string }): void {
  expect(info.pooling).toBe(want.pooling);
  expect(info.dimensions).toBe(want.dimensions);
  expect(info.dtype).toBe(want.dtype);
}

/**
 * Each probe text's cosine to PyTorch (reference.json) alone and batched, and to another source's
 * vector (an oracle on the same file) alone; the largest difference between a text batched and alone.
 */
export function compareProbe(probe: readonly ZooProbe[], alone: readonly Float32Array[], batched: readonly Float32Array[], other: readonly ArrayLike<number>[]) {
  return {
    cosTorch: probe.map((p, i) => cosine(alone[i]!, p.embedding)),
    cosTorchBatch: probe.map((p, i) => cosine(batched[i]!, p.embedding)),
    cosOther: probe.map((_, i) => cosine(alone[i]!, other[i]!)),
    batchVsAlone: Math.max(...probe.map((_, i) => maxAbsDiff(batched[i]!, alone[i]!))),
  };
}

/** Every cosine at least `min`, each checked on its own with the message "`what`: the text's first 40 characters". */
export function expectEachAtLeast(probe: readonly ZooProbe[], cos: readonly number[], what: string, min: number): void {
  cos.forEach((c, i) => expect(c, `${what}: ${probe[i]!.text.slice(0, 40)}`).toBeGreaterThanOrEqual(min));
}

/** fp32 against PyTorch: every probe text, alone and batched, within cos 0.99999. */
export function expectFp32EqualsPyTorch(probe: readonly ZooProbe[], { cosTorch, cosTorchBatch }: { cosTorch: readonly number[]; cosTorchBatch: readonly number[] }): void {
  expectEachAtLeast(probe, cosTorch, 'alone', 0.99999);
  expectEachAtLeast(probe, cosTorchBatch, 'batch', 0.99999);
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

/** The zoo model's tokenizer (tokenizer.json with tokenizer_config.json). */
export function zooTokenizer(model: string): Tokenizer {
  return new Tokenizer(readJson(model, 'tokenizer.json'), readJson(model, 'tokenizer_config.json'));
}

/**
 * onnxruntime-node on the model's `file`: rows as one batch padded on `side`, each row's
 * L2-normalized vector of `output` ([B, T, H]) at its last real token.
 */
export async function ortLastTokenVectors(model: string, file: string, rows: number[][], output: string, pad: { padId: number; side: 'left' | 'right' }): Promise<Float64Array[]> {
  const { data, dims, last } = await runDecoder(await ortSession(model, file), rows, output, pad);
  const [, T, H] = dims as [number, number, number];
  return last.map((t, b) => normalize(data.subarray((b * T + t) * H, (b * T + t + 1) * H)));
}

/** ortLastTokenVectors on each row alone (a batch of one). */
export async function ortLastTokenVectorsAlone(model: string, file: string, rows: number[][], output: string, pad: { padId: number; side: 'left' | 'right' }): Promise<Float64Array[]> {
  const out: Float64Array[] = [];
  for (const r of rows) out.push((await ortLastTokenVectors(model, file, [r], output, pad))[0]!);
  return out;
}

export function normalize(v: ArrayLike<number>): Float64Array {
  const out = Float64Array.from(v as ArrayLike<number>);
  const n = Math.hypot(...out);
  return out.map((x) => x / n);
}

