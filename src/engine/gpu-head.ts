/**
 * What comes after the transformer, on the GPU: pooling ORT's hidden-state buffer in place (or,
 * for a graph that pools by itself, taking its pooled buffer as it is), then Matryoshka
 * truncation + L2 normalization, then one readback of [B, dims] floats. Scratch
 * buffers are kept between batches and grown when a batch needs more; destroy() frees them all.
 */
import { encodeHalfToFloat } from '../gpu/convert.ts';
import { beginEncoding, submit, type Encoding } from '../gpu/encode.ts';
import { encodeMatryoshka } from '../gpu/matryoshka.ts';
import { encodeFirstToken, encodeLastToken, encodeMaskedMean, type PoolArgs } from '../gpu/pooling.ts';
import type { Pooling } from '../models/types.ts';

/** The latent-attention head as the GPU layer builds it (src/gpu/latent-attention.ts). */
export interface GpuPoolingModule {
  encode(enc: Encoding, a: { hidden: GPUBuffer; weights: GPUBuffer; pooled: GPUBuffer; batch: number; tokens: number }): void;
  destroy(): void;
}

export interface HeadRun {
  /**
   * ORT's last_hidden_state buffer, [batch, tokens, size] (it may be larger than that); with
   * pooling 'graph', the graph's sentence_embedding buffer, [batch, size], and tokens 1
   */
  hidden: GPUBuffer;
  /** fp16 exports give float16 hidden states: converted to f32 on the GPU before pooling */
  hiddenType: 'float32' | 'float16';
  batch: number;
  tokens: number;
  size: number;
  /** [batch * tokens] pooling weights (unused with pooling 'graph') */
  weights: Float32Array;
  /** output width: 1 ≤ dims ≤ size */
  dims: number;
  normalize: boolean;
}

// (read when a head is built, not at import: the module loads in contexts without WebGPU too)
const storageUsage = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

export class GpuHead {
  private readonly scratch = new Map<string, GPUBuffer>();
  /** bytes read back from the GPU by the last run (for benchmarks: B × dims × 4) */
  lastReadbackBytes = 0;

  constructor(
    readonly device: GPUDevice,
    private readonly pooling: Pooling,
    private readonly latent?: GpuPoolingModule,
  ) {
    if (pooling === 'latent-attention' && !latent) throw new Error('latent-attention pooling needs its head');
  }

  /** Live scratch buffers (tests check that destroy() leaves none). */
  get liveBuffers(): number {
    return this.scratch.size;
  }

  private buffer(name: string, bytes: number, usage: number): GPUBuffer {
    const have = this.scratch.get(name);
    if (have && have.size >= bytes) return have;
    have?.destroy();
    // Grow geometrically so a run of growing batches does not reallocate every time.
    const size = Math.max(256, 2 ** Math.ceil(Math.log2(bytes)));
    const made = this.device.createBuffer({ label: `webgpu-embed ${name}`, size, usage });
    this.scratch.set(name, made);
    return made;
  }

  async run(r: HeadRun): Promise<Float32Array> {
    const { batch, tokens, size, dims } = r;
    const enc = beginEncoding(this.device, 'webgpu-embed head');
    let hidden = r.hidden;
    if (r.hiddenType === 'float16') {
      hidden = this.buffer('hidden-f32', batch * tokens * size * 4, storageUsage());
      encodeHalfToFloat(enc, { input: r.hidden, output: hidden, count: batch * tokens * size });
    }
    // Pooling 'graph': ORT's buffer already holds the graph's pooled [batch, size] vectors.
    let pooled = hidden;
    if (this.pooling !== 'graph') {
      const weights = this.buffer('weights', batch * tokens * 4, storageUsage());
      this.device.queue.writeBuffer(weights, 0, r.weights.buffer, r.weights.byteOffset, r.weights.byteLength);
      pooled = this.buffer('pooled', batch * size * 4, storageUsage());
      const args: PoolArgs = { hidden, weights, pooled, batch, tokens, size };
      if (this.pooling === 'mean') encodeMaskedMean(enc, args);
      else if (this.pooling === 'cls') encodeFirstToken(enc, args);
      else if (this.pooling === 'last-token') encodeLastToken(enc, args);
      else this.latent!.encode(enc, { hidden, weights, pooled, batch, tokens });
    }

    let result = pooled;
    let width = size;
    if (r.normalize) {
      result = this.buffer('embeddings', batch * dims * 4, storageUsage());
      encodeMatryoshka(enc, { input: pooled, output: result, batch, hidden: size, dims });
      width = dims;
    }
    // Without normalization the pooled rows are read whole and cut on the CPU: a model that does
    // not normalize is rare, and its truncation needs no GPU pass.
    const bytes = batch * width * 4;
    const staging = this.buffer('staging', bytes, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
    enc.encoder.copyBufferToBuffer(result, 0, staging, 0, bytes);
    await submit(enc);
    await staging.mapAsync(GPUMapMode.READ, 0, bytes);
    const out = new Float32Array(staging.getMappedRange(0, bytes).slice(0));
    staging.unmap();
    this.lastReadbackBytes = bytes;
    return width === dims ? out : truncateRows(out, batch, width, dims);
  }

  destroy(): void {
    for (const b of this.scratch.values()) b.destroy();
    this.scratch.clear();
    this.latent?.destroy();
  }
}

export function truncateRows(x: Float32Array, rows: number, width: number, dims: number): Float32Array {
  if (dims === width) return x;
  const out = new Float32Array(rows * dims);
  for (let r = 0; r < rows; r++) out.set(x.subarray(r * width, r * width + dims), r * dims);
  return out;
}
