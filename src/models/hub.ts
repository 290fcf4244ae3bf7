/**
 * Hub ids: `model: 'Xenova/all-MiniLM-L6-v2'` (optionally `@revision`: a branch, tag or commit), as
 * transformers.js users write them, told apart from preset ids and folder URLs.
 *
 * This module tells the forms of a model string apart (preset ids need the preset table, so it
 * lives here); the setting that says where hub ids' files come from, and their folder URLs, are
 * src/io/hub.ts; src/models/source.ts turns the forms into folders.
 */
import { ModelLoadError } from '../errors.ts';
import { RELATIVE, SCHEME } from '../io/folder-url.ts';
import { PRESETS } from './presets.ts';

/** A hub id's parts. */
export interface HubId {
  /** 'owner/name' */
  repo: string;
  /** the '@revision' part, when given */
  revision?: string;
}

/** What a model string is: a preset id, a hub id, or a folder URL (absolute or relative). */
export type ModelForm =
  | { kind: 'preset'; id: keyof typeof PRESETS }
  | ({ kind: 'hub' } & HubId)
  | { kind: 'url'; relative: boolean };

const HUB_ID = /^([\w.-]+)\/([\w.-]+)(?:@([\w./-]+))?$/;
const REVISION = /^[\w./-]+$/;

/** The accepted forms, with an example of each: the tail of every error about a model string. */
export const MODEL_FORMS =
  "a preset id ('all-minilm-l6-v2'), a hub id ('Xenova/all-MiniLM-L6-v2', or at a revision 'Xenova/all-MiniLM-L6-v2@main', a branch, tag or commit), " +
  "or a model folder URL ('https://example.com/models/e5/', or relative to the page: '/models/e5/', './models/e5/')";

/**
 * Which form a model string has. A malformed hub id or revision (looks like one but is not: 'a/b/c',
 * 'owner/name@', spaces) is a TypeError showing each form; a string of none of the forms (a
 * mistyped preset id) is a ModelLoadError listing the presets, closest first.
 *
 * @example
 * modelForm('multilingual-e5-small');            // { kind: 'preset', id: 'multilingual-e5-small' }
 * modelForm('Xenova/all-MiniLM-L6-v2@main');     // { kind: 'hub', repo: 'Xenova/all-MiniLM-L6-v2', revision: 'main' }
 * modelForm('./models/e5/');                     // { kind: 'url', relative: true }
 * modelForm('multilingual-e5-smal');             // throws ModelLoadError: did you mean 'multilingual-e5-small'?
 */
export function modelForm(model: string): ModelForm {
  const m = model.trim();
  const preset = m.toLowerCase();
  if (Object.hasOwn(PRESETS, preset)) return { kind: 'preset', id: preset as keyof typeof PRESETS };
  if (SCHEME.test(m)) return { kind: 'url', relative: false };
  if (RELATIVE.test(m)) return { kind: 'url', relative: true };
  const hub = HUB_ID.exec(m);
  if (hub) {
    const [, owner, name, revision] = hub as unknown as [string, string, string, string | undefined];
    // '.' and '..' would be path segments that URL resolution removes (a/../resolve/main/ is another folder).
    if (owner === '.' || owner === '..' || name === '.' || name === '..') throw malformed(model, `'${owner}/${name}' is not a repository name`);
    if (revision !== undefined) checkRevision(revision, model);
    return { kind: 'hub', repo: `${owner}/${name}`, ...(revision !== undefined ? { revision } : {}) };
  }
  if (m.includes('/') || m.includes('@')) throw malformed(model, hubIdProblem(m));
  throw new ModelLoadError(
    `'${model}' is neither a preset, a hub id nor a model folder URL. ${didYouMean(m)}Presets, closest first: ${presetsByDistance(m).join(', ')}. ` +
      `A model is ${MODEL_FORMS}.`,
    model,
  );
}

/** Checks a revision (the '@' part of a hub id, or the `revision` option): TypeError when malformed. */
export function checkRevision(revision: unknown, model?: string): string {
  if (typeof revision !== 'string' || !REVISION.test(revision) || revision === '.' || revision === '..') {
    const where = model === undefined ? 'revision' : `the revision of '${model}'`;
    throw new TypeError(
      `${where} must be a branch, tag or commit of letters, digits, '.', '_', '-' and '/' (e.g. 'main', 'v1.0', 'refs/pr/3' or a 40-hex commit), got ${JSON.stringify(revision)}. ` +
        `A model is ${MODEL_FORMS}.`,
    );
  }
  return revision;
}

function malformed(model: string, problem: string): TypeError {
  return new TypeError(`'${model}' is not a valid model: ${problem}. A model is ${MODEL_FORMS}.`);
}

/** What is wrong with a string that has a '/' or '@' but is not a hub id, in words. */
function hubIdProblem(m: string): string {
  if (/\s/.test(m)) return 'a hub id has no spaces';
  const at = m.indexOf('@');
  const repo = at < 0 ? m : m.slice(0, at);
  if (at >= 0 && at === m.length - 1) return `'@' must be followed by a revision (a branch, tag or commit), e.g. '${repo}@main'`;
  const parts = repo.split('/');
  if (parts.length !== 2 || parts.some((p) => p === '')) {
    return `a hub id is 'owner/name' (one '/'), and a folder path relative to the page starts with './' or '/' ('./${m.replace(/^\/+/, '')}')`;
  }
  if (at >= 0) return `'${m.slice(at + 1)}' is not a revision: a branch, tag or commit of letters, digits, '.', '_', '-' and '/'`;
  return `an owner and a name are letters, digits, '.', '_' and '-'`;
}

/** A "did you mean" sentence for a near preset id (at most a third of its letters off), or ''. */
function didYouMean(m: string): string {
  const [best] = presetsByDistance(m);
  return best && editDistance(m.toLowerCase(), best) <= Math.max(2, Math.floor(best.length / 3)) ? `Did you mean '${best}'? ` : '';
}

/** The preset ids, closest to `m` (by edit distance, case-insensitive) first; ties in table order. */
export function presetsByDistance(m: string): string[] {
  const s = m.toLowerCase();
  return Object.keys(PRESETS)
    .map((id, i) => ({ id, i, d: editDistance(s, id) }))
    .sort((a, b) => a.d - b.d || a.i - b.i)
    .map((x) => x.id);
}

/** Levenshtein distance (insertions, deletions, substitutions), one row at a time. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}
