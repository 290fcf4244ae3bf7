/** The worker entry: the engine exposed over comlink, nothing more (DESIGN.md). */
import { expose } from 'comlink';
import { diagnose } from '../engine/diagnose.ts';

const api = {
  diagnose: () => diagnose('worker'),
};

export type WorkerApi = typeof api;

expose(api);
