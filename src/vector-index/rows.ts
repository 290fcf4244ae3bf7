/**
 * The index's vectors on the CPU: one f32 row per passage slot, in the order passages were
 * added, and a bitset of the live slots. They are the truth the GPU copy is made from: the
 * full-precision rows the top candidates are rescored with, what save() / export() write, and
 * what a new device is filled from after a device loss.
 */

/** A run of consecutive live slots, `length` of them from `from`, that compaction moves to `to`. */
export interface Run {
  from: number;
  to: number;
  length: number;
}

export class VectorRows {
  data: Float32Array<ArrayBuffer> = new Float32Array(0);
  /** bit s of word s / 32: slot s holds a live passage */
  live: Uint32Array<ArrayBuffer> = new Uint32Array(0);
  /** slots used, removed ones included */
  count = 0;
  liveCount = 0;

  constructor(readonly dims: number) {}

  get capacity(): number {
    return this.data.length / this.dims;
  }

  get removed(): number {
    return this.count - this.liveCount;
  }

  /** Appends rows (`dims` values each) as live slots; returns the first new slot. */
  append(vectors: Float32Array): number {
    const n = vectors.length / this.dims;
    const first = this.count;
    const needed = first + n;
    if (needed > this.capacity) {
      const capacity = Math.max(needed, this.capacity * 2, 64);
      const data = new Float32Array(capacity * this.dims);
      data.set(this.data.subarray(0, first * this.dims));
      this.data = data;
      const live = new Uint32Array(Math.ceil(capacity / 32));
      live.set(this.live);
      this.live = live;
    }
    this.data.set(vectors, first * this.dims);
    for (let s = first; s < needed; s++) this.live[s >>> 5]! |= 1 << (s & 31);
    this.count = needed;
    this.liveCount += n;
    return first;
  }

  isLive(slot: number): boolean {
    return ((this.live[slot >>> 5]! >>> (slot & 31)) & 1) === 1;
  }

  /** Marks a slot removed (a tombstone); false when it already was. */
  kill(slot: number): boolean {
    if (slot >= this.count || !this.isLive(slot)) return false;
    this.live[slot >>> 5]! &= ~(1 << (slot & 31));
    this.liveCount--;
    return true;
  }

  row(slot: number): Float32Array {
    return this.data.subarray(slot * this.dims, (slot + 1) * this.dims);
  }

  /** The live slots as runs, in slot order, and where compaction puts each (order kept). */
  liveRuns(): Run[] {
    const runs: Run[] = [];
    let to = 0;
    for (let s = 0; s < this.count; ) {
      if (!this.isLive(s)) {
        s++;
        continue;
      }
      const from = s;
      while (s < this.count && this.isLive(s)) s++;
      runs.push({ from, to, length: s - from });
      to += s - from;
    }
    return runs;
  }

  /** Moves the runs down over the removed slots: every slot left is live, in the same order. */
  compact(runs: readonly Run[]): void {
    const d = this.dims;
    for (const r of runs) if (r.from !== r.to) this.data.copyWithin(r.to * d, r.from * d, (r.from + r.length) * d);
    this.count = this.liveCount;
    this.live.fill(0);
    for (let s = 0; s < this.count; s++) this.live[s >>> 5]! |= 1 << (s & 31);
  }

  clear(): void {
    this.data = new Float32Array(0);
    this.live = new Uint32Array(0);
    this.count = 0;
    this.liveCount = 0;
  }
}
