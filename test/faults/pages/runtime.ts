/**
 * Page side of the runtime faults: the GPU device lost mid-call (engine in this page, so the test
 * can destroy ORT's device), and the library's worker killed with calls pending (engine in its
 * worker).
 */
import * as lib from '../../../src/index.ts';
import { runtimeFor } from '../../../src/runtime/ort.ts';
import { bounded, describeOutcome, fixtureUrl, maxDiff, sleep, type Outcome } from './common.ts';

// Texts (and documents) of one token length each: batches of one shape, so a new device compiles few pipelines.
const TEXTS = ['bread', 'butter', 'planet', 'river', 'piano', 'garden', 'winter', 'market'].map((w) => `a short text about ${w} today`);
const QUERY = 'how do I bake bread?';
const DOCS = ['dough', 'cat', 'oven', 'stocks', 'yeast', 'flour'].map((w) => `a document about the ${w} here`);

const scores = (r: lib.RerankResults) => [...r].sort((a, b) => a.index - b.index).map((x) => x.score);

// ---- the GPU device lost ----

interface GpuState {
  embedder: lib.Embedder;
  reranker: lib.Reranker;
  vectors: Float32Array[];
  scores: number[];
  embedMs: number;
  rerankMs: number;
}
let gpu: GpuState | undefined;

export async function gpuSetup(): Promise<{ embedMs: number; rerankMs: number; device: string }> {
  const embedder = await lib.createEmbedder({ model: fixtureUrl('tiny-e5'), device: 'webgpu', worker: false, limits: { maxBatchSize: 2 } });
  const reranker = await lib.createReranker({ model: fixtureUrl('tiny-cross-encoder'), device: 'webgpu', worker: false, limits: { maxBatchSize: 2 } });
  await embedder.embed(TEXTS);
  let t0 = performance.now();
  const vectors = await embedder.embed(TEXTS);
  const embedMs = performance.now() - t0;
  await reranker.rerank(QUERY, DOCS);
  t0 = performance.now();
  const s = scores(await reranker.rerank(QUERY, DOCS));
  const rerankMs = performance.now() - t0;
  gpu = { embedder, reranker, vectors, scores: s, embedMs, rerankMs };
  return { embedMs, rerankMs, device: embedder.info.device };
}

export interface DeviceLossTrial {
  /** the call during which the device was destroyed */
  during: string;
  /** its difference from the reference when it resolved */
  duringDiff?: number;
  /** whether the device was destroyed before the call ended */
  destroyedBeforeEnd: boolean;
  /** the next call of the same kind: its difference from the reference, or what went wrong */
  next: number | string;
  newDevice: boolean;
}

/**
 * Destroys ORT's GPUDevice during an embed() or rerank() call: after `delayMs`, or when the
 * call's `afterBatch`-th batch is done. The call must resolve right or fail with
 * GpuDeviceLostError; the next call must be right, on a new device. The embedder and the reranker
 * share the device: the one not called recovers in a later trial, inside its own call (where the
 * device may be destroyed again, mid-recovery).
 */
export async function deviceLossTrial(kind: 'embed' | 'rerank', when: { delayMs: number } | { afterBatch: number }): Promise<DeviceLossTrial> {
  const s = gpu!;
  const device = (await (await runtimeFor('webgpu')).env.webgpu.device) as GPUDevice;
  let destroyed = false;
  let ended = false;
  const destroy = () => {
    if (destroyed) return;
    destroyed = true;
    device.destroy();
  };
  let batches = 0;
  const onProgress = 'afterBatch' in when ? (p: { status: string }) => void ((p.status === 'embed' || p.status === 'rerank') && ++batches === when.afterBatch && destroy()) : undefined;
  const timer = 'delayMs' in when ? setTimeout(destroy, when.delayMs) : undefined;
  const call: Promise<number> =
    kind === 'embed'
      ? s.embedder.embed(TEXTS, onProgress ? { onProgress } : {}).then((v) => maxDiff(v, s.vectors))
      : s.reranker.rerank(QUERY, DOCS, onProgress ? { onProgress } : {}).then((r) => maxDiff([scores(r)], [s.scores]));
  const during = await bounded(call.finally(() => (ended = true)), 60_000);
  const destroyedBeforeEnd = destroyed;
  clearTimeout(timer);
  void ended;
  destroy(); // every trial loses the device, so every trial checks the recovery
  await device.lost;
  const next =
    kind === 'embed'
      ? await bounded(() => s.embedder.embed(TEXTS).then((v) => maxDiff(v, s.vectors)), 60_000)
      : await bounded(() => s.reranker.rerank(QUERY, DOCS).then((r) => maxDiff([scores(r)], [s.scores])), 60_000);
  const after = (await (await runtimeFor('webgpu')).env.webgpu.device) as GPUDevice;
  return {
    during: during.ok === false ? `${during.error.name}: ${during.error.message}` : describeOutcome(during),
    ...(during.ok === true ? { duringDiff: during.value } : {}),
    destroyedBeforeEnd,
    next: next.ok === true ? next.value : describeOutcome(next),
    newDevice: after !== device,
  };
}

export async function gpuTeardown(): Promise<void> {
  await gpu?.embedder.dispose();
  await gpu?.reranker.dispose();
  gpu = undefined;
}

// ---- the worker killed ----

