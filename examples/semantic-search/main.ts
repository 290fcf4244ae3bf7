/**
 * Semantic search in the browser: a corpus embedded with webgpu-embed, kept in a vector index
 * in this page, searched as you type. The model runs in the library's Web Worker (WebGPU or
 * wasm); the weights are cached in IndexedDB after the first load.
 *
 * URL parameters: ?model=<folder URL | preset id | fixture name>  ?device=auto|webgpu|wasm
 *                 ?matryoshka=<min>  (let a model without Matryoshka training be truncated anyway)
 *                 ?corpus=none       (start with an empty index)   ?q=<a first query>
 *
 * State for tests and scripts lives in the DOM: [data-testid=app][data-state] is 'loading-model',
 * 'indexing', 'ready' or 'error'; [data-testid=results] has data-state and data-query.
 */
import {
  clearCache,
  createEmbedder,
  createIndex,
  listCachedModels,
  type Embedder,
  type EmbedderInfo,
  type IndexDocument,
  type SearchHit,
  type VectorIndex,
} from 'webgpu-embed';
import {
  renderChips,
  $,
  appendHighlighted,
  cacheText,
  debounce,
  defaultEmbedder,
  deviceText,
  downloadText,
  el,
  errorText,
  fetchFirstJson,
  fixtureFolder,
  formatBytes,
  modelName,
  ms,
  ProgressBar,
  queryTerms,
  resolveModel,
  showModelNote,
} from '../shared/util.ts';

interface Doc {
  id: string;
  title: string;
  topic?: string;
  text: string;
  source: 'sample' | 'yours';
}
type Meta = Pick<Doc, 'title' | 'topic' | 'source'>;
interface SampleQuery {
  query: string;
  expected: string;
}

const params = new URLSearchParams(location.search);
/** all-MiniLM-L6-v2's fixture folder, or glove-sif where this server lacks it (set at startup) */
let defaultModel = fixtureFolder('glove-sif');
const TOP_K = 10;

const app = $('app');
const queryInput = $<HTMLInputElement>('query');
const resultsList = $<HTMLOListElement>('results');
const resultsMeta = $('results-meta');
const modelInput = $<HTMLInputElement>('model');
const deviceSelect = $<HTMLSelectElement>('device');
const loadButton = $<HTMLButtonElement>('load');
const errorBox = $('error');
const progressRoot = $('progress');
const progress = new ProgressBar(progressRoot, progressRoot.querySelector('progress')!, $('progress-label'));
const dimsTable = $<HTMLTableElement>('dims-table');
const dimsRun = $<HTMLButtonElement>('dims-run');

let embedder: Embedder | undefined;
let index: VectorIndex<Meta> | undefined;
let loading: AbortController | undefined;
let sampleDocs: Doc[] = [];
let sampleQueries: SampleQuery[] = [];
let yourDocs: Doc[] = [];
let useSample = params.get('corpus') !== 'none';
let searchSeq = 0;

function setState(state: 'loading-model' | 'indexing' | 'ready' | 'error' | 'comparing'): void {
  app.dataset.state = state;
  const busy = state === 'loading-model' || state === 'indexing' || state === 'comparing';
  for (const id of ['add-text', 'reset-corpus', 'pick-files', 'dims-run']) $<HTMLButtonElement>(id).disabled = busy || !index;
  if (state !== 'comparing' && !busy && !dimsChoices()) dimsRun.disabled = true;
}

function showError(e: unknown): void {
  console.error(e);
  errorBox.textContent = errorText(e);
  setState('error');
}

// ---- the corpus ------------------------------------------------------------------------------

/** The sample corpus: ~240 paragraphs with queries written for them, or the smaller first corpus. */
async function loadSampleCorpus(): Promise<void> {
  type Raw = { id: string; title?: string; topic?: string; text: string };
  const pairs: [string, string][] = [
    ['/examples/corpus/paragraphs.json', '/examples/corpus/paragraph-queries.json'],
    ['/examples/corpus/documents.json', '/examples/corpus/queries.json'],
  ];
  for (const [docsUrl, queriesUrl] of pairs) {
    const docs = await fetchFirstJson<Raw[]>(docsUrl);
    if (!docs) continue;
    sampleDocs = docs.data.map((d) => ({ id: d.id, title: d.title ?? d.id, topic: d.topic, text: d.text, source: 'sample' }));
    sampleQueries = (await fetchFirstJson<SampleQuery[]>(queriesUrl))?.data ?? [];
    app.dataset.corpus = docsUrl.split('/').pop()!;
    return;
  }
  throw new Error('the sample corpus (examples/corpus/*.json) is not served');
}

