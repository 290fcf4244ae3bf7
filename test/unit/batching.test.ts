import { describe, expect, it } from 'vitest';
import { paddingRatio, planBatches } from '../../src/engine/batching.ts';

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
});
