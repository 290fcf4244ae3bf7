/**
 * Folder URLs: a model folder or hub host given as a URL or as a path relative to the page ('/x',
 * './x', '../x'; in Node, where there is no page, a local folder against the working directory),
 * made absolute.
 */

/** `scheme:` at the start: an absolute URL (https:, http:, file:, blob:, ...) */
export const SCHEME = /^[a-z][a-z\d+.-]*:/i;
/** '/', './' or '../' at the start: a path relative to the page (or, in Node, the working directory) */
export const RELATIVE = /^\.{0,2}\//;

/**
 * A model folder's URL, without fragment and ending in '/': `url` as it is, or (`relative`) resolved
 * as a path against the page.
 *
 * @example
 * folderUrl('https://example.com/models/e5', false); // 'https://example.com/models/e5/'
 */
export function folderUrl(url: string, relative: boolean): string {
  const m = url.trim();
  const folder = new URL(relative ? resolveRelative(m, `model '${m}'`) : m);
  folder.hash = '';
  if (!folder.pathname.endsWith('/')) folder.pathname += '/';
  return folder.href;
}

/** The page's (or worker's) URL; undefined in Node. */
export function pageUrl(): string | undefined {
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