function corpus(): Doc[] {
  return [...(useSample ? sampleDocs : []), ...yourDocs];
}

const toIndexDocs = (docs: Doc[]): IndexDocument<Meta>[] =>
  docs.map((d) => ({ id: d.id, text: d.text, metadata: { title: d.title, topic: d.topic, source: d.source } }));

function renderSamples(): void {
  renderChips($('sample-queries'), useSample ? sampleQueries.map((q) => q.query) : [], 'sample-query', 6, (q) => {
    queryInput.value = q;
    void search();
  });
}

// ---- loading the model and indexing ------------------------------------------------------------

async function load(): Promise<void> {
  loading?.abort();
  const controller = (loading = new AbortController());
  const { signal } = controller;
  errorBox.textContent = '';
  setState('loading-model');
  resetDims();
  await index?.dispose().catch(() => {});
  await embedder?.dispose().catch(() => {});
  index = undefined;
  embedder = undefined;

  const model = resolveModel(modelInput.value || defaultModel);
  const device = deviceSelect.value as 'auto' | 'webgpu' | 'wasm';
  const label = modelName(model);
  progress.show(`Loading ${label}…`);
  try {
    const e = await createEmbedder({
      model,
      device,
      signal,
      onProgress: (p) => {
        const d = downloadText(p, label);
        if (d) progress.show(d.text, d.value, d.max);
      },
    });
    if (signal.aborted) return void e.dispose();
    embedder = e;
    showBadges(e);
    setupDims();
    await buildIndex(signal);
  } catch (e) {
    if (!signal.aborted) showError(e);
  }
}

function showBadges(e: Embedder): void {
  const dev = deviceText(e.info);
  const devBadge = $('device-badge');
  devBadge.textContent = dev.label;
  devBadge.dataset.device = e.info.device;
  devBadge.title = dev.reason;
  $('device-reason').textContent = `${dev.label}: ${dev.reason}. ${e.info.dimensions} dimensions, ${e.info.pooling} pooling, ${e.info.dtype}.`;
  const cache = cacheText(e.info);
  const cacheBadge = $('cache-badge');
  cacheBadge.textContent = `${modelName(e.info.model)} · ${cache.label}`;
  cacheBadge.dataset.cache = cache.state;
  cacheBadge.title = e.info.model;
}

async function buildIndex(signal?: AbortSignal): Promise<void> {
  if (!embedder) return;
  setState('indexing');
  const started = performance.now();
  await index?.dispose().catch(() => {});
  index = await createIndex<Meta>({ embedder, name: 'semantic-search-example' });
  const docs = corpus();
  progress.show(`Embedding ${docs.length} documents…`, 0, 1);
  await index.add(toIndexDocs(docs), {
    ...(signal ? { signal } : {}),
    batchSize: 32,
    onProgress: (p) => progress.show(`Embedding passages: ${p.done} of ${p.total}`, p.done, p.total),
  });
  const stats = index.stats();
  const took = performance.now() - started;
  progress.done(`Indexed ${stats.documents} documents (${stats.passages} passages) in ${ms(took)} ms`);
  app.dataset.indexMs = took.toFixed(0);
  showIndexBadge();
  setState('ready');
  await search();
}

function showIndexBadge(): void {
  if (!index) return;
  const s = index.stats();
  const badge = $('index-badge');
  badge.textContent = `${s.documents} docs · ${s.passages} passages · ${s.dimensions}-d · scan on ${s.device === 'webgpu' ? 'GPU' : 'CPU'}`;
  badge.dataset.documents = String(s.documents);
  badge.dataset.passages = String(s.passages);
  $('corpus-info').textContent =
    `${useSample ? `Sample corpus (${sampleDocs.length} documents)` : 'No sample corpus'}` +
    `${yourDocs.length ? ` + ${yourDocs.length} of yours` : ''}. Vectors: ${formatBytes(s.passages * s.dimensions * 4)}.`;
}

