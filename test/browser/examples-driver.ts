/**
 * Drives the example pages (examples/semantic-search, examples/rerank-page) as a user would:
 * typing into their fields, pressing their buttons, and reading what they show from the DOM
 * (data-testid / data-state attributes). Shared by test/browser/examples.test.ts and
 * `npm run demo -- --headless` (scripts/demo.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { REPO_ROOT } from './harness/server.ts';

export const SEMANTIC_SEARCH = '/examples/semantic-search/';
export const RERANK_PAGE = '/examples/rerank-page/';

export interface SampleQuery {
  query: string;
  expected: string;
}
export interface SampleQuestion {
  question: string;
  answer: number;
}

/** The sample queries the semantic-search page pairs with its corpus (paragraphs.json when it is there). */
export function sampleQueries(): { corpus: string; queries: SampleQuery[] } {
  const dir = join(REPO_ROOT, 'examples', 'corpus');
  const big = existsSync(join(dir, 'paragraphs.json')) && existsSync(join(dir, 'paragraph-queries.json'));
  const file = big ? 'paragraph-queries.json' : 'queries.json';
  return { corpus: big ? 'paragraphs.json' : 'documents.json', queries: JSON.parse(readFileSync(join(dir, file), 'utf8')) as SampleQuery[] };
}

/** The article's questions, or undefined while examples/article/ is not there (the page then builds its own). */
export function articleQuestions(): SampleQuestion[] | undefined {
  const file = join(REPO_ROOT, 'examples', 'article', 'questions.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as SampleQuestion[]) : undefined;
}

const APP_ERROR = `document.querySelector('[data-testid=app]')?.dataset.state === 'error'`;

/**
 * Page-side code goes as strings, not serialized functions: the test files are transformed
 * (esbuild may wrap inner functions in \`__name\` helpers that the page does not have).
 */
async function waitFor(page: Page, expression: string, timeoutMs = 60_000): Promise<void> {
  await page.waitForFunction(expression, undefined, { timeout: timeoutMs, polling: 50 });
}

async function throwOnPageError(page: Page): Promise<void> {
  if ((await page.getAttribute('[data-testid=app]', 'data-state')) === 'error') {
    throw new Error(`the page reported an error: ${await page.textContent('[data-testid=error]')}`);
  }
}

/** Waits until the page's app is 'ready' (or throws with the page's error text). */
export async function waitReady(page: Page, timeoutMs = 120_000): Promise<void> {
  await page.waitForSelector('[data-testid=app][data-state=ready], [data-testid=app][data-state=error]', { timeout: timeoutMs });
  await throwOnPageError(page);
}

export interface Badges {
  device: string;
  deviceAttr: string | null;
  /** the page's line on the device: label, why it was chosen, the model's facts */
  deviceReason: string;
  /** why this device (embedder.info.deviceReason), the badge's tooltip */
  why: string;
  cache: string;
  cacheAttr: string | null;
}

export async function readBadges(page: Page): Promise<Badges> {
  const device = page.locator('[data-testid=device-badge]');
  const cache = page.locator('[data-testid=cache-badge]');
  return {
    device: (await device.textContent())?.trim() ?? '',
    deviceAttr: await device.getAttribute('data-device'),
    deviceReason: (await page.textContent('[data-testid=device-reason]'))?.trim() ?? '',
    why: (await device.getAttribute('title')) ?? '',
    cache: (await cache.textContent())?.trim() ?? '',
    cacheAttr: await cache.getAttribute('data-cache'),
  };
}

export interface Hit {
  id: string;
  score: number;
  /** the highlighted passage's text */
  passage: string;
  /** the query's words marked inside the passage */
  terms: string[];
}
export interface SearchRun {
  query: string;
  hits: Hit[];
  /** the page's own time for the search (embed the query + scan) */
  ms: number;
}

/**
 * Searches on the semantic-search page. `typed`: key by key, and the results must come by
 * themselves (debounced, as the user types); otherwise the field is filled and Enter pressed.
 */
export async function search(page: Page, query: string, opts: { typed?: boolean } = {}): Promise<SearchRun> {
  const box = page.locator('[data-testid=query]');
  if (opts.typed) {
    await box.fill('');
    await box.pressSequentially(query, { delay: 15 });
  } else {
    await box.fill(query);
    await box.press('Enter');
  }
  await waitFor(page, `(() => { const r = document.querySelector('[data-testid=results]'); return (r?.dataset.state === 'done' && r.dataset.query === ${JSON.stringify(query)}) || ${APP_ERROR}; })()`);
  await throwOnPageError(page);
  return (await page.evaluate(`(() => {
    const r = document.querySelector('[data-testid=results]');
    const hits = [...r.querySelectorAll('[data-testid=result]')].map((li) => {
      const passage = li.querySelector('[data-testid=passage]');
      return {
        id: li.dataset.id,
        score: Number(li.dataset.score),
        passage: passage ? passage.textContent : '',
        terms: passage ? [...passage.querySelectorAll('mark.term')].map((m) => m.textContent) : [],
      };
    });
    return { query: ${JSON.stringify(query)}, hits, ms: Number(r.dataset.ms) };
  })()`)) as SearchRun;
}

export interface AskRun {
  question: string;
  /** all reranked candidates, best first */
  answers: { paragraph: number; rank: number; score: number; similarity: number }[];
  /** the paragraphs marked in the article, by rank */
  marked: { paragraph: number; rank: number; score: number; badge: string }[];
  timings: { embed: number; search: number; rerank: number };
  /** the best paragraph is in the viewport (the page scrolled to it) */
  bestInView: boolean;
}

/** Asks a question on the rerank page: typed into the field, then the Ask button. */
export async function ask(page: Page, question: string): Promise<AskRun> {
  await page.locator('[data-testid=question]').fill(question);
  await page.locator('[data-testid=ask]').click();
  await waitFor(page, `(() => { const r = document.querySelector('[data-testid=answers]'); return (r?.dataset.state === 'done' && r.dataset.question === ${JSON.stringify(question)}) || ${APP_ERROR}; })()`);
  await throwOnPageError(page);
  return (await page.evaluate(`(() => {
    const answers = [...document.querySelectorAll('[data-testid=answer]')].map((li) => ({
      paragraph: Number(li.dataset.paragraph),
      rank: Number(li.dataset.rank),
      score: Number(li.dataset.score),
      similarity: Number(li.dataset.similarity),
    }));
    const marked = [...document.querySelectorAll('[data-testid=paragraph].hit')]
      .map((p) => ({ paragraph: Number(p.dataset.paragraph), rank: Number(p.dataset.rank), score: Number(p.dataset.score), badge: p.querySelector('[data-testid=rank-badge]')?.textContent ?? '' }))
      .sort((a, b) => a.rank - b.rank);
    const ms = {};
    for (const k of ['embed', 'search', 'rerank']) ms[k] = Number(document.querySelector('[data-testid=t-' + k + ']')?.dataset.ms);
    const best = document.querySelector('[data-testid=paragraph][data-rank="1"]');
    const box = best ? best.getBoundingClientRect() : undefined;
    const bestInView = !!box && box.top >= 0 && box.bottom <= innerHeight;
    return { question: ${JSON.stringify(question)}, answers, marked, timings: ms, bestInView };
  })()`)) as AskRun;
}

/** Up to n items spread over a list (the first, and evenly after it). */
export function spread<T>(xs: readonly T[], n: number): T[] {
  if (xs.length <= n) return [...xs];
  return Array.from({ length: n }, (_, i) => xs[Math.floor((i * xs.length) / n)]!);
}
