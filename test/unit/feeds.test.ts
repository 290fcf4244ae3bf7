import { describe, expect, it } from 'vitest';
import { buildFeeds, padBatch } from '../../src/engine/feeds.ts';
import { poolingWeights } from '../../src/engine/pooling-weights.ts';

const ids = [[5, 6, 7], [8], [9, 10]];

describe('padding a batch', () => {
  it('right-pads: real tokens first, mask and positions count real tokens', () => {
    const p = padBatch({ ids, padId: 0, side: 'right' });
    expect([p.batch, p.tokens]).toEqual([3, 3]);
    expect(Array.from(p.inputIds, Number)).toEqual([5, 6, 7, 8, 0, 0, 9, 10, 0]);
    expect(Array.from(p.maskF32)).toEqual([1, 1, 1, 1, 0, 0, 1, 1, 0]);
    expect(Array.from(p.positionIds, Number)).toEqual([0, 1, 2, 0, 0, 0, 0, 1, 0]);
  });

  it('left-pads with positions that do not depend on the padding (a text alone gets the same ones)', () => {
    const p = padBatch({ ids, padId: 151643, side: 'left' });
    expect(Array.from(p.inputIds, Number)).toEqual([5, 6, 7, 151643, 151643, 8, 151643, 9, 10]);
    expect(Array.from(p.positionIds, Number)).toEqual([0, 1, 2, 0, 0, 0, 0, 0, 1]);
    const alone = padBatch({ ids: [[9, 10]], padId: 0, side: 'left' });
    expect(Array.from(alone.positionIds, Number)).toEqual([0, 1]);
    expect(p.starts).toEqual([0, 2, 1]);
  });

  it('zeroes the first poolSkip real tokens of each row in the pooling weights, on either side', () => {
    const right = padBatch({ ids, padId: 0, side: 'right' });
    expect(Array.from(poolingWeights(right, [2, 0, 5]))).toEqual([0, 0, 1, 1, 0, 0, 0, 0, 0]);
    const left = padBatch({ ids, padId: 0, side: 'left' });
    expect(Array.from(poolingWeights(left, [1, 1, 1]))).toEqual([0, 1, 1, 0, 0, 0, 0, 0, 1]);
  });
});

describe('ONNX feeds from the session inputs', () => {
  const p = padBatch({ ids, padId: 0, side: 'left' });
  const config = { num_key_value_heads: 2, head_dim: 8, num_attention_heads: 4, hidden_size: 32 };

  it('fills a BERT encoder (token_type_ids zeros) and a Qwen3 KV-cache export (positions, empty past)', () => {
    const bert = buildFeeds([{ name: 'input_ids' }, { name: 'attention_mask' }, { name: 'token_type_ids' }], p, config);
    expect(bert.token_type_ids!.dims).toEqual([3, 3]);
    expect(Array.from(bert.token_type_ids!.data as BigInt64Array, Number).every((v) => v === 0)).toBe(true);
    const qwen = buildFeeds(
      [{ name: 'input_ids' }, { name: 'attention_mask' }, { name: 'position_ids' }, { name: 'past_key_values.0.key', type: 'float32', shape: ['batch_size', 2, 'past_sequence_length', 8] }, { name: 'past_key_values.0.value', type: 'float16' }],
      p,
      config,
    );
    expect(qwen['past_key_values.0.key']).toMatchObject({ type: 'float32', dims: [3, 2, 0, 8] });
    expect(qwen['past_key_values.0.value']).toMatchObject({ type: 'float16', dims: [3, 2, 0, 8] });
    expect(qwen.position_ids!.data).toBe(p.positionIds);
  });

  it('refuses an input it does not understand, naming it', () => {
    expect(() => buildFeeds([{ name: 'pixel_values' }], p, config)).toThrow(/pixel_values/);
  });
});
