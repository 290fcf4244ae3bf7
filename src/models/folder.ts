/**
 * Loads a model folder (Hugging Face + sentence-transformers layout): its JSON files first, in
 * parallel, then the weights (ONNX, external data, NV-Embed's latent-attention head) in
 * parallel, each checked for what it claims to be.
 */
import { DtypeNotFoundError, ModelFileIsHtmlError, ModelFileNotFoundError, ModelLoadError, StorageQuotaError } from '../errors.ts';
import { describeDtypes, dtypesInFolder } from './dtype-probe.ts';
import { fetchFile as defaultFetchFile } from '../io/fetch-file.ts';
import { assertOnnxBytes, parseJsonFile } from './file-checks.ts';
import { DTYPES, dtypeFromConfig, externalDataFromConfig, isDtype, onnxFileFor } from './onnx-files.ts';
import { batchSensitivity, type BatchSensitivity } from './onnx/batch-sensitivity.ts';
import { externalDataLocations } from './onnx/external-data.ts';
import { readGraph, type OnnxGraph } from './onnx/onnx-graph.ts';
import { chooseDtypeInOrder, type ModelPreset } from './presets.ts';
import { createProgressTracker, type LoadProgress, type ProgressTracker } from './progress.ts';
import { readSafetensors } from './safetensors.ts';
import type { HubOptions } from '../io/hub.ts';
import { resolveSource, type ModelSource } from './source.ts';
import { canonicalPooling, resolveSpecFacts, type FolderFiles, type ModelOverrides } from './spec.ts';
import { createTextTokenizer } from './tokenizer.ts';
import type { FetchFile } from '../io/types.ts';
import type { Dtype, LatentAttentionSpec, LoadedModel, ModelSpec, PaddingSide, TextTokenizer } from './types.ts';

export type { LoadProgress } from './progress.ts';

export interface LoadModelOptions extends ModelOverrides {
  /** which ONNX file (types.ts Dtype): 'fp32' → onnx/model.onnx, 'fp16' → model_fp16, 'q8' → model_quantized, ... */
  dtype?: Dtype;
  /** apply a preset's facts to a folder given by URL (a self-hosted copy of a known model) */
  preset?: string;
  /** a hub id's or preset id's revision (branch, tag or commit); a hub id may say it itself ('owner/name@rev') */
  revision?: string;
  /** where hub ids' files come from (src/io/hub.ts); configureHub()'s settings, else the Hugging Face hub */
  hub?: HubOptions;
  /**
   * With no dtype asked: the dtypes to try, in order (the engine's choice for its backend, e.g.
   * no fp16 files on an adapter without 'shader-f16'); a preset's default comes first when listed.
   */
  dtypeOrder?: Dtype[];
  /** how files are read; the network (src/io/fetch-file.ts) by default */
  fetchFile?: FetchFile;
  /** called with config.json once it is read, before the weights are (the engine starts onnxruntime then) */
  onConfig?: (config: Record<string, unknown>) => void;
  signal?: AbortSignal;
  onProgress?: (event: LoadProgress) => void;
}

const FOLDER_HINT = 'a model folder holds config.json, tokenizer.json, tokenizer_config.json and onnx/model.onnx (or onnx/model_<dtype>.onnx)';
const LATENT_FILE = 'latent_attention.safetensors';

/**
 * Loads a model by preset id, hub id ('owner/name[@revision]') or folder URL.
 *
 * @example
 * const model = await loadModel('multilingual-e5-small', { dtype: 'q8', onProgress: (e) => console.log(e) });
 * model.spec.pooling;   // 'mean'
 * model.spec.prompts;   // { query: 'query: ', document: 'passage: ' }
 */
