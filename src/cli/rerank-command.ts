/**
 * `webgpu-embed rerank`: every text scored against --query by a reranker, written best first
 * (ties in input order), one JSON line each: {"index", "id", "score", "text"} (--no-text: without the text).
 */
import type { RerankArgs } from './args.ts';
import { loadReranker } from './load.ts';
import { openOutput, Progress, type CliIO } from './output.ts';
import type { InputText } from './readers.ts';

export async function rerankCommand(args: RerankArgs, model: string, texts: InputText[], io: CliIO, signal?: AbortSignal): Promise<void> {
  const progress = new Progress(io.stderr, args.quiet);
  const reranker = await loadReranker(model, args, progress, signal);
  const out = openOutput(args.output, io);
  try {
    const ranked = await reranker.rerank(
      args.query,
      texts.map((t) => t.text),
      {
        ...(args.instruction !== undefined ? { instruction: args.instruction } : {}),
        ...(args.topK !== undefined ? { topK: args.topK } : {}),
        ...(signal ? { signal } : {}),
        onProgress: (e) => e.status === 'rerank' && progress.status(`reranking: ${e.done} of ${e.total} texts`),
      },
    );
    await out.write(ranked.map((r) => JSON.stringify({ index: r.index, id: texts[r.index]!.id, score: r.score, ...(args.noText ? {} : { text: r.document }) }) + '\n').join(''));
    await out.end();
    const cut = ranked.truncated.length ? `; ${ranked.truncated.length} cut to fit the model's ${reranker.info.maxTokens} tokens` : '';
    progress.line(`ranked ${texts.length} texts, wrote ${ranked.length}${args.output ? ` → ${args.output}` : ''}${cut}`);
  } finally {
    await reranker.dispose();
  }
}
