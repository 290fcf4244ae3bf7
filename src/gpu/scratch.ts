/**
 * The scratch buffers a GPU head keeps between batches: one buffer per name, reused while it is
 * large enough and replaced by a larger one when a batch needs more (sizes in powers of two, at
 * least 256 bytes, so a run of growing batches does not reallocate every time), plus the staging
 * buffer its one readback per batch goes through. The embedder's and the reranker's GPU heads each
 * hold a pool; destroy() frees every buffer in it (tests count them: `live` is 0 after).
 *
 * @example
 * const pool = new ScratchPool(device, 'webgpu-embed');
 * const pooled = pool.storage('pooled', batch * size * 4);
 * // ... encode kernels writing `pooled` into enc ...
 * const rows = new Float32Array(await pool.readBack(enc, [{ source: pooled, bytes: batch * size * 4 }]));
 * pool.destroy();
 */
import type { Encoding } from './encode.ts';
import { readBack, readbackBytes, storageUsage, type ReadbackPart } from './transfer.ts';

export class ScratchPool {
  private readonly buffers = new Map<string, GPUBuffer>();
  /** bytes brought back by the last readBack (for benchmarks and tests) */
  lastReadbackBytes = 0;

  /** `label` starts every buffer's label ('webgpu-embed' → 'webgpu-embed pooled') */
  constructor(
    readonly device: GPUDevice,
    private readonly label: string,
  ) {}

  /** Buffers alive now. */
  get live(): number {
    return this.buffers.size;
  }

  /** A storage buffer (STORAGE | COPY_SRC | COPY_DST) of at least `bytes`, kept under `name`. */
  storage(name: string, bytes: number): GPUBuffer {
    return this.buffer(name, bytes, storageUsage());
  }

  /** readBack (src/gpu/transfer.ts) through the pool's staging buffer. */
  async readBack(enc: Encoding, parts: readonly ReadbackPart[]): Promise<ArrayBuffer> {
    const bytes = readbackBytes(parts);
    const data = await readBack(enc, this.buffer('staging', bytes, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST), parts);
    this.lastReadbackBytes = bytes;
    return data;
  }

  private buffer(name: string, bytes: number, usage: number): GPUBuffer {
    const have = this.buffers.get(name);
    if (have && have.size >= bytes) return have;
    have?.destroy();
    const size = Math.max(256, 2 ** Math.ceil(Math.log2(bytes)));
    const made = this.device.createBuffer({ label: `${this.label} ${name}`, size, usage });
    this.buffers.set(name, made);
    return made;
  }

  destroy(): void {
    for (const b of this.buffers.values()) b.destroy();
    this.buffers.clear();
  }
}

/**
 * The base of a GPU head that keeps a scratch pool (the embedder's GpuHead, the reranker's
 * GpuScoreHead): what tests and benchmarks read of it, and destroy(), which frees the pool.
 */
export abstract class ScratchHead {
  protected readonly scratch: ScratchPool;

  constructor(
    readonly device: GPUDevice,
    label: string,
  ) {
    this.scratch = new ScratchPool(device, label);
  }

  /** Live scratch buffers (tests check that destroy() leaves none). */
  get liveBuffers(): number {
    return this.scratch.live;
  }

  /** bytes read back from the GPU by the last run (for benchmarks: the head's output only) */
  get lastReadbackBytes(): number {
    return this.scratch.lastReadbackBytes;
  }

  destroy(): void {
    this.scratch.destroy();
  }
}
