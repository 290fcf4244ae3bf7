/**
 * The load checks' plain logic in Node: which nodes of an ONNX graph the WebGPU provider leaves
 * to the CPU (read without decoding initializers) and the warning that names them; when the
 * self-check runs, and what its option accepts. Their browser sides: test/browser/webgpu-ops.test.ts
 * and self-check.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkSelfCheckOption, selfCheckPlan } from '../../src/engine/self-check.ts';
import { cpuNodesWarning } from '../../src/engine/warnings.ts';
import { readGraph } from '../../src/models/onnx/onnx-graph.ts';
import { cpuOnlyNodes } from '../../src/runtime/webgpu-ops.ts';
import { probe, quantizedEncoderOnnx } from '../browser/op-probes.ts';
import { MODELS } from './helpers/model-folders.ts';

describe('nodes without a WebGPU kernel', () => {
  it('a dynamic-int8 encoder: its DynamicQuantizeLinear and MatMulInteger nodes, by name, and not its MatMulBnb4', () => {
    const bytes = quantizedEncoderOnnx(64);
    expect(cpuOnlyNodes(readGraph(bytes))).toEqual([
      { name: 'layer0/quantize_input', op: 'DynamicQuantizeLinear', domain: '' },
      { name: 'layer0/matmul_int8', op: 'MatMulInteger', domain: '' },
    ]);
    const { nodes, opsets } = readGraph(bytes);
    expect(nodes.map((n) => n.opType)).toEqual(['Gather', 'DynamicQuantizeLinear', 'MatMulInteger', 'Cast', 'Mul', 'Mul', 'MatMulBnb4']);
    expect(Object.fromEntries(opsets)).toEqual({ '': 17, 'com.microsoft': 1 });
  });

  it('a com.microsoft op of the list, and any op of a domain without WebGPU kernels (ai.onnx.ml); not the ops that run there', () => {
    expect(cpuOnlyNodes(readGraph(probe('FusedMatMul', { domain: 'com.microsoft' }).bytes))).toEqual([{ name: 'FusedMatMul_probe', op: 'FusedMatMul', domain: 'com.microsoft' }]);
    expect(cpuOnlyNodes(readGraph(probe('Normalizer', { domain: 'ai.onnx.ml', attrs: { norm: 'L2' } }).bytes))).toEqual([{ name: 'Normalizer_probe', op: 'Normalizer', domain: 'ai.onnx.ml' }]);
    expect(cpuOnlyNodes(readGraph(probe('QuickGelu', { domain: 'com.microsoft' }).bytes))).toEqual([]);
    expect(cpuOnlyNodes(readGraph(probe('Softmax', {}).bytes))).toEqual([]);
  });

  it('the fixture models have none', () => {
    for (const name of ['tiny-e5', 'minilm-shape', 'tiny-qwen3-embedding', 'tiny-nv-embed', 'tiny-cross-encoder', 'glove-sif', 'glove-maxsim']) {
      expect(cpuOnlyNodes(readGraph(new Uint8Array(readFileSync(join(MODELS, name, 'onnx', 'model.onnx'))))), name).toEqual([]);
    }
  });

  it('the warning names the ops and the first three nodes, and says what to use instead', () => {
    expect(cpuNodesWarning(undefined)).toBeUndefined();
    expect(cpuNodesWarning([])).toBeUndefined();
    const int8 = cpuNodesWarning(cpuOnlyNodes(readGraph(quantizedEncoderOnnx(64))))!;
    expect(int8).toMatchObject({ status: 'warning', code: 'cpu-nodes' });
    expect(int8.message).toMatch(/dtype 'q8', 'int8' or 'uint8'\): on WebGPU use dtype 'fp32', 'fp16', 'q4' or 'q4f16'\.$/);
    const many = cpuNodesWarning(['a', 'b', 'c', 'd', 'e'].map((name) => ({ name, op: 'EmbedLayerNormalization', domain: 'com.microsoft' })))!;
    expect(many.message).toBe(
      "5 nodes of this model run on the CPU, not on WebGPU: onnxruntime-web 1.30.0's WebGPU provider has no kernel for com.microsoft.EmbedLayerNormalization " +
        "('a', 'b', 'c', … (5 in all, info.cpuNodes)). The results are right, but each such node copies its tensors between the GPU and the CPU. " +
        "On WebGPU, prefer an export without these ops, or device 'wasm'.",
    );
  });
});

describe('when the self-check runs', () => {
  it('by default for every dtype but fp32 on WebGPU, with the fallback action', () => {
    for (const dtype of ['fp16', 'q8', 'int8', 'uint8', 'q4', 'q4f16', 'bnb4'] as const) expect(selfCheckPlan(undefined, 'webgpu', dtype)).toEqual({ mode: 'fallback' });
    expect(selfCheckPlan(undefined, 'webgpu', 'fp32')).toEqual({ skip: expect.stringMatching(/off by default for fp32/) as unknown });
  });

  it('a GroupQueryAttention graph is checked by default at every dtype, fp32 included (its WebGPU kernel is wrong past 32 tokens here)', () => {
    const gqa = { groupQueryAttention: true };
    for (const dtype of ['fp32', 'fp16', 'q8', 'q4'] as const) expect(selfCheckPlan(undefined, 'webgpu', dtype, gqa)).toEqual({ mode: 'fallback' });
    expect(selfCheckPlan(false, 'webgpu', 'fp32', gqa)).toEqual({ skip: 'selfCheck: false' });
    expect(selfCheckPlan(undefined, 'wasm', 'fp32', gqa)).toEqual({ skip: 'the model runs on wasm, the path the check compares with' });
    expect(selfCheckPlan(undefined, 'webgpu', 'fp32', { groupQueryAttention: false })).toEqual({ skip: expect.stringMatching(/off by default for fp32/) as unknown });
  });

  it('an explicit action runs it for fp32 too; false never runs it; on wasm there is nothing to compare', () => {
    expect(selfCheckPlan('warn', 'webgpu', 'fp32')).toEqual({ mode: 'warn' });
    expect(selfCheckPlan('error', 'webgpu', 'q4')).toEqual({ mode: 'error' });
    expect(selfCheckPlan(false, 'webgpu', 'q4')).toEqual({ skip: 'selfCheck: false' });
    expect(selfCheckPlan('error', 'wasm', 'q4')).toEqual({ skip: 'the model runs on wasm, the path the check compares with' });
  });

  it('the option takes its three actions and false; anything else is a RangeError naming them', () => {
    for (const ok of [undefined, false, 'fallback', 'error', 'warn']) expect(() => checkSelfCheckOption(ok)).not.toThrow();
    for (const bad of [true, 'on', 0, null]) expect(() => checkSelfCheckOption(bad)).toThrow(RangeError);
  });
});
