/**
 * `webgpu-embed embed`: every text embedded (task, instruction, dimensions as embed() takes
 * them), one JSON line per text in input order: {"id", "text", "metadata"?, "embedding"}.
 * Texts go to the engine in slices, so output starts early and memory stays bounded; within a
 * slice the engine sorts by length and batches as it does in a page.
 */
import type { EmbedOptions } from '../client/embedder.ts';
import type { EmbedArgs } from './args.ts';
import { loadEmbedder } from './load.ts';
import { openOutput, Progress, type CliIO } from './output.ts';
import type { InputText } from './readers.ts';

/** Texts per embed() call. */
export const EMBED_SLICE = 512;

export async function embedCommand(args: EmbedArgs, model: string, texts: InputText[], io: CliIO, signal?: AbortSignal): Promise<void> {
  const progress = new Progress(io.stderr, args.quiet);
  const embedder = await loadEmbedder(model, args.dtype, progress, signal);
  const out = openOutput(args.output, io);
  let truncated = 0;
  try {
    const options: EmbedOptions = {
      ...(args.task ? { task: args.task } : {}),
      ...(args.instruction !== undefined ? { instruction: args.instruction } : {}),
      ...(args.dimensions !== undefined ? { dimensions: args.dimensions } : {}),
      ...(args.longText ? { longText: args.longText } : {}),
      ...(signal ? { signal } : {}),
    };
    for (let start = 0; start < texts.length && !out.closed; start += EMBED_SLICE) {
      const slice = texts.slice(start, start + EMBED_SLICE);
      const vectors = await embedder.embed(
        slice.map((t) => t.text),
        { ...options, onProgress: (e) => e.status === 'embed' && progress.status(`embedding: ${start + e.done} of ${texts.length} texts`) },
      );
      truncated += vectors.truncated.length;
      let chunk = '';
      vectors.forEach((v, i) => {
        const t = slice[i]!;
        chunk += JSON.stringify({ id: t.id, text: t.text, ...(t.metadata ? { metadata: t.metadata } : {}), embedding: Array.from(v) }) + '\n';
      });
      await out.write(chunk);
    }
    await out.end();
    const where = args.output ? ` → ${args.output}` : '';
    const cut = truncated ? `; ${truncated} cut to the model's ${embedder.info.maxTokens} tokens (--long-text chunk embeds them whole)` : '';
    progress.line(`embedded ${texts.length} texts (${args.dimensions ?? embedder.info.dimensions} dimensions)${where}${cut}`);
  } finally {
    await embedder.dispose();
  }
}
