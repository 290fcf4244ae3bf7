/**
 * `webgpu-embed embed`: every text embedded (task, instruction, dimensions as embed() takes
 * them), written in input order as one JSON line per text, {"id", "text"?, "metadata"?,
 * "embedding"} (--no-text leaves the text out), or as a float32 matrix (--format npy | fvecs,
 * matrix.ts) with the rows' ids beside it in <file>.ids.jsonl. A matrix file is written under a
 * temporary name and renamed when complete, so a stopped run never leaves a file that looks whole.
 * Texts go to the engine in slices, so output starts early and memory stays bounded; within a
 * slice the engine sorts by length and batches as it does in a page.
 */
import { rename, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { EmbedOptions } from '../client/embedder.ts';
import type { EmbedArgs } from './args.ts';
import { loadEmbedder } from './load.ts';
import { idsPath, matrixRows, npyHeader } from './matrix.ts';
import { openOutput, Progress, type CliIO, type Output } from './output.ts';
import type { InputText } from './readers.ts';

/** Texts per embed() call. */
export const EMBED_SLICE = 512;

const PARTIAL = '.partial';

export async function embedCommand(args: EmbedArgs, model: string, texts: InputText[], io: CliIO, signal?: AbortSignal): Promise<void> {
  const progress = new Progress(io.stderr, args.quiet);
  const embedder = await loadEmbedder(model, args, progress, signal);
  const matrix = args.format !== 'jsonl' ? args.format : undefined;
  // a matrix and its ids: under temporary names until both are whole
  const path = (file: string) => resolve(io.cwd ?? process.cwd(), file);
  const files = matrix ? [args.output!, idsPath(args.output!)] : [];
  const out = openOutput(matrix ? args.output! + PARTIAL : args.output, io);
  const ids: Output | undefined = matrix ? openOutput(idsPath(args.output!) + PARTIAL, io) : undefined;
  let truncated = 0;
  let done = false;
  try {
    const dimensions = args.dimensions ?? embedder.info.dimensions;
    if (matrix === 'npy') await out.write(npyHeader(texts.length, dimensions));
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
      const rows = slice.map((t, i) => ({
        ...(matrix ? { row: start + i } : {}),
        id: t.id,
        ...(args.noText ? {} : { text: t.text }),
        ...(t.metadata ? { metadata: t.metadata } : {}),
        ...(matrix ? {} : { embedding: Array.from(vectors[i]!) }),
      }));
      const lines = rows.map((r) => JSON.stringify(r) + '\n').join('');
      if (matrix) {
        await out.write(matrixRows(vectors, matrix));
        await ids!.write(lines);
      } else {
        await out.write(lines);
      }
    }
    await out.end();
    await ids?.end();
    for (const file of files) await rename(path(file + PARTIAL), path(file));
    done = true;
    const where = args.output ? ` → ${args.output}${matrix ? ` (${matrix}, float32 [${texts.length}, ${dimensions}]; ids in ${idsPath(args.output)})` : ''}` : '';
    const cut = truncated ? `; ${truncated} cut to the model's ${embedder.info.maxTokens} tokens (--long-text chunk embeds them whole)` : '';
    progress.line(`embedded ${texts.length} texts (${dimensions} dimensions)${where}${cut}`);
  } finally {
    if (!done) {
      await Promise.allSettled([out.end(), ids?.end()]);
      for (const file of files) await rm(path(file + PARTIAL), { force: true });
    }
    await embedder.dispose();
  }
}
