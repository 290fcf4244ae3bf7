/**
 * Ask the article: a long page answers questions about itself. Its paragraphs are embedded once
 * (kept in memory), a question is embedded and compared with them by cosine, the nearest 8 are
 * reranked by a cross-encoder, and the best 3 are marked in place, with their scores.
 *
 * This is the flow `searchAndRerank(question, paragraphs, { embedder, reranker, passageVectors })`
 * runs in one call; the page takes its three steps one by one to time each.
 *
 * URL parameters: ?model=<embedder>  ?reranker=<reranker>  (folder URL, preset id or fixture name)
 *                 ?device=auto|webgpu|wasm  ?q=<a first question>
 *
 * State for tests lives in the DOM: [data-testid=app][data-state] is 'loading-model', 'embedding',
 * 'ready', 'answering' or 'error'; [data-testid=answers] has data-state and data-question.
 */
import { createEmbedder, createReranker, type Embedder, type EmbedProgress, type Reranker, type RerankProgress } from 'webgpu-embed';
import {
  renderChips,
  $,
  appendHighlighted,
  cacheText,
  defaultEmbedder,
  deviceText,
  downloadText,
  el,
  errorText,
  fetchFirstJson,
  fixtureFolder,
  folderExists,
  formatBytes,
  modelName,
  ms,
  ProgressBar,
  queryTerms,
  resolveModel,
  showModelNote,
} from '../shared/util.ts';

interface Article {
  title: string;
  byline?: string;
  sections: { heading: string; paragraphs: string[] }[];
}
interface Question {
  question: string;
  /** the paragraph that answers it (sections flattened) */
  answer: number;
  words?: string[];
}

const params = new URLSearchParams(location.search);
/** all-MiniLM-L6-v2's fixture folder, or glove-sif where this server lacks it (set at startup) */
let defaultEmbedderModel = fixtureFolder('glove-sif');
const CANDIDATES = 8;
const MARKED = 3;

const app = $('app');
const articleEl = $('article');
const questionInput = $<HTMLInputElement>('question');
const answersList = $<HTMLOListElement>('answers');
const errorBox = $('error');
const progressRoot = $('progress');
const progress = new ProgressBar(progressRoot, progressRoot.querySelector('progress')!, $('progress-label'));

let paragraphs: string[] = [];
let paragraphEls: HTMLParagraphElement[] = [];
let questions: Question[] = [];
let embedder: Embedder | undefined;
let reranker: Reranker | undefined;
/** the paragraphs' vectors: embedded once per embedder, reused by every question */
let paragraphVectors: Float32Array[] | undefined;
let asking = 0;

type State = 'loading-model' | 'embedding' | 'ready' | 'answering' | 'error';
function setState(state: State): void {
  app.dataset.state = state;
  $<HTMLButtonElement>('ask').disabled = state === 'loading-model' || state === 'embedding';
}

function showError(e: unknown): void {
  console.error(e);
  errorBox.textContent = errorText(e);
  setState('error');
}

// ---- the article ------------------------------------------------------------------------------

async function loadArticle(): Promise<void> {
  const article = await fetchFirstJson<Article>('/examples/article/article.json');
  if (article) {
    renderArticle(article.data);
    questions = (await fetchFirstJson<Question[]>('/examples/article/questions.json'))?.data ?? [];
    articleEl.dataset.source = 'article.json';
  } else {
    // no article yet: one made of the search corpus, a section per topic
    type Doc = { id: string; topic: string; title: string; text: string };
    type Q = { query: string; expected: string; passage?: string };
    const docs = (await fetchFirstJson<Doc[]>('/examples/corpus/documents.json'))?.data ?? [];
    const qs = (await fetchFirstJson<Q[]>('/examples/corpus/queries.json'))?.data ?? [];
    const topics = [...new Set(docs.map((d) => d.topic))];
    const sections = topics.map((t) => ({ heading: t[0]!.toUpperCase() + t.slice(1), paragraphs: docs.filter((d) => d.topic === t).flatMap((d) => d.text.split(/\n\s*\n/)) }));
    renderArticle({ title: 'A little of everything', byline: 'Assembled from the example corpus', sections });
    questions = qs.flatMap((q) => {
      const doc = docs.find((d) => d.id === q.expected)!;
      const parts = doc.text.split(/\n\s*\n/);
      const first = paragraphs.indexOf(parts[0]!);
      const within = q.passage ? Math.max(0, parts.findIndex((p) => p.startsWith(q.passage!))) : 0;
      return first >= 0 ? [{ question: q.query, answer: first + within }] : [];
    });
    articleEl.dataset.source = 'documents.json';
  }
  articleEl.dataset.state = 'ready';
  articleEl.dataset.paragraphs = String(paragraphs.length);
  renderSamples();
}