export async function loadModel(idOrUrl: string, options: LoadModelOptions = {}): Promise<LoadedModel> {
  const { signal } = options;
  if (options.dtype !== undefined && !isDtype(options.dtype)) {
    throw new RangeError(`Unknown dtype ${JSON.stringify(options.dtype)}: expected one of ${DTYPES.map((d) => `'${d}'`).join(' | ')}.`);
  }
  const source = resolveSource(idOrUrl, { preset: options.preset, revision: options.revision, hub: options.hub });
  const { baseUrl, preset } = source;
  const tracker = createProgressTracker(idOrUrl, options.onProgress);
  const read = fileReader(baseUrl, options.fetchFile ?? defaultFetchFile, tracker);
  signal?.throwIfAborted();

  // The small files, together; when several fail, the first in this list is the one reported
  // (a folder that does not exist says "no config.json", whichever answer arrived first).
  const [configB, tokenizerB, tokenizerConfigB, modulesB, poolingB, stB, sbertB] = await allInOrder([
    read('config.json', { required: true, signal }),
    read('tokenizer.json', { required: true, signal }),
    read('tokenizer_config.json', { required: true, signal }),
    read('modules.json', { signal }),
    read('1_Pooling/config.json', { signal }),
    read('config_sentence_transformers.json', { signal }),
    read('sentence_bert_config.json', { signal }),
  ]).catch((err: unknown) => {
    throw hubFolderError(idOrUrl, source, err);
  });
  const json = (file: string, bytes: Uint8Array) => parseJsonFile(fileUrl(baseUrl, file), bytes);
  const config = json('config.json', configB);
  options.onConfig?.(config);
  const tokenizerJson = json('tokenizer.json', tokenizerB);
  const tokenizerConfig = json('tokenizer_config.json', tokenizerConfigB);
  const modules = modulesB && parseJsonFile(fileUrl(baseUrl, 'modules.json'), modulesB);
  let poolingFile = poolingB && json('1_Pooling/config.json', poolingB);
  const poolingPath = poolingModulePath(modules);
  if (!poolingFile && poolingPath && poolingPath !== '1_Pooling') {
    const bytes = await read(`${poolingPath}/config.json`, { signal });
    poolingFile = bytes && json(`${poolingPath}/config.json`, bytes);
  }

  const wantsLatent = isRecord(config.latent_attention_config) && (options.pooling === undefined || canonicalPooling(options.pooling) === 'latent-attention');
  const files: FolderFiles = {
    config,
    tokenizerConfig,
    modules,
    ...(poolingFile ? { pooling: poolingFile } : {}),
    ...(stB ? { sentenceTransformers: json('config_sentence_transformers.json', stB) } : {}),
    ...(sbertB ? { sentenceBert: json('sentence_bert_config.json', sbertB) } : {}),
    hasLatentAttention: wantsLatent,
  };
  const facts = resolveSpecFacts(files, preset, options, baseUrl);
  if (facts.pooling === 'latent-attention' && !wantsLatent) {
    throw new ModelLoadError(
      `latent-attention pooling needs NV-Embed's head, and ${baseUrl}config.json has no latent_attention_config: pass { pooling: 'mean' | 'cls' | 'last-token' }.`,
      fileUrl(baseUrl, 'config.json'),
    );
  }
  const t0 = performance.now();
  const tokenizer = buildTokenizer(baseUrl, tokenizerJson, tokenizerConfig, config, preset);
  const tokenizerMs = performance.now() - t0;

  // The weights, together; the first failure stops the other downloads and is the one reported.
  const weights = failTogether(signal);
  const latentP = wantsLatent ? read(LATENT_FILE, { required: true, signal: weights.signal }) : Promise.resolve(undefined);
  latentP.catch(weights.fail);
  try {
    const { dtype, dtypeReason, onnxFile, onnx, externalData } = await fetchOnnx(baseUrl, config, preset, options.dtype, options.dtypeOrder, read, tracker, wantsLatent, weights.signal);
    const latentBytes = await latentP;
    const t1 = performance.now();
    const onnxGraph = readGraphOrNothing(onnx);
    const graph = onnxGraph ? batchSensitivity(onnxGraph) : { groupQueryAttention: false, dynamicQuantization: false };
    const graphMs = performance.now() - t1;
    // Decided again with the graph's outputs: a graph that pools by itself (sentence_embedding)
    // changes the pooling and the width.
    const specFacts = resolveSpecFacts({ ...files, ...(onnxGraph ? { graph: { file: onnxFile, outputs: onnxGraph.outputs } } : {}) }, preset, options, baseUrl);
    const spec: ModelSpec = {
      id: idOrUrl,
      baseUrl,
      config,
      ...specFacts,
      ...graphPadding(graph, specFacts.paddingSide, options.paddingSide, fileUrl(baseUrl, onnxFile)),
      graph,
      onnxFile,
      externalDataFiles: externalData.map((d) => d.path),
      dtype,
      dtypeReason,
      ...(latentBytes ? { latentAttention: latentAttentionSpec(fileUrl(baseUrl, LATENT_FILE), config, latentBytes) } : {}),
    };
    return { spec, tokenizer, onnx, externalData, onnxGraph, loadMs: { tokenizer: tokenizerMs, graph: graphMs } };
  } catch (err) {
    weights.fail(err);
    await latentP.catch(() => {});
    throw weights.firstError();
  }
}

