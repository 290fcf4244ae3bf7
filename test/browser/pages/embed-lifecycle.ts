/**
 * Page-side helpers for the embedder's lifecycle tests, with the engine in this page (worker:
 * false) so the GPU device can be watched: every buffer created through GPUDevice.createBuffer
 * is tracked until destroy() (gpu-buffers.ts).
 */
import { createEmbedder } from '../../../src/index.ts';
import { fixtureUrl } from './embed.ts';
import { describeBuffer, gpuBufferMark, liveGpuBuffers, trackGpuBuffers } from './gpu-buffers.ts';

export async function lifecycle(name: string, texts: string[]) {
  trackGpuBuffers();
  const mark = gpuBufferMark();
  const e = await createEmbedder({ model: fixtureUrl(name), device: 'webgpu', worker: false });
  await e.embed(texts);
  await e.embed(texts.slice(0, 1));
  const during = liveGpuBuffers(mark).length;
  await e.dispose();
  return { during, left: liveGpuBuffers(mark).map(describeBuffer) };
}

/**
 * ORT's GPU device is destroyed under a live embedder (as a driver reset would): while it is idle,
 * and in the middle of a call. The embedder goes on, on a new device, with the same results.
 */
export async function deviceLost(name: string) {
  // the build WebGPU runs on (JSPI or asyncify: src/runtime/ort.ts), whose device the engine uses
  const ort = await (await import('../../../src/runtime/ort.ts')).runtimeFor('webgpu');
  const destroyDevice = async () => {
    const device = (await ort.env.webgpu.device) as GPUDevice;
    device.destroy();
    await device.lost;
    return device;
  };
  const texts = Array.from({ length: 8 }, (_, i) => `text ${i} about ${'bread '.repeat(i + 1)}`);
  const e = await createEmbedder({ model: fixtureUrl(name), device: 'webgpu', worker: false, limits: { maxBatchSize: 2 } });
  const before = (await e.embed(texts)).map((v) => Array.from(v));

  const first = await destroyDevice();
  const afterIdleLoss = (await e.embed(texts)).map((v) => Array.from(v));
  const second = (await ort.env.webgpu.device) as GPUDevice;

  let midCall: { name: string; message: string } | 'resolved' = 'resolved';
  let batches = 0;
  try {
    await e.embed(texts, { onProgress: (p) => void (p.status === 'embed' && ++batches === 1 && destroyDevice()) });
  } catch (err) {
    midCall = { name: (err as Error).name, message: (err as Error).message };
  }
  const afterMidLoss = (await e.embed(texts)).map((v) => Array.from(v));
  await e.dispose();
  const diff = (a: number[][], b: number[][]) => Math.max(...a.map((v, i) => Math.max(...v.map((x, k) => Math.abs(x - b[i]![k]!)))));
  return { newDevice: first !== second, idleDiff: diff(afterIdleLoss, before), midCall, midDiff: diff(afterMidLoss, before) };
}