function renderArticle(a: Article): void {
  paragraphs = [];
  paragraphEls = [];
  const nodes: Node[] = [el('h1', {}, a.title)];
  if (a.byline) nodes.push(el('p', { className: 'byline' }, a.byline));
  for (const s of a.sections) {
    nodes.push(el('h2', {}, s.heading));
    for (const text of s.paragraphs) {
      const p = el('p', { className: 'para', dataset: { testid: 'paragraph', paragraph: String(paragraphs.length) } }, text);
      paragraphs.push(text);
      paragraphEls.push(p);
      nodes.push(p);
    }
  }
  articleEl.replaceChildren(...nodes);
}

function renderSamples(): void {
  renderChips($('sample-questions'), questions.map((q) => q.question), 'sample-question', 5, (q) => {
    questionInput.value = q;
    void ask();
  });
}

// ---- the models -------------------------------------------------------------------------------

/** The reranker to start with: the GloVe MaxSim cross-encoder, or the tiny one where it is not built. */
async function defaultReranker(): Promise<string> {
  return (await folderExists(fixtureFolder('glove-maxsim'))) ? 'glove-maxsim' : 'tiny-cross-encoder';
}

async function loadModels(): Promise<void> {
  errorBox.textContent = '';
  setState('loading-model');
  clearMarks();
  await Promise.all([embedder?.dispose(), reranker?.dispose()].map((p) => p?.catch(() => {})));
  embedder = reranker = paragraphVectors = undefined;
  const device = $<HTMLSelectElement>('device').value as 'auto' | 'webgpu' | 'wasm';
  const embedderModel = resolveModel($<HTMLInputElement>('model').value || defaultEmbedderModel);
  const rerankerModel = resolveModel($<HTMLInputElement>('reranker').value || (await defaultReranker()));
  // each model's 'progress_total' (all its files), summed; the sum's size is unknown until both have sent one
  const bytes = { embedder: 0, reranker: 0 };
  const total = { embedder: undefined as number | undefined, reranker: undefined as number | undefined };
  const onProgress = (which: 'embedder' | 'reranker') => (e: EmbedProgress | RerankProgress) => {
    if (e.status !== 'progress_total') return;
    bytes[which] = e.loaded;
    total[which] = e.total;
    const both = { loaded: bytes.embedder + bytes.reranker, total: total.embedder === undefined || total.reranker === undefined ? undefined : total.embedder + total.reranker };
    const d = downloadText(both, 'the models');
    if (d) progress.show(d.text, d.value, d.max);
  };
  progress.show(`Loading ${modelName(embedderModel)} and ${modelName(rerankerModel)}…`);
  try {
    // both load in the library's one worker, and share its ORT environment and GPU device
    [embedder, reranker] = await Promise.all([
      createEmbedder({ model: embedderModel, device, onProgress: onProgress('embedder') }),
      createReranker({ model: rerankerModel, device, onProgress: onProgress('reranker') }),
    ]);
    showBadges(embedder, reranker);
    await embedParagraphs();
    setState('ready');
    if (questionInput.value.trim()) await ask();
  } catch (e) {
    showError(e);
  }
}