/**
 * A hub-built folder (a hub id, or a preset id) whose config.json cannot be had: the folder is not
 * there for this app, whatever the transport said (404; the hub's 401 for a repository that does
 * not exist or is private; a web page from a site that answers every path; a host that cannot be
 * reached). One ModelFileNotFoundError naming the URL tried and the hub setting that built it,
 * the original error as its cause. Other errors (an abort, a full disk) pass as they are.
 */
function hubFolderError(model: string, source: ModelSource, err: unknown): unknown {
  const url = fileUrl(source.baseUrl, 'config.json');
  if (!source.hub || !(err instanceof ModelLoadError) || err instanceof StorageQuotaError || err.url !== url) return err;
  const { repo, revision, describe } = source.hub;
  const what = model.trim().includes('/') ? `The hub model '${model.trim()}'` : `The preset '${model.trim()}' (${repo} at ${revision})`;
  const folderHint = model.trim().includes('/') ? ` If '${model.trim()}' is a folder on this site, write it as a path: './${model.trim().replace(/@.*$/, '')}/'.` : '';
  return new ModelFileNotFoundError(
    `${what} was not found at ${url} (${err.message.replace(/\.$/, '')}). It was looked for in ${repo} at revision '${revision}' from ${describe}. ` +
      `Check the owner/name and the revision; a private or gated repository cannot be read this way.${folderHint}`,
    url,
    { cause: err },
  );
}

/**
 * Downloads that stand or fall together: `fail` aborts the others (their AbortErrors are then not
 * the story) and `firstError` is the failure that started it.
 */
function failTogether(outer: AbortSignal | undefined) {
  const controller = new AbortController();
  let first: { error: unknown } | undefined;
  return {
    signal: outer ? AbortSignal.any([outer, controller.signal]) : controller.signal,
    fail: (error: unknown) => {
      first ??= { error };
      controller.abort();
    },
    firstError: () => first?.error,
  };
}

/**
 * The graph's nodes, opsets and outputs, read once for all that needs them (batching, pooling, the
 * session's CPU-only nodes and wasm rewrite). A file our protobuf reader cannot walk (truncated, damaged) is left
 * to onnxruntime, whose session creation reports it as a typed error naming the file; until then
 * it says nothing: neither op that changes batching, no outputs, no nodes.
 */
function readGraphOrNothing(onnx: Uint8Array): OnnxGraph | undefined {
  try {
    return readGraph(onnx);
  } catch {
    return undefined;
  }
}

/**
 * The padding side the loaded graph can take. com.microsoft GroupQueryAttention (onnxruntime's
 * fused attention: onnxruntime-genai's builder, onnx-community's Qwen3-Reranker-0.6B-ONNX) reads
 * each row's length from the attention mask and assumes RIGHT padding: fed a left-padded batch it
 * gives the shorter rows wrong results, silently (0.77 off in a batch of 6 on a GQA Qwen3
 * reranker). So such a graph is always right-padded, whatever its tokenizer_config says; every
 * consumer picks each row's last real token by the mask (last-token pooling, the yes/no score).
 * Asking for left padding on it is an error rather than a wrong answer.
 */
