/**
 * Page-side helpers for the embedder's lifecycle tests, with the engine in this page (worker:
 * false) so the GPU device can be watched: every buffer created through GPUDevice.createBuffer
 * is tracked until destroy().
 */
import { createEmbedder } from '../../../src/index.ts';
import { fixtureUrl } from './embed.ts';

const live = new Map<GPUBuffer, string>();
let tracking = false;

function track(): void {
  if (tracking) return;
  tracking = true;
  const create = GPUDevice.prototype.createBuffer;
  GPUDevice.prototype.createBuffer = function (this: GPUDevice, desc: GPUBufferDescriptor) {
    const b = create.call(this, desc);
    live.set(b, `${desc.label ?? ''} ${desc.size}`);
    return b;
  };
  const destroy = GPUBuffer.prototype.destroy;
  GPUBuffer.prototype.destroy = function (this: GPUBuffer) {
    live.delete(this);
    return destroy.call(this);
  };
}

export async function lifecycle(name: string, texts: string[]) {
  track();
  const before = new Set(live.keys());
  const e = await createEmbedder({ model: fixtureUrl(name), device: 'webgpu', worker: false });
  await e.embed(texts);
  await e.embed(texts.slice(0, 1));
  const during = [...live.keys()].filter((b) => !before.has(b)).length;
  await e.dispose();
  const left = [...live.entries()].filter(([b]) => !before.has(b)).map(([, l]) => l);
  return { during, left };
}
