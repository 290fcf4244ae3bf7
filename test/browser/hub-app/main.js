// A user's app: one import of the packed library. It loads one model three ways, by its folder URL
// (relative to this page) and by hub id from two hubs, the hub setting pointed at each: a path on
// this site (the load option) and a hub on another origin (configureHub); then the bad inputs.
// The test calls window.runHub(...) once and compares.
import { configureHub, createEmbedder, embed, listCachedModels, ModelFileNotFoundError, ModelLoadError } from 'webgpu-embed';

async function vectorsOf(options, texts) {
  const e = await createEmbedder({ device: 'wasm', ...options });
  try {
    const r = await e.embed(texts, { task: 'document' });
    return { model: e.info.model, vectors: r.map((v) => Array.from(v)) };
  } finally {
    await e.dispose();
  }
}

async function caught(load) {
  try {
    const e = await load();
    await e.dispose();
    return { threw: false };
  } catch (e) {
    return {
      threw: true,
      name: e.name,
      message: e.message,
      url: e.url,
      isTypeError: e instanceof TypeError,
      isModelLoadError: e instanceof ModelLoadError,
      isModelFileNotFound: e instanceof ModelFileNotFoundError,
    };
  }
}

async function runHub({ texts, folder, repo, sitePath, otherHost }) {
  const byFolder = await vectorsOf({ model: folder, cache: false }, texts);
  const bySitePath = await vectorsOf({ model: repo, hub: { host: sitePath } }, texts);
  configureHub({ host: otherHost });
  const byConfigured = (await embed(texts, { model: `${repo}@v1`, task: 'document', device: 'wasm' })).map((v) => Array.from(v));
  const missing = await caught(() => createEmbedder({ model: 'test-org/no-such-model', device: 'wasm' }));
  const malformed = await caught(() => createEmbedder({ model: `${repo}@`, device: 'wasm' }));
  const mistyped = await caught(() => createEmbedder({ model: 'multilingual-e5-smal', device: 'wasm' }));
  configureHub();
  const cached = (await listCachedModels()).map((m) => m.id);
  return { byFolder, bySitePath, byConfigured, missing, malformed, mistyped, cached };
}

window.runHub = runHub;
window.__result = 'ready';
document.getElementById('out').textContent = 'ready';
