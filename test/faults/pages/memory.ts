/**
 * Page side of the memory faults: the engine in this page (worker: false) on WebGPU, so every
 * GPUBuffer it (and onnxruntime-web) creates can be counted until destroyed, and the page's JS heap
 * read after a forced GC (Chromium started with --js-flags=--expose-gc and
 * --enable-precise-memory-info).
 */
import * as lib from '../../../src/index.ts';
import { bufferBytes, liveGpuBuffers, trackGpuBuffers } from '../../browser/pages/gpu-buffers.ts';
import { fixtureUrl } from './common.ts';

/** Live GPU buffers (neither destroyed nor garbage-collected: WebGPU frees those too), their bytes, and who made them. */
function liveBuffers(): { count: number; bytes: number; large: Record<string, number>; bytesBy: Record<string, number> } {
  const buffers = liveGpuBuffers();
  const large: Record<string, number> = {};
  const bytesBy: Record<string, number> = {};
  for (const b of buffers) {
    bytesBy[b.by] = (bytesBy[b.by] ?? 0) + b.size;
    if (b.size > 1 << 20) large[b.by] = (large[b.by] ?? 0) + 1;
  }
  return { count: buffers.length, bytes: bufferBytes(buffers), large, bytesBy };
}

export interface Sample {
  /** calls (or cycles) done */
  at: number;
  gpuBuffers: number;
  gpuBytes: number;
  /** usedJSHeapSize after a forced GC */
  heapBytes: number;
  /** live buffers over 1 MiB by who created them */
  large: Record<string, number>;
  /** bytes of live buffers by who created them */
  bytesBy: Record<string, number>;
}

async function sample(at: number): Promise<Sample> {
  const g = (globalThis as { gc?: () => void }).gc;
  if (!g) throw new Error('no gc(): start Chromium with --js-flags=--expose-gc');
  // a few rounds: finalizers and the microtasks they release
  for (let i = 0; i < 3; i++) {
    g();
    await new Promise((r) => setTimeout(r, 20));
  }
  const heap = (performance as unknown as { memory: { usedJSHeapSize: number } }).memory.usedJSHeapSize;
  const { count, bytes, large, bytesBy } = liveBuffers();
  return { at, gpuBuffers: count, gpuBytes: bytes, heapBytes: heap, large, bytesBy };
}

/** Texts of one shape (eight words each): after the first call, no new shape to compile shaders for. */
const WORDS = 'bread butter planet orbit river bridge piano garden winter market coffee forest'.split(' ');
const same = (i: number) => [0, 1].map((k) => Array.from({ length: 8 }, (_, j) => WORDS[(i * 7 + k * 3 + j * 5) % WORDS.length]).join(' '));

let anchor: lib.Embedder | undefined;
let before: Sample | undefined;

/**
 * `calls` embed() calls on one embedder (glove-sif on WebGPU, texts of one shape), sampled every
 * `every` calls. The embedder stays for the cycles after (so ORT's WebGPU context and its device
 * stay too), and is disposed by `finish`.
 */
export async function embedLoop(calls: number, every: number): Promise<{ samples: Sample[]; ms: number; device: string; before: Sample }> {
  // held weakly: a strong reference here would itself keep buffers that their owner dropped
  trackGpuBuffers('weak');
  before = await sample(0);
  anchor = await lib.createEmbedder({ model: fixtureUrl('glove-sif'), device: 'webgpu', worker: false });
  const e = anchor;
  const samples: Sample[] = [];
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) {
    await e.embed(same(i));
    if ((i + 1) % every === 0) samples.push(await sample(i + 1));
  }
  return { samples, ms: performance.now() - t0, device: e.info.device, before };
}

/** `n` createEmbedder → embed → dispose cycles (the model from the weight cache) beside the first embedder, sampled every `every`. */
export async function cycles(n: number, every: number): Promise<{ samples: Sample[]; ms: number }> {
  const samples: Sample[] = [await sample(0)];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const e = await lib.createEmbedder({ model: fixtureUrl('glove-sif'), device: 'webgpu', worker: false });
    await e.embed(same(i));
    await e.dispose();
    if ((i + 1) % every === 0) samples.push(await sample(i + 1));
  }
  return { samples, ms: performance.now() - t0 };
}

/** Disposes the first embedder: every GPU buffer made since `embedLoop` began must be gone. */
export async function finish(): Promise<{ before: Sample; after: Sample }> {
  await anchor?.dispose();
  anchor = undefined;
  return { before: before!, after: await sample(-1) };
}
