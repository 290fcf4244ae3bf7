// A user's app: one import of the packed library, nothing configured. The tests call
// window.embedWith(...) / window.rerankWith(...) once per model, device and dtype; the model
// folders are the app's own static files under /models/ (Hugging Face layout).
import { createEmbedder, createReranker, DtypeUnsupportedError } from 'webgpu-embed';

/**
 * Embeds `items` ({ text, task }) in input order, in one call per task (or, with `alone`, one call
 * per text); or says why the load failed.
 */
async function embedWith({ model, device, dtype, items, alone = false }) {
  const t0 = performance.now();
  let embedder;
  try {
    embedder = await createEmbedder({ model: new URL(`/models/${model}/`, location.href).href, device, dtype, cache: false });
  } catch (e) {
    return { error: { name: e.name, message: e.message, isDtypeUnsupported: e instanceof DtypeUnsupportedError } };
  }
  const t1 = performance.now();
  try {
    const vectors = new Array(items.length);
    const truncated = [];
    const calls = alone ? items.map((_, i) => [i]) : ['query', 'document'].map((t) => items.flatMap((it, i) => (it.task === t ? [i] : [])));
    for (const at of calls.filter((c) => c.length)) {
      const r = await embedder.embed(at.map((i) => items[i].text), { task: items[at[0]].task });
      at.forEach((i, k) => (vectors[i] = Array.from(r[k])));
      for (const k of r.truncated) truncated.push(at[k]);
    }
    const { device: ran, dtype: file } = embedder.info;
    return { device: ran, dtype: file, vectors, truncated: truncated.sort((a, b) => a - b), loadMs: t1 - t0, embedMs: performance.now() - t1 };
  } finally {
    await embedder.dispose();
  }
}

/**
 * Scores `documents` against `query` in one call of `batchSize` pairs a batch, then each document
 * alone; with the reranker's info, or why the load failed.
 */
async function rerankWith({ model, device, dtype, query, documents, batchSize }) {
  const t0 = performance.now();
  let reranker;
  try {
    reranker = await createReranker({ model: new URL(`/models/${model}/`, location.href).href, device, dtype, cache: false });
  } catch (e) {
    return { error: { name: e.name, message: e.message, isDtypeUnsupported: e instanceof DtypeUnsupportedError } };
  }
  const t1 = performance.now();
  try {
    const byIndex = (r) => documents.map((_, i) => r.find((x) => x.index === i).score);
    const batch = byIndex(await reranker.rerank(query, documents, { batchSize }));
    const alone = [];
    for (const d of documents) alone.push((await reranker.rerank(query, [d]))[0].score);
    const { device: ran, dtype: file, head, paddingSide, paddingReason, batching, selfCheck } = reranker.info;
    return { device: ran, dtype: file, head, paddingSide, paddingReason, batching, selfCheck, batch, alone, loadMs: t1 - t0, rerankMs: performance.now() - t1 };
  } finally {
    await reranker.dispose();
  }
}

window.embedWith = embedWith;
window.rerankWith = rerankWith;
window.__result = 'ready';
document.getElementById('out').textContent = 'ready';
