/**
 * Real encoders in real Chromium, from the packed library as a user meets it: `npm pack` into a
 * fresh Vite app (test/browser/real-encoders-app: one import, nothing configured, the zoo's folders
 * served as the app's static /models/), built and served, the engine in the library's worker.
 * all-minilm-l6-v2 (real weights) in every dtype, the two shape models in fp32 and q8, on device
 * 'wasm' and 'webgpu' (SwiftShader here), each against
 *   - PyTorch sentence-transformers fp32 (reference.json);
 *   - onnxruntime-node on the same ONNX file, each text alone (test/unit/helpers/zoo-oracle.ts);
 *   - transformers.js 4.3.1's feature-extraction pipeline on the same files and device, in a page
 *     of the repository's test server (its own onnxruntime-web build served beside ours).
 * WebGPU without 'shader-f16' refuses fp16 files with DtypeUnsupportedError (checked), and
 * SwiftShader is a CPU: the WebGPU runs take a few short probe texts (WEBGPU_TEXTS), wasm all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TJS_ORT_PATH, tjsOrt } from '../../bench/harness.ts';
import { recordReport, type DtypeRow, type ModelReport } from '../unit/helpers/real-encoders-report.ts';
import { agreement } from '../unit/helpers/vector-metrics.ts';
import { openZooOracle, type OracleEmbedding, type OracleRuntime } from '../unit/helpers/zoo-oracle.ts';
import { dtypesPresent, dynamicallyQuantized, F16_DTYPES, readReference, type ZooDtype, type ZooModel, type ZooProbe, type ZooReference } from '../unit/helpers/zoo-reference.ts';
import { openPage, previewZooApp, useBrowser, waitForResult, type PreviewedApp } from './harness/index.ts';
import type { TjsEmbedOptions, TjsEmbedResult } from './pages/tjs-embed.ts';

type Device = 'wasm' | 'webgpu';

const FP32_COS = 0.99999;
const VS_ORT_COS = 0.999;
/** ours on wasm against the same onnxruntime-web build run bare on the file */
const SAME_RUNTIME_ABS = 1e-5;
/**
 * A dynamically quantized file (q8, int8, uint8) rounds its activations to 8 bits at run time, so
 * any float difference upstream flips some roundings: onnxruntime-web's wasm build and
 * onnxruntime-node's native one, each text alone, differ down to cos 0.9957 on all-MiniLM-L6-v2's
 * q8 file (test/unit/real-encoders-minilm.test.ts). On WebGPU, ours is held to this.
 */
const DYNAMIC_ACROSS_RUNTIMES_COS = 0.99;
/** ours may trail transformers.js against PyTorch by this much on a text (and the gap is reported) */
const TJS_SLACK = 1e-4;
/** probe texts run on SwiftShader: short, one of each task and one sentence of ~40 tokens */
const WEBGPU_TEXTS = 3;

const MODELS: { model: ZooModel; dtypes: (present: ZooDtype[]) => ZooDtype[] }[] = [
  { model: 'all-minilm-l6-v2', dtypes: (present) => present },
  { model: 'bge-small-en-v1.5-shape', dtypes: (present) => present.filter((d) => d === 'fp32' || d === 'q8') },
  { model: 'multilingual-e5-small-shape', dtypes: (present) => present.filter((d) => d === 'fp32' || d === 'q8') },
];

const ctx = useBrowser({ server: { middlewares: [tjsOrt] } });
let app: PreviewedApp;
const started = performance.now();
const report: Record<string, ModelReport> = {};
const notes: string[] = [];

beforeAll(async () => {
  // the app's static /models/: the zoo's folders, a missing file a 404 (not the app's index.html)
  app = await previewZooApp();
}, 400_000);

afterAll(async () => {
  await app?.close();
  recordReport('browser', {
    models: report,
    runs: { browser: { date: new Date().toISOString(), seconds: (performance.now() - started) / 1000, texts: `Chromium: the packed library and transformers.js (one text per call) on all probe texts on wasm, ${WEBGPU_TEXTS} short ones on WebGPU; dynamic int8 files one text per call for ours too` } },
    notes: { browser: notes },
  });
});

