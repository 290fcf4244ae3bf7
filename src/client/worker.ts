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
    fail(new WorkerCrashedError(`the webgpu-embed worker stopped (${detail}); the next call starts a new one (an embedder or reranker made before it is gone: create it again)`));
  };
  worker.addEventListener('error', onError);
  worker.addEventListener('messageerror', onError);
  return r;
}

/** The running worker (started on first use). */
export function engineWorker(): Running {
  return (running ??= start());
}

/** Whether the worker running now (started if none) is still the one running: false once it died or was ended. */
export function workerWatch(): () => boolean {
  const r = engineWorker();
  return () => running === r;
}

/**
 * Calls the worker; rejects with WorkerCrashedError if the worker dies first. `sent` names the
 * arguments, so that one postMessage cannot clone (a function, a symbol) is named in a TypeError.
 */
export function callWorker<T>(fn: (api: Remote<WorkerApi>) => Promise<T>, w: Running = engineWorker(), sent?: Record<string, unknown>): Promise<T> {
  return Promise.race([fn(w.api).catch((e: unknown) => Promise.reject(notSendable(e, sent))), w.failed]);
}

/** postMessage's DataCloneError, as a TypeError that names the argument (or its element or property) that cannot be sent. */
function notSendable(e: unknown, sent: Record<string, unknown> = {}): unknown {
  if ((e as Error | undefined)?.name !== 'DataCloneError') return e;
  const clones = (v: unknown) => {
    try {
      structuredClone(v);
      return true;
    } catch {
      return false;
    }
  };
  let where: string | undefined;
  for (const [name, v] of Object.entries(sent)) {
    if (clones(v)) continue;
    const inner = v && typeof v === 'object' ? Object.entries(v).find(([, x]) => !clones(x)) : undefined;
    where = inner ? `${name}${Array.isArray(v) ? `[${inner[0]}]` : `.${inner[0]}`}` : name;
    break;
  }
  return new TypeError(
    `${where ?? 'an argument'} cannot be sent to the webgpu-embed worker (${(e as Error).message}): pass plain data (strings, numbers, arrays, plain objects), not functions or symbols.`,
    { cause: e },
  );
}

/** Ends the worker (pending calls reject with WorkerCrashedError); the next call starts a new one. */
export function terminateEngineWorker(): void {
  const r = running;
  running = undefined;
  if (!r) return;
  r.worker.terminate();
  r.worker.dispatchEvent(new ErrorEvent('error', { message: 'terminated by terminateEngineWorker()' }));
}
