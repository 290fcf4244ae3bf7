/**
 * The reranker's head on the GPU: ORT's logits buffer is read in place by the yes/no score kernel
 * and one f32 per document comes back (4 bytes per document, whatever the vocabulary). Scratch
 * buffers are kept between batches in a pool (src/gpu/scratch.ts) and grown when a batch needs
 * more; destroy() frees them all.
 */
import { beginEncoding } from '../gpu/encode.ts';
import { ScratchHead } from '../gpu/scratch.ts';
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

/** lastReadbackBytes: batch × 4 */
export class GpuScoreHead extends ScratchHead {
  constructor(device: GPUDevice) {
    super(device, 'webgpu-embed rerank');
  }

  async run(r: ScoreRun): Promise<Float32Array> {
    const mask = this.scratch.storage('mask', r.mask.byteLength);
    this.device.queue.writeBuffer(mask, 0, r.mask.buffer, r.mask.byteOffset, r.mask.byteLength);
    const scores = this.scratch.storage('scores', r.batch * 4);
    const enc = beginEncoding(this.device, 'webgpu-embed rerank head');
    encodeYesNoScore(enc, { logits: r.logits, logitsType: r.logitsType, mask, scores, batch: r.batch, tokens: r.tokens, vocab: r.vocab, yes: r.yes, ...(r.no !== undefined ? { no: r.no } : {}) });
    return new Float32Array(await this.scratch.readBack(enc, [{ source: scores, bytes: r.batch * 4 }]));
  }
}
