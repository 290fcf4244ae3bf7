/**
 * Where hub ids' files come from: the one setting, and a repository's folder URL under it.
 *
 * The setting mirrors transformers.js' `env.remoteHost` / `env.remotePathTemplate`: a host (the
 * Hugging Face hub by default; a mirror, a path on the page's own site, or in Node a local folder)
 * and a path template under it (the hub's own layout, `{model}/resolve/{revision}/`, by default).
 * It is set per load (`hub: { host }`) or for every load of this thread (`configureHub()`); a
 * load's option wins. The client resolves it (against the page) before the engine's worker sees
 * it, so the worker never needs the page's settings.
 *
 * Telling a model string's forms apart (a preset id, a hub id, a URL) needs the presets: that is
 * src/models/hub.ts, and src/models/source.ts turns them into folders with what is here.
 */
import { pageUrl, RELATIVE, resolveRelative, SCHEME } from './folder-url.ts';

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

/** A folder found on the hub: the repository, revision and settings, for error messages. */
export interface HubFolder {
  repo: string;
  revision: string;
  settings: ResolvedHub;
  /** the settings in words (describeHub) */
  describe: string;
}

/**
 * A repository's folder at a revision under a load's hub option (over configureHub()'s, over the
 * default), and where it was found.
 *
 * @example
 * hubFolder('Xenova/all-MiniLM-L6-v2', 'main').baseUrl; // 'https://huggingface.co/Xenova/all-MiniLM-L6-v2/resolve/main/'
 */
export function hubFolder(repo: string, revision: string, option?: HubOptions): { baseUrl: string; hub: HubFolder } {
  const settings = hubSettings(option);
  return { baseUrl: hubFolderUrl(repo, revision, settings), hub: { repo, revision, settings, describe: describeHub(settings) } };
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
