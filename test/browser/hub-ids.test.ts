/**
 * Hub ids in real Chromium, from the packed library as a user meets it (issue #17's proof): `npm pack`
 * into a fresh Vite app (test/browser/hub-app: one import), built and served, the engine in the
 * library's worker. Two stand-ins for the hub with its URL layout (`/{owner}/{name}/resolve/{rev}/{file}`,
 * test/unit/helpers/hub-server.ts) serve the tiny-e5 fixture: one under the app's own '/hub' (set by
 * the load option as './hub', a path relative to the page, not to the worker's script), one on
 * another origin with the hub's CORS headers (set by configureHub). A hub id from either gives the
 * vectors the same model gives loaded by its folder URL ('./models/tiny-e5/'), bit for bit; each
 * revision is its own cached folder; a missing repository, a malformed hub id and a mistyped preset
 * come back as their typed errors.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHubServer, type HubServer } from '../unit/helpers/hub-server.ts';
import { MODELS } from '../unit/helpers/model-folders.ts';
import { previewPackedApp, serveFolderOr404, useBrowser, waitForResult, type PreviewedApp } from './harness/index.ts';

const TEXTS = ['hello world', 'a much longer sentence about bread, butter and jam on a sunday morning', 'tea'];
const REPO = 'test-org/tiny-e5';

interface Caught {
  threw: boolean;
  name?: string;
  message?: string;
  url?: string;
  isTypeError?: boolean;
  isModelLoadError?: boolean;
  isModelFileNotFound?: boolean;
}
interface HubRun {
  byFolder: { model: string; vectors: number[][] };
  bySitePath: { model: string; vectors: number[][] };
  byConfigured: number[][];
  missing: Caught;
  malformed: Caught;
  mistyped: Caught;
  cached: string[];
}

const ctx = useBrowser({ page: null });
let app: PreviewedApp;
let onSite: HubServer;
let elsewhere: HubServer;

beforeAll(async () => {
  onSite = await startHubServer({ [REPO]: join(MODELS, 'tiny-e5') });
  elsewhere = await startHubServer({ [REPO]: join(MODELS, 'tiny-e5') });
  app = await previewPackedApp(join(import.meta.dirname, 'hub-app'), {
    name: 'models-and-a-hub-on-the-site',
    configurePreviewServer: (s) => {
      // the app's static /models/ (a missing file a 404, not the app's index.html) and a hub under /hub/
      s.middlewares.use('/models', serveFolderOr404(MODELS));
      s.middlewares.use('/hub', (req, res) => onSite.handler(req, res));
    },
  });
}, 400_000);

afterAll(async () => {
  await app?.close();
  await onSite?.close();
  await elsewhere?.close();
});

describe('a hub id in an app built on the packed library', () => {
  let run: HubRun;
  let appUrl: string;

  beforeAll(async () => {
    const page = ctx.browser.page;
    appUrl = app.url;
    await page.goto(appUrl);
    await waitForResult(page, 60_000);
    const arg = { texts: TEXTS, folder: './models/tiny-e5/', repo: REPO, sitePath: './hub', otherHost: elsewhere.host };
    run = (await page.evaluate(`window.runHub(${JSON.stringify(arg)})`)) as HubRun;
  }, 300_000);

  it('from a path on the site (the hub option): the vectors of the same model by folder URL, bit for bit', () => {
    expect(run.byFolder.vectors).toHaveLength(TEXTS.length);
    expect(run.bySitePath.vectors).toEqual(run.byFolder.vectors);
    expect(run.bySitePath.model).toBe(REPO);
    expect(onSite.requests).toContain(`/${REPO}/resolve/main/config.json`);
    expect(onSite.requests).toContain(`/${REPO}/resolve/main/onnx/model.onnx`);
  });

  it('from a hub on another origin (configureHub) at a revision: the same vectors', () => {
    expect(run.byConfigured).toEqual(run.byFolder.vectors);
    expect(elsewhere.requests).toContain(`/${REPO}/resolve/v1/config.json`);
  });

  it('each hub folder and revision is cached as its own model', () => {
    expect(run.cached).toContain(new URL(`hub/${REPO}/resolve/main/`, appUrl).href);
    expect(run.cached).toContain(`${elsewhere.host}${REPO}/resolve/v1/`);
    // the folder by URL was loaded with cache: false
    expect(run.cached.some((id) => id.includes('/models/tiny-e5/'))).toBe(false);
  });

  it('a repository the hub does not have: ModelFileNotFoundError naming the URL and the hub host', () => {
    const url = `${elsewhere.host}test-org/no-such-model/resolve/main/config.json`;
    expect(run.missing).toMatchObject({ threw: true, name: 'ModelFileNotFoundError', isModelFileNotFound: true, isModelLoadError: true, url });
    expect(run.missing.message).toContain(`was not found at ${url}`);
    expect(run.missing.message).toContain(`hub host ${elsewhere.host}; to read hub ids from a mirror`);
  });

  it('a malformed hub id: TypeError with an example of each form; a mistyped preset: ModelLoadError with the closest preset', () => {
    expect(run.malformed).toMatchObject({ threw: true, isTypeError: true });
    expect(run.malformed.message).toMatch(/'@' must be followed by a revision .*'Xenova\/all-MiniLM-L6-v2'.*'\.\/models\/e5\/'/);
    expect(run.mistyped).toMatchObject({ threw: true, name: 'ModelLoadError', isModelLoadError: true, isModelFileNotFound: false });
    expect(run.mistyped.message).toMatch(/Did you mean 'multilingual-e5-small'\? Presets, closest first: multilingual-e5-small, /);
  });
});
