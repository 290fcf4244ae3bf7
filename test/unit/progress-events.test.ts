/**
 * The public API's progress events in transformers.js' shape (src/models/progress.ts), through
 * createEmbedder / createReranker with the engine in this process (Node, wasm), models over HTTP
 * from 127.0.0.1: the load's file events, then 'ready' last (as transformers.js' pipeline() ends),
 * then one 'embed' / 'rerank' event per batch. The old `{ type: ... }` shape is gone.
 * (Through the library's worker in a minified production build: test/browser/production-build.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmbedder, createReranker, type EmbedProgress, type RerankProgress } from '../../src/index.ts';
import { startServer, type TestServer } from './helpers/model-folders.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.close();
});

/** What every event must look like, whatever its status. */
function expectShape(events: (EmbedProgress | RerankProgress)[], name: string): void {
  for (const e of events) {
    expect(e.name, JSON.stringify(e)).toBe(name);
    expect('type' in e, `an event of the old shape: ${JSON.stringify(e)}`).toBe(false);
    if ('progress' in e) {
      expect(e.progress).toBeGreaterThanOrEqual(0);
      expect(e.progress).toBeLessThanOrEqual(100);
    }
  }
}

/** One event per batch: `count` of them, `done` rising to `total`, `progress` its percentage. */
function expectBatches(events: (EmbedProgress | RerankProgress)[], status: 'embed' | 'rerank', total: number, count: number): void {
  expect(events.map((e) => e.status)).toEqual(Array(count).fill(status));
  const batches = events as Extract<EmbedProgress | RerankProgress, { done: number }>[];
  for (const [i, e] of batches.entries()) {
    expect(e.total).toBe(total);
    expect(e.done).toBeGreaterThan(i === 0 ? 0 : batches[i - 1]!.done);
    expect(e.progress).toBeCloseTo((100 * e.done) / total, 10);
  }
  expect(batches.at(-1)).toMatchObject({ done: total, progress: 100 });
}

describe("progress events in transformers.js' shape", () => {
  it("createEmbedder: each file's initiate → download → progress → done, progress_total, then 'ready' last; embed(): an 'embed' event per batch", async () => {
    const model = server.folder('tiny-e5');
    const events: EmbedProgress[] = [];
    const embedder = await createEmbedder({ model, worker: false, device: 'wasm', cache: false, limits: { maxBatchSize: 2 }, onProgress: (e) => events.push(e) });
    try {
      expectShape(events, model);
      expect(events.at(-1)).toEqual({ status: 'ready', name: model, model, task: 'feature-extraction' });
      expect(events.filter((e) => e.status === 'ready')).toHaveLength(1);
      const statuses = new Set(events.map((e) => e.status));
      for (const s of ['initiate', 'download', 'progress', 'progress_total', 'done'] as const) expect(statuses, s).toContain(s);
      // every file that was asked for was closed, before 'ready'
      const initiated = events.flatMap((e) => (e.status === 'initiate' ? [e.file] : []));
      const done = events.flatMap((e) => (e.status === 'done' ? [e.file] : []));
      expect(done.sort()).toEqual(initiated.sort());

      const batches: EmbedProgress[] = [];
      await embedder.embed(['one', 'two', 'three', 'four', 'five'], { onProgress: (e) => batches.push(e) });
      expectShape(batches, model);
      // batches of at most 2 (as planned by length): three events, counting up to all five texts
      expectBatches(batches, 'embed', 5, 3);
    } finally {
      await embedder.dispose();
    }
  });

  it("createReranker: 'ready' with transformers.js' task for a cross-encoder; rerank(): a 'rerank' event per batch", async () => {
    const model = server.folder('tiny-cross-encoder');
    const events: RerankProgress[] = [];
    const reranker = await createReranker({ model, worker: false, device: 'wasm', cache: false, onProgress: (e) => events.push(e) });
    try {
      expectShape(events, model);
      expect(events.at(-1)).toEqual({ status: 'ready', name: model, model, task: 'text-classification' });
      const batches: RerankProgress[] = [];
      await reranker.rerank('bread', ['flour', 'yeast', 'stocks'], { batchSize: 2, onProgress: (e) => batches.push(e) });
      expectShape(batches, model);
      expectBatches(batches, 'rerank', 3, 2);
    } finally {
      await reranker.dispose();
    }
  });
});
