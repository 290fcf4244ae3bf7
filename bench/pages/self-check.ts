/**
 * Page side of bench/self-check.ts: one load on WebGPU with the engine in this page (so the wasm
 * heap can be watched), timed to createEmbedder() resolved and to the first vectors, with the
 * size of onnxruntime's wasm memory afterwards. A WebAssembly.Memory only grows, so its size after
 * the load is the load's peak.
 */
import { createEmbedder, type SelfCheckInfo, type SelfCheckOption } from '../../src/index.ts';

const memories: WebAssembly.Memory[] = [];
// onnxruntime-web's threaded build makes its memory with `new WebAssembly.Memory(...)`: count it.
WebAssembly.Memory = new Proxy(WebAssembly.Memory, {
  construct(target, args: [WebAssembly.MemoryDescriptor]) {
    const m = Reflect.construct(target, args) as WebAssembly.Memory;
    memories.push(m);
    return m;
  },
});

export interface SelfCheckLoad {
  createMs: number;
  firstEmbeddingMs: number;
  /** bytes of onnxruntime's wasm memory after the first embedding */
  wasmBytes: number;
  selfCheck: SelfCheckInfo;
}

export async function timeLoad(model: string, selfCheck: SelfCheckOption): Promise<SelfCheckLoad> {
  const t0 = performance.now();
  const e = await createEmbedder({ model, device: 'webgpu', worker: false, cache: false, selfCheck });
  const createMs = performance.now() - t0;
  await e.embed(['the first embedding after a load']);
  const firstEmbeddingMs = performance.now() - t0;
  const wasmBytes = memories.reduce((n, m) => n + m.buffer.byteLength, 0);
  await e.dispose();
  return { createMs, firstEmbeddingMs, wasmBytes, selfCheck: e.info.selfCheck };
}