function graphPadding(graph: BatchSensitivity, fromFiles: PaddingSide, asked: PaddingSide | undefined, url: string): { paddingSide: PaddingSide; paddingReason?: string } {
  if (!graph.groupQueryAttention || fromFiles === 'right') return { paddingSide: fromFiles };
  if (asked === 'left') {
    throw new RangeError(
      `paddingSide 'left' cannot be used with ${url}: its graph uses GroupQueryAttention, which needs right padding ` +
        "(a left-padded batch gives its shorter rows wrong results); leave paddingSide out and the model runs right-padded.",
    );
  }
  return {
    paddingSide: 'right',
    paddingReason: 'right padding, though the tokenizer says left: this graph uses GroupQueryAttention, which assumes right padding; each row is read at its own last real token',
  };
}

interface Read {
  (file: string, opts: { required: true; signal?: AbortSignal | undefined }): Promise<Uint8Array>;
  (file: string, opts: { required?: boolean; signal?: AbortSignal | undefined }): Promise<Uint8Array | undefined>;
  /** optional files that were answered with a web page (taken as absent), in order */
  readonly htmlAnswers: ModelFileIsHtmlError[];
  /** the FetchFile it reads with (probes on error paths use it too) */
  readonly fetchFile: FetchFile;
}

/**
 * Reads one file of the folder. A missing optional file is undefined; a missing required one is
 * a ModelFileNotFoundError naming the folder; any other failure is a ModelLoadError naming the URL.
 */
function fileReader(baseUrl: string, fetchFile: FetchFile, tracker: ProgressTracker): Read {
  const htmlAnswers: ModelFileIsHtmlError[] = [];
  const read = (async (file: string, { required = false, signal }: { required?: boolean; signal?: AbortSignal | undefined }) => {
    const url = fileUrl(baseUrl, file);
    let bytes: Uint8Array;
    try {
      bytes = await fetchFile(url, { ...(signal ? { signal } : {}), ...tracker.start(file) });
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      // An optional file answered by a web page is absent too: single-page-app servers (Vite's
      // among them) answer every missing path with their index.html and a 200.
      if (err instanceof ModelFileNotFoundError || (!required && err instanceof ModelFileIsHtmlError)) {
        if (err instanceof ModelFileIsHtmlError) htmlAnswers.push(err);
        if (!required) {
          // its 'initiate' gets its 'done', so a progress list that adds a row per file can close it
          tracker.missing(file);
          return undefined;
        }
        throw new ModelFileNotFoundError(`The model folder ${baseUrl} has no ${file} (${url} was not found): check the URL; ${FOLDER_HINT}.`, url, {
          cause: err,
        });
      }
      if (err instanceof ModelLoadError) throw err;
      throw new ModelLoadError(`Could not read ${url}: ${err instanceof Error ? err.message : String(err)}.`, url, { cause: err });
    }
    tracker.done(file, bytes.length);
    return bytes;
  }) as Omit<Read, 'htmlAnswers' | 'fetchFile'>;
  return Object.assign(read, { htmlAnswers, fetchFile }) as Read;
}

/**
 * The ONNX file for the dtype asked for (or, with none asked, the preset's default or the first
 * that exists: transformers.js_config's dtype, then fp32, fp16, q8, q4f16, q4) and its external data.
 */
