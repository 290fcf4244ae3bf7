/**
 * A graph that pools by itself on WebGPU in Chromium (SwiftShader), through the library's worker:
 * the zoo's embeddinggemma-shape (onnx-community/embeddinggemma-300m-ONNX's signature: the graph's
 * sentence_embedding [B, 768] is the vector) with the preset embeddinggemma-300m. ORT's
 * sentence_embedding buffer goes straight to the Matryoshka kernel: the vectors at 768, 256 and 128
 * must be PyTorch's (reference.json: sentence-transformers' encode with truncate_dim). And the
 * self-check, made for transformers.js#1728 (this model's q4 / q8 at cosine ≈ 0 on WebGPU, silently),
 * applies: on by default for q4, and a wrong WebGPU result sends the embedder to wasm.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ZOO } from '../unit/helpers/zoo-reference.ts';
import { cosine } from '../unit/helpers/vector-metrics.ts';
import { useBrowser } from './harness/index.ts';
import type { LoadCheckRun } from './pages/load-checks.ts';

const ctx = useBrowser();
const PAGE = '/test/browser/pages/load-checks.ts';
const MODEL = 'embeddinggemma-shape';

interface Probe {
  text: string;
  task: 'query' | 'document';
  embedding: number[];
  truncated: Record<string, number[]>;
}
const ref = JSON.parse(readFileSync(join(ZOO, MODEL, 'reference.json'), 'utf8')) as { probe: Probe[] };
// the query probe texts: 1 to 30-odd tokens, in one call (a mixed-length batch)
const probe = ref.probe.filter((p) => p.task === 'query');
const folder = () => ctx.server.url(`/test/fixtures/zoo/${MODEL}/`);

const embed = (create: Record<string, unknown>, dimensions?: number) =>
  ctx.call<LoadCheckRun>(PAGE, 'embedWithWarnings', { model: folder(), preset: 'embeddinggemma-300m', device: 'webgpu', cache: false, ...create }, probe.map((p) => p.text), {
    task: 'query',
    ...(dimensions ? { dimensions } : {}),
  });

async function corruptWebGpuInWorker(): Promise<void> {
  await ctx.call(PAGE, 'startWorker');
  const worker = ctx.browser.page.workers().find((w) => w.url().includes('/src/worker/index.ts'));
  if (!worker) throw new Error('no library worker');
  await worker.evaluate(`globalThis[Symbol.for('webgpu-embed.test-hooks')] = { corruptWebGpuOutput: true }`);
}

describe("pooling 'graph' on WebGPU", () => {
  it('fp32: the graph\'s vectors, truncated and renormalized on the GPU, are PyTorch\'s at 768, 256 and 128', async () => {
    for (const w of [undefined, 256, 128]) {
      const run = await embed({ dtype: 'fp32' }, w);
      expect(run.error).toBeUndefined();
      expect(run.info).toMatchObject({ device: 'webgpu', pooling: 'graph', dimensions: 768 });
      const cos = probe.map((p, i) => cosine(run.vectors![i]!, w ? p.truncated[String(w)]! : p.embedding));
      console.log(`${MODEL} fp32 WebGPU (SwiftShader), width ${w ?? 768}: min cos to PyTorch ${Math.min(...cos)}`);
      for (const v of run.vectors!) {
        expect(v.length).toBe(w ?? 768);
        expect(Math.abs(Math.hypot(...v) - 1)).toBeLessThanOrEqual(1e-5);
      }
      cos.forEach((c, i) => expect(c, probe[i]!.text).toBeGreaterThanOrEqual(0.99999));
    }
  });

  it('q4: the self-check runs without asking and passes; a wrong WebGPU result falls back to wasm, which embeds as WebGPU did', async () => {
    const clean = await embed({ dtype: 'q4' }, 256);
    expect(clean.error).toBeUndefined();
    console.log(`${MODEL} q4 self-check on WebGPU (SwiftShader): ${JSON.stringify(clean.info!.selfCheck)}; cpu nodes ${JSON.stringify(clean.info!.cpuNodes)}`);
    expect(clean.info).toMatchObject({ device: 'webgpu', pooling: 'graph', selfCheck: { ran: true, passed: true, action: 'none' } });

    await corruptWebGpuInWorker();
    const broken = await embed({ dtype: 'q4' }, 256);
    expect(broken.error).toBeUndefined();
    expect(broken.info).toMatchObject({ device: 'wasm', selfCheck: { ran: true, passed: false, action: 'fallback' } });
    expect(broken.warnings.map((w) => w.code)).toContain('self-check');
    probe.forEach((p, i) => expect(cosine(broken.vectors![i]!, clean.vectors![i]!), p.text).toBeGreaterThanOrEqual(0.999));
  });
});
