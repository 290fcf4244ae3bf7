/**
 * Nodes that onnxruntime-web's WebGPU provider has no kernel for (src/runtime/webgpu-ops.ts),
 * held against ORT 1.30's own placement log in Chromium: every op of the list lands on the CPU and
 * ~70 ops of transformer text models on WebGPU; an embedder on WebGPU names the CPU nodes of a
 * dynamic-int8 encoder in info.cpuNodes and a warning, exactly as ORT places them, and its vectors
 * still equal onnxruntime-node's; the fixture models have none.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import * as ortNode from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { readGraph } from '../../src/models/onnx/onnx-graph.ts';
import { maskedMeanPool } from '../../src/reference/masked-mean.ts';
import { CPU_ONLY_OPS, cpuOnlyNodes, ORT_WEB_VERSION } from '../../src/runtime/webgpu-ops.ts';
import { REPO_ROOT, useBrowser } from './harness/index.ts';
import { opProbes, QUANTIZED_ENCODER as FOLDER, writeQuantizedEncoderFolder } from './op-probes.ts';
import { l2normalize, MODELS_DIR } from './oracle.ts';
import type { LoadCheckRun } from './pages/load-checks.ts';
import type { ModelPlacement } from './pages/placement.ts';

const ctx = useBrowser();
const PLACEMENT = '/test/browser/pages/placement.ts';
const CPU = 'CPUExecutionProvider';
const GPU = 'WebGpuExecutionProvider';
const TEXTS = ['a quantized encoder on the GPU', 'two nodes of it run on the CPU', 'hello'];

const label = (domain: string, op: string) => `${domain || 'ai.onnx'}:${op}`;
const bytesOf = (b: Uint8Array) => Array.from(b);
/** The provider of each node of a placement (one provider for all when ORT printed "All nodes placed"). */
const placedOn = (p: ModelPlacement) => (p.allOn ? [{ ep: p.allOn, name: '*', op: '*' }] : p.nodes.filter((n) => !n.op.startsWith('Memcpy')));

let encoder: Uint8Array;
beforeAll(() => {
  encoder = writeQuantizedEncoderFolder();
});

