import { describe, expect, it } from 'vitest';
import { checkDimensions, checkTexts } from '../../src/engine/validate.ts';

describe('argument checks', () => {
  it('names the index of a non-string text', () => {
    expect(() => checkTexts(['a', 'b', 3])).toThrow(new TypeError('texts[2] is the number 3, not a string'));
    expect(() => checkTexts(['a', null])).toThrow(/texts\[1\] is null/);
    expect(() => checkTexts('one text')).toThrow(/wrap a single text as \[text\]/);
    expect(() => checkTexts([])).not.toThrow();
  });

  it('takes any integer from 1 to the full width, on any model, as sentence-transformers truncate_dim does', () => {
    const model = { dimensions: 384 };
    expect(checkDimensions(undefined, model)).toBe(384);
    for (const d of [1, 100, 383, 384]) expect(checkDimensions(d, model)).toBe(d);
  });

  it('a size outside 1..full or not an integer is a RangeError listing the range; not a number is a TypeError', () => {
    const model = { dimensions: 384 };
    for (const bad of [0, -1, 385, 1e9, 100.5, NaN, Infinity]) {
      expect(() => checkDimensions(bad, model)).toThrow(RangeError);
      expect(() => checkDimensions(bad, model)).toThrow(/dimensions must be an integer from 1 to 384/);
    }
    for (const bad of ['256', null, {}]) expect(() => checkDimensions(bad, model)).toThrow(TypeError);
    expect(() => checkDimensions('256', model)).toThrow('dimensions must be a number (an integer from 1 to 384), got the string "256"');
  });
});