/** Enough work that calls are still pending when the worker is killed. */
const MANY = Array.from({ length: 24 }, (_, i) => `text ${i}: ${'the quick brown fox jumps over the lazy dog '.repeat(1 + (i % 5))}`.trim());
const MANY_DOCS = Array.from({ length: 12 }, (_, i) => `document ${i}: ${'knead the dough and let it rise in a warm place '.repeat(1 + (i % 4))}`);

interface WorkerState {
  embedder: lib.Embedder;
  reranker: lib.Reranker;
  /** each call's result when nothing goes wrong (the same objects and options: exact on wasm) */
  ref: Record<string, number[][]>;
  pending: { what: string; p: Promise<number> }[];
}
let wk: WorkerState | undefined;
const MODEL = { model: fixtureUrl('tiny-e5'), device: 'wasm' as const };
const RERANKER = { model: fixtureUrl('tiny-cross-encoder'), device: 'wasm' as const };

async function createPair() {
  const embedder = await lib.createEmbedder({ ...MODEL, limits: { maxBatchSize: 4 } });
  const reranker = await lib.createReranker({ ...RERANKER, limits: { maxBatchSize: 4 } });
  return { embedder, reranker };
}

const vec = (v: Float32Array[]) => v.map((x) => Array.from(x));
// Each with a signal (never aborted): the worker takes in messages between batches, so a crash
// injected into it can land mid-call.
const live = () => ({ signal: new AbortController().signal });
const CALLS: Record<string, (s: WorkerState) => Promise<number[][]>> = {
  'embedder.embed': async (s) => vec(await s.embedder.embed(MANY, live())),
  'reranker.rerank': async (s) => [scores(await s.reranker.rerank(QUERY, MANY_DOCS, live()))],
  'embed()': async () => vec(await lib.embed(MANY, { ...MODEL, ...live() })),
  'rerank()': async () => [scores(await lib.rerank(QUERY, MANY_DOCS, { ...RERANKER, ...live() }))],
  'embedder.embed (short)': async (s) => vec(await s.embedder.embed(TEXTS, live())),
};
const check = (s: WorkerState, what: string) => CALLS[what]!(s).then((r) => maxDiff(r, s.ref[what]!));

export async function workerSetup(): Promise<{ ms: number }> {
  const { embedder, reranker } = await createPair();
  const s: WorkerState = { embedder, reranker, ref: {}, pending: [] };
  const t0 = performance.now();
  for (const what of Object.keys(CALLS)) s.ref[what] = await CALLS[what]!(s);
  wk = s;
  return { ms: performance.now() - t0 };
}

/** Starts calls of every kind (held embedder and reranker, one-call embed() and rerank()) and returns at once. */
export function startPending(): number {
  const s = wk!;
  s.pending = Object.keys(CALLS).map((what) => ({ what, p: check(s, what) }));
  for (const c of s.pending) c.p.catch(() => undefined);
  return s.pending.length;
}

export function terminate(): void {
  lib.terminateEngineWorker();
}

export interface WorkerKillTrial {
  /** each pending call: right, or rejected with WorkerCrashedError (which says the next call starts a new worker) */
  pending: { what: string; outcome: string; crashed: boolean; right: boolean }[];
  /** the held embedder and reranker afterwards: right, or a typed error that says what to do */
  held: { what: string; outcome: string; typed: boolean; right: boolean }[];
  /** the one-call forms afterwards: must be right (the next call starts a new worker) */
  oneCall: { what: string; outcome: string; right: boolean }[];
  /** new createEmbedder/createReranker afterwards: must be right */
  fresh: { what: string; outcome: string; right: boolean }[];
}

const right = (o: Outcome<number>) => o.ok === true && o.value === 0;
const show = (o: Outcome<number>) => (o.ok === true ? `resolved, off by ${o.value}` : describeOutcome(o));

export async function collectAfterKill(): Promise<WorkerKillTrial> {
  const s = wk!;
  const out: WorkerKillTrial = { pending: [], held: [], oneCall: [], fresh: [] };
  for (const c of s.pending) {
    const o = await bounded(c.p, 30_000);
    out.pending.push({
      what: c.what,
      outcome: show(o),
      crashed: o.ok === false && o.error.is.includes('WorkerCrashedError') && /next call starts a new one/.test(o.error.message),
      right: right(o),
    });
  }
  await sleep(0);
  for (const what of ['embedder.embed', 'reranker.rerank']) {
    const o = await bounded(() => check(s, what), 30_000);
    out.held.push({
      what: `held ${what}`,
      outcome: show(o),
      typed: o.ok === false && (o.error.is.includes('WorkerCrashedError') || o.error.is.includes('DisposedError')),
      right: right(o),
    });
  }
  for (const what of ['embed()', 'rerank()']) {
    const o = await bounded(() => check(s, what), 60_000);
    out.oneCall.push({ what, outcome: show(o), right: right(o) });
  }
  const pair = await bounded(createPair, 60_000);
  if (pair.ok === true) {
    const old = { embedder: s.embedder, reranker: s.reranker };
    s.embedder = pair.value.embedder;
    s.reranker = pair.value.reranker;
    for (const what of ['embedder.embed', 'reranker.rerank']) {
      const o = await bounded(() => check(s, what), 60_000);
      out.fresh.push({ what: `new ${what}`, outcome: show(o), right: right(o) });
    }
    await old.embedder.dispose().catch(() => undefined);
    await old.reranker.dispose().catch(() => undefined);
  } else out.fresh.push({ what: 'createEmbedder/createReranker', outcome: describeOutcome(pair), right: false });
  return out;
}