/** The probe texts a device runs: all on wasm; on SwiftShader the short ones, both tasks among them. */
function probeFor(ref: ZooReference, device: Device): ZooProbe[] {
  if (device === 'wasm') return ref.probe;
  const short = ref.probe.filter((p) => p.tokens <= 48);
  const picked = [short.find((p) => p.task === 'query')!, short.find((p) => p.task === 'document')!];
  const longest = short.filter((p) => !picked.includes(p)).sort((a, b) => b.tokens - a.tokens)[0];
  return [...picked, ...(longest ? [longest] : [])].slice(0, WEBGPU_TEXTS);
}

interface OursResult {
  device?: string;
  dtype?: string;
  vectors?: number[][];
  truncated?: number[];
  loadMs?: number;
  embedMs?: number;
  error?: { name: string; message: string; isDtypeUnsupported: boolean };
}

async function ours(model: ZooModel, device: Device, dtype: ZooDtype, probe: ZooProbe[], alone = false): Promise<OursResult> {
  const page = ctx.browser.page;
  await page.goto(app.url);
  await waitForResult(page, 60_000);
  const arg = { model, device, dtype, alone, items: probe.map((p) => ({ text: p.text, task: p.task })) };
  return (await page.evaluate(`window.embedWith(${JSON.stringify(arg)})`)) as OursResult;
}

/** In a blank page of the repository's test server (which serves transformers.js and its own onnxruntime-web). */
async function transformersJs(ref: ZooReference, model: ZooModel, device: Device, dtype: ZooDtype, probe: ZooProbe[]): Promise<TjsEmbedResult> {
  await openPage(ctx.browser.page, ctx.server);
  const o: TjsEmbedOptions = { ortDist: ctx.server.url(TJS_ORT_PATH), modelsPath: '/test/fixtures/zoo/', model, device, dtype, pooling: ref.pooling, inputs: probe.map((p) => p.input) };
  return ctx.call<TjsEmbedResult>('/test/browser/pages/tjs-embed.ts', 'tjsEmbed', o);
}

/** Each text alone through the file in onnxruntime-node (or bare onnxruntime-web), in Node. */
async function oracle(model: ZooModel, dtype: ZooDtype, ref: ZooReference, probe: ZooProbe[], runtime: OracleRuntime): Promise<OracleEmbedding[]> {
  const o = await openZooOracle(model, dtype, ref, runtime);
  try {
    const out: OracleEmbedding[] = [];
    for (const p of probe) out.push(await o.embed(p.input));
    return out;
  } finally {
    await o.release();
  }
}

const ms = (x: number | undefined) => `${((x ?? 0) / 1000).toFixed(1)} s`;

