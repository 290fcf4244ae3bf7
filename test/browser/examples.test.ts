/**
 * The example pages in real Chromium, used as a person would: the pages themselves are opened
 * (examples/semantic-search, examples/rerank-page, served with 'webgpu-embed' resolved to src/ as
 * an app's bundler resolves the package), queries typed into their fields, buttons pressed, and
 * what they show read back from the DOM. The default models are the fixtures all-minilm-l6-v2 (the
 * real all-MiniLM-L6-v2, embedder; glove-sif where it is not built) and glove-maxsim (reranker).
 * Screenshots go to test-results/screenshots/.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { articleQuestions, ask, readBadges, RERANK_PAGE, sampleQueries, search, SEMANTIC_SEARCH, spread, waitReady } from './examples-driver.ts';
import { PACKAGE_ALIAS, REPO_ROOT, useBrowser } from './harness/index.ts';

const SHOTS = join(REPO_ROOT, 'test-results', 'screenshots');
mkdirSync(SHOTS, { recursive: true });
const ctx = useBrowser({ page: null, server: { alias: PACKAGE_ALIAS } });

/**
 * The embedder the pages start with: the real all-MiniLM-L6-v2 when its fixture is built (the
 * global setup builds it from its PyPI wheel), else glove-sif, with a note on the page saying so.
 */
const DEFAULT_EMBEDDER = existsSync(join(REPO_ROOT, 'test', 'fixtures', 'models', 'all-minilm-l6-v2', 'config.json')) ? 'all-minilm-l6-v2' : 'glove-sif';

async function open(path: string): Promise<Page> {
  const page = ctx.browser.page;
  await page.setViewportSize({ width: 1280, height: 900 });
  const res = await page.goto(ctx.server.url(path), { waitUntil: 'load' });
  expect(res?.ok(), `GET ${path}`).toBe(true);
  await waitReady(page);
  return page;
}

/** A time the page measured (ms): a real number above zero, and no longer than the whole step took as seen from here. */
function plausibleMs(ms: number, wall: number): void {
  expect(Number.isFinite(ms)).toBe(true);
  expect(ms).toBeGreaterThan(0);
  expect(ms).toBeLessThanOrEqual(wall);
}

const shot = (page: Page, name: string, fullPage = false) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage });
const pageErrors = () => ctx.browser.logs.filter((e) => e.type === 'pageerror' || e.type === 'crash');

/**
 * The share of the sample queries whose document the page shows in the top 3. Measured on
 * paragraphs.json (240) with paragraph-queries.json, 40/40 at rank 1 with all-minilm-l6-v2
 * (2026-12-07) as with glove-sif (2026-11-24); the bar is just under that.
 */
const HIT3_BAR = 0.95;
/**
 * Article questions whose paragraph is among the three the page marks, the embedder finding 8
 * candidates and glove-maxsim reranking them. Measured: 12/12, all at rank 1 (all-minilm-l6-v2,
 * as with glove-sif).
 */
const MARKED_BAR = 0.9;

