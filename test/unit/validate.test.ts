import { describe, expect, it } from 'vitest';
import { checkDimensions, checkTexts } from '../../src/engine/validate.ts';

describe('argument checks', () => {
  it('names the index of a non-string text', () => {
    expect(() => checkTexts(['a', 'b', 3])).toThrow(new TypeError('texts[2] is the number 3, not a string'));
    expect(() => checkTexts(['a', null])).toThrow(/texts\[1\] is null/);
    expect(() => checkTexts('one text')).toThrow(/wrap a single text as \[text\]/);
    expect(() => checkTexts([])).not.toThrow();
  });

  it('lists the sizes a model allows when dimensions are off', () => {
    const mrl = { dimensions: 1024, allowedDimensions: { min: 32, max: 1024 } };
    expect(checkDimensions(undefined, mrl)).toBe(1024);
    expect(checkDimensions(256, mrl)).toBe(256);
    for (const bad of [16, 1025, 256.5, NaN, -1, '256']) expect(() => checkDimensions(bad, mrl)).toThrow(RangeError);
    expect(() => checkDimensions(100, { dimensions: 384, allowedDimensions: [384] })).toThrow('dimensions must be one of 384 for this model, got the number 100');
  });
});