async function addYourDocs(docs: Doc[]): Promise<void> {
  if (!index || docs.length === 0) return;
  yourDocs = [...yourDocs.filter((d) => !docs.some((n) => n.id === d.id)), ...docs];
  setState('indexing');
  resetDims();
  try {
    progress.show(`Embedding ${docs.length} new document${docs.length > 1 ? 's' : ''}…`, 0, 1);
    await index.add(toIndexDocs(docs), { onProgress: (p) => progress.show(`Embedding passages: ${p.done} of ${p.total}`, p.done, p.total) });
    progress.done(`Added ${docs.length} document${docs.length > 1 ? 's' : ''}: ${docs.map((d) => d.title).join(', ')}`);
    showIndexBadge();
    setState('ready');
    await search();
  } catch (e) {
    showError(e);
  }
}

/** Pasted text: one document, titled by its first line. */
function pastedDoc(text: string): Doc {
  const first = text.trim().split('\n')[0]!.trim();
  return { id: `pasted-${yourDocs.length + 1}`, title: first.length > 60 ? `${first.slice(0, 57)}…` : first, text: text.trim(), source: 'yours' };
}

/** .txt / .md: one document per file; .json: an array of strings or of { id?, title?, text }. */
async function filesToDocs(files: Iterable<File>): Promise<Doc[]> {
  const docs: Doc[] = [];
  for (const f of files) {
    const text = await f.text();
    if (/\.json$/i.test(f.name) || f.type === 'application/json') {
      const data = JSON.parse(text) as unknown;
      const items = Array.isArray(data) ? data : [data];
      items.forEach((item, i) => {
        const it = (typeof item === 'string' ? { text: item } : item) as { id?: string; title?: string; text?: string };
        if (typeof it?.text !== 'string' || !it.text.trim()) return;
        docs.push({ id: it.id ?? `${f.name}#${i}`, title: it.title ?? it.id ?? `${f.name} #${i + 1}`, text: it.text, source: 'yours' });
      });
    } else if (text.trim()) {
      docs.push({ id: f.name, title: f.name, text, source: 'yours' });
    }
  }
  return docs;
}

// ---- searching ---------------------------------------------------------------------------------

async function search(): Promise<void> {
  const q = queryInput.value.trim();
  const seq = ++searchSeq;
  if (!q) {
    resultsList.replaceChildren();
    resultsList.dataset.state = 'idle';
    delete resultsList.dataset.query;
    resultsMeta.textContent = index ? `Type to search ${index.size} documents; results appear as you type.` : '';
    return;
  }
  if (!index || app.dataset.state !== 'ready') return; // searched when the index is ready
  resultsList.dataset.state = 'searching';
  try {
    const t0 = performance.now();
    const hits = await index.search(q, { topK: TOP_K });
    const took = performance.now() - t0;
    if (seq !== searchSeq) return; // a newer query is on its way
    renderResults(q, hits, took);
  } catch (e) {
    if (seq === searchSeq) showError(e);
  }
}

const searchSoon = debounce(() => void search(), 150);

function renderResults(q: string, hits: SearchHit<Meta>[], took: number): void {
  const terms = queryTerms(q);
  const expected = useSample ? sampleQueries.find((s) => s.query.toLowerCase() === q.toLowerCase())?.expected : undefined;
  const items = hits.map((h, rank) => {
    const li = el('li', {
      className: 'result',
      dataset: { testid: 'result', id: h.id, score: h.score.toFixed(4), rank: String(rank + 1), passage: String(h.passage.index) },
    });
    if (h.id === expected) li.classList.add('expected');
    const head = el(
      'div',
      { className: 'hit-head' },
      el('span', { className: 'rank' }, String(rank + 1)),
      el('span', { className: 'title' }, h.metadata?.title ?? h.id),
      el('span', { className: 'tag' }, [h.metadata?.topic, h.metadata?.source === 'yours' ? 'yours' : undefined].filter(Boolean).join(' · ') || h.id),
      el('span', { className: 'score num', dataset: { testid: 'score' } }, h.score.toFixed(3)),
    );
    const bar = el('div', { className: 'scorebar' }, el('span'));
    (bar.firstChild as HTMLElement).style.width = `${Math.max(0, Math.min(1, h.score)) * 100}%`;
    li.append(head, bar, snippet(h, terms));
    return li;
  });
  resultsList.replaceChildren(...items);
  resultsList.dataset.query = q;
  resultsList.dataset.ms = took.toFixed(1);
  resultsList.dataset.state = 'done';
  const rank = expected ? hits.findIndex((h) => h.id === expected) + 1 : 0;
  resultsMeta.replaceChildren(
    `${hits.length} results in ${ms(took)} ms (embed the query + scan ${index?.stats().passages ?? 0} passages)`,
    ...(expected
      ? [el('span', { className: rank === 1 ? 'ok' : rank ? 'near' : 'miss', dataset: { testid: 'expected' } }, ` · written for “${expected}”: ${rank ? `rank ${rank}` : 'not in the top 10'}`)]
      : []),
  );
}

