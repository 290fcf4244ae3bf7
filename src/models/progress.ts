/**
 * Download progress while a model folder loads: one event per received chunk of a file, and an
 * overall event once the weight files have started. Plain objects, so they cross comlink as they are.
 */

/** A file's bytes so far; `file` is relative to the folder ('onnx/model.onnx'); the last event of a file has loaded === total. */
export interface DownloadProgress {
  type: 'download';
  file: string;
  loaded: number;
  /** from Content-Length; undefined when the server does not say */
  total: number | undefined;
}

/**
 * All files together. Sent from the moment the weights (ONNX, external data, pooling head)
 * start, which is after the small JSON files are in; `total` is undefined until every file in
 * flight has announced its size, so a percentage never runs backwards.
 */
export interface OverallProgress {
  type: 'overall';
  loaded: number;
  total: number | undefined;
}

export type LoadProgress = DownloadProgress | OverallProgress;

export interface ProgressTracker {
  /** the onBytes callback for one file */
  onBytes(file: string): (loaded: number, total: number | undefined) => void;
  /** marks a file complete with its final size */
  done(file: string, size: number): void;
  /** from now on, also send overall events; `expected` are the files about to start (their sizes still unknown) */
  startOverall(expected: string[]): void;
  /** drops a file that turned out not to exist (a probe that met a 404) */
  forget(file: string): void;
}

export function createProgressTracker(emit: ((event: LoadProgress) => void) | undefined): ProgressTracker {
  const files = new Map<string, { loaded: number; total: number | undefined }>();
  let overall = false;
  const sendOverall = () => {
    if (!emit || !overall) return;
    let loaded = 0;
    let total: number | undefined = 0;
    for (const f of files.values()) {
      loaded += f.loaded;
      total = total === undefined || f.total === undefined ? undefined : total + f.total;
    }
    emit({ type: 'overall', loaded, total });
  };
  const send = (file: string, loaded: number, total: number | undefined) => {
    const last = files.get(file);
    if (last && last.loaded === loaded && last.total === total) return;
    files.set(file, { loaded, total });
    emit?.({ type: 'download', file, loaded, total });
    sendOverall();
  };
  return {
    onBytes: (file) => (loaded, total) => send(file, loaded, total),
    done: (file, size) => send(file, size, size),
    startOverall: (expected) => {
      overall = true;
      for (const file of expected) if (!files.has(file)) files.set(file, { loaded: 0, total: undefined });
    },
    forget: (file) => {
      if (files.delete(file)) sendOverall();
    },
  };
}
