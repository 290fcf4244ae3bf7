/**
 * device 'cpu': onnxruntime-node (the optional native runtime) runs the same model files as the wasm
 * path, in Node, and gives the same vectors and scores: the real all-MiniLM-L6-v2 (fp32), and the
 * zoo's real-layout exports — embeddinggemma-shape (external data, the dynamic int8 q8 file and the
 * GatherBlockQuantized q4 file) and qwen3-reranker-gqa-shape (onnxruntime-genai's
 * GroupQueryAttention graph). The oracle is the wasm path of the same library on the same files,
 * itself held to PyTorch and onnxruntime-node by the fixture and zoo tests. Without the package,
 * 'cpu' runs on wasm and says why.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createEmbedder, createReranker } from '../../src/index.ts';
import { chooseBackend } from '../../src/runtime/backend.ts';
import { importNative } from '../../src/runtime/native-ort.ts';
import { startServer, type TestServer } from './helpers/model-folders.ts';
import { cosine, maxAbs, serveZoo, zooHas, type ZooServer } from './helpers/zoo-decoders.ts';

const TEXTS = [
  'A man is eating food.',
  'The new movie is awesome, and the popcorn was fine too; we stayed for the credits and argued about the ending for an hour.',
  'x',
  'Paris is the capital of France. '.repeat(12),
  'Ein Mann isst Essen.',
];

let server: TestServer;
let zoo: ZooServer | undefined;
beforeAll(async () => {
  server = await startServer();
  if (zooHas('embeddinggemma-shape') || zooHas('qwen3-reranker-gqa-shape')) zoo = await serveZoo();
});
afterAll(async () => {
  await server?.close();
  await zoo?.close();
});

async function vectorsOn(device: 'cpu' | 'wasm', model: string, dtype?: 'q8' | 'q4' | 'fp32') {
  const embedder = await createEmbedder({ model, worker: false, device, ...(dtype ? { dtype } : {}) });
  try {
    const vectors = await embedder.embed(TEXTS);
    const alone = await embedder.embed([TEXTS[1]!]);
    return { vectors, alone: alone[0]!, info: embedder.info };
  } finally {
    await embedder.dispose();
  }
}

function expectSame(a: readonly Float32Array[], b: readonly Float32Array[], abs: number) {
  expect(a.length).toBe(b.length);
  a.forEach((v, i) => {
    expect(cosine(v, b[i]!)).toBeGreaterThan(1 - 1e-9);
    expect(maxAbs(v, b[i]!)).toBeLessThan(abs);
  });
}

describe("device 'cpu' (onnxruntime-node)", () => {
  it('says which runtime it took, and why', async () => {
    const choice = await chooseBackend('cpu');
    expect(choice).toMatchObject({ backend: 'cpu', reason: "device 'cpu' was requested: onnxruntime-node" });
  });

  it('without the package: wasm, with the reason and what to install', async () => {
    const missing = Object.assign(new Error("Cannot find package 'onnxruntime-node'"), { code: 'ERR_MODULE_NOT_FOUND' });
    expect(await importNative(() => Promise.reject(missing))).toEqual({ error: 'onnxruntime-node is not installed (npm i onnxruntime-node)' });
    expect(await importNative(() => Promise.reject(new Error('libonnxruntime.so.1: cannot open shared object file')))).toEqual({
      error: 'onnxruntime-node could not be loaded: libonnxruntime.so.1: cannot open shared object file',
    });
    expect(await importNative(() => Promise.resolve({ default: {} }))).toEqual({ error: 'onnxruntime-node loaded but exports no InferenceSession' });
    // a page (or its worker) never tries the import: 'cpu' is wasm there
    let tried = false;
    vi.stubGlobal('window', {});
    try {
      expect(await importNative(() => ((tried = true), Promise.resolve({})))).toEqual({ error: 'onnxruntime-node runs only in Node' });
    } finally {
      vi.unstubAllGlobals();
    }
    expect(tried).toBe(false);
  });

  it('all-MiniLM-L6-v2 (real weights, fp32): the wasm vectors, batched and alone', async () => {
    const model = server.folder('all-minilm-l6-v2');
    const cpu = await vectorsOn('cpu', model);
    const wasm = await vectorsOn('wasm', model);
    expect(cpu.info.device).toBe('cpu');
    expect(cpu.info.deviceReason).toMatch(/onnxruntime-node/);
    expect(wasm.info.device).toBe('wasm');
    expectSame(cpu.vectors, wasm.vectors, 1e-6);
    expectSame([cpu.alone], [cpu.vectors[1]!], 1e-6);
  }, 120_000);

  it.runIf(zooHas('embeddinggemma-shape'))('embeddinggemma-shape: external data, q8 and the GatherBlockQuantized q4 file give the wasm vectors', async () => {
    const model = zoo!.folder('embeddinggemma-shape');
    // measured here: ≤ 1.7e-7 apart at every dtype (q8: ≤ 1.5e-8)
    for (const dtype of ['fp32', 'q8', 'q4'] as const) {
      const cpu = await vectorsOn('cpu', model, dtype);
      const wasm = await vectorsOn('wasm', model, dtype);
      expect(cpu.info).toMatchObject({ device: 'cpu', dtype });
      expectSame(cpu.vectors, wasm.vectors, 1e-6);
    }
  }, 300_000);

  it.runIf(zooHas('qwen3-reranker-gqa-shape'))('qwen3-reranker-gqa-shape (GroupQueryAttention, right-padded): the wasm scores', async () => {
    const model = zoo!.folder('qwen3-reranker-gqa-shape');
    const scores = async (device: 'cpu' | 'wasm') => {
      const reranker = await createReranker({ model, worker: false, device, dtype: 'fp32' });
      try {
        expect(reranker.info.device).toBe(device);
        return (await reranker.rerank('what is the capital of France?', TEXTS)).sort((a, b) => a.index - b.index).map((r) => r.score);
      } finally {
        await reranker.dispose();
      }
    };
    const cpu = await scores('cpu');
    const wasm = await scores('wasm');
    expect(maxAbs(cpu, wasm)).toBeLessThan(2e-6); // measured: 4.2e-7
  }, 300_000);
});
