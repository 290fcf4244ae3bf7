/**
 * The zoo's decoder exports in real Chromium, from the packed library as a user meets it (the same
 * fresh Vite app as real-encoders.test.ts: `npm pack`, one import, the zoo's folders as the app's
 * static /models/), on device 'wasm' and 'webgpu' (SwiftShader here):
 *   - qwen3-embedding-shape (onnx-community/Qwen3-Embedding-0.6B-ONNX's layout: position_ids and
 *     empty past_key_values, left padding, last-token pooling): fp32 vectors equal PyTorch's
 *     (reference.json, each text alone) within cos 0.99999, in one mixed-length call per task and
 *     each text alone;
 *   - qwen3-reranker-gqa-shape (com.microsoft.GroupQueryAttention, as the hub's
 *     Qwen3-Reranker-0.6B-ONNX): right-padded, the pruned yes/no head; fp32 scores equal PyTorch's
 *     within 1e-4 in one batch of mixed lengths and alone; q4 (MatMulNBits) gives the same score in
 *     the batch as alone (its distance to PyTorch is printed). On WebGPU the load's self-check runs
 *     for such a graph at any dtype: onnxruntime-web 1.30's WebGPU GroupQueryAttention computes a
 *     first pass longer than 32 tokens wrongly here (gqa-webgpu.test.ts), so the reranker either
 *     passes the check on WebGPU or says it fell back to wasm, and its scores are right either way.
 *   - nv-embed-shape (scripts/export/nv_embed.py's folder: a bidirectional Mistral ONNX and
 *     latent_attention.safetensors, pooled by our latent-attention kernels on WebGPU and their CPU
 *     twins on wasm): fp32 vectors equal NV-Embed's recipe in PyTorch (cos 0.99999), instruction
 *     tokens left out of the mean, batched and alone.
 * SwiftShader is a CPU: the WebGPU runs take the short probe texts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJson, zooHas } from '../unit/helpers/zoo-decoders.ts';
import { recordReport } from '../unit/helpers/real-encoders-report.ts';
import { agreement, maxAbsDiff } from '../unit/helpers/vector-metrics.ts';
import { previewZooApp, useBrowser, waitForResult, type PreviewedApp } from './harness/index.ts';

type Device = 'wasm' | 'webgpu';
const EMBEDDER = 'qwen3-embedding-shape';
const NV_EMBED = 'nv-embed-shape';
const RERANKER = 'qwen3-reranker-gqa-shape';
const FP32_COS = 0.99999;
const FP32_SCORE = 1e-4;

interface Probe {
  text: string;
  task: 'query' | 'document';
  tokens: number;
  embedding: number[];
}
interface Pair {
  document: string;
  tokens: number;
  score: number;
}

const ctx = useBrowser();
let app: PreviewedApp;
const notes: string[] = [];
const present = zooHas(EMBEDDER) && zooHas(RERANKER) && zooHas(NV_EMBED);

beforeAll(async () => {
  if (!present) return;
  app = await previewZooApp();
}, 400_000);

afterAll(async () => {
  await app?.close();
  if (notes.length) console.log(`real decoders in Chromium (packed library):\n${notes.join('\n')}`);
});

async function inApp<R>(fn: 'embedWith' | 'rerankWith', arg: unknown): Promise<R> {
  const page = ctx.browser.page;
  await page.goto(app.url);
  await waitForResult(page, 60_000);
  return (await page.evaluate(`window.${fn}(${JSON.stringify(arg)})`)) as R;
}

interface Failure {
  error?: { name: string; message: string };
}

describe.skipIf(!present)('real decoder exports in Chromium, the packed library', () => {
  for (const device of ['wasm', 'webgpu'] as const satisfies readonly Device[]) {
    it(`${NV_EMBED} fp32 on ${device}: one mixed-length call per task and each text alone equal PyTorch (cos ≥ ${FP32_COS})`, async () => {
      const { probe } = readJson<{ probe: Probe[] }>(NV_EMBED, 'reference.json');
      const texts = device === 'wasm' ? probe.filter((p) => p.tokens <= 64) : probe.filter((p) => p.tokens <= 30).slice(0, 4);
      expect(new Set(texts.map((p) => p.task))).toEqual(new Set(['query', 'document']));
      const items = texts.map((p) => ({ text: p.text, task: p.task }));
      type Out = Failure & { device?: string; vectors?: number[][] };
      const batched = await inApp<Out>('embedWith', { model: NV_EMBED, device, dtype: 'fp32', items });
      const alone = await inApp<Out>('embedWith', { model: NV_EMBED, device, dtype: 'fp32', items, alone: true });
      expect(batched.error, JSON.stringify(batched.error)).toBeUndefined();
      expect(batched.device).toBe(device);
      const pytorch = texts.map((p) => p.embedding);
      const b = agreement(batched.vectors!, pytorch);
      const a = agreement(alone.vectors!, pytorch);
      notes.push(`${NV_EMBED} fp32 ${device}: ${texts.length} texts, cos vs PyTorch min ${b.minCosine.toFixed(7)} batched, ${a.minCosine.toFixed(7)} alone`);
      expect(b.minCosine).toBeGreaterThanOrEqual(FP32_COS);
      expect(a.minCosine).toBeGreaterThanOrEqual(FP32_COS);
    });

    it(`${EMBEDDER} fp32 on ${device}: one mixed-length call per task and each text alone equal PyTorch (cos ≥ ${FP32_COS})`, async () => {
      const { probe } = readJson<{ probe: Probe[] }>(EMBEDDER, 'reference.json');
      const texts = device === 'wasm' ? probe.filter((p) => p.tokens <= 64) : probe.filter((p) => p.tokens <= 24).slice(0, 4);
      expect(new Set(texts.map((p) => p.tokens)).size).toBeGreaterThan(1); // mixed lengths, so padding happens
      const items = texts.map((p) => ({ text: p.text, task: p.task }));
      const pytorch = texts.map((p) => p.embedding);
      type Out = Failure & { device?: string; vectors?: number[][] };
      const batched = await inApp<Out>('embedWith', { model: EMBEDDER, device, dtype: 'fp32', items });
      const alone = await inApp<Out>('embedWith', { model: EMBEDDER, device, dtype: 'fp32', items, alone: true });
      expect(batched.error, JSON.stringify(batched.error)).toBeUndefined();
      expect(batched.device).toBe(device);
      const b = agreement(batched.vectors!, pytorch);
      const a = agreement(alone.vectors!, pytorch);
      notes.push(`${EMBEDDER} fp32 ${device}: ${texts.length} texts, cos vs PyTorch min ${b.minCosine.toFixed(7)} batched, ${a.minCosine.toFixed(7)} alone`);
      if (device === 'webgpu') {
        recordReport(`browser ${EMBEDDER}`, {
          models: { [EMBEDDER]: { dtypes: { fp32: { oursWebgpu: Math.min(b.minCosine, a.minCosine) } } } },
          runs: { [`browser ${EMBEDDER}`]: { date: new Date().toISOString(), seconds: 0, texts: `Chromium (SwiftShader): the packed library on WebGPU, ${texts.length} short probe texts, batched and alone` } },
        });
      }
      expect(b.minCosine).toBeGreaterThanOrEqual(FP32_COS);
      expect(a.minCosine).toBeGreaterThanOrEqual(FP32_COS);
    });

    for (const dtype of ['fp32', 'q4'] as const) {
      it(`${RERANKER} ${dtype} on ${device}: right-padded, pruned head, ${dtype === 'fp32' ? `equals PyTorch within ${FP32_SCORE} in a mixed batch and alone` : 'the same score in a mixed batch as alone'}`, async () => {
        const ref = readJson<{ query: string; pairs: Pair[] }>(RERANKER, 'reference.json');
        const pairs = device === 'wasm' ? ref.pairs : ref.pairs.slice(0, 3);
        type SelfCheck = { ran: boolean; passed?: boolean; action?: string; scoreDifference?: number; reason?: string };
        type Out = Failure & { device?: string; head?: string; paddingSide?: string; paddingReason?: string; selfCheck?: SelfCheck; batch?: number[]; alone?: number[] };
        const r = await inApp<Out>('rerankWith', { model: RERANKER, device, dtype, query: ref.query, documents: pairs.map((p) => p.document), batchSize: pairs.length });
        expect(r.error, JSON.stringify(r.error)).toBeUndefined();
        expect({ head: r.head, paddingSide: r.paddingSide }).toEqual({ head: 'pruned', paddingSide: 'right' });
        expect(r.paddingReason).toMatch(/GroupQueryAttention/);
        if (device === 'wasm') expect([r.device, r.selfCheck?.ran]).toEqual(['wasm', false]);
        else if (r.device === 'webgpu') expect(r.selfCheck).toMatchObject({ ran: true, passed: true, action: 'none' });
        else expect([r.device, r.selfCheck?.action, r.selfCheck!.scoreDifference! > 0.02]).toEqual(['wasm', 'fallback', true]);
        notes.push(`${RERANKER} ${dtype} ${device}: ran on ${r.device}, selfCheck ${JSON.stringify(r.selfCheck)}`);
        const want = pairs.map((p) => p.score);
        notes.push(
          `${RERANKER} ${dtype} ${device}: ${pairs.length} pairs of ${pairs.map((p) => p.tokens).join('/')} tokens; |batch - PyTorch| max ${maxAbsDiff(r.batch!, want).toExponential(2)}, ` +
            `|alone - PyTorch| max ${maxAbsDiff(r.alone!, want).toExponential(2)}, |batch - alone| max ${maxAbsDiff(r.batch!, r.alone!).toExponential(2)}`,
        );
        expect(maxAbsDiff(r.batch!, r.alone!)).toBeLessThan(1e-4);
        if (dtype === 'fp32') {
          expect(maxAbsDiff(r.batch!, want)).toBeLessThan(FP32_SCORE);
          expect(maxAbsDiff(r.alone!, want)).toBeLessThan(FP32_SCORE);
        }
      });
    }
  }
});
