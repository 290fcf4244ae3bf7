/**
 * Page side of the load checks (test/browser/webgpu-ops.test.ts, self-check.test.ts): an embedder
 * created through the public API, in the library's worker unless told otherwise, with its load
 * warnings collected, its info, and its vectors for some texts, or the typed error it threw.
 */
import { createEmbedder, diagnose, type CreateEmbedderOptions, type EmbedOptions, type LoadWarning } from '../../../src/index.ts';
import { errorInfo, type ErrorInfo } from './errors.ts';

export interface LoadCheckRun {
  info?: Record<string, unknown>;
  warnings: LoadWarning[];
  vectors?: number[][];
  error?: ErrorInfo;
  createMs: number;
}

/** Starts the library's worker (so a test can reach into it before a model loads there). */
export async function startWorker(): Promise<void> {
  await diagnose();
}

export async function embedWithWarnings(create: CreateEmbedderOptions, texts: string[], options: EmbedOptions = {}): Promise<LoadCheckRun> {
  const warnings: LoadWarning[] = [];
  const t0 = performance.now();
  let embedder;
  try {
    embedder = await createEmbedder({ ...create, onProgress: (e) => void (e.status === 'warning' && warnings.push(e)) });
  } catch (e) {
    return { warnings, error: errorInfo(e), createMs: performance.now() - t0 };
  }
  const createMs = performance.now() - t0;
  try {
    const vectors = (await embedder.embed(texts, options)).map((v) => Array.from(v));
    return { info: embedder.info as unknown as Record<string, unknown>, warnings, vectors, createMs };
  } finally {
    await embedder.dispose();
  }
}
