/**
 * Hub ids: `model: 'Xenova/all-MiniLM-L6-v2'` (optionally `@revision`: a branch, tag or commit), as
 * transformers.js users write them, and the one setting that says where their files come from.
 *
 * The setting mirrors transformers.js' `env.remoteHost` / `env.remotePathTemplate`: a host (the
 * Hugging Face hub by default; a mirror, a path on the page's own site, or in Node a local folder)
 * and a path template under it (the hub's own layout, `{model}/resolve/{revision}/`, by default).
 * It is set per load (`hub: { host }`) or for every load of this thread (`configureHub()`); a
 * load's option wins. The client resolves it (against the page) before the engine's worker sees
 * it, so the worker never needs the page's settings.
 *
 * This module tells the forms of a model string apart; src/models/source.ts turns them into folders.
 */
import { ModelLoadError } from '../errors.ts';
import { PRESETS } from './presets.ts';

/** The Hugging Face hub: where hub ids' files come from unless a host is set. */
export const DEFAULT_HUB_HOST = 'https://huggingface.co/';
/** The hub's own URL layout of a repository's files at a revision (transformers.js' remotePathTemplate). */
export const DEFAULT_PATH_TEMPLATE = '{model}/resolve/{revision}/';
/** The revision of a hub id that names none: the repository's default branch, as transformers.js. */
export const DEFAULT_REVISION = 'main';

/**
 * Where hub ids' files come from: `${host}/${pathTemplate}` with `{model}` (owner/name) and
 * `{revision}` filled in, then the file's path.
 *
 * @example
 * { host: 'https://hf-mirror.com' }                     // a mirror of the hub
 * { host: '/models' }                                   // the page's own site: /models/{owner}/{name}/resolve/{revision}/{file}
 * { host: './models', pathTemplate: '{model}/' }        // Node: a local folder of ./models/{owner}/{name}/{file}
 */
export interface HubOptions {
  /**
   * The hub's address (default https://huggingface.co): an absolute URL (http, https, or file in
   * Node), or a path starting with '/', './' or '../', resolved against the page (in a worker,
   * the worker's location); where there is no page (Node), such a path is a local folder,
   * relative to the working directory.
   */
  host?: string;
  /**
   * The path of a repository's folder under `host` (default '{model}/resolve/{revision}/', the
   * hub's layout): `{model}` becomes 'owner/name', `{revision}` the revision (URL-encoded).
   */
  pathTemplate?: string;
}

/** A HubOptions with every field filled: `host` absolute and ending in '/'. */
export interface ResolvedHub {
  host: string;
  pathTemplate: string;
}

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
/** `scheme:` at the start: an absolute URL (https:, http:, file:, blob:, ...) */
const SCHEME = /^[a-z][a-z\d+.-]*:/i;
const RELATIVE = /^\.{0,2}\//;

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

// ---- The setting ---------------------------------------------------------------------------------

let configured: ResolvedHub | undefined;

/**
 * Sets where hub ids' files come from, for every load in this thread that passes no `hub` option
 * of its own (transformers.js' `env.remoteHost` / `env.remotePathTemplate`). A relative host is
 * resolved now, against the page (in Node, the working directory: a local folder). Called with
 * nothing, it goes back to the Hugging Face hub. Loads already made keep their files.
 *
 * @example
 * configureHub({ host: 'https://hf-mirror.com' });   // a mirror
 * configureHub({ host: '/models' });                 // this site: /models/Xenova/all-MiniLM-L6-v2/resolve/main/config.json
 * await embed(['text'], { model: 'Xenova/all-MiniLM-L6-v2' });
 * configureHub();                                    // the Hugging Face hub again
 */
export function configureHub(options?: HubOptions): void {
  configured = options === undefined ? undefined : resolveHub(options, undefined, 'configureHub');
}

/** The settings a load uses: its own `hub` option over configureHub()'s over the defaults, resolved. */
export function hubSettings(option?: HubOptions): ResolvedHub {
  return resolveHub(option, configured, 'hub');
}

/** configureHub()'s settings, if any (part of the key under which embed() keeps its instances). */
export function configuredHub(): ResolvedHub | undefined {
  return configured;
}

function resolveHub(option: HubOptions | undefined, fallback: ResolvedHub | undefined, name: string): ResolvedHub {
  if (option !== undefined && (typeof option !== 'object' || option === null || Array.isArray(option))) {
    throw new TypeError(`${name} must be an object { host?, pathTemplate? }, got ${JSON.stringify(option)}. e.g. { host: 'https://hf-mirror.com' }`);
  }
  const host = option?.host !== undefined ? resolveHost(option.host, name) : (fallback?.host ?? DEFAULT_HUB_HOST);
  const pathTemplate = option?.pathTemplate !== undefined ? checkTemplate(option.pathTemplate, name) : (fallback?.pathTemplate ?? DEFAULT_PATH_TEMPLATE);
  return { host, pathTemplate };
}

