/**
 * Starts the engine's module Web Worker and wraps it with comlink. The literal
 * `new Worker(new URL(...), { type: 'module' })` form is what bundlers (Vite, webpack 5, Rollup)
 * recognise, so an app gets the worker bundled without copying files.
 *
 * A worker that fails to load or crashes rejects every pending call with WorkerCrashedError (a
 * comlink call would otherwise wait forever), and the next call starts a new worker.
 */
import { wrap, type Remote } from 'comlink';
import { WorkerCrashedError } from '../errors.ts';
import { registerTransferHandlers } from '../worker/protocol.ts';
import type { WorkerApi } from '../worker/index.ts';

interface Running {
  worker: Worker;
  api: Remote<WorkerApi>;
  /** rejects when the worker fails; every call races against it */
  failed: Promise<never>;
  generation: number;
}

let running: Running | undefined;
let generation = 0;

function start(): Running {
  registerTransferHandlers();
  const worker = new Worker(new URL('../worker/index.ts', import.meta.url), { type: 'module', name: 'webgpu-embed' });
  let fail!: (e: Error) => void;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => undefined); // observed by the calls that race it
  const r: Running = { worker, api: wrap<WorkerApi>(worker), failed, generation: ++generation };
  const onError = (ev: ErrorEvent | MessageEvent) => {
    const detail = 'message' in ev && typeof ev.message === 'string' && ev.message ? ev.message : 'the worker script failed to load or threw';
    if (running === r) running = undefined;
    worker.terminate();
    fail(new WorkerCrashedError(`the webgpu-embed worker stopped (${detail}); the next call starts a new one`));
  };
  worker.addEventListener('error', onError);
  worker.addEventListener('messageerror', onError);
  return r;
}

/** The running worker (started on first use). */
export function engineWorker(): Running {
  return (running ??= start());
}

/** Calls the worker; rejects with WorkerCrashedError if the worker dies first. */
export function callWorker<T>(fn: (api: Remote<WorkerApi>) => Promise<T>, w: Running = engineWorker()): Promise<T> {
  return Promise.race([fn(w.api), w.failed]);
}

/** Ends the worker (pending calls reject with WorkerCrashedError); the next call starts a new one. */
export function terminateEngineWorker(): void {
  const r = running;
  running = undefined;
  if (!r) return;
  r.worker.terminate();
  r.worker.dispatchEvent(new ErrorEvent('error', { message: 'terminated by terminateEngineWorker()' }));
}