/** The document around its best passage: the passage marked, the query's words marked inside it. */
function snippet(h: SearchHit<Meta>, terms: string[]): HTMLElement {
  const p = el('p', { className: 'snippet' });
  const CONTEXT = 140;
  const doc = h.document;
  let from = Math.max(0, h.passage.start - CONTEXT);
  let to = Math.min(doc.length, h.passage.end + CONTEXT);
  if (from > 0) from = doc.indexOf(' ', from) + 1 || from;
  if (to < doc.length) to = doc.lastIndexOf(' ', to) > h.passage.end ? doc.lastIndexOf(' ', to) : to;
  if (from > 0) p.append('… ');
  p.append(doc.slice(from, h.passage.start));
  const passage = el('mark', { className: 'passage', dataset: { testid: 'passage', start: String(h.passage.start), end: String(h.passage.end) } });
  appendHighlighted(passage, h.passage.text, terms);
  p.append(passage, doc.slice(h.passage.end, to));
  if (to < doc.length) p.append(' …');
  return p;
}

// ---- Matryoshka: the same corpus at fewer dimensions ------------------------------------------

/**
 * The sizes to offer, largest first: the trained ones, or down to ?matryoshka=<min> on a model
 * not trained for Matryoshka truncation (every embedder takes any size; an untrained model loses
 * more quality as it shrinks, which the table shows); undefined for an untrained model otherwise.
 */
function dimsChoices(): number[] | undefined {
  if (!embedder) return undefined;
  const m = embedder.info.matryoshka;
  const forced = Number(params.get('matryoshka'));
  let range: { min: number; max: number } | undefined;
  if (m.trained) {
    if (Array.isArray(m.sizes)) return m.sizes.length > 1 ? [...m.sizes].sort((a, b) => b - a) : undefined;
    range = m.sizes;
  } else if (forced > 0) range = { min: Math.min(forced, embedder.info.dimensions), max: embedder.info.dimensions };
  if (!range) return undefined;
  const { min, max } = range;
  const out: number[] = [];
  for (let d = max; d >= min && out.length < 6; d = Math.round(d / 2)) out.push(d);
  if (out.at(-1) !== min && out.length < 6) out.push(min);
  return out;
}

function resetDims(): void {
  dimsTable.hidden = true;
  dimsTable.dataset.state = 'idle';
  dimsTable.tBodies[0]!.replaceChildren();
}

function setupDims(): void {
  const fieldset = $<HTMLFieldSetElement>('dims');
  const options = $('dims-options');
  const reason = $('dims-reason');
  options.replaceChildren();
  reason.replaceChildren();
  if (!embedder) return;
  const info = embedder.info;
  const choices = dimsChoices();
  if (!choices) {
    fieldset.disabled = true;
    fieldset.dataset.state = 'disabled';
    options.append(el('label', { className: 'dim' }, el('input', { type: 'checkbox', checked: true, disabled: true }), ` ${info.dimensions}`));
    reason.append(
      `${modelName(info.model)} has one output size (${info.dimensions} dimensions): it was not trained for Matryoshka truncation, so a smaller size runs but loses more quality. ` +
        'Models that were (Qwen3-Embedding: 32 to 1024) can be cut here to show the trade-off. ',
      el('a', { href: withParam('matryoshka', String(Math.max(1, Math.round(info.dimensions / 10)))), dataset: { testid: 'dims-override' } }, 'Truncate anyway'),
      ' (an override: quality drops faster than for a Matryoshka model).',
    );
    return;
  }
  fieldset.disabled = false;
  fieldset.dataset.state = 'enabled';
  choices.forEach((d, i) => {
    const box = el('input', { type: 'checkbox', value: String(d), checked: i < 4, dataset: { testid: `dim-${d}` } });
    if (i === 0) box.disabled = true; // the full size is the reference
    options.append(el('label', { className: 'dim' }, box, ` ${d}`));
  });
  const min = Number(params.get('matryoshka'));
  reason.textContent =
    min > 0 && !info.matryoshka.trained
      ? `Override ?matryoshka=${min}: ${modelName(info.model)} was not trained for truncation; cut to these sizes anyway.`
      : `${modelName(info.model)} was trained for ${trainedSizes(info.matryoshka)} dimensions.`;
}