const HOST_FORMS =
  "an absolute URL ('https://hf-mirror.com'), a path on this site ('/models', './models'), or in Node a local folder ('./models', '/srv/models', 'file:///srv/models/')";

function resolveHost(host: unknown, name: string): string {
  if (typeof host !== 'string' || host.trim() === '' || /\s/.test(host.trim())) {
    throw new TypeError(`${name}.host must be ${HOST_FORMS}, got ${JSON.stringify(host)}.`);
  }
  const h = host.trim();
  if (/[?#]/.test(h)) throw new TypeError(`${name}.host must not have a query or fragment (the files' paths go after it), got ${JSON.stringify(host)}.`);
  let url: URL;
  // In Node, a Windows path (C:\models) is a folder, not a URL of scheme 'c:'.
  const windowsPath = !pageUrl() && /^[a-z]:[\\/]/i.test(h);
  if (SCHEME.test(h) && !windowsPath) {
    try {
      url = new URL(h);
    } catch {
      throw new TypeError(`${name}.host ${JSON.stringify(host)} is not a valid URL: it must be ${HOST_FORMS}.`);
    }
    if (!['http:', 'https:', 'file:'].includes(url.protocol)) throw new TypeError(`${name}.host must be an http(s) or file URL, got ${JSON.stringify(host)}.`);
  } else if (RELATIVE.test(h) || windowsPath) {
    url = new URL(resolveRelative(h, `${name}.host ${JSON.stringify(host)}`));
  } else {
    const scheme = /^[\w-]+(\.[\w-]+)+(:\d+)?(\/|$)/.test(h) ? ` (a host name needs its scheme: 'https://${h}')` : '';
    throw new TypeError(`${name}.host must be ${HOST_FORMS}, got ${JSON.stringify(host)}${scheme}.`);
  }
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url.href;
}

function checkTemplate(template: unknown, name: string): string {
  if (typeof template !== 'string' || !template.includes('{model}')) {
    throw new TypeError(`${name}.pathTemplate must be a path with '{model}' (and usually '{revision}'), e.g. '${DEFAULT_PATH_TEMPLATE}' (the hub's) or '{model}/' (a plain folder per model), got ${JSON.stringify(template)}.`);
  }
  const unknown = template.match(/\{[^}]*\}/g)?.filter((p) => p !== '{model}' && p !== '{revision}');
  if (unknown?.length) throw new TypeError(`${name}.pathTemplate knows '{model}' and '{revision}' only, got ${unknown.join(', ')} in ${JSON.stringify(template)}.`);
  // A path under the host, as transformers.js joins them: a leading '/' would replace the host's own path.
  const t = template.replace(/^\/+/, '');
  return t.endsWith('/') ? t : `${t}/`;
}

/** A repository's folder at a revision under the hub settings, ending in '/'. */
export function hubFolderUrl(repo: string, revision: string, hub: ResolvedHub): string {
  // encodeURIComponent: a revision such as 'refs/pr/3' is one path segment (the hub's own URLs say refs%2Fpr%2F3).
  const path = hub.pathTemplate.replaceAll('{model}', repo).replaceAll('{revision}', encodeURIComponent(revision));
  const url = new URL(path, hub.host);
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url.href;
}

/** The hub settings in words, for error messages: which host, and how to change it. */
export function describeHub(hub: ResolvedHub): string {
  const host = hub.host === DEFAULT_HUB_HOST ? `hub host ${hub.host} (the default)` : `hub host ${hub.host}`;
  const template = hub.pathTemplate === DEFAULT_PATH_TEMPLATE ? '' : ` with pathTemplate '${hub.pathTemplate}'`;
  return `${host}${template}; to read hub ids from a mirror, a path on this site or a local folder, set the load option hub: { host } or configureHub({ host })`;
}

// ---- Relative paths: against the page, or in Node the working directory ------------------------

function pageUrl(): string | undefined {
  return (globalThis as { location?: { href?: string } }).location?.href;
}

/**
 * A relative path ('/x', './x', '../x') as an absolute URL: against the page (or worker) where
 * there is one; in Node, as a local folder (file: URL) against the working directory.
 */
export function resolveRelative(path: string, what: string): string {
  const here = pageUrl();
  if (here) return new URL(path, here).href;
  const local = localFolderUrl(path);
  if (local) return local;
  throw new TypeError(`${what} is relative, and there is no page to resolve it against: pass an absolute URL.`);
}

/** Node: a local path as a file: URL (node:path and node:url through getBuiltinModule, so a browser bundle imports nothing). */
function localFolderUrl(path: string): string | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  if (typeof proc?.getBuiltinModule !== 'function') return undefined;
  const nodePath = proc.getBuiltinModule('node:path') as typeof import('node:path') | undefined;
  const nodeUrl = proc.getBuiltinModule('node:url') as typeof import('node:url') | undefined;
  if (!nodePath || !nodeUrl) return undefined;
  const href = nodeUrl.pathToFileURL(nodePath.resolve(path)).href;
  return /[\\/]$/.test(path) && !href.endsWith('/') ? `${href}/` : href;
}
