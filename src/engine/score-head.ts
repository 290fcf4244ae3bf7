/**
 * The reranker's head on the GPU: ORT's logits buffer is read in place by the yes/no score kernel
 * and one f32 per document comes back (4 bytes per document, whatever the vocabulary). Scratch
 * buffers are kept between batches and grown when a batch needs more; destroy() frees them all.
 */
import { beginEncoding, submit } from '../gpu/encode.ts';
import { encodeYesNoScore } from '../gpu/yes-no-score.ts';

export interface ScoreRun {
  /** ORT's logits buffer, [batch, tokens, vocab] (it may be larger than that) */
  logits: GPUBuffer;
  logitsType: 'float32' | 'float16';
  /** [batch * tokens]: non-zero at real tokens */
  mask: Float32Array;
  batch: number;
  tokens: number;
  vocab: number;
  yes: number;
  no?: number;
}

const storageUsage = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

export class GpuScoreHead {
  private readonly scratch = new Map<string, GPUBuffer>();
  /** bytes read back by the last run: batch × 4 */
  lastReadbackBytes = 0;

  constructor(readonly device: GPUDevice) {}

  get liveBuffers(): number {
    return this.scratch.size;
  }

  private buffer(name: string, bytes: number, usage: number): GPUBuffer {
    const have = this.scratch.get(name);
    if (have && have.size >= bytes) return have;
    have?.destroy();
    const made = this.device.createBuffer({ label: `webgpu-embed rerank ${name}`, size: Math.max(256, 2 ** Math.ceil(Math.log2(bytes))), usage });
    this.scratch.set(name, made);
    return made;
  }

  async run(r: ScoreRun): Promise<Float32Array> {
    const mask = this.buffer('mask', r.mask.byteLength, storageUsage());
    this.device.queue.writeBuffer(mask, 0, r.mask.buffer, r.mask.byteOffset, r.mask.byteLength);
    const scores = this.buffer('scores', r.batch * 4, storageUsage());
    const enc = beginEncoding(this.device, 'webgpu-embed rerank head');
    encodeYesNoScore(enc, { logits: r.logits, logitsType: r.logitsType, mask, scores, batch: r.batch, tokens: r.tokens, vocab: r.vocab, yes: r.yes, ...(r.no !== undefined ? { no: r.no } : {}) });
    const bytes = r.batch * 4;
    const staging = this.buffer('staging', bytes, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
    enc.encoder.copyBufferToBuffer(scores, 0, staging, 0, bytes);
    await submit(enc);
    await staging.mapAsync(GPUMapMode.READ, 0, bytes);
    const out = new Float32Array(staging.getMappedRange(0, bytes).slice(0));
    staging.unmap();
    this.lastReadbackBytes = bytes;
    return out;
  }

  destroy(): void {
    for (const b of this.scratch.values()) b.destroy();
    this.scratch.clear();
  }
}
