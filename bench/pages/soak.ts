/**
 * Page side of bench/embed-soak.ts: what embed() costs the page over many batches.
 *  - readback: bytes read back per batch, from the engine's stats (B × dimensions × 4 expected);
 *  - GPU memory: the engine in this page (worker: false) with every GPUDevice.createBuffer /
 *    destroy counted, sampled every 100 batches over 1,000 batches;
 *  - main thread: long tasks (> 50 ms, PerformanceObserver) while the worker embeds 1,000 texts.
 */
import { createEmbedder } from '../../src/index.ts';
// served by the test server (repo root), as every bench page: the test pages' buffer tracker serves here too
import { bufferBytes, gpuBufferMark, liveGpuBuffers, trackGpuBuffers } from '../../test/browser/pages/gpu-buffers.ts';

const WORDS = 'the of and to in a is that for it as was with be by on not he this are or his from at which but have an they you were her she there been one all would their we him when who will more no if out so said what up its about than into them can only other new some could time these two may then do first any my now such like our over man me even most made after also did many before must through back years where much your way well down should because each just those people how too little state good very make world still see own men work long get here between both life being under never day same another know while last might us great old year off come since against go came right used take three'.split(' ');

function corpus(n: number, seed = 1): string[] {
  let s = seed;
  const next = () => (s = (s * 1103515245 + 12345) % 2 ** 31);
  return Array.from({ length: n }, () => Array.from({ length: 4 + (next() % 60) }, () => WORDS[next() % WORDS.length]).join(' '));
}

export interface SoakResult {
  model: string;
  readback: { batch: number; dimensions: number; bytes: number; expected: number }[];
  gpu: { batches: number; liveBuffers: number; liveBytes: number }[];
  mainThread: { texts: number; ms: number; longTasks: number; longestMs: number };
}

export async function soak(modelUrl: string, model: string, batches = 1000, perBatch = 4): Promise<SoakResult> {
  // readback, through the worker
  const w = await createEmbedder({ model: modelUrl, device: 'webgpu' });
  const readback = [];
  const full = w.info.dimensions;
  for (const [batch, dims] of [[1, full], [8, full], [32, full]] as const) {
    await w.embed(corpus(batch, batch), { dimensions: dims });
    readback.push({ batch, dimensions: dims, bytes: (await w.stats()).lastReadbackBytes, expected: batch * dims * 4 });
  }

  // main thread while the worker embeds 1,000 texts
  const long: number[] = [];
  const observer = new PerformanceObserver((list) => list.getEntries().forEach((e) => long.push(e.duration)));
  observer.observe({ type: 'longtask', buffered: false });
  const t0 = performance.now();
  await w.embed(corpus(1000, 7));
  const ms = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 100));
  observer.disconnect();
  await w.dispose();

  // GPU memory over many batches, engine in this page
  trackGpuBuffers();
  const mark = gpuBufferMark();
  const e = await createEmbedder({ model: modelUrl, device: 'webgpu', worker: false });
  const gpu: SoakResult['gpu'] = [];
  const alive = (batches: number) => {
    const mine = liveGpuBuffers(mark);
    gpu.push({ batches, liveBuffers: mine.length, liveBytes: bufferBytes(mine) });
  };
  for (let i = 1; i <= batches; i++) {
    await e.embed(corpus(perBatch, i));
    if (i === 1 || i % 100 === 0) alive(i);
  }
  await e.dispose();
  alive(-1);
  return { model, readback, gpu, mainThread: { texts: 1000, ms, longTasks: long.length, longestMs: Math.max(0, ...long) } };
}