async function fetchOnnx(
  baseUrl: string,
  config: Record<string, unknown>,
  preset: ModelPreset | undefined,
  asked: Dtype | undefined,
  order: Dtype[] | undefined,
  read: Read,
  tracker: ProgressTracker,
  withLatent: boolean,
  signal: AbortSignal,
): Promise<{ dtype: Dtype; dtypeReason: string; onnxFile: string; onnx: Uint8Array; externalData: { path: string; data: Uint8Array }[] }> {
  if (asked && preset && !preset.dtypes[asked]) {
    throw new ModelLoadError(
      `${baseUrl} has no ${asked} export: pass dtype ${Object.keys(preset.dtypes)
        .map((d) => `'${d}'`)
        .join(' or ')}.`,
      baseUrl,
    );
  }
  const fromPreset = !asked && preset ? presetCandidate(preset, order) : undefined;
  const candidates: Dtype[] = asked ? [asked] : fromPreset ? [fromPreset.dtype] : [...new Set([...(order ?? [dtypeFromConfig(config) ?? 'fp32', 'fp32', 'fp16', 'q8', 'q4f16', 'q4'])] as Dtype[])];
  for (const dtype of candidates) {
    const onnxFile = onnxFileFor(dtype);
    // External data: the preset's list or transformers.js_config's, fetched beside the graph;
    // else the locations the ONNX file itself names (no probing: a probe of a missing file is a
    // 404 on most hosts but a 200 index.html on single-page-app servers).
    const listed = preset?.dtypes[dtype]?.externalData ?? externalDataFromConfig(config, onnxFile);
    tracker.startOverall([onnxFile, ...(listed ?? []), ...(withLatent ? [LATENT_FILE] : [])]);

    const group = failTogether(signal);
    const fetchData = (files: string[]) => Promise.all(files.map(async (path) => ({ path, data: await read(path, { required: true, signal: group.signal }) })));
    const listedP = listed ? fetchData(listed) : undefined;
    listedP?.catch(group.fail);
    let onnx: Uint8Array | undefined;
    try {
      onnx = await read(onnxFile, { signal: group.signal });
      if (onnx) assertOnnxBytes(fileUrl(baseUrl, onnxFile), onnx);
    } catch (err) {
      group.fail(err);
      await listedP?.catch(() => {});
      throw group.firstError();
    }
    if (!onnx) {
      group.fail(undefined);
      await listedP?.catch(() => {});
      for (const f of [onnxFile, ...(listed ?? [])]) tracker.forget(f);
      if (asked || preset) {
        const available = await dtypesInFolder(baseUrl, read.fetchFile, { except: [dtype], signal });
        const has = available.length
          ? `it has ${describeDtypes(available)}: pass one of those as dtype.`
          : `nor any other onnx/model*.onnx: check the URL; ${FOLDER_HINT}.`;
        throw new DtypeNotFoundError(`The model folder ${baseUrl} has no ${onnxFile} (dtype '${dtype}'); ${has}`, fileUrl(baseUrl, onnxFile), available);
      }
      continue;
    }
    const dir = onnxFile.slice(0, onnxFile.lastIndexOf('/') + 1);
    const named = listed ? undefined : externalDataLocations(onnx).map((location) => dir + location);
    if (named?.length) tracker.startOverall([onnxFile, ...named, ...(withLatent ? [LATENT_FILE] : [])]);
    const externalData = await (listedP ?? fetchData(named ?? []));
    const dtypeReason = asked
      ? `dtype '${asked}' was asked for`
      : (fromPreset?.reason ?? (order ? `the first of this device's dtypes (${order.join(', ')}) the folder has` : 'the first the folder has of its configured dtype, fp32, fp16, q8, q4f16, q4'));
    return { dtype, dtypeReason, onnxFile, onnx, externalData };
  }
  const tried = candidates.map(onnxFileFor);
  const html = read.htmlAnswers.find((e) => tried.some((f) => e.url === fileUrl(baseUrl, f)));
  if (html) {
    throw new ModelFileIsHtmlError(
      `The model folder ${baseUrl} has no ONNX model: ${html.url} was answered with a web page, not the file ` +
        `(a wrong URL, a sign-in page, or a server that answers missing files with its index page). Check the URL; ${FOLDER_HINT}.`,
      html.url,
      { cause: html },
    );
  }
  // Files of dtypes not tried by default (int8, uint8, bnb4, ...) are named, not taken unasked.
  const untried = await dtypesInFolder(baseUrl, read.fetchFile, { except: candidates, signal });
  if (untried.length) {
    throw new DtypeNotFoundError(
      `The model folder ${baseUrl} has none of ${tried.join(', ')}; it has ${describeDtypes(untried)}: pass one of those as dtype.`,
      baseUrl,
      untried,
    );
  }
  throw new ModelFileNotFoundError(
    `The model folder ${baseUrl} has no ONNX model: tried ${tried.join(', ')}. Check the URL; ${FOLDER_HINT}.`,
    baseUrl,
  );
}

