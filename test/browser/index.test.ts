/**
 * The vector index in Chromium (WebGPU on SwiftShader), through the public API: the corpus in
 * examples/corpus embedded with the glove-sif fixture (a real GloVe-SIF embedder) in the
 * library's worker, indexed in the page, and searched with the queries written for it.
 *  - embedder on 'webgpu': the index takes its own GPUDevice and scans on the GPU;
 *  - embedder on 'wasm': the index runs its CPU path;
 * each query finds its document first (and the field guide's paragraph, by character range), the
 * GPU and CPU paths return the same hits with the same scores, save() / load() through the real
 * IndexedDB round-trip bit for bit, a removed document is never a hit, and add() is one message to
 * the worker.
 */
import { describe, expect, it } from 'vitest';
import { useBrowser } from './harness/index.ts';
import type { CorpusRun, DeviceLossRun, QueryResult } from './pages/vector-index.ts';

const PAGE = '/test/browser/pages/vector-index.ts';
const ctx = useBrowser();

function misses(results: QueryResult[]): string[] {
  return results.flatMap((r) => {
    const top = r.hits[0];
    if (top?.id !== r.expected) return [`${r.query} → ${r.hits.map((h) => `${h.id} ${h.score.toFixed(3)}`).join(', ')} (want ${r.expected})`];
    if (r.passage && !top.text.startsWith(r.passage)) return [`${r.query} → passage "${top.text.slice(0, 30)}…" (want "${r.passage}…")`];
    return [];
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe('createIndex in Chromium with glove-sif over the example corpus', () => {
  for (const [device, storage] of [
    ['webgpu', 'float32'],
    ['webgpu', 'int8'],
    ['wasm', 'float32'],
  ] as const) {
    it(`embedder on ${device}, ${storage} storage: every query finds its document, GPU and CPU paths agree, save/load round-trips`, async () => {
      const r = await ctx.call<CorpusRun>(PAGE, 'searchCorpus', device, storage);
      expect(r.embedderDevice).toBe(device);
      expect(r.indexDevice).toBe(device === 'webgpu' ? 'webgpu' : 'cpu');
      expect(misses(r.results)).toEqual([]);
      // the index on the GPU and the same vectors on the CPU path: the same hits, the same scores
      expect(r.cpu.map((q) => q.hits)).toEqual(r.results.map((q) => q.hits));
      expect(r.saved).toMatchObject({ equal: true, loadedSize: 37 });
      expect(r.staleAfterRemove).toBe(false);
      expect(r.progress.at(-1)).toEqual({ done: 40, total: 40 });
      // split and embedded in the worker: one message for the whole add (the long way took a few rounds of counts, then one per batch of 16)
      expect(r.addMessages).toBe(1);
      const field = r.results.find((q) => q.passage?.startsWith('Deer'))!;
      expect(field.hits[0]!.text).toMatch(/^Deer are most active/);
      console.log(
        `${device}/${storage}: add 37 documents (40 passages) ${r.addMs.toFixed(0)} ms; search (embed query + scan) median ` +
          `${median(r.results.map((q) => q.ms)).toFixed(1)} ms on the ${r.indexDevice} path, ${median(r.cpu.map((q) => q.ms)).toFixed(1)} ms on the CPU path; ` +
          `long tasks ${r.longTasks.length ? r.longTasks.map((t) => t.toFixed(0)).join(', ') + ' ms' : 'none'}; blob ${r.saved.bytes} bytes`,
      );
    });
  }

  it('a lost GPU device: the next search rebuilds the index from its CPU rows and answers the same', async () => {
    const r = await ctx.call<DeviceLossRun>(PAGE, 'deviceLoss');
    expect(r.error).toBeUndefined();
    expect(r.deviceBefore).toBe('webgpu');
    expect(r.deviceAfter).toBe('cpu');
    expect(r.after).toEqual(r.before);
    expect(r.before[0]).toBe('planets');
  });
});
