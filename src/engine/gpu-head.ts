/**
 * What comes after the transformer, on the GPU: pooling ORT's hidden-state buffer in place (or,
 * for a graph that pools by itself, taking its pooled buffer as it is), then Matryoshka
 * truncation + L2 normalization, then one readback of [B, dims] floats. Scratch buffers are kept
 * between batches in a pool (src/gpu/scratch.ts) and grown when a batch needs more; destroy()
 * frees them all.
 */
import { encodeHalfToFloat } from '../gpu/convert.ts';
import { beginEncoding, type Encoding } from '../gpu/encode.ts';
import { encodeMatryoshka } from '../gpu/matryoshka.ts';
import { encodeFirstToken, encodeLastToken, encodeMaskedMean, type PoolArgs } from '../gpu/pooling.ts';
import { ScratchHead } from '../gpu/scratch.ts';
import type { Pooling } from '../models/types.ts';
import { truncateRows, type EmbedHeadShape } from './cpu-head.ts';

/** The latent-attention head as the GPU layer builds it (src/gpu/latent-attention.ts). */
export interface GpuPoolingModule {
  encode(enc: Encoding, a: { hidden: GPUBuffer; weights: GPUBuffer; pooled: GPUBuffer; batch: number; tokens: number }): void;
  destroy(): void;
}

export interface HeadRun extends EmbedHeadShape {
  /**
   * ORT's last_hidden_state buffer, [batch, tokens, size] (it may be larger than that); with
   * pooling 'graph', the graph's sentence_embedding buffer, [batch, size], and tokens 1
   */
  hidden: GPUBuffer;
  /** fp16 exports give float16 hidden states: converted to f32 on the GPU before pooling */
  hiddenType: 'float32' | 'float16';
}

/** lastReadbackBytes: B × dims × 4 (B × size × 4 for a model that does not normalize) */
export class GpuHead extends ScratchHead {
  constructor(
    device: GPUDevice,
    private readonly pooling: Pooling,
    private readonly latent?: GpuPoolingModule,
  ) {
    super(device, 'webgpu-embed');
    if (pooling === 'latent-attention' && !latent) throw new Error('latent-attention pooling needs its head');
  }

  async run(r: HeadRun): Promise<Float32Array> {
    const { batch, tokens, size, dims } = r;
    const enc = beginEncoding(this.device, 'webgpu-embed head');
    let hidden = r.hidden;
    if (r.hiddenType === 'float16') {
      hidden = this.scratch.storage('hidden-f32', batch * tokens * size * 4);
      encodeHalfToFloat(enc, { input: r.hidden, output: hidden, count: batch * tokens * size });
    }
    // Pooling 'graph': ORT's buffer already holds the graph's pooled [batch, size] vectors.
    let pooled = hidden;
    if (this.pooling !== 'graph') {
      const weights = this.scratch.storage('weights', batch * tokens * 4);
      this.device.queue.writeBuffer(weights, 0, r.weights.buffer, r.weights.byteOffset, r.weights.byteLength);
      pooled = this.scratch.storage('pooled', batch * size * 4);
      const args: PoolArgs = { hidden, weights, pooled, batch, tokens, size };
      if (this.pooling === 'mean') encodeMaskedMean(enc, args);
      else if (this.pooling === 'cls') encodeFirstToken(enc, args);
      else if (this.pooling === 'last-token') encodeLastToken(enc, args);
      else this.latent!.encode(enc, { hidden, weights, pooled, batch, tokens });
    }

    let result = pooled;
    let width = size;
    if (r.normalize) {
      result = this.scratch.storage('embeddings', batch * dims * 4);
      encodeMatryoshka(enc, { input: pooled, output: result, batch, hidden: size, dims });
      width = dims;
    }
    // Without normalization the pooled rows are read whole and cut on the CPU: a model that does
    // not normalize is rare, and its truncation needs no GPU pass.
    const out = new Float32Array(await this.scratch.readBack(enc, [{ source: result, bytes: batch * width * 4 }]));
    return width === dims ? out : truncateRows(out, batch, width, dims);
  }

  override destroy(): void {
    super.destroy();
    this.latent?.destroy();
  }
}