function trainedSizes(m: EmbedderInfo['matryoshka']): string {
  if (!m.trained) return 'its full';
  return Array.isArray(m.sizes) ? m.sizes.join(', ') : `${m.sizes.min} to ${m.sizes.max}`;
}

function withParam(key: string, value: string): string {
  const u = new URL(location.href);
  u.searchParams.set(key, value);
  return u.pathname + u.search;
}

interface DimsRow {
  dims: number;
  bytes: number;
  ms: number;
  overlap: number;
  found: number | undefined;
}

/**
 * For each chosen size: the corpus embedded at that size (the embedder truncates on the GPU and
 * normalizes again) into an index of its own; the sample queries searched there; its size in
 * bytes, the scan's median time, and how much of the full size's top 10 it keeps.
 */
async function compareDims(): Promise<void> {
  if (!embedder || !index) return;
  const full = embedder.info.dimensions;
  const sizes = [...new Set([full, ...[...$('dims-options').querySelectorAll<HTMLInputElement>('input:checked')].map((b) => Number(b.value))])].sort((a, b) => b - a);
  const docs = toIndexDocs(corpus());
  const present = new Set(corpus().map((d) => d.id));
  const queries = [
    ...(queryInput.value.trim() ? [{ query: queryInput.value.trim(), expected: '' }] : []),
    ...(useSample ? sampleQueries.filter((q) => present.has(q.expected)).slice(0, 40) : []),
  ];
  if (queries.length === 0) queries.push({ query: corpus()[0]?.title ?? 'search', expected: '' });
  setState('comparing');
  dimsTable.hidden = false;
  dimsTable.dataset.state = 'running';
  const body = dimsTable.tBodies[0]!;
  body.replaceChildren();
  const reference: string[][] = [];
  try {
    for (const d of sizes) {
      const ix: VectorIndex<Meta> = d === full ? index : await createIndex<Meta>({ embedder, dimensions: d, device: index.device === 'webgpu' ? 'auto' : 'cpu' });
      try {
        if (ix !== index) {
          await ix.add(docs, { batchSize: 32, onProgress: (p) => progress.show(`Embedding at ${d} dimensions: ${p.done} of ${p.total}`, p.done, p.total) });
        }
        const vectors = await embedder.embed(queries.map((q) => q.query), { task: 'query', ...(d === full ? {} : { dimensions: d }) });
        const times: number[] = [];
        const lists: string[][] = [];
        for (let i = 0; i < queries.length; i++) {
          let hits: SearchHit<Meta>[] = [];
          for (let rep = 0; rep < 3; rep++) {
            const t0 = performance.now();
            hits = await ix.search(vectors[i]!, { topK: TOP_K });
            times.push(performance.now() - t0);
          }
          lists.push(hits.map((h) => h.id));
        }
        if (d === full) reference.push(...lists);
        const overlap = lists.reduce((s, l, i) => s + l.filter((id) => reference[i]!.includes(id)).length / Math.max(1, reference[i]!.length), 0) / lists.length;
        const judged = queries.map((q, i) => [q, lists[i]!] as const).filter(([q]) => q.expected);
        const found = judged.length ? judged.filter(([q, l]) => l.slice(0, 3).includes(q.expected)).length / judged.length : undefined;
        const row: DimsRow = { dims: d, bytes: ix.stats().passages * d * 4, ms: median(times), overlap, found };
        body.append(dimsRowElement(row, full));
      } finally {
        if (ix !== index) await ix.dispose();
      }
    }
    progress.done(`Compared ${sizes.length} sizes over ${queries.length} queries`);
    dimsTable.dataset.state = 'done';
    setState('ready');
  } catch (e) {
    showError(e);
  }
}

