// A user's app: one import of the packed library, nothing configured. The model folder is
// served by the app itself (public/models/tiny-e5/, Hugging Face layout).
import { createEmbedder, diagnose } from 'webgpu-embed';

async function run() {
  const diagnosis = await diagnose();
  const model = new URL('/models/tiny-e5/', location.href).href;
  const runs = {};
  for (const device of ['wasm', 'webgpu']) {
    // 1 MiB cache chunks (default 16 MiB): the second load reads the 4 MB model.onnx from the cache in
    // four chunks, through the cache's chunk-reader worker, which the app's bundler must have emitted too
    const embedder = await createEmbedder({ model, device, cache: { chunkSize: 1 << 20 } });
    const vectors = await embedder.embed(['query: hello world', 'a second, longer text about bread'], { task: 'query' });
    runs[device] = { device: embedder.info.device, threads: embedder.info.threads, threadsReason: embedder.info.threadsReason, vectors: vectors.map((v) => Array.from(v)) };
    await embedder.dispose();
  }
  return { diagnosis, runs };
}

run().then(
  (r) => {
    window.__result = r;
    document.getElementById('out').textContent = JSON.stringify(r.diagnosis, null, 2);
  },
  (e) => {
    window.__error = String((e && e.stack) || e);
  },
);
