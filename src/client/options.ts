/**
 * What createEmbedder() and createReranker() share on the main thread: turning the public load
 * options into the engine's, and the instances that the one-call forms (embed(), rerank()) keep
 * per distinct set of load options.
 */
import type { CacheOptions } from '../cache/weight-cache.ts';
import type { BatchLimits } from '../engine/batching.ts';
import { configuredHub, hubSettings, type HubOptions } from '../io/hub.ts';
import { modelForm } from '../models/hub.ts';
import { resolveSource } from '../models/source.ts';
import type { ModelOverrides } from '../models/spec.ts';
import { resolveDtypeOption } from '../models/onnx-files.ts';
import type { DtypeOption } from '../models/types.ts';
import type { DeviceRequest } from '../runtime/backend.ts';
import type { OrtSettings } from '../runtime/ort.ts';
import { workerWatch } from './worker.ts';

/** The load options both model kinds take (createEmbedder's and createReranker's add their own). */
export interface LoadOptions {
  /**
   * The model: a preset id ('multilingual-e5-small'); a hub id, 'owner/name' or 'owner/name@revision'
   * ('Xenova/all-MiniLM-L6-v2', read from the hub setting below; a hub id of a preset's repository
   * gets the preset's facts); or a model folder URL (Hugging Face layout: config.json,
   * tokenizer.json, onnx/model.onnx, …), absolute or relative to the page ('/models/e5/', './models/e5/').
   * A malformed hub id is a TypeError; a string of none of these forms a ModelLoadError that lists
   * the presets, closest first.
   */
  model: string;
  /** apply a preset's facts to a folder given by URL (a self-hosted copy of a known model) */
  preset?: string;
  /**
   * A hub id's or preset id's revision: a branch, tag or commit ('main' for a hub id that names
   * none; a preset's pinned commit for a preset id). The same as 'owner/name@revision'. At a
   * revision other than a preset's pinned commit, the preset's SHA-256 pins do not apply (they
   * describe that commit's bytes). Files are cached per revision.
   */
  revision?: string;
  /**
   * Where hub ids' (and presets') files come from: `{ host, pathTemplate }`, default
   * https://huggingface.co and '{model}/resolve/{revision}/'. A mirror ('https://hf-mirror.com'),
   * a path on this site ('/models' → /models/{owner}/{name}/resolve/{revision}/{file}), or in Node
   * a local folder ('./models'). Over configureHub()'s settings, for this load.
   *
   * @example
   * await createEmbedder({ model: 'Xenova/all-MiniLM-L6-v2', hub: { host: '/models' } });
   */
  hub?: HubOptions;
  /** override what the model's own files say */
  overrides?: ModelOverrides;
  /**
   * 'auto' (default) takes WebGPU on a hardware adapter, else wasm; 'webgpu' without an adapter
   * throws; 'wasm' is onnxruntime-web's wasm build; 'cpu' is onnxruntime-node in Node where it is
   * installed (an optional peer dependency: `npm i onnxruntime-node`), else wasm (`info.deviceReason` says which)
   */
  device?: DeviceRequest;
  /**
   * Which ONNX file, by transformers.js' names: 'fp32' (onnx/model.onnx), 'fp16', 'q8'
   * (model_quantized), 'int8', 'uint8', 'q4', 'q4f16', 'bnb4', 'q2', 'q2f16'; 'auto' (the
   * default) picks per device among the folder's files (`info.dtypeReason` says which and why);
   * or transformers.js' per-file map, whose key here is 'model' (a folder holds one graph):
   * `{ model: 'q8' }`.
   */
  dtype?: DtypeOption;
  /** run the engine in the library's worker (default) or in this thread */
  worker?: boolean;
  /** where onnxruntime-web's .wasm files are served, if the app's bundler does not place them */
  wasmPaths?: string;
  /** wasm threads (used when the page is cross-origin isolated) */
  numThreads?: number;
  /**
   * WebGPU runs on onnxruntime-web's JSPI build where the browser has JSPI (Chrome and Edge 137+),
   * else on its asyncify build; false keeps the asyncify build. The first WebGPU load in a thread
   * (the worker, or the page with `worker: false`) fixes it.
   */
  jspi?: boolean;
  /** batch limits: items per batch, padded tokens per batch, the cost of one more batch */
  limits?: Partial<BatchLimits>;
  /** the IndexedDB weight cache (on by default where IndexedDB exists): options, or false to always download */
  cache?: false | CacheOptions;
  signal?: AbortSignal;
}

