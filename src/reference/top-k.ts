/**
 * CPU twin of kernels/top-k.wgsl: the best k entries by (key descending, id ascending), padded
 * to k with (NONE, NO_ID) like the kernel's output. Also the streaming selector the index's CPU
 * path scans with.
 */

/** The lowest finite f32: the score of a row that is removed or filtered out, and of padding. */
export const NONE = -3.4028234663852886e38;
/** The id of padding entries. */
export const NO_ID = 0xffffffff;

/** (ka, ia) ranks before (kb, ib): a higher key, or the same key and a lower id. */
export function better(ka: number, ia: number, kb: number, ib: number): boolean {
  return ka > kb || (ka === kb && ia < ib);
}

/**
 * Keeps the best `k` of the entries pushed, in rank order. O(log k) per entry that enters, one
 * comparison for one that does not (most of a long scan).
 *
 * @example
 * const top = new TopSelector(10);
 * scores.forEach((s, row) => top.push(s, row));
 * top.ids; // the 10 best rows, best first
 */
export class TopSelector {
  readonly keys: Float64Array;
  readonly ids: Uint32Array;
  size = 0;

  constructor(readonly k: number) {
    this.keys = new Float64Array(k);
    this.ids = new Uint32Array(k);
  }

  push(key: number, id: number): void {
    const { k, keys, ids } = this;
    if (this.size === k && !better(key, id, keys[k - 1]!, ids[k - 1]!)) return;
    // binary search for the first entry this one ranks before
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (better(key, id, keys[mid]!, ids[mid]!)) hi = mid;
      else lo = mid + 1;
    }
    const end = Math.min(this.size, k - 1);
    keys.copyWithin(lo + 1, lo, end);
    ids.copyWithin(lo + 1, lo, end);
    keys[lo] = key;
    ids[lo] = id;
    if (this.size < k) this.size++;
  }
}

/**
 * The kernel's result: the best k of (keys[i], ids[i] or i), best first, padded with
 * (NONE, NO_ID) when there are fewer than k entries.
 *
 * @example
 * topK(Float32Array.of(0.5, 0.9, 0.5), 2); // { keys: [0.9, 0.5], ids: [1, 0] }
 */
export function topK(keys: Float32Array, k: number, ids?: Uint32Array): { keys: Float32Array; ids: Uint32Array } {
  const top = new TopSelector(k);
  for (let i = 0; i < keys.length; i++) top.push(keys[i]!, ids ? ids[i]! : i);
  const out = { keys: new Float32Array(k).fill(NONE), ids: new Uint32Array(k).fill(NO_ID) };
  out.keys.set(top.keys.subarray(0, top.size));
  out.ids.set(top.ids.subarray(0, top.size));
  return out;
}

/**
 * The best k of n keys by sorting (ids are positions; NONE keys left out): for k near n, where
 * TopSelector's insertions would cost O(n·k).
 */
export function topKBySort(keys: Float32Array, k: number): { keys: Float32Array; ids: Uint32Array } {
  const none = Math.fround(NONE);
  let live = 0;
  const ids = new Uint32Array(keys.length);
  for (let i = 0; i < keys.length; i++) if (keys[i] !== none) ids[live++] = i;
  const top = ids.subarray(0, live).sort((a, b) => keys[b]! - keys[a]! || a - b).slice(0, k);
  return { keys: Float32Array.from(top, (i) => keys[i]!), ids: top };
}
