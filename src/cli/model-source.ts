/**
 * The --model argument → what createEmbedder / createReranker take: a local folder (a path or
 * file:// URL) as its file:// URL, which the library reads from the disk in Node
 * (src/io/local-files.ts); an http(s) folder URL; a preset id; or a hub id (owner/name, with
 * @revision), whose files come from the hub the --hub setting names. A path that exists is a
 * folder before it is a hub id: 'models/e5' is the local folder where there is one.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { modelForm, presetsByDistance } from '../models/hub.ts';
import { findPreset } from '../models/presets.ts';
import { UsageError } from './usage.ts';

/** What --model named, resolved. */
export interface ModelSource {
  /** the string createEmbedder / createReranker take as `model` */
  model: string;
  kind: 'folder' | 'url' | 'preset' | 'hub';
}

/**
 * @example
 * await resolveModel('test/fixtures/models/glove-sif'); // { model: 'file:///…/test/fixtures/models/glove-sif/', kind: 'folder' }
 * await resolveModel('Xenova/all-MiniLM-L6-v2');       // { model: 'Xenova/all-MiniLM-L6-v2', kind: 'hub' }
 */
export async function resolveModel(model: string, cwd = process.cwd()): Promise<ModelSource> {
  if (/^https?:\/\//i.test(model)) return { model: model.endsWith('/') ? model : `${model}/`, kind: 'url' };
  if (findPreset(model)) return { model, kind: 'preset' };
  let path: string;
  if (/^file:/i.test(model)) {
    try {
      path = fileURLToPath(model);
    } catch (e) {
      throw new UsageError(`--model ${model} is not a usable file: URL (${(e as Error).message})`);
    }
  } else {
    path = resolve(cwd, model);
  }
  const info = await stat(path).catch(() => undefined);
  if (!info) {
    let hub = false;
    try {
      hub = !/^file:/i.test(model) && modelForm(model).kind === 'hub';
    } catch {
      // malformed as a hub id too: the message below says what is accepted
    }
    if (hub) return { model, kind: 'hub' };
    throw new UsageError(
      `--model ${model}: no such folder, and not a hub id or a preset id. A model is a local folder (a path or file:// URL) holding ` +
        `config.json, tokenizer.json and onnx/model.onnx, an http(s):// folder URL, a hub id (Xenova/all-MiniLM-L6-v2, at a revision ` +
        `Xenova/all-MiniLM-L6-v2@main), or a preset (--preset <id>; closest first: ${presetsByDistance(model).slice(0, 6).join(', ')})`,
    );
  }
  if (!info.isDirectory()) throw new UsageError(`--model ${model} is a file: give the model's folder (the one holding config.json, tokenizer.json and onnx/)`);
  const url = pathToFileURL(path).href;
  return { model: url.endsWith('/') ? url : `${url}/`, kind: 'folder' };
}

/**
 * --hub: a URL as it is; a local folder (relative to the working folder) as its file:// URL, which
 * must exist.
 *
 * @example
 * await resolveHubArg('./mirror'); // 'file:///…/mirror/'
 */
export async function resolveHubArg(hub: string, cwd = process.cwd()): Promise<string> {
  if (/^(https?|file):/i.test(hub)) return hub;
  const path = resolve(cwd, hub);
  const info = await stat(path).catch(() => undefined);
  if (!info?.isDirectory()) throw new UsageError(`--hub ${hub}: no such folder; give a hub's URL (https://huggingface.co, a mirror) or a local folder laid out as the hub (<owner>/<name>/resolve/<revision>/<file>)`);
  return pathToFileURL(path).href + '/';
}