for (const { model, dtypes } of MODELS) {
  for (const device of ['wasm', 'webgpu'] as const) {
    describe(`${model} on ${device}, the packed library in a Vite app`, () => {
      const row = (dtype: ZooDtype): DtypeRow => ((report[model] ??= {}).dtypes ??= {})[dtype] ??= {};
      for (const dtype of dtypes(dtypesPresent(model))) {
        if (device === 'webgpu' && F16_DTYPES.includes(dtype)) {
          it(`${dtype}: refused with DtypeUnsupportedError on an adapter without 'shader-f16' (transformers.js tried too, and reported)`, async () => {
            const ref = readReference(model);
            const probe = probeFor(ref, device).slice(0, 1);
            const r = await ours(model, device, dtype, probe);
            expect(r.error?.name).toBe('DtypeUnsupportedError');
            expect(r.error?.isDtypeUnsupported).toBe(true);
            const tjs = await transformersJs(ref, model, device, dtype, probe);
            row(dtype).oursWebgpu = 'refused: no shader-f16';
            row(dtype).tjsWebgpu = tjs.vectors ? agreement(tjs.vectors, probe.map((p) => p.embedding)).minCosine : `failed: ${tjs.error?.slice(0, 60)}…`;
            notes.push(`${model} ${dtype} webgpu: ours refused (${r.error?.message.slice(0, 80)}…); transformers.js: ${tjs.error ?? `ran, cos vs PyTorch ${row(dtype).tjsWebgpu}`}`);
          });
          continue;
        }
        const dynamic = dynamicallyQuantized(model, dtype);
        const against = !dynamic ? 'equals onnxruntime-node on the file' : device === 'wasm' ? 'each text alone equals bare onnxruntime-web on the file' : 'each text alone is within cos 0.99 of onnxruntime-node (dynamic int8)';
        it(`${dtype}: ${against}, and is as close to PyTorch as transformers.js${dtype === 'fp32' ? ' (fp32: cos ≥ 0.99999)' : ''}`, async () => {
          const ref = readReference(model);
          const probe = probeFor(ref, device);
          // a dynamically quantized file's answer depends on the batch (one activation scale per
          // tensor): each text alone, as transformers.js is called here, and as the oracles run
          const r = await ours(model, device, dtype, probe, dynamic);
          expect(r.error, JSON.stringify(r.error)).toBeUndefined();
          expect([r.device, r.dtype]).toEqual([device, dtype]);
          const pytorch = probe.map((p) => p.embedding);
          const vsPt = agreement(r.vectors!, pytorch);
          const node = await oracle(model, dtype, ref, probe, 'onnxruntime-node');
          const vsNode = agreement(r.vectors!, node.map((o) => o.vector));
          const vsWeb = dynamic ? agreement(r.vectors!, (await oracle(model, dtype, ref, probe, 'onnxruntime-web')).map((o) => o.vector)) : undefined;
          const tjs = await transformersJs(ref, model, device, dtype, probe);
          const tjsVsPt = tjs.vectors ? agreement(tjs.vectors, pytorch) : undefined;
          const key = device === 'wasm' ? 'Wasm' : 'Webgpu';
          Object.assign(row(dtype), { [`ours${key}`]: vsPt.minCosine, [`tjs${key}`]: tjsVsPt?.minCosine ?? `failed: ${tjs.error}` });
          row(dtype).oursVsOrt = { ...row(dtype).oursVsOrt, [`browser${key}`]: vsNode.minCosine };
          const gaps = tjsVsPt ? vsPt.cosines.map((c, i) => tjsVsPt.cosines[i]! - c) : [];
          const worstGap = Math.max(0, ...gaps);
          notes.push(
            `${model} ${dtype} ${device}${dynamic ? ' (each text alone)' : ''}: ${probe.length} texts; cos vs PyTorch min ours ${vsPt.minCosine.toFixed(7)}, transformers.js ${tjsVsPt?.minCosine.toFixed(7) ?? tjs.error}; ` +
              `cos(ours, onnxruntime-node) min ${vsNode.minCosine.toFixed(7)}${vsWeb ? `, cos(ours, bare onnxruntime-web wasm) min ${vsWeb.minCosine.toFixed(7)}` : ''}; ` +
              `transformers.js closer to PyTorch on a text by at most ${worstGap.toExponential(2)}; load ${ms(r.loadMs)} / ${ms(tjs.loadMs)}, embed ${ms(r.embedMs)} / ${ms(tjs.embedMs)} (ours / transformers.js)`,
          );
          const farthest = tjsVsPt ? tjsVsPt.cosines.indexOf(tjsVsPt.minCosine) : -1;
          if (farthest >= 0 && node[farthest]!.truncated && tjsVsPt!.minCosine < vsPt.cosines[farthest]! - TJS_SLACK) {
            notes.push(`${model} ${dtype} ${device}: transformers.js's farthest text (cos ${tjsVsPt!.minCosine.toFixed(4)}) is the one past the model's ${ref.maxTokens} tokens: it cuts at tokenizer_config.json's model_max_length, not at sentence-transformers' max_seq_length`);
          }

          if (!vsWeb) expect(vsNode.minCosine).toBeGreaterThanOrEqual(VS_ORT_COS);
          else if (device === 'wasm') expect(vsWeb.maxAbsDiff).toBeLessThanOrEqual(SAME_RUNTIME_ABS);
          else expect(vsNode.minCosine).toBeGreaterThanOrEqual(DYNAMIC_ACROSS_RUNTIMES_COS);
          for (const [i, gap] of gaps.entries()) expect(gap, `${probe[i]!.text.slice(0, 60)}: transformers.js ahead`).toBeLessThanOrEqual(TJS_SLACK);
          if (dtype === 'fp32') for (const [i, c] of vsPt.cosines.entries()) expect(c, probe[i]!.text.slice(0, 60)).toBeGreaterThanOrEqual(FP32_COS);
          // the texts past the model's maximum were cut, and said so
          expect(r.truncated).toEqual(node.flatMap((o, i) => (o.truncated ? [i] : [])));
        });
      }
    });
  }
}
