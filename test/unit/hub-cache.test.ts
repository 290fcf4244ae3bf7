/**
 * Hub ids and the weight cache (Node over fake-indexeddb, so the cache is on as in a browser),
 * against the local hub-layout server: files are keyed by folder URL and revision, so a hub id at
 * two revisions never shares cached files, even where the layout puts both at one URL; and a
 * preset's SHA-256 pins are checked only at the commit they describe.
 */
import 'fake-indexeddb/auto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmbedder, listCachedModels, type Embedder } from '../../src/index.ts';
import { startHubServer, type HubServer } from './helpers/hub-server.ts';
import { MODELS } from './helpers/model-folders.ts';

const MINILM_COMMIT = 'cb3d680149bf9a3209564e1b27ab3bb355b65707';

let hub: HubServer;

beforeAll(async () => {
  const tinyE5 = join(MODELS, 'tiny-e5');
  hub = await startHubServer({ 'org/two-revisions': tinyE5, 'org/one-url': tinyE5, 'Xenova/all-MiniLM-L6-v2': tinyE5 });
});
afterAll(async () => {
  await hub?.close();
});

async function loaded(options: Parameters<typeof createEmbedder>[0]): Promise<{ info: Embedder['info']; requests: string[] }> {
  const from = hub.requests.length;
  const e = await createEmbedder({ worker: false, device: 'wasm', ...options });
  await e.dispose();
  return { info: e.info, requests: hub.requests.slice(from) };
}

describe('the weight cache keys hub files by folder and revision', () => {
  it('two revisions are two cached folders; each loads warm from its own', async () => {
    const hubOption = { host: hub.host };
    const a = await loaded({ model: 'org/two-revisions@a', hub: hubOption });
    const b = await loaded({ model: 'org/two-revisions@b', hub: hubOption });
    expect(a.info.cache?.misses).toBeGreaterThan(0);
    expect(b.info.cache?.misses).toBeGreaterThan(0);
    expect(b.requests.every((p) => p.startsWith('/org/two-revisions/resolve/b/'))).toBe(true);
    const ids = (await listCachedModels()).map((m) => m.id);
    expect(ids).toContain(`${hub.host}org/two-revisions/resolve/a/`);
    expect(ids).toContain(`${hub.host}org/two-revisions/resolve/b/`);
    const warm = await loaded({ model: 'org/two-revisions@a', hub: hubOption });
    expect(warm.requests).toEqual([]);
    expect(warm.info.cache).toMatchObject({ misses: 0, bytesFromNetwork: 0 });
  });

  it('where a pathTemplate without {revision} puts two revisions at one URL, the revision still keeps them apart', async () => {
    const hubOption = { host: hub.host, pathTemplate: '{model}/resolve/fixed/' };
    const a = await loaded({ model: 'org/one-url@a', hub: hubOption });
    expect(a.requests).toContain('/org/one-url/resolve/fixed/config.json');
    expect((await loaded({ model: 'org/one-url@a', hub: hubOption })).requests).toEqual([]); // warm: the same revision
    // Same URLs, another revision: not served from revision a's files (a key of the URL alone would be a full hit here).
    const b = await loaded({ model: 'org/one-url@b', hub: hubOption });
    expect(b.requests).toContain('/org/one-url/resolve/fixed/config.json');
    expect(b.requests).toContain('/org/one-url/resolve/fixed/onnx/model.onnx');
    expect(b.info.cache?.misses).toBeGreaterThan(0);
  });
});

describe("a preset's SHA-256 pins apply only at the commit they describe", () => {
  // The server answers Xenova/all-MiniLM-L6-v2 with tiny-e5's files: not the bytes the preset pins.
  it('at the pinned commit, bytes that differ from the pin are refused (from a mirror too)', async () => {
    const err = (await loaded({ model: `Xenova/all-MiniLM-L6-v2@${MINILM_COMMIT}`, hub: { host: hub.host }, dtype: 'fp32' }).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(/onnx\/model\.onnx has SHA-256 [0-9a-f]{64}, but the model's preset pins 759c3cd2/);
  });

  it("at another revision ('main', by default), the preset's facts without its pins: the same bytes load", async () => {
    const { info, requests } = await loaded({ model: 'Xenova/all-MiniLM-L6-v2', hub: { host: hub.host }, dtype: 'fp32' });
    expect(requests).toContain('/Xenova/all-MiniLM-L6-v2/resolve/main/onnx/model.onnx');
    expect(info.dtype).toBe('fp32');
  });
});