describe('examples/semantic-search', () => {
  it('indexes the sample corpus with a progress bar, says wasm and where the model came from, and finds as you type', async () => {
    const page = await open(SEMANTIC_SEARCH);
    const { corpus, queries } = sampleQueries();
    expect(await page.getAttribute('[data-testid=app]', 'data-corpus')).toBe(corpus);
    // the progress bar ended on the embedding phase: every document in
    expect(await page.getAttribute('[data-testid=progress]', 'data-state')).toBe('done');
    expect(await page.textContent('[data-testid=progress-label]')).toMatch(/^Indexed \d+ documents \(\d+ passages\)/);
    // SwiftShader is a software adapter: 'auto' takes wasm, and the badge says why
    const badges = await readBadges(page);
    expect(badges).toMatchObject({ device: 'wasm', deviceAttr: 'wasm', cacheAttr: 'network' });
    expect(badges.deviceReason).toMatch(/software fallback|no WebGPU/);
    expect(badges.cache).toMatch(new RegExp(`^${DEFAULT_EMBEDDER} · downloaded · [\\d.]+ MiB, now cached$`));
    // the note on the fallback shows only where the real model is not built
    expect(await page.isVisible('[data-testid=model-note]')).toBe(DEFAULT_EMBEDDER === 'glove-sif');
    expect(await page.inputValue('[data-testid=model]')).toBe(`/test/fixtures/models/${DEFAULT_EMBEDDER}/`);

    // typed key by key: the results come by themselves (debounced), the passage and the query's words highlighted
    const first = queries[0]!;
    const t0 = performance.now();
    const run = await search(page, first.query, { typed: true });
    plausibleMs(run.ms, performance.now() - t0);
    expect(run.hits.length).toBe(10);
    expect(run.hits[0]!.id).toBe(first.expected);
    expect(run.hits[0]!.passage.length).toBeGreaterThan(20);
    expect(run.hits[0]!.terms.length).toBeGreaterThan(0);
    expect(run.hits.map((h) => h.score)).toEqual([...run.hits.map((h) => h.score)].sort((a, b) => b - a));
    expect(await page.textContent('[data-testid=expected]')).toMatch(/rank 1/);
    await shot(page, 'semantic-search');
    expect(pageErrors()).toEqual([]);
  });

  it('finds the expected document in the top 3 for the sample queries (typed, Enter)', async () => {
    const page = await open(SEMANTIC_SEARCH);
    const { corpus, queries } = sampleQueries();
    const misses: string[] = [];
    let top1 = 0;
    let top3 = 0;
    const t0 = performance.now();
    for (const q of queries) {
      const asked = performance.now();
      const run = await search(page, q.query);
      plausibleMs(run.ms, performance.now() - asked);
      expect(new Set(run.hits.map((h) => h.id)).size).toBe(run.hits.length); // one hit per document
      expect(run.hits.map((h) => h.score)).toEqual([...run.hits.map((h) => h.score)].sort((a, b) => b - a));
      const rank = run.hits.findIndex((h) => h.id === q.expected) + 1;
      if (rank === 1) top1++;
      if (rank >= 1 && rank <= 3) top3++;
      else misses.push(`${q.query} → ${run.hits.slice(0, 3).map((h) => `${h.id} ${h.score.toFixed(3)}`).join(', ')} (want ${q.expected}, rank ${rank || '>10'})`);
    }
    const hit3 = top3 / queries.length;
    console.log(
      `semantic-search over ${corpus} with ${DEFAULT_EMBEDDER}: ${queries.length} sample queries, top-1 ${top1}/${queries.length} (${((top1 / queries.length) * 100).toFixed(1)}%), ` +
        `top-3 ${top3}/${queries.length} (${(hit3 * 100).toFixed(1)}%), ${((performance.now() - t0) / queries.length).toFixed(0)} ms per query through the page` +
        (misses.length ? `\nmisses:\n  ${misses.join('\n  ')}` : ''),
    );
    expect(hit3).toBeGreaterThanOrEqual(HIT3_BAR);
  });

  it('Matryoshka: disabled with the reason for glove-sif; "truncate anyway" compares sizes (bytes, time, top-10 overlap)', async () => {
    // ?model= picks the GloVe model: cheap enough to index the corpus once per size
    const page = await open(`${SEMANTIC_SEARCH}?model=glove-sif&corpus=sample`);
    expect(await page.isVisible('[data-testid=model-note]')).toBe(false); // a model asked for: no note on the default
    expect(await page.getAttribute('[data-testid=dims]', 'data-state')).toBe('disabled');
    expect(await page.locator('[data-testid=dims]').evaluate((f) => (f as HTMLFieldSetElement).disabled)).toBe(true);
    expect(await page.textContent('[data-testid=dims-reason]')).toMatch(/one output size \(100 dimensions\).*not trained for Matryoshka/);

    await page.locator('[data-testid=dims-override]').click();
    await page.waitForURL(/matryoshka=10/);
    await waitReady(page);
    expect(await page.getAttribute('[data-testid=dims]', 'data-state')).toBe('enabled');
    expect(await page.textContent('[data-testid=dims-reason]')).toMatch(/Override \?matryoshka=10/);
    const offered = await page.locator('[data-testid=dims-options] input').evaluateAll((xs) => xs.map((x) => [Number((x as HTMLInputElement).value), (x as HTMLInputElement).checked]));
    expect(offered).toEqual([[100, true], [50, true], [25, true], [13, true], [10, false]]);
    await page.locator('[data-testid="dim-13"]').uncheck(); // 100, 50, 25
    await page.locator('[data-testid=dims-run]').click();
    await page.waitForSelector('[data-testid=dims-table][data-state=done]', { timeout: 120_000 });
    const rows = await page.locator('[data-testid=dims-row]').evaluateAll((trs) =>
      trs.map((tr) => {
        const d = (tr as HTMLElement).dataset;
        return { dims: Number(d.dims), bytes: Number(d.bytes), ms: Number(d.ms), overlap: Number(d.overlap), found: Number(d.found) };
      }),
    );
    const passages = Number(await page.getAttribute('[data-testid=index-badge]', 'data-passages'));
    expect(rows.map((r) => r.dims)).toEqual([100, 50, 25]);
    expect(rows.map((r) => r.bytes)).toEqual([100, 50, 25].map((d) => passages * d * 4));
    expect(rows[0]!.overlap).toBe(1);
    for (const r of rows) {
      expect(r.ms).toBeGreaterThan(0);
      expect(r.overlap).toBeGreaterThan(0.2);
      expect(r.overlap).toBeLessThanOrEqual(1);
    }
    // GloVe was not trained for truncation: the overlap falls as the size does
    expect(rows[2]!.overlap).toBeLessThan(rows[0]!.overlap);
    console.log(`Matryoshka override on glove-sif: ${rows.map((r) => `${r.dims}-d ${r.bytes} B, ${r.ms.toFixed(3)} ms, overlap ${(r.overlap * 100).toFixed(0)}%, found@3 ${(r.found * 100).toFixed(0)}%`).join('; ')}`);
    await shot(page, 'semantic-search-matryoshka', true);
  });

  it('your own documents: pasted text and a dropped .md file are indexed and found', async () => {
    const page = await open(`${SEMANTIC_SEARCH}?corpus=none`);
    expect(await page.getAttribute('[data-testid=index-badge]', 'data-documents')).toBe('0');
    await page.locator('[data-testid=paste]').fill(
      'Axolotls are salamanders that keep their gills as adults.\n\nAn axolotl can regrow a lost leg, its tail and even parts of its heart and brain.',
    );
    await page.locator('[data-testid=add-text]').click();
    await waitReady(page);
    // a file dropped on the box: a real drop event carrying a File, as the browser sends it
    await page.evaluate(`(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(['# Sourdough\\n\\nA sourdough starter is flour and water fermented by wild yeast; feed it daily.'], 'sourdough.md', { type: 'text/markdown' }));
      document.querySelector('[data-testid=dropzone]').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    })()`);
    await page.waitForSelector('[data-testid=index-badge][data-documents="2"]');
    await waitReady(page);
    const a = await search(page, 'which salamander can regrow its legs', { typed: true });
    expect(a.hits.map((h) => h.id)).toEqual(['pasted-1', 'sourdough.md']);
    expect(a.hits[0]!.passage).toMatch(/^An axolotl can regrow a lost leg/); // the second paragraph is the passage
    expect(a.hits[0]!.terms.map((t) => t.toLowerCase())).toEqual(expect.arrayContaining(['regrow', 'leg']));
    const b = await search(page, 'feeding a starter of wild yeast');
    expect(b.hits[0]!.id).toBe('sourdough.md');
    await shot(page, 'semantic-search-own-documents');
  });

  it('the weight cache: a reload says "from cache"; clear cache empties it and the next load downloads', async () => {
    const page = await open(`${SEMANTIC_SEARCH}?corpus=none`); // earlier tests in this browser cached the default model (and glove-sif)
    expect((await readBadges(page)).cacheAttr).toBe('cache');
    expect((await readBadges(page)).cache).toMatch(/from cache · [\d.]+ MiB, no download/);
    await page.locator('[data-testid=clear-cache]').click();
    await page.waitForSelector('[data-testid=cache-status][data-state=cleared]');
    expect(await page.textContent('[data-testid=cache-status]')).toMatch(/^Cleared \d+ cached models? \([\d.]+ MiB\)/);
    await page.reload();
    await waitReady(page);
    expect((await readBadges(page)).cacheAttr).toBe('network');
  });

  it('?device=webgpu: the badge says WebGPU and the index scans on the GPU', async () => {
    const page = await open(`${SEMANTIC_SEARCH}?corpus=none&device=webgpu`);
    const badges = await readBadges(page);
    expect(badges).toMatchObject({ device: 'WebGPU', deviceAttr: 'webgpu' });
    expect(badges.deviceReason).toMatch(/webgpu' was requested/);
    await page.locator('[data-testid=paste]').fill('Lighthouses guide ships past rocks at night with a rotating lamp.');
    await page.locator('[data-testid=add-text]').click();
    await waitReady(page);
    expect(await page.textContent('[data-testid=index-badge]')).toMatch(/scan on GPU/);
    const run = await search(page, 'a lamp that warns ships');
    expect(run.hits[0]!.id).toBe('pasted-1');
    expect(pageErrors()).toEqual([]);
  });
});

describe('examples/rerank-page', () => {
  it('asks the article its questions: the answering paragraph is among the 3 marked, with rank badges, scores and timings', async () => {
    const page = await open(RERANK_PAGE);
    const source = await page.getAttribute('[data-testid=article]', 'data-source');
    const paragraphs = Number(await page.getAttribute('[data-testid=article]', 'data-paragraphs'));
    const badges = await readBadges(page);
    expect(badges.device).toBe('wasm');
    // the default embedder is in the weight cache from the tests above, glove-maxsim is new
    expect(badges.cache).toMatch(new RegExp(`^${DEFAULT_EMBEDDER}: from cache · glove-maxsim: downloaded [\\d.]+ MiB$`));
    expect(await page.inputValue('[data-testid=model]')).toBe(`/test/fixtures/models/${DEFAULT_EMBEDDER}/`);
    expect(await page.inputValue('[data-testid=reranker]')).toMatch(/glove-maxsim\/$/);

    // the questions the page offers are the article's own (or, without examples/article/, the corpus's)
    const questions =
      articleQuestions() ??
      ((await page.evaluate(`[...document.querySelectorAll('[data-testid=sample-question]')].map((b) => b.textContent)`)) as string[]).map((q) => ({ question: q, answer: -1 }));
    let marked = 0;
    let first = 0;
    const misses: string[] = [];
    const t0 = performance.now();
    for (const [i, q] of questions.entries()) {
      const asked = performance.now();
      const run = await ask(page, q.question);
      const wall = performance.now() - asked;
      expect(run.marked.map((m) => m.rank)).toEqual([1, 2, 3]);
      expect(run.marked.map((m) => m.paragraph)).toEqual(run.answers.slice(0, 3).map((a) => a.paragraph));
      expect(run.marked[0]!.badge).toBe(`#1 · ${run.answers[0]!.score.toFixed(3)}`);
      expect(run.answers.length).toBe(Math.min(8, paragraphs));
      expect(run.bestInView).toBe(true);
      // the page's timings: the two worker calls took real time, the cosine scan over a few hundred vectors next to none, all within the time the question took here
      plausibleMs(run.timings.embed, wall);
      plausibleMs(run.timings.rerank, wall);
      expect(run.timings.search).toBeGreaterThanOrEqual(0);
      expect(run.timings.search).toBeLessThan(100);
      expect(run.timings.embed + run.timings.search + run.timings.rerank).toBeLessThanOrEqual(wall);
      // the answers: ranks 1…n, best first, scores in [0, 1], cosines in [-1, 1], each a distinct paragraph of the article
      expect(run.answers.map((a) => a.rank)).toEqual(run.answers.map((_, k) => k + 1));
      expect(run.answers.map((a) => a.score)).toEqual([...run.answers.map((a) => a.score)].sort((a, b) => b - a));
      for (const a of run.answers) {
        expect(a.score).toBeGreaterThanOrEqual(0);
        expect(a.score).toBeLessThanOrEqual(1);
        expect(Math.abs(a.similarity)).toBeLessThanOrEqual(1 + 1e-6);
        expect(Number.isInteger(a.paragraph) && a.paragraph >= 0 && a.paragraph < paragraphs).toBe(true);
      }
      expect(new Set(run.answers.map((a) => a.paragraph)).size).toBe(run.answers.length);
      if (i === 0) await shot(page, 'rerank-page');
      if (q.answer < 0) continue;
      const rank = run.marked.findIndex((m) => m.paragraph === q.answer) + 1;
      if (rank) marked++;
      if (rank === 1) first++;
      else misses.push(`${q.question} → ¶${run.answers.slice(0, 3).map((a) => `${a.paragraph} ${a.score.toFixed(3)}`).join(', ¶')} (want ¶${q.answer}${rank ? `, rank ${rank}` : ''})`);
    }
    const judged = questions.filter((q) => q.answer >= 0).length;
    console.log(
      `rerank-page (${source}, ${paragraphs} paragraphs) with ${DEFAULT_EMBEDDER} + glove-maxsim: ${questions.length} questions, ` +
        (judged ? `answer ranked 1st ${first}/${judged}, among the 3 marked ${marked}/${judged} (${((marked / judged) * 100).toFixed(1)}%), ` : '') +
        `${((performance.now() - t0) / questions.length).toFixed(0)} ms per question through the page` +
        (misses.length ? `\nnot first:\n  ${misses.join('\n  ')}` : ''),
    );
    if (judged) expect(marked / judged).toBeGreaterThanOrEqual(MARKED_BAR);
    expect(pageErrors()).toEqual([]);
  });
});

describe('examples/index.html', () => {
  it('links both pages', async () => {
    const page = ctx.browser.page;
    await page.setViewportSize({ width: 1280, height: 700 });
    await page.goto(ctx.server.url('/examples/'));
    await shot(page, 'examples-index');
    await page.locator('[data-testid=link-rerank-page]').click();
    await page.waitForURL(/\/examples\/rerank-page\/$/);
    await page.waitForSelector('[data-testid=article][data-state=ready]');
    await page.goBack();
    await page.locator('[data-testid=link-semantic-search]').click();
    await page.waitForURL(/\/examples\/semantic-search\/$/);
    await page.waitForSelector('[data-testid=app][data-state=loading-model], [data-testid=app][data-state=indexing], [data-testid=app][data-state=ready]');
  });
});