describe(`the ops onnxruntime-web ${ORT_WEB_VERSION}'s WebGPU provider lacks`, () => {
  it('the list is for the onnxruntime-web in node_modules', () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', 'onnxruntime-web', 'package.json'), 'utf8')) as { version: string };
    expect(pkg.version).toBe(ORT_WEB_VERSION);
  });

  it("ORT's placement log puts every op of the list on the CPU, and every other probed op on WebGPU", async () => {
    const probes = opProbes();
    const placed = await ctx.call<ModelPlacement[]>(PLACEMENT, 'placeModels', probes.map((p) => ({ label: label(p.domain, p.op), bytes: bytesOf(p.bytes) })));
    const wrong: string[] = [];
    probes.forEach((p, i) => {
      const r = placed[i]!;
      const want = CPU_ONLY_OPS[p.domain]?.includes(p.op) ? CPU : GPU;
      const got = r.error ? `error: ${r.error}` : [...new Set(placedOn(r).map((n) => n.ep))].join('+');
      if (got !== want) wrong.push(`${r.label}: ORT placed it on ${got}, the list says ${want}`);
    });
    console.log(`${probes.length} ops probed: ${probes.filter((p) => CPU_ONLY_OPS[p.domain]?.includes(p.op)).length} on the CPU as listed, the rest on WebGPU`);
    expect(wrong).toEqual([]);
    // every entry of the list was asked about
    for (const [domain, ops] of Object.entries(CPU_ONLY_OPS)) for (const op of ops) expect(probes.some((p) => p.domain === domain && p.op === op), label(domain, op)).toBe(true);
  });

  it('an embedder on WebGPU names the CPU nodes of a dynamic-int8 encoder, as ORT places them, warns once, and embeds right', async () => {
    // One text per batch: dynamic quantization takes one scale per tensor, so a text's vector depends
    // on what shares its batch, and the oracle runs each text alone.
    const create = { model: ctx.server.url(FOLDER), device: 'webgpu', cache: false, limits: { maxBatchSize: 1 } };
    const run = await ctx.call<LoadCheckRun>('/test/browser/pages/load-checks.ts', 'embedWithWarnings', create, TEXTS);
    expect(run.error).toBeUndefined();
    expect(run.info!.device).toBe('webgpu');
    expect(run.info!.cpuNodes).toEqual([
      { name: 'layer0/quantize_input', op: 'DynamicQuantizeLinear', domain: '' },
      { name: 'layer0/matmul_int8', op: 'MatMulInteger', domain: '' },
    ]);
    expect(run.warnings).toHaveLength(1);
    expect(run.warnings[0]).toMatchObject({ status: 'warning', name: create.model, code: 'cpu-nodes' });
    expect(run.warnings[0]!.message).toMatch(/^2 nodes of this model run on the CPU, not on WebGPU: onnxruntime-web 1\.30\.0's WebGPU provider has no kernel for DynamicQuantizeLinear, MatMulInteger \('layer0\/quantize_input', 'layer0\/matmul_int8'\)\..*dtype 'fp32', 'fp16', 'q4' or 'q4f16'/);

    // ORT's own placement of the same file, as written (the names info gives) and optimized (what runs)
    const [asWritten, optimized] = [
      ...(await ctx.call<ModelPlacement[]>(PLACEMENT, 'placeModels', [{ label: 'as written', url: ctx.server.url(FOLDER + 'onnx/model.onnx') }], false)),
      ...(await ctx.call<ModelPlacement[]>(PLACEMENT, 'placeModels', [{ label: 'optimized', url: ctx.server.url(FOLDER + 'onnx/model.onnx') }], true)),
    ];
    const onCpu = (p: ModelPlacement) => placedOn(p).filter((n) => n.ep === CPU).map((n) => `${n.op} (${n.name})`);
    expect(onCpu(asWritten!)).toEqual(['DynamicQuantizeLinear (layer0/quantize_input)', 'MatMulInteger (layer0/matmul_int8)']);
    expect(placedOn(asWritten!).find((n) => n.op === 'MatMulBnb4')?.ep).toBe(GPU);
    console.log(`optimized (graphOptimizationLevel 'all'), on the CPU: ${onCpu(optimized!).join(', ') || 'none'}`);
    expect(onCpu(optimized!).length).toBeGreaterThan(0);

    // the vectors: onnxruntime-node on the same file, mean-pooled and normalized on the CPU
    const tok = new Tokenizer(JSON.parse(readFileSync(join(MODELS_DIR, 'tiny-e5', 'tokenizer.json'), 'utf8')), JSON.parse(readFileSync(join(MODELS_DIR, 'tiny-e5', 'tokenizer_config.json'), 'utf8')));
    const session = await ortNode.InferenceSession.create(encoder);
    try {
      for (const [i, text] of TEXTS.entries()) {
        const ids = tok.encode(text).ids;
        const t = (v: number[]) => new ortNode.Tensor('int64', BigInt64Array.from(v.map(BigInt)), [1, v.length]);
        const h = (await session.run({ input_ids: t(ids), attention_mask: t(ids.map(() => 1)) })).last_hidden_state!;
        const want = l2normalize(maskedMeanPool(h.data as Float32Array, new Float32Array(ids.length).fill(1), 1, ids.length, 16));
        const diff = Math.max(...run.vectors![i]!.map((x, k) => Math.abs(x - want[k]!)));
        expect(diff, text).toBeLessThanOrEqual(1e-5);
      }
    } finally {
      await session.release();
    }
  });

  it('the fixture models have no such node, and ORT puts none of the listed ops of theirs on the CPU', async () => {
    const names = ['tiny-e5', 'tiny-qwen3-embedding', 'tiny-cross-encoder', 'glove-sif'];
    for (const n of names) expect(cpuOnlyNodes(readGraph(new Uint8Array(readFileSync(join(MODELS_DIR, n, 'onnx', 'model.onnx'))))), n).toEqual([]);
    const placed = await ctx.call<ModelPlacement[]>(PLACEMENT, 'placeModels', names.map((n) => ({ label: n, url: ctx.server.url(`/test/fixtures/models/${n}/onnx/model.onnx`) })), true);
    for (const p of placed) {
      expect(p.error, p.label).toBeUndefined();
      const listed = placedOn(p).filter((n) => n.ep === CPU && Object.values(CPU_ONLY_OPS).some((ops) => ops.includes(n.op)));
      expect(listed, p.label).toEqual([]);
    }
  });
});
