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

/** The output size: the model's full width by default; anything else must be one the model allows. */
export function checkDimensions(dimensions: unknown, spec: Pick<ModelSpec, 'dimensions' | 'allowedDimensions'>): number {
  if (dimensions === undefined) return spec.dimensions;
  const allowed = spec.allowedDimensions;
  const ok =
    typeof dimensions === 'number' &&
    Number.isInteger(dimensions) &&
    (Array.isArray(allowed) ? allowed.includes(dimensions) : dimensions >= allowed.min && dimensions <= allowed.max);
  if (!ok) {
    const what = Array.isArray(allowed) ? `one of ${allowed.join(', ')}` : `an integer from ${allowed.min} to ${allowed.max}`;
    throw new RangeError(`dimensions must be ${what} for this model, got ${describe(dimensions)}`);
  }
  return dimensions as number;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (typeof v === 'number') return `the number ${v}`;
  return typeof v === 'object' ? `an object (${Object.prototype.toString.call(v).slice(8, -1)})` : String(typeof v === 'undefined' ? 'undefined' : `a ${typeof v}`);
}
