/**
 * Which of a preset's files a device gets (chooseDtype, issue #18): a preset's default never
 * overrides what the device runs (no fp16 / q4f16 on WebGPU without 'shader-f16', none ahead of
 * the int8 / fp32 files on wasm), no multi-GB fp32 where a smaller file runs, and a reason for
 * `info`. Held on every preset and every kind of device, as a table (so a change of preset or of
 * policy shows here) and as invariants; and the loader's path (an engine's dtype order) agrees.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dtypeOrderFor } from '../../src/engine/core.ts';
import { ModelFileNotFoundError } from '../../src/errors.ts';
import { loadModel } from '../../src/models/folder.ts';
import { chooseDtype, chooseDtypeInOrder, dtypePreference, LARGE_FP32_MB, PRESETS, type DtypeDevice, type ModelPreset, type PresetId } from '../../src/models/presets.ts';
import type { FetchFile } from '../../src/io/types.ts';
import type { Dtype } from '../../src/models/types.ts';
import type { BackendChoice } from '../../src/runtime/backend.ts';
import { MODELS } from './helpers/model-folders.ts';

const DEVICES = {
  wasm: { backend: 'wasm', shaderF16: false },
  'webgpu+f16': { backend: 'webgpu', shaderF16: true },
  'webgpu-no-f16': { backend: 'webgpu', shaderF16: false },
} as const satisfies Record<string, DtypeDevice>;
type DeviceKind = keyof typeof DEVICES;
const KINDS = Object.keys(DEVICES) as DeviceKind[];
const F16: Dtype[] = ['fp16', 'q4f16'];

/** The expected choice per preset and device, each for a reason stated in presets.ts. */
const EXPECTED: Record<PresetId, Record<DeviceKind, Dtype>> = {
  // q4f16 is the preset's choice on an f16 GPU; wasm takes int8; without f16, fp32 (2383 MB) is
  // over LARGE_FP32_MB, so the 4-bit MatMulNBits file (914 MB), which WebGPU runs natively
  'qwen3-embedding-0.6b': { wasm: 'q8', 'webgpu+f16': 'q4f16', 'webgpu-no-f16': 'q4' },
  // q4 is the preset's default and runs everywhere (wasm with its 4-bit table rewritten): no fp16 files
  'embeddinggemma-300m': { wasm: 'q4', 'webgpu+f16': 'q4', 'webgpu-no-f16': 'q4' },
  'multilingual-e5-small': { wasm: 'q8', 'webgpu+f16': 'fp16', 'webgpu-no-f16': 'fp32' },
  'multilingual-e5-base': { wasm: 'q8', 'webgpu+f16': 'fp16', 'webgpu-no-f16': 'fp32' },
  // fp32 is 2241 MB with external data: q8 (562 MB) instead, its int8 matmuls on the CPU
  'multilingual-e5-large': { wasm: 'q8', 'webgpu+f16': 'fp16', 'webgpu-no-f16': 'q8' },
  // fp32 is its only file
  'multilingual-e5-large-instruct': { wasm: 'fp32', 'webgpu+f16': 'fp32', 'webgpu-no-f16': 'fp32' },
  'bge-small-en-v1.5': { wasm: 'fp32', 'webgpu+f16': 'fp32', 'webgpu-no-f16': 'fp32' },
  'all-minilm-l6-v2': { wasm: 'fp32', 'webgpu+f16': 'fp32', 'webgpu-no-f16': 'fp32' },
  'qwen3-reranker-0.6b': { wasm: 'q4', 'webgpu+f16': 'q4', 'webgpu-no-f16': 'q4' },
  'bge-reranker-base': { wasm: 'q8', 'webgpu+f16': 'q8', 'webgpu-no-f16': 'q8' },
  'ms-marco-minilm-l-6-v2': { wasm: 'fp32', 'webgpu+f16': 'fp32', 'webgpu-no-f16': 'fp32' },
};

const presetIds = Object.keys(PRESETS) as PresetId[];

