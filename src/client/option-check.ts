/**
 * The public options objects checked on the main thread, before anything reaches the worker or
 * the network: an unknown key is a TypeError naming it and the nearest known key (a typo, or a
 * transformers.js / sentence-transformers habit such as `embed(texts, { pooling: 'cls' })`, would
 * otherwise be ignored without a word), and a value of the wrong type is a TypeError naming the
 * option (a `signal: {}` used to surface as "t.signal?.throwIfAborted is not a function" from
 * deep inside the engine). Checks of ranges that need the model (dimensions, maxTokens) stay
 * where the model is known.
 *
 * Each rule set is typed `Rules<TheOptionsInterface>`, so it has exactly the interface's keys:
 * a key added to an interface without a rule, or a rule for a key the interface lacks, fails the
 * type check (option-rules.ts; test/unit/option-check.test.ts also reads the interfaces).
 */
import { describe } from '../engine/validate.ts';

/** Throws when `value` (never undefined: absent options are not checked) is not acceptable for the option at `path` of the call `where`. */
export type Rule = ((value: unknown, path: string, where: string) => void) & {
  /** an object-valued option's own keys (overrides, limits, cache): checked the same way, and searched for hints */
  readonly nested?: Rules<object>;
};

/** One rule per key of T, no more, no fewer. */
export type Rules<T> = { readonly [K in keyof T]-?: Rule };

/** Where an unknown key belongs instead: another call's options, with how to pass it there. */
export interface Elsewhere {
  rules: Rules<object>;
  /** the advice for key k, e.g. "pooling is set when the model loads: createEmbedder({ model, overrides: { pooling } })" */
  say(key: string): string;
}

/**
 * Options from another library, with how to say the same here. Checked only for keys this call
 * does not know.
 */
const FOREIGN: Record<string, string> = {
  progress_callback: "transformers.js' progress_callback is onProgress here",
  quantized: "transformers.js v2's quantized is dtype here: 'q8' (quantized) or 'fp32'",
  truncate_dim: "sentence-transformers' truncate_dim is dimensions here (on embed(), or createIndex())",
  normalize_embeddings: "sentence-transformers' normalize_embeddings is a load-time fact here: createEmbedder({ model, overrides: { normalize } })",
  prompt_name: "sentence-transformers' prompt_name is task here: 'query' or 'document'",
  prompt: "a prompt is chosen by task ('query' | 'document'), or set at load with overrides: { prompts: { query, document } }",
  revision: "a revision is part of the model id here: 'owner/name@revision'",
};

/**
 * Checks an options object against its rules; undefined passes (the caller's defaults apply).
 *
 * @example
 * checkOptions({ dtpye: 'q8' }, CREATE_EMBEDDER_RULES, 'createEmbedder()');
 * // TypeError: createEmbedder(): unknown option 'dtpye'; did you mean 'dtype'? Known options: model, preset, ...
 */
export function checkOptions(options: unknown, rules: Rules<object>, where: string, elsewhere: readonly Elsewhere[] = [], prefix = ''): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`${where}: ${prefix ? prefix.slice(0, -1) : 'options'} must be an object, got ${describe(options)}`);
  }
  const known = rules as Record<string, Rule>;
  for (const key of Object.keys(options)) {
    if (!Object.hasOwn(known, key)) throw new TypeError(unknownKey(key, known, where, elsewhere, prefix));
    const value = (options as Record<string, unknown>)[key];
    if (value !== undefined) known[key]!(value, prefix + key, where);
  }
}

function unknownKey(key: string, known: Record<string, Rule>, where: string, elsewhere: readonly Elsewhere[], prefix: string): string {
  const names = Object.keys(known);
  const head = `${where}: unknown option '${prefix}${key}'`;
  const list = `Known options${prefix ? ` of ${prefix.slice(0, -1)}` : ''}: ${names.join(', ')}.`;
  // The key of an object-valued option of this same call: say where it goes.
  const inside = names.find((n) => known[n]!.nested && Object.hasOwn(known[n]!.nested!, key));
  if (inside) return `${head}; did you mean ${prefix}${inside}: { ${key} }? ${list}`;
  const there = elsewhere.find((e) => Object.hasOwn(e.rules, key));
  if (there) return `${head}: ${there.say(key)}. ${list}`;
  if (Object.hasOwn(FOREIGN, key)) return `${head}: ${FOREIGN[key]}. ${list}`;
  const nearest = nearestKey(key, names);
  if (!nearest) return `${head}. ${list}`;
  return nearest.close ? `${head}; did you mean '${prefix}${nearest.name}'? ${list}` : `${head} (the nearest known option is '${prefix}${nearest.name}'). ${list}`;
}

