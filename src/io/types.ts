/**
 * How the loader reads a model folder's files, whoever serves them: the network (fetch-file.ts)
 * or the weight cache (src/cache), and what a file's bytes went through on the way.
 */

/** Reads one file of a model folder: the network by default, the IndexedDB cache later. */
export interface FetchFile {
  (url: string, opts?: { signal?: AbortSignal; onBytes?: (done: number, total: number | undefined) => void; onStage?: (stage: FileStage) => void }): Promise<Uint8Array>;
  /**
   * Whether a file is there, without downloading it (its first bytes at most), for error messages
   * that list what a folder has. Without it the loader reads the file whole.
   */
  probe?(url: string, opts?: { signal?: AbortSignal }): Promise<FileProbe>;
}

/**
 * Where a file's bytes come from, told once it is known (the loader's progress events, src/models/progress.ts):
 * the network ('download', a resumed one too), the weight cache ('cache_hit'), and a check of
 * the bytes ('verify': the preset's pinned SHA-256, or each cached chunk's hash).
 */
export type FileStage = { stage: 'download' } | { stage: 'cache_hit' } | { stage: 'verify'; check: 'sha256' | 'chunk-hashes' };

/** What a probe found: the file, a 404, a web page where the file should be, or no clear answer. */
export type FileProbe = 'file' | 'missing' | 'web-page' | 'unknown';
