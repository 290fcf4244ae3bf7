/** Checks of a call's arguments, before any work: clear, typed errors that say what to do. */
import type { ModelSpec } from '../models/types.ts';

/** texts must be an array of strings; a non-string names its index. */
export function checkTexts(texts: unknown): asserts texts is readonly string[] {
  if (!Array.isArray(texts)) {
    throw new TypeError(`texts must be an array of strings, got ${describe(texts)}; wrap a single text as [text]`);
  }
  for (let i = 0; i < texts.length; i++) {
    if (typeof texts[i] !== 'string') throw new TypeError(`texts[${i}] is ${describe(texts[i])}, not a string`);
  }
}

/**
 * The output size, as sentence-transformers' truncate_dim: the model's full width by default, or
 * any integer from 1 to it, on any model (the vector is cut to its first `dimensions` values and,
 * when the model normalizes, re-normalized). Whether the model was trained for that size is
 * info.matryoshka's to say; only a size no vector has is an error.
 */
export function checkDimensions(dimensions: unknown, spec: Pick<ModelSpec, 'dimensions'>): number {
  if (dimensions === undefined) return spec.dimensions;
  if (typeof dimensions !== 'number') throw new TypeError(`dimensions must be a number (an integer from 1 to ${spec.dimensions}), got ${describe(dimensions)}`);
  if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > spec.dimensions) {
    throw new RangeError(`dimensions must be an integer from 1 to ${spec.dimensions} (this model's full width), got ${describe(dimensions)}`);
  }
  return dimensions;
}

/** A value as an error message names it: 'the number 3', 'the string "x"', 'an object (Object)'. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (typeof v === 'number') return `the number ${v}`;
  if (typeof v === 'boolean') return String(v);
  return typeof v === 'object' ? `an object (${Object.prototype.toString.call(v).slice(8, -1)})` : String(typeof v === 'undefined' ? 'undefined' : `a ${typeof v}`);
}