describe('chooseDtype on every preset and device', () => {
  it('the table covers every preset', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual([...presetIds].sort());
  });

  describe.each(presetIds)('%s', (id) => {
    const preset = PRESETS[id];
    it.each(KINDS)('on %s', (kind) => {
      const device = DEVICES[kind];
      const { dtype, reason } = chooseDtype(preset, device);
      expect(dtype).toBe(EXPECTED[id][kind]);
      expect(preset.dtypes[dtype], 'a file the preset has').toBeDefined();
      // the reason names the file, its size and the device, for info
      expect(reason.startsWith(`${dtype} (${preset.dtypes[dtype]!.sizeMB} MB) on `)).toBe(true);
      expect(reason).toContain(kind === 'wasm' ? 'wasm' : kind === 'webgpu+f16' ? "WebGPU with 'shader-f16'" : "WebGPU without 'shader-f16'");

      const { preferred } = dtypePreference(device);
      /** the preset's files this device runs natively, best first */
      const others = preferred.filter((d) => preset.dtypes[d]);
      // never a float16 file where the device cannot run it, nor on wasm while another file exists
      if (kind === 'webgpu-no-f16') expect(F16).not.toContain(dtype);
      if (kind === 'wasm' && others.length) expect(F16).not.toContain(dtype);
      // never a multi-GB fp32 where a smaller file runs natively, and then the reason says why
      const fp32 = preset.dtypes.fp32?.sizeMB ?? 0;
      const smaller = others.some((d) => d !== 'fp32' && preset.dtypes[d]!.sizeMB < fp32);
      if (fp32 > LARGE_FP32_MB && smaller) {
        expect(dtype).not.toBe('fp32');
        // where fp32 would have been the pick, the reason says it was too big
        const wouldBeFp32 = preferred.includes(preset.defaultDtype) ? preset.defaultDtype === 'fp32' : others[0] === 'fp32';
        if (wouldBeFp32) expect(reason).toMatch(new RegExp(`fp32(, the preset's default,)? is ${fp32} MB \\(over ${LARGE_FP32_MB}\\)`));
      }
      // the preset's default wins exactly where the device runs it natively (and it is no big fp32)
      const defaultFits = preferred.includes(preset.defaultDtype) && !(preset.defaultDtype === 'fp32' && fp32 > LARGE_FP32_MB && smaller);
      expect(dtype === preset.defaultDtype).toBe(defaultFits);
      if (!preferred.includes(preset.defaultDtype)) expect(reason).toContain(`${preset.defaultDtype}, the preset's default,`);
      // int8 matmuls leave the GPU: said where it happens
      if (device.backend === 'webgpu' && ['q8', 'int8', 'uint8'].includes(dtype)) expect(reason).toContain('run on the CPU beside WebGPU');
    });
  });
});

describe('chooseDtype, the cases no preset has today', () => {
  const base: Omit<ModelPreset, 'dtypes' | 'defaultDtype'> = {
    url: 'https://huggingface.co/x/y/resolve/main/',
    pooling: 'mean',
    normalize: true,
    dimensions: 8,
    maxTokens: 512,
    paddingSide: 'right',
    prompts: {},
  };

  it('fp16 only: WebGPU without f16 cannot run it (the default goes back, reason says why); wasm takes it as the last resort', () => {
    const p: ModelPreset = { ...base, dtypes: { fp16: { sizeMB: 10 } }, defaultDtype: 'fp16' };
    expect(chooseDtype(p, DEVICES['webgpu-no-f16'])).toEqual({
      dtype: 'fp16',
      reason: "none of the folder's files (fp16) runs on WebGPU without 'shader-f16'; trying the preset's default fp16",
    });
    const onWasm = chooseDtype(p, DEVICES.wasm);
    expect(onWasm.dtype).toBe('fp16');
    expect(onWasm.reason).toMatch(/last resort/);
  });

  it('a 3 GB fp32 default with a q8 file: q8 on WebGPU without f16 (CPU matmuls said); alone, fp32 with its size said', () => {
    const withQ8: ModelPreset = { ...base, dtypes: { fp32: { sizeMB: 3000 }, q8: { sizeMB: 750 } }, defaultDtype: 'fp32' };
    const gpu = chooseDtype(withQ8, DEVICES['webgpu-no-f16']);
    expect(gpu.dtype).toBe('q8');
    expect(gpu.reason).toBe(
      "q8 (750 MB) on WebGPU without 'shader-f16': fp32, the preset's default, is 3000 MB (over 2000), so the smaller q8; pass dtype 'fp32' for full precision; " +
        'its int8 matmuls (MatMulInteger) run on the CPU beside WebGPU (info.cpuNodes)',
    );
    const alone: ModelPreset = { ...base, dtypes: { fp32: { sizeMB: 3000 } }, defaultDtype: 'fp32' };
    expect(chooseDtype(alone, DEVICES['webgpu-no-f16'])).toEqual({
      dtype: 'fp32',
      reason: "fp32 (3000 MB) on WebGPU without 'shader-f16': the preset's default; it is 3000 MB and the folder has no smaller file",
    });
  });

  it('an fp32 just under the limit stays fp32', () => {
    const p: ModelPreset = { ...base, dtypes: { fp32: { sizeMB: LARGE_FP32_MB }, q4: { sizeMB: 400 } }, defaultDtype: 'fp32' };
    expect(chooseDtype(p, DEVICES['webgpu-no-f16']).dtype).toBe('fp32');
  });
});

