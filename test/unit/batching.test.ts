import { describe, expect, it } from 'vitest';
import { paddingRatio, planBatches, fitBindingLimit } from '../../src/engine/batching.ts';

function randomLengths(n: number, seed: number): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return 8 + (s % 249); // 8..256 tokens, the benchmark's mixed-length spread
  });
}

describe('length-sorted batching', () => {
  it('covers every input exactly once and respects both limits', () => {
    const lengths = randomLengths(500, 7);
    const limits = { maxBatchSize: 32, maxBatchTokens: 4096 };
    const batches = planBatches(lengths, limits);
    expect(batches.flat().sort((a, b) => a - b)).toEqual(lengths.map((_, i) => i));
    for (const b of batches) {
      expect(b.length).toBeLessThanOrEqual(32);
      expect(b.length * Math.max(...b.map((i) => lengths[i]!))).toBeLessThanOrEqual(4096);
    }
  });

  it('keeps padding small on a mixed-length corpus, where input order would not', () => {
    const lengths = randomLengths(1000, 11);
    const sorted = paddingRatio(lengths, planBatches(lengths, { maxBatchSize: 32, maxBatchTokens: 1e9 }));
    const inOrder = paddingRatio(lengths, Array.from({ length: 1000 / 32 + 1 }, (_, k) => lengths.map((_, i) => i).slice(k * 32, k * 32 + 32)).filter((b) => b.length));
    expect(sorted).toBeLessThan(1.15);
    expect(inOrder).toBeGreaterThan(1.5);
  });

  it('puts a single text longer than the token budget in a batch of its own', () => {
    expect(planBatches([10, 5000, 10], { maxBatchSize: 8, maxBatchTokens: 100 })).toEqual([[1], [0, 2]]);
  });

  it('keeps input order among equal lengths (stable) and handles the empty list', () => {
    expect(planBatches([3, 3, 3, 3], { maxBatchSize: 2, maxBatchTokens: 100 })).toEqual([[0, 1], [2, 3]]);
    expect(planBatches([])).toEqual([]);
  });

  it('cuts the sorted list where the padded tokens plus a per-batch overhead are least (against every cut, by brute force)', () => {
    let seed = 5;
    const rand = (k: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % k);
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + rand(10);
      const lengths = Array.from({ length: n }, () => 1 + rand(300));
      const limits = { maxBatchSize: 1 + rand(6), maxBatchTokens: 50 + rand(1200), batchOverheadTokens: rand(200) };
      const sorted = [...lengths].sort((a, b) => b - a);
      const cost = (groups: number[][]) => groups.reduce((c, g) => c + g.length * Math.max(...g) + limits.batchOverheadTokens, 0);
      const fits = (g: number[]) => g.length <= limits.maxBatchSize && (g.length === 1 || g.length * Math.max(...g) <= limits.maxBatchTokens);
      let best = Infinity;
      for (let mask = 0; mask < 2 ** (n - 1); mask++) {
        const groups: number[][] = [[sorted[0]!]];
        for (let i = 1; i < n; i++) (mask & (1 << (i - 1)) ? groups.push([sorted[i]!]) : groups.at(-1)!.push(sorted[i]!));
        if (groups.every(fits)) best = Math.min(best, cost(groups));
      }
      const planned = planBatches(lengths, limits).map((b) => b.map((i) => lengths[i]!));
      expect(planned.every(fits)).toBe(true);
      expect(cost(planned)).toBe(best);
    }
  });

  it('pads a small call little: far less than filling each batch to the maximum would', () => {
    const lengths = randomLengths(64, 3);
    const fill = paddingRatio(lengths, [0, 1].map((k) => [...lengths.keys()].sort((a, b) => lengths[b]! - lengths[a]!).slice(k * 32, k * 32 + 32)));
    const planned = planBatches(lengths, { maxBatchSize: 32, maxBatchTokens: 1e9 });
    expect(paddingRatio(lengths, planned)).toBeLessThan(1.15);
    expect(fill).toBeGreaterThan(1.3);
    expect(planned.length).toBeLessThan(16); // not one text per batch: the overhead keeps batches together
  });
});

describe("fitBindingLimit: a batch's bound bytes within the device's binding limit", () => {
  const device = (bytes: number) => ({ limits: { maxStorageBufferBindingSize: bytes } as GPUSupportedLimits });
  it("caps the padded tokens at limit / bytes per token, never raises them, and leaves CPU runs alone", () => {
    const limits = { maxBatchSize: 32, maxBatchTokens: 65_536 };
    // NV-Embed's 4096-wide hidden states on WebGPU's default 128 MiB: 8192 tokens per batch at most
    expect(fitBindingLimit(limits, 4 * 4096, device(128 * 1024 * 1024))).toEqual({ maxBatchSize: 32, maxBatchTokens: 8192 });
    expect(fitBindingLimit({ maxBatchSize: 8, maxBatchTokens: 2048 }, 4 * 384, device(128 * 1024 * 1024))).toEqual({ maxBatchSize: 8, maxBatchTokens: 2048 });
    expect(fitBindingLimit(limits, 4 * 384, device(1000))).toEqual({ maxBatchSize: 32, maxBatchTokens: 1 });
    expect(fitBindingLimit(limits, 4 * 384, undefined)).toBe(limits);
    expect(fitBindingLimit(limits, undefined, device(1000))).toBe(limits);
  });
});