function buildTokenizer(
  baseUrl: string,
  tokenizerJson: Record<string, unknown>,
  tokenizerConfig: Record<string, unknown>,
  config: Record<string, unknown>,
  preset: ModelPreset | undefined,
): TextTokenizer {
  const textConfig = isRecord(config.text_config) ? config.text_config : {};
  const eosId = firstId(config.eos_token_id) ?? firstId(textConfig.eos_token_id);
  const appendEos = config.add_eos === true || preset?.appendEos === true ? eosId : undefined;
  try {
    return createTextTokenizer(tokenizerJson, tokenizerConfig, appendEos === undefined ? {} : { appendEos });
  } catch (err) {
    const url = fileUrl(baseUrl, 'tokenizer.json');
    throw new ModelLoadError(`${url} could not be read as a tokenizer (${err instanceof Error ? err.message : String(err)}): re-export it with a recent tokenizers version.`, url, {
      cause: err,
    });
  }
}

/** NV-Embed's head: its sizes from config.json's latent_attention_config, its weights from the safetensors file. */
function latentAttentionSpec(url: string, config: Record<string, unknown>, bytes: Uint8Array): LatentAttentionSpec {
  const c = config.latent_attention_config as Record<string, unknown>;
  const int = (key: string) => {
    const v = c[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
      throw new ModelLoadError(`config.json's latent_attention_config.${key} is ${JSON.stringify(v)}: it must be a positive integer.`, url);
    }
    return v;
  };
  const spec = {
    numLatents: int('num_latents_value'),
    heads: int('num_cross_heads'),
    headDim: int('cross_dim_head'),
    latentDim: int('latent_dim'),
    hiddenDim: int('hidden_dim'),
  };
  const tensors = readSafetensors(url, bytes);
  const latents = tensors['latent_attention_model.latents'];
  if (!latents || latents.shape.join() !== `${spec.numLatents},${spec.latentDim}`) {
    throw new ModelLoadError(
      `${url} must hold latent_attention_model.latents of shape [${spec.numLatents}, ${spec.latentDim}] (from config.json), found ${latents ? `[${latents.shape}]` : 'none'}.`,
      url,
    );
  }
  const weights: Record<string, Float32Array> = {};
  const shapes: Record<string, number[]> = {};
  for (const [name, t] of Object.entries(tensors)) {
    weights[name] = t.data;
    shapes[name] = t.shape;
  }
  return { ...spec, weights, shapes };
}

function poolingModulePath(modules: unknown): string | undefined {
  if (!Array.isArray(modules)) return undefined;
  const pooling = modules.find((m) => isRecord(m) && /\.Pooling$/.test(String(m.type)));
  return isRecord(pooling) && typeof pooling.path === 'string' && pooling.path ? pooling.path.replace(/\/+$/, '') : undefined;
}

function fileUrl(baseUrl: string, file: string): string {
  return new URL(file, baseUrl).href;
}

function firstId(value: unknown): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return typeof v === 'number' && Number.isInteger(v) ? v : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return !!value && typeof value === 'object' && !Array.isArray(value);
}

/** Promise.all, but the error reported is the first failure in list order, not in time. */
async function allInOrder<T extends readonly unknown[]>(promises: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(promises);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

/**
 * A preset's dtype with none asked. Given the engine's order (its device's dtypes, best first),
 * presets.ts chooseDtypeInOrder decides, so the preset's default never overrides the device: its
 * fp16 / q4f16 only where the order starts with them (WebGPU with 'shader-f16'), never ahead of
 * the int8 / fp32 files on wasm; and no multi-GB fp32 where a smaller file runs (LARGE_FP32_MB).
 * Without an order (a plain loadModel call, no device known): the preset's default.
 */
function presetCandidate(preset: ModelPreset, order: Dtype[] | undefined): { dtype: Dtype; reason: string } {
  return order ? chooseDtypeInOrder(preset, order) : { dtype: preset.defaultDtype, reason: "the preset's default" };
}