describe("the loader's path: an engine's dtype order", () => {
  const choice = (backend: 'wasm' | 'webgpu', features: string[] = []): BackendChoice => ({ backend, reason: '', adapter: { available: backend === 'webgpu', features } });
  const ORDERS: Record<DeviceKind, Dtype[]> = {
    wasm: dtypeOrderFor(choice('wasm')),
    'webgpu+f16': dtypeOrderFor(choice('webgpu', ['shader-f16'])),
    'webgpu-no-f16': dtypeOrderFor(choice('webgpu')),
  };

  it.each(KINDS)("chooseDtypeInOrder on the engine's %s order picks what chooseDtype picks for that device, for every preset", (kind) => {
    for (const id of presetIds) expect(chooseDtypeInOrder(PRESETS[id], ORDERS[kind]).dtype, id).toBe(EXPECTED[id][kind]);
  });

  /**
   * loadModel on a preset with an order reads the chosen file: the preset's folder is served from
   * a fixture (every onnx/model*.onnx answered with the fixture's graph), and the first ONNX file
   * asked for is the choice. Before issue #18 the e5 preset's fp16 won on wasm and Qwen3's 2.3 GB
   * fp32 on a GPU without f16.
   */
  async function firstOnnx(id: PresetId, fixture: string, order?: Dtype[]): Promise<string> {
    const base = PRESETS[id].url;
    const asked: string[] = [];
    const fetchFile: FetchFile = async (url) => {
      const rel = url.slice(base.length);
      asked.push(rel);
      const onDisk = /^onnx\/model[^/]*\.onnx$/.test(rel) ? 'onnx/model.onnx' : rel;
      try {
        return new Uint8Array(readFileSync(join(MODELS, fixture, onDisk)));
      } catch {
        throw new ModelFileNotFoundError(`${url} not found`, url);
      }
    };
    const model = await loadModel(id, { fetchFile, ...(order ? { dtypeOrder: order } : {}) });
    expect(model.spec.onnxFile).toBe(asked.find((f) => f.startsWith('onnx/')));
    return model.spec.onnxFile;
  }

  it("multilingual-e5-small: q8 on wasm (not the preset's fp16), fp16 on an f16 GPU, fp32 without f16", async () => {
    expect(await firstOnnx('multilingual-e5-small', 'tiny-e5', ORDERS.wasm)).toBe('onnx/model_quantized.onnx');
    expect(await firstOnnx('multilingual-e5-small', 'tiny-e5', ORDERS['webgpu+f16'])).toBe('onnx/model_fp16.onnx');
    expect(await firstOnnx('multilingual-e5-small', 'tiny-e5', ORDERS['webgpu-no-f16'])).toBe('onnx/model.onnx');
  });

  it('qwen3-embedding-0.6b: the 4-bit q4 file on a GPU without f16, not the 2.3 GB fp32', async () => {
    expect(await firstOnnx('qwen3-embedding-0.6b', 'tiny-qwen3-embedding', ORDERS['webgpu-no-f16'])).toBe('onnx/model_q4.onnx');
  });

  it('without an order (no device known) the preset default is read, as before', async () => {
    expect(await firstOnnx('multilingual-e5-small', 'tiny-e5')).toBe('onnx/model_fp16.onnx');
  });
});
