/**
 * Starts the engine's module Web Worker and wraps it with comlink. The literal
 * `new Worker(new URL(...), { type: 'module' })` form is what bundlers (Vite, webpack 5, Rollup)
 * recognise, so an app gets the worker bundled without copying files.
 */
import { wrap, type Remote } from 'comlink';
import type { WorkerApi } from '../worker/index.ts';

let remote: { worker: Worker; api: Remote<WorkerApi> } | undefined;

export function engineWorker(): Remote<WorkerApi> {
  if (!remote) {
    const worker = new Worker(new URL('../worker/index.ts', import.meta.url), { type: 'module', name: 'webgpu-embed' });
    remote = { worker, api: wrap<WorkerApi>(worker) };
  }
  return remote.api;
}

/** Ends the worker; the next call starts a new one. */
export function terminateEngineWorker(): void {
  remote?.worker.terminate();
  remote = undefined;
}
