/**
 * Hub ids through the public API in Node (createEmbedder / embed with worker: false, onnxruntime-web's
 * wasm backend), against a local server with the hub's URL layout (`/{owner}/{name}/resolve/{rev}/{file}`,
 * test/unit/helpers/hub-server.ts) serving the tiny-e5 fixture, the hub setting pointed at it: the
 * vectors equal the same folder's loaded by URL; the revision reaches the URL; configureHub() serves
 * embed(); in Node a local folder is a hub too; a missing repository or an unreachable host is a
 * ModelFileNotFoundError naming the URL tried and the setting that built it.
 */
import { mkdtempSync, rmSync, symlinkSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { configureHub, createEmbedder, embed, ModelFileNotFoundError, ModelLoadError, releaseSharedEmbedders, type Embedder } from '../../src/index.ts';
import { startHubServer, type HubServer } from './helpers/hub-server.ts';
import { MODELS, startServer, type TestServer } from './helpers/model-folders.ts';

const TEXTS = ['hello world', 'a much longer sentence about bread, butter and jam on a sunday morning', 'tea'];
const REPO = 'test-org/tiny-e5';

let hub: HubServer;
let folders: TestServer;
let byFolder: number[][];

const vectors = async (e: Embedder) => (await e.embed(TEXTS, { task: 'document' })).map((v) => Array.from(v));

beforeAll(async () => {
  hub = await startHubServer({ [REPO]: join(MODELS, 'tiny-e5') });
  folders = await startServer();
  const e = await createEmbedder({ model: folders.folder('tiny-e5'), worker: false, device: 'wasm' });
  byFolder = await vectors(e);
  await e.dispose();
});
afterAll(async () => {
  await releaseSharedEmbedders();
  await hub?.close();
  await folders?.close();
});
afterEach(() => {
  configureHub();
});

describe('a hub id against a server with the hub layout', () => {
  it("loads through the hub option at 'main' and embeds exactly as the same folder by URL", async () => {
    const from = hub.requests.length;
    const e = await createEmbedder({ model: REPO, hub: { host: hub.host }, worker: false, device: 'wasm' });
    try {
      expect(e.info.model).toBe(REPO);
      expect(await vectors(e)).toEqual(byFolder);
      expect(hub.requests.slice(from)).toContain(`/${REPO}/resolve/main/config.json`);
      expect(hub.requests.slice(from)).toContain(`/${REPO}/resolve/main/onnx/model.onnx`);
    } finally {
      await e.dispose();
    }
  });

  it("'@revision' and the revision option reach the URL (a commit, a tag with '/' as one encoded segment)", async () => {
    const commit = 'a'.repeat(40);
    for (const [o, path] of [
      [{ model: `${REPO}@${commit}` }, `/${REPO}/resolve/${commit}/config.json`],
      [{ model: REPO, revision: 'release/v1' }, `/${REPO}/resolve/release%2Fv1/config.json`],
    ] as const) {
      const from = hub.requests.length;
      const e = await createEmbedder({ ...o, hub: { host: hub.host }, worker: false, device: 'wasm' });
      await e.dispose();
      expect(hub.requests.slice(from)[0]).toBe(path);
    }
  });

  it('configureHub() points every load at it: embed() with a hub id', async () => {
    configureHub({ host: hub.host });
    const from = hub.requests.length;
    const got = await embed(TEXTS, { model: `${REPO}@v2`, task: 'document', worker: false, device: 'wasm' });
    expect(got.map((v) => Array.from(v))).toEqual(byFolder);
    expect(hub.requests.slice(from)[0]).toBe(`/${REPO}/resolve/v2/config.json`);
  });

  it('in Node, a local folder is a hub: a path or a file: URL, with a plain {model}/ layout', async () => {
    const root = mkdtempSync(join(tmpdir(), 'webgpu-embed-hub-'));
    try {
      mkdirSync(join(root, 'test-org'));
      symlinkSync(join(MODELS, 'tiny-e5'), join(root, 'test-org', 'tiny-e5'));
      for (const host of [root, pathToFileURL(root).href]) {
        const e = await createEmbedder({ model: REPO, hub: { host, pathTemplate: '{model}/' }, worker: false, device: 'wasm' });
        try {
          expect(await vectors(e)).toEqual(byFolder);
        } finally {
          await e.dispose();
        }
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('a hub id that is not there names the URL tried and the setting that built it', () => {
  it('a repository the hub does not know (its 401) is a ModelFileNotFoundError', async () => {
    const err = (await createEmbedder({ model: 'test-org/no-such-model', hub: { host: hub.host }, worker: false }).catch((e: unknown) => e)) as ModelFileNotFoundError;
    const url = `${hub.host}test-org/no-such-model/resolve/main/config.json`;
    expect(err).toBeInstanceOf(ModelFileNotFoundError);
    expect(err.name).toBe('ModelFileNotFoundError');
    expect(err.url).toBe(url);
    expect(err.message).toContain(`The hub model 'test-org/no-such-model' was not found at ${url} (${url} returned 401`);
    expect(err.message).toContain(`from hub host ${hub.host}; to read hub ids from a mirror, a path on this site or a local folder, set the load option hub: { host } or configureHub({ host })`);
    expect(err.message).toContain("If 'test-org/no-such-model' is a folder on this site, write it as a path: './test-org/no-such-model/'");
    expect(err.cause).toBeInstanceOf(ModelLoadError);
  });

  it('a host that cannot be reached is a ModelFileNotFoundError too, the network error its cause', async () => {
    const port = await closedPort();
    const host = `http://127.0.0.1:${port}/`;
    const err = (await createEmbedder({ model: REPO, hub: { host }, worker: false }).catch((e: unknown) => e)) as ModelFileNotFoundError;
    expect(err).toBeInstanceOf(ModelFileNotFoundError);
    expect(err.url).toBe(`${host}${REPO}/resolve/main/config.json`);
    expect(err.message).toContain('Could not reach');
    expect(err.message).toContain(`hub host ${host};`);
  });

  it('a malformed hub id is a TypeError before any request', async () => {
    const from = hub.requests.length;
    await expect(createEmbedder({ model: `${REPO}@`, hub: { host: hub.host }, worker: false })).rejects.toThrow(TypeError);
    await expect(createEmbedder({ model: 'test-org/tiny-e5/extra', hub: { host: hub.host }, worker: false })).rejects.toThrow(/one '\/'/);
    expect(hub.requests.length).toBe(from);
  });
});

/** A port on 127.0.0.1 that nothing listens on (taken, then released). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as { port: number };
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