function showBadges(e: Embedder, r: Reranker): void {
  const dev = deviceText(e.info);
  const badge = $('device-badge');
  badge.textContent = e.info.device === r.info.device ? dev.label : `embedder ${dev.label} · reranker ${deviceText(r.info).label}`;
  badge.dataset.device = e.info.device;
  badge.title = dev.reason;
  $('device-reason').textContent = `${dev.label}: ${dev.reason}. Reranker: ${r.info.kind}, ${r.info.scoring}, ${r.info.dtype}.`;
  const ce = cacheText(e.info);
  const cr = cacheText(r.info);
  const cache = $('cache-badge');
  const short = (c: ReturnType<typeof cacheText>, info: Embedder['info'] | Reranker['info']) =>
    c.state === 'cache' ? 'from cache' : c.state === 'network' ? `downloaded ${formatBytes(info.cache!.bytesFromNetwork)}` : c.label;
  cache.textContent =
    ce.state === cr.state && ce.state !== 'mixed'
      ? `${modelName(e.info.model)} + ${modelName(r.info.model)}: ${ce.state === 'cache' ? 'from cache' : ce.state === 'network' ? 'downloaded, now cached' : 'cache off'}`
      : `${modelName(e.info.model)}: ${short(ce, e.info)} · ${modelName(r.info.model)}: ${short(cr, r.info)}`;
  cache.dataset.cache = ce.state === cr.state ? ce.state : 'mixed';
  cache.title = `${e.info.model}: ${ce.label}\n${r.info.model}: ${cr.label}`;
}

async function embedParagraphs(): Promise<void> {
  if (!embedder) return;
  setState('embedding');
  const t0 = performance.now();
  progress.show(`Embedding ${paragraphs.length} paragraphs…`, 0, paragraphs.length);
  paragraphVectors = await embedder.embed(paragraphs, {
    task: 'document',
    onProgress: (e) => {
      if (e.status === 'embed') progress.show(`Embedding paragraphs: ${e.done} of ${e.total}`, e.done, e.total);
    },
  });
  const took = performance.now() - t0;
  app.dataset.embedMs = took.toFixed(0);
  progress.done(`${paragraphs.length} paragraphs embedded in ${ms(took)} ms (once; kept in memory)`);
}

// ---- asking -----------------------------------------------------------------------------------