/** The engine-side load options: only what was given, plus the ORT settings (progress travels apart). */
export function engineLoadOptions<O extends LoadOptions>(o: O, extra: Record<string, unknown> = {}) {
  // 'auto' and a map become the file's dtype, or nothing (the engine's choice per device).
  const dtype = resolveDtypeOption(o.dtype);
  const ort: OrtSettings = { ...(o.wasmPaths ? { wasmPaths: o.wasmPaths } : {}), ...(o.numThreads ? { numThreads: o.numThreads } : {}), ...(o.jspi !== undefined ? { jspi: o.jspi } : {}) };
  // Read the model string here, on the page: a malformed one fails before a worker starts, and a
  // relative folder URL and a relative hub host resolve against the page, not the worker's script
  // (whose './' is the library's assets folder). The worker gets the hub settings resolved, so
  // configureHub() on this thread applies there too.
  const hub = hubSettings(o.hub);
  const { baseUrl } = resolveSource(o.model, { preset: o.preset, revision: o.revision, hub });
  const form = modelForm(o.model);
  return {
    model: form.kind === 'url' && form.relative ? baseUrl : o.model,
    ...(o.preset ? { preset: o.preset } : {}),
    ...(o.revision !== undefined ? { revision: o.revision } : {}),
    ...(form.kind !== 'url' ? { hub } : {}),
    ...(o.overrides ? { overrides: o.overrides } : {}),
    ...(o.device ? { device: o.device } : {}),
    ...(dtype ? { dtype } : {}),
    ...extra,
    ...(o.limits ? { limits: o.limits } : {}),
    ...(o.cache !== undefined ? { cache: o.cache } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    ort,
  };
}

/**
 * Splits a one-call options object into the load options (those named in `loadKeys`, the key of
 * the kept instance) and the call's own options.
 */
export function splitOptions<O extends object, K extends keyof O>(options: O, loadKeys: readonly K[]): { load: Pick<O, K>; call: Omit<O, K> } {
  const load = {} as Pick<O, K>;
  const call = { ...options } as O;
  for (const k of loadKeys) {
    if (options[k] !== undefined) load[k] = options[k];
    delete call[k];
  }
  return { load, call };
}

/** Instances kept by embed() / rerank(): one per distinct set of load options; a failed load is forgotten. */
export class SharedInstances<T extends { dispose(): Promise<void> }> {
  private readonly kept = new Map<string, { instance: Promise<T>; alive: () => boolean }>();

  get(load: object, create: () => Promise<T>): Promise<T> {
    // configureHub() changes where a hub id's files come from, so it is part of what was loaded.
    const key = JSON.stringify([load, configuredHub() ?? null]);
    const kept = this.kept.get(key);
    // One kept in a worker that has died since answers nothing again: the next call makes a new one (in a new worker).
    if (kept?.alive()) return kept.instance;
    const inWorker = (load as { worker?: boolean }).worker ?? typeof Worker !== 'undefined';
    const entry = { instance: create(), alive: inWorker ? workerWatch() : () => true };
    this.kept.set(key, entry);
    entry.instance.catch(() => {
      if (this.kept.get(key) === entry) this.kept.delete(key);
    });
    return entry.instance;
  }

  async release(): Promise<void> {
    const all = [...this.kept.values()];
    this.kept.clear();
    await Promise.all(all.map(async (e) => (await e.instance.catch(() => undefined))?.dispose()));
  }
}
