/**
 * Progress events, in transformers.js' shape (its `progress_callback`, @huggingface/transformers
 * src/utils/core.js): every event is a plain object with a `status` and `name` (the model as the
 * caller named it: preset id, hub id or folder URL), so code written for transformers.js reads
 * them as they are, and they cross comlink as they are.
 *
 * Per file, in this order:
 *   'initiate'                 the file is asked for;
 *   'download' | 'cache_hit'   its bytes come from the network / from the weight cache (IndexedDB);
 *   'progress' …               bytes so far (each one preceded by a 'progress_total' once the weights have started);
 *   'verify'                   (only when there is a check to make) its SHA-256 is checked;
 *   'done'                     the file is in (or, with `missing: true`, the folder does not have it).
 * Then 'warning' (a load that works, but not as asked), and 'ready' once the embedder or reranker
 * can be called. During embed() / rerank(): one 'embed' / 'rerank' event per batch.
 *
 * transformers.js' statuses are 'initiate', 'download', 'progress', 'progress_total', 'done' and
 * 'ready'; 'cache_hit', 'verify', 'warning', 'embed' and 'rerank' are ours, in the same shape.
 */
import type { FileStage } from '../io/types.ts';

/** A file of the model folder is asked for (transformers.js: "a file load is about to start"). */
export interface InitiateProgress {
  status: 'initiate';
  /** the model: the preset id, hub id or folder URL as given */
  name: string;
  /** relative to the folder: 'onnx/model.onnx' */
  file: string;
}

/**
 * The file's bytes come from the network (a resumed download too). A file read from the weight
 * cache sends 'cache_hit' instead (transformers.js sends 'download' for both).
 */
export interface DownloadProgress {
  status: 'download';
  name: string;
  file: string;
}

/**
 * Bytes of one file so far. `progress` is 0–100. When the server does not send the file's size
 * (no Content-Length), `total` is the bytes so far, as transformers.js reports it, so `progress`
 * reads 100 until the file is done.
 */
export interface FileProgress {
  status: 'progress';
  name: string;
  file: string;
  progress: number;
  loaded: number;
  total: number;
}

/**
 * All files together (transformers.js' 'progress_total'): sent just before each 'progress' event
 * from the moment the weights (ONNX, external data, latent-attention head) start, which is after
 * the small JSON files are in, and only while every file started so far has announced its size, so
 * `progress` never runs backwards on a file whose size was still unknown. `files` holds each file's
 * bytes so far and size.
 */
export interface TotalProgress {
  status: 'progress_total';
  name: string;
  progress: number;
  loaded: number;
  total: number;
  files: Record<string, { loaded: number; total: number }>;
}

/** One file is in. `missing`: the folder has no such file (an optional one, or a dtype's ONNX file tried in turn); no bytes were read. */
export interface DoneProgress {
  status: 'done';
  name: string;
  file: string;
  missing?: true;
}

/**
 * The file is complete in the weight cache and is read from there, not downloaded (a damaged chunk
 * found while reading is downloaded again: a 'download' follows).
 */
export interface CacheHitProgress {
  status: 'cache_hit';
  name: string;
  file: string;
}

/**
 * The file's bytes are checked: 'sha256' against the preset's pinned hash after a download;
 * 'chunk-hashes': every stored chunk against its hash as it is read from the cache (cache: { verify: 'full' }).
 */
export interface VerifyProgress {
  status: 'verify';
  name: string;
  file: string;
  check: 'sha256' | 'chunk-hashes';
}

/** Every event of a model folder's load. */
export type LoadProgress = InitiateProgress | DownloadProgress | FileProgress | TotalProgress | DoneProgress | CacheHitProgress | VerifyProgress;

/**
 * The embedder or reranker is loaded and can be called: the last event of createEmbedder() /
 * createReranker(). `model` and `task` as transformers.js' pipeline() sends them ('feature-extraction'
 * for an embedder, 'text-classification' for a reranker); `name` as in every event.
 */
export interface ReadyProgress {
  status: 'ready';
  name: string;
  model: string;
  task: 'feature-extraction' | 'text-classification';
}

/** One batch of an embed() call is done: `done` of `total` texts (windows, with longText 'chunk'); `progress` 0–100. */
export interface EmbedBatchProgress {
  status: 'embed';
  name: string;
  done: number;
  total: number;
  progress: number;
}

/** One batch of a rerank() call is done: `done` of `total` documents; `progress` 0–100. */
export interface RerankBatchProgress {
  status: 'rerank';
  name: string;
  done: number;
  total: number;
  progress: number;
}

/** 0–100, for `done` of `total` (an empty total is complete). */
export function percent(done: number, total: number): number {
  return total > 0 ? Math.min(100, (done / total) * 100) : 100;
}

export interface ProgressTracker {
  /** the FetchFile callbacks for one file: 'initiate' is sent here */
  start(file: string): { onBytes: (loaded: number, total: number | undefined) => void; onStage: (stage: FileStage) => void };
  /** marks a file complete with its final size ('done') */
  done(file: string, size: number): void;
  /** the folder has no such file ('done' with missing: true), and it leaves the totals */
  missing(file: string): void;
  /** from now on, also send 'progress_total'; `expected` are the files about to start (their sizes still unknown) */
  startOverall(expected: string[]): void;
  /** drops a file from the totals (a dtype candidate that turned out not to exist) */
  forget(file: string): void;
}

export function createProgressTracker(name: string, emit: ((event: LoadProgress) => void) | undefined): ProgressTracker {
  const files = new Map<string, { loaded: number; total: number | undefined }>();
  let overall = false;
  /** 'progress_total', when the weights have started and every file's size is known */
  const sendOverall = () => {
    if (!emit || !overall) return;
    let loaded = 0;
    let total = 0;
    const each: TotalProgress['files'] = {};
    for (const [file, f] of files) {
      if (f.total === undefined) return;
      loaded += f.loaded;
      total += f.total;
      each[file] = { loaded: f.loaded, total: f.total };
    }
    emit({ status: 'progress_total', name, progress: percent(loaded, total), loaded, total, files: each });
  };
  const send = (file: string, loaded: number, total: number | undefined) => {
    const last = files.get(file);
    if (last && last.loaded === loaded && last.total === total) return;
    files.set(file, { loaded, total });
    if (!emit) return;
    // transformers.js sends the aggregate just before the file's own event
    sendOverall();
    const shown = total ?? loaded;
    emit({ status: 'progress', name, file, progress: percent(loaded, shown), loaded, total: shown });
  };
  return {
    start: (file) => {
      emit?.({ status: 'initiate', name, file });
      return {
        onBytes: (loaded, total) => send(file, loaded, total),
        onStage: (s) => {
          if (!emit) return;
          if (s.stage === 'verify') emit({ status: 'verify', name, file, check: s.check });
          else emit({ status: s.stage, name, file });
        },
      };
    },
    done: (file, size) => {
      send(file, size, size);
      emit?.({ status: 'done', name, file });
    },
    missing: (file) => {
      const known = files.delete(file);
      emit?.({ status: 'done', name, file, missing: true });
      if (known) sendOverall();
    },
    startOverall: (expected) => {
      overall = true;
      for (const file of expected) if (!files.has(file)) files.set(file, { loaded: 0, total: undefined });
    },
    forget: (file) => {
      if (files.delete(file)) sendOverall();
    },
  };
}