function dimsRowElement(r: DimsRow, full: number): HTMLTableRowElement {
  const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
  const tr = el('tr', {
    dataset: { testid: 'dims-row', dims: String(r.dims), bytes: String(r.bytes), ms: r.ms.toFixed(3), overlap: r.overlap.toFixed(3), ...(r.found !== undefined ? { found: r.found.toFixed(3) } : {}) },
  });
  tr.append(
    el('td', { className: 'num' }, String(r.dims), ...(r.dims === full ? [' ', el('small', {}, 'full')] : [])),
    el('td', { className: 'num' }, formatBytes(r.bytes)),
    el('td', { className: 'num' }, `${r.ms < 1 ? (r.ms * 1000).toFixed(0) + ' µs' : r.ms.toFixed(2) + ' ms'}`),
    el('td', { className: 'num' }, pct(r.overlap)),
    el('td', { className: 'num' }, r.found === undefined ? '–' : pct(r.found)),
  );
  return tr;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

// ---- wiring ------------------------------------------------------------------------------------

queryInput.addEventListener('input', searchSoon);
queryInput.addEventListener('keydown', (e) => {
  if (e.key === 'Enter') {
    searchSoon.cancel();
    void search();
  }
});
loadButton.addEventListener('click', () => {
  const u = new URL(location.href);
  u.searchParams.set('model', modelInput.value.trim());
  u.searchParams.set('device', deviceSelect.value);
  history.replaceState(null, '', u);
  void load();
});
modelInput.addEventListener('keydown', (e) => {
  if (e.key === 'Enter') loadButton.click();
});
$('add-text').addEventListener('click', () => {
  const text = $<HTMLTextAreaElement>('paste').value;
  if (!text.trim()) return;
  $<HTMLTextAreaElement>('paste').value = '';
  void addYourDocs([pastedDoc(text)]);
});
$('reset-corpus').addEventListener('click', () => {
  yourDocs = [];
  useSample = true;
  renderSamples();
  resetDims();
  void buildIndex().catch(showError);
});
const fileInput = $<HTMLInputElement>('file-input');
$('pick-files').addEventListener('click', () => fileInput.click());
fileInput.addEventListener('change', () => {
  if (fileInput.files?.length) void filesToDocs(fileInput.files).then(addYourDocs, showError);
  fileInput.value = '';
});
const dropzone = $('dropzone');
dropzone.addEventListener('dragover', (e) => {
  e.preventDefault();
  dropzone.classList.add('over');
});
dropzone.addEventListener('dragleave', () => dropzone.classList.remove('over'));
dropzone.addEventListener('drop', (e) => {
  e.preventDefault();
  dropzone.classList.remove('over');
  const files = e.dataTransfer?.files;
  if (files?.length) void filesToDocs(files).then(addYourDocs, showError);
  else {
    const text = e.dataTransfer?.getData('text/plain');
    if (text?.trim()) void addYourDocs([pastedDoc(text)]);
  }
});
dimsRun.addEventListener('click', () => void compareDims());
$('clear-cache').addEventListener('click', async () => {
  const status = $('cache-status');
  try {
    const cached = await listCachedModels();
    await clearCache();
    const bytes = cached.reduce((s, m) => s + m.bytes, 0);
    status.textContent = `Cleared ${cached.length} cached model${cached.length === 1 ? '' : 's'} (${formatBytes(bytes)}); the next load downloads again.`;
    status.dataset.state = 'cleared';
    status.dataset.models = String(cached.length);
  } catch (e) {
    status.textContent = errorText(e);
  }
});
addEventListener('unhandledrejection', (e) => showError(e.reason));

deviceSelect.value = params.get('device') ?? 'auto';
queryInput.value = params.get('q') ?? '';
try {
  if (!params.get('model')) {
    const start = await defaultEmbedder();
    defaultModel = start.model;
    showModelNote($('model-note'), start.note);
  }
  modelInput.value = params.get('model') ?? defaultModel;
  await loadSampleCorpus();
  renderSamples();
  await load();
} catch (e) {
  showError(e);
}
