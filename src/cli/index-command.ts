/**
 * `webgpu-embed index`: the texts as documents of a createIndex() index (split into passages
 * that fit the model, embedded with task 'document'), written as its export() blob — the "WGEI"
 * format a page reads with index.import() — or, with --format jsonl, one JSON line per passage
 * (--no-text: without the passage's text).
 * The index runs on its CPU path here; the blob holds full-precision vectors whatever --storage,
 * and names a local model folder by its name only.
 */
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { passageCallOf, withPassageCall } from '../client/passage-call.ts';
import type { Embedder } from '../client/embedder.ts';
import { createIndex, type IndexEmbedder } from '../vector-index/index.ts';
import { decodeIndex } from '../vector-index/format.ts';
import type { IndexArgs } from './args.ts';
import { loadEmbedder } from './load.ts';
import { formatBytes, openOutput, Progress, type CliIO } from './output.ts';
import type { InputText } from './readers.ts';

export async function indexCommand(args: IndexArgs, model: string, texts: InputText[], io: CliIO, signal?: AbortSignal): Promise<void> {
  const progress = new Progress(io.stderr, args.quiet);
  const embedder = await loadEmbedder(model, args, progress, signal);
  try {
    // the blob records the model; a local folder by its name, not by this machine's path
    const label = model.startsWith('file:') ? basename(fileURLToPath(model)) : embedder.info.model;
    const index = await createIndex({
      embedder: relabelled(embedder, label),
      device: 'cpu',
      storage: args.storage,
      ...(args.dimensions !== undefined ? { dimensions: args.dimensions } : {}),
      ...(args.passageTokens !== undefined ? { passageTokens: args.passageTokens } : {}),
    });
    try {
      progress.status(`splitting ${texts.length} documents into passages`);
      await index.add(
        texts.map((t) => ({ id: t.id, text: t.text, ...(t.metadata ? { metadata: t.metadata } : {}) })),
        { ...(signal ? { signal } : {}), onProgress: (e) => progress.status(`embedding: ${e.done} of ${e.total} passages`) },
      );
      const blob = index.export();
      const out = openOutput(args.output, io);
      if (args.format === 'wgei') {
        await out.write(blob);
      } else {
        const { documents, vectors, dimensions } = decodeIndex(blob);
        let row = 0;
        for (const d of documents) {
          let chunk = '';
          d.passages.forEach((p, i) => {
            const embedding = Array.from(vectors.subarray(row * dimensions, ++row * dimensions));
            chunk += JSON.stringify({ id: d.id, passage: i, start: p.start, end: p.end, ...(args.noText ? {} : { text: d.text.slice(p.start, p.end) }), ...(d.metadata !== undefined ? { metadata: d.metadata } : {}), embedding }) + '\n';
          });
          await out.write(chunk);
          if (out.closed) break;
        }
      }
      await out.end();
      const s = index.stats();
      const where = args.output ? ` → ${args.output} (${formatBytes(blob.length)})` : '';
      progress.line(`indexed ${s.documents} documents as ${s.passages} passages of ${s.dimensions} dimensions${where}`);
    } finally {
      await index.dispose();
    }
  } finally {
    await embedder.dispose();
  }
}

/**
 * The embedder under another model name (the blob's label), keeping its one passage call, so the
 * index splits and embeds each batch of documents in one engine call here as in a page.
 */
function relabelled(embedder: Embedder, model: string): IndexEmbedder {
  const wrapper: IndexEmbedder = { info: { ...embedder.info, model }, embed: (t, o) => embedder.embed(t, o), countTokens: (t, o) => embedder.countTokens(t, o) };
  const call = passageCallOf(embedder);
  return call ? withPassageCall(wrapper, call) : wrapper;
}