/**
 * The known key nearest to `key` by edit distance (optimal string alignment: insertions,
 * deletions, substitutions and swaps of neighbours, each 1), compared without case, '_' or '-' so
 * that top_k finds topK. `close` when the distance is at most a third of the key's length (at
 * least 1): close enough to be a typo.
 */
export function nearestKey(key: string, names: readonly string[]): { name: string; distance: number; close: boolean } | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[_-]/g, '');
  const k = norm(key);
  let best: { name: string; distance: number } | undefined;
  for (const name of names) {
    const d = editDistance(k, norm(name));
    if (!best || d < best.distance) best = { name, distance: d };
  }
  return best && { ...best, close: best.distance <= Math.max(1, Math.floor(k.length / 3)) };
}

/** Optimal string alignment distance (Damerau-Levenshtein without repeated edits of one substring). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d = new Array<number>(rows * cols);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[(i - 1) * cols + j]! + 1, d[i * cols + j - 1]! + 1, d[(i - 1) * cols + j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[(i - 2) * cols + j - 2]! + 1);
      d[i * cols + j] = v;
    }
  }
  return d[rows * cols - 1]!;
}

// ---- rules ----------------------------------------------------------------------------------

const rule = (check: (value: unknown, path: string, where: string) => void, nested?: Rules<object>): Rule => Object.assign(check, nested ? { nested } : {});

function typeError(where: string, path: string, what: string, value: unknown): TypeError {
  return new TypeError(`${where}: ${path} must be ${what}, got ${describe(value)}`);
}

export const string = rule((v, path, where) => {
  if (typeof v !== 'string') throw typeError(where, path, 'a string', v);
});

export const boolean = rule((v, path, where) => {
  if (typeof v !== 'boolean') throw typeError(where, path, 'true or false', v);
});

/** A number; its range is checked where it is used (with the model's facts at hand). */
export const number = rule((v, path, where) => {
  if (typeof v !== 'number') throw typeError(where, path, 'a number', v);
});

export const func = rule((v, path, where) => {
  if (typeof v !== 'function') throw typeError(where, path, 'a function', v);
});

/**
 * An AbortSignal, by instanceof: the worker protocol transfers exactly those (src/worker/protocol.ts),
 * so anything else would fail there, or deeper.
 */
export const signal = rule((v, path, where) => {
  if (typeof AbortSignal !== 'undefined' && v instanceof AbortSignal) return;
  throw typeError(where, path, 'an AbortSignal (new AbortController().signal, or AbortSignal.timeout(ms))', v);
});

/** An object of options with rules of their own (unknown keys inside it are errors too). */
export function object<T>(rules: Rules<T>): Rule {
  return rule((v, path, where) => checkOptions(v, rules as Rules<object>, where, [], `${path}.`), rules as Rules<object>);
}

/**
 * One of some literal values: another type is a TypeError, a value not listed a RangeError; both
 * list the values. `hints` says more about a value people write for something we name otherwise.
 */
export function oneOf(values: readonly (string | boolean)[], hints: Record<string, string> = {}): Rule {
  const list = values.map((x) => (typeof x === 'string' ? `'${x}'` : String(x))).join(', ');
  return rule((v, path, where) => {
    if (values.includes(v as string | boolean)) return;
    if (!values.some((x) => typeof x === typeof v)) throw typeError(where, path, `one of ${list}`, v);
    const near = typeof v === 'string' ? nearestKey(v, values.filter((x): x is string => typeof x === 'string')) : undefined;
    const hint = typeof v === 'string' && Object.hasOwn(hints, v) ? `: ${hints[v]}` : near?.close ? `; did you mean '${near.name}'?` : '';
    throw new RangeError(`${where}: ${path} must be one of ${list}, got ${describe(v)}${hint}`);
  });
}

/** A rule of its own (a union of types): throws as the others do, naming the path; `nested`: the keys of its object form. */
export const custom = <T = object>(check: (value: unknown, path: string, where: string) => void, nested?: Rules<T>): Rule => rule(check, nested as Rules<object> | undefined);

/** Any non-null object (an embedder, a reranker): what it must hold is checked where it is used. */
export const anyObject = rule((v, path, where) => {
  if (v === null || typeof v !== 'object') throw typeError(where, path, 'an object', v);
});

/** An array whose items pass `item` (named path[i]). */
export function arrayOf(item: Rule, what: string): Rule {
  return rule((v, path, where) => {
    if (!Array.isArray(v)) throw typeError(where, path, what, v);
    v.forEach((x, i) => item(x, `${path}[${i}]`, where));
  });
}