async function ask(): Promise<void> {
  const question = questionInput.value.trim();
  if (!question || !embedder || !reranker || !paragraphVectors) return;
  const seq = ++asking;
  setState('answering');
  answersList.dataset.state = 'working';
  try {
    const t0 = performance.now();
    const [q] = await embedder.embed([question], { task: 'query' });
    const t1 = performance.now();
    const cosine = paragraphVectors.map((v) => dot(q!, v)); // both are unit vectors
    const candidates = cosine
      .map((s, i) => [s, i] as const)
      .sort((a, b) => b[0] - a[0] || a[1] - b[1])
      .slice(0, CANDIDATES)
      .map(([, i]) => i);
    const t2 = performance.now();
    const ranked = await reranker.rerank(question, candidates.map((i) => paragraphs[i]!));
    const t3 = performance.now();
    if (seq !== asking) return;
    const results = ranked.map((r, rank) => ({ paragraph: candidates[r.index]!, score: r.score, similarity: cosine[candidates[r.index]!]!, cosineRank: r.index + 1, rank: rank + 1 }));
    showTimings(t1 - t0, t2 - t1, t3 - t2);
    markArticle(question, results, candidates);
    renderAnswers(question, results);
    setState('ready');
  } catch (e) {
    if (seq === asking) showError(e);
  }
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

interface Answer {
  paragraph: number;
  score: number;
  similarity: number;
  /** its place among the candidates by cosine, before reranking */
  cosineRank: number;
  rank: number;
}

function showTimings(embedMs: number, searchMs: number, rerankMs: number): void {
  $('timings').hidden = false;
  for (const [id, v] of [['t-embed', embedMs], ['t-search', searchMs], ['t-rerank', rerankMs]] as const) {
    const e = $(id);
    e.textContent = `${ms(v)} ms`;
    e.dataset.ms = v.toFixed(2);
  }
}

function clearMarks(): void {
  paragraphEls.forEach((p, i) => {
    p.replaceChildren(paragraphs[i]!);
    p.classList.remove('hit', 'candidate');
    delete p.dataset.rank;
    delete p.dataset.score;
  });
}

/** The best three marked in place (rank badge, score, the question's words); the other candidates faintly. */
function markArticle(question: string, results: Answer[], candidates: number[]): void {
  clearMarks();
  const terms = queryTerms(question);
  for (const i of candidates) paragraphEls[i]!.classList.add('candidate');
  for (const r of results.slice(0, MARKED)) {
    const p = paragraphEls[r.paragraph]!;
    p.classList.add('hit');
    p.dataset.rank = String(r.rank);
    p.dataset.score = r.score.toFixed(4);
    p.replaceChildren(el('span', { className: 'rank-badge', dataset: { testid: 'rank-badge', rank: String(r.rank) } }, `#${r.rank} · ${r.score.toFixed(3)}`));
    appendHighlighted(p, paragraphs[r.paragraph]!, terms);
  }
  paragraphEls[results[0]!.paragraph]!.scrollIntoView({ block: 'center', behavior: 'instant' });
}

function renderAnswers(question: string, results: Answer[]): void {
  const expected = questions.find((q) => q.question.toLowerCase() === question.toLowerCase())?.answer;
  answersList.replaceChildren(
    ...results.map((r) => {
      const li = el('li', {
        className: `answer${r.rank <= MARKED ? ' top' : ''}${r.paragraph === expected ? ' expected' : ''}`,
        dataset: { testid: 'answer', paragraph: String(r.paragraph), rank: String(r.rank), score: r.score.toFixed(4), similarity: r.similarity.toFixed(4) },
      });
      const moved = r.cosineRank - r.rank;
      li.append(
        el(
          'div',
          { className: 'answer-head' },
          el('span', { className: 'rank' }, String(r.rank)),
          el('span', { className: 'where' }, `¶ ${r.paragraph + 1}`),
          el('span', { className: 'moved', title: 'its place by cosine, before reranking' }, moved > 0 ? `▲${moved}` : moved < 0 ? `▼${-moved}` : '='),
          el('span', { className: 'score num', title: 'reranker score' }, r.score.toFixed(3)),
          el('span', { className: 'sim num', title: 'cosine similarity' }, `cos ${r.similarity.toFixed(2)}`),
        ),
        el('div', { className: 'answer-text' }, paragraphs[r.paragraph]!.slice(0, 110) + (paragraphs[r.paragraph]!.length > 110 ? '…' : '')),
      );
      li.addEventListener('click', () => paragraphEls[r.paragraph]!.scrollIntoView({ block: 'center', behavior: 'smooth' }));
      return li;
    }),
  );
  answersList.dataset.question = question;
  answersList.dataset.state = 'done';
  const rank = expected === undefined ? 0 : results.findIndex((r) => r.paragraph === expected) + 1;
  const meta = $('answers-meta');
  meta.replaceChildren(`${CANDIDATES} nearest paragraphs of ${paragraphs.length} reranked; the best ${MARKED} are marked in the article.`);
  if (expected !== undefined) {
    meta.append(el('span', { className: rank && rank <= MARKED ? 'ok' : 'miss', dataset: { testid: 'expected' } }, ` Written for ¶ ${expected + 1}: ${rank ? `rank ${rank}` : 'not among the candidates'}.`));
  }
}

// ---- wiring -----------------------------------------------------------------------------------

$('ask-form').addEventListener('submit', (e) => {
  e.preventDefault();
  void ask();
});
$('load').addEventListener('click', () => {
  const u = new URL(location.href);
  u.searchParams.set('model', $<HTMLInputElement>('model').value.trim());
  u.searchParams.set('reranker', $<HTMLInputElement>('reranker').value.trim());
  u.searchParams.set('device', $<HTMLSelectElement>('device').value);
  history.replaceState(null, '', u);
  void loadModels();
});
addEventListener('unhandledrejection', (e) => showError(e.reason));

$<HTMLSelectElement>('device').value = params.get('device') ?? 'auto';
questionInput.value = params.get('q') ?? '';
try {
  const rerankerInput = $<HTMLInputElement>('reranker');
  const [, fallback, start] = await Promise.all([
    loadArticle(),
    params.get('reranker') ? undefined : defaultReranker(),
    params.get('model') ? undefined : defaultEmbedder(),
  ]);
  if (start) {
    defaultEmbedderModel = start.model;
    showModelNote($('model-note'), start.note);
  }
  $<HTMLInputElement>('model').value = params.get('model') ?? defaultEmbedderModel;
  rerankerInput.value = params.get('reranker') ?? (fallback === 'glove-maxsim' ? fixtureFolder('glove-maxsim') : fixtureFolder(fallback!));
  await loadModels();
} catch (e) {
  showError(e);
}
