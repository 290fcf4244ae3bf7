/**
 * Where a model lives: a preset id, a hub id (`owner/name[@revision]`) or a folder URL, resolved
 * to the folder URL (ending in '/'), the preset that applies, and the revision the weight cache
 * keys its files by. Shared by the loader, the client (clearCache() too) and the engine's opening of
 * the weight cache (src/engine/model-cache.ts): the cache keys files by folder and knows no model strings.
 */
import { folderUrl } from '../io/folder-url.ts';
import { DEFAULT_REVISION, hubFolder, type HubFolder, type HubOptions } from '../io/hub.ts';
import { checkRevision, modelForm } from './hub.ts';
import { findPreset, PRESETS, type ModelPreset } from './presets.ts';

/** How a model string is to be read: an explicit preset, a revision, the hub settings. */
export interface SourceOptions {
  /** apply this preset's facts (a self-hosted copy of a known model) */
  preset?: string | undefined;
  /** a hub id's or a preset's revision (a branch, tag or commit); a hub id's own '@revision' must agree */
  revision?: string | undefined;
  /** where hub ids' files come from (src/io/hub.ts); configureHub()'s settings, else the Hugging Face hub, by default */
  hub?: HubOptions | undefined;
}

export interface ModelSource {
  /** the folder URL, ending in '/' */
  baseUrl: string;
  /** the preset whose facts apply (without its SHA-256 pins when the folder is not the commit they describe) */
  preset?: ModelPreset;
  /** the folder's content version, part of the weight cache's keys: a preset's pinned commit, a hub id's revision */
  revision?: string;
  /** a folder found on the hub (a hub id or a preset id): the repository, revision and settings, for error messages */
  hub?: HubFolder;
}

/**
 * A model string → its folder. A preset id reads from its repository at the preset's pinned commit
 * (or at `revision`); a hub id from `${host}/${pathTemplate}`; a URL (absolute, or relative to the
 * page: '/x', './x', '../x'; in Node, a local folder) is itself with a trailing '/'.
 *
 * @example
 * resolveSource('Xenova/all-MiniLM-L6-v2@v2', {}).baseUrl;          // 'https://huggingface.co/Xenova/all-MiniLM-L6-v2/resolve/v2/'
 * resolveSource('Xenova/all-MiniLM-L6-v2', { hub: { host: '/models' } }).baseUrl; // 'https://<this page's origin>/models/Xenova/all-MiniLM-L6-v2/resolve/main/'
 */
export function resolveSource(idOrUrl: string, options: SourceOptions = {}): ModelSource {
  if (typeof idOrUrl !== 'string' || idOrUrl.trim() === '') {
    throw new TypeError(`model must be a preset id, a hub id or a folder URL, got ${JSON.stringify(idOrUrl)}: e.g. 'all-minilm-l6-v2', 'Xenova/all-MiniLM-L6-v2' or 'https://example.com/models/e5/'.`);
  }
  let explicit: ModelPreset | undefined;
  if (options.preset !== undefined) {
    explicit = findPreset(options.preset)?.preset;
    if (!explicit) throw new RangeError(`Unknown preset '${options.preset}': known presets are ${Object.keys(PRESETS).join(', ')}.`);
  }
  const revision = options.revision === undefined ? undefined : checkRevision(options.revision);
  const form = modelForm(idOrUrl);

  if (form.kind === 'preset') {
    const preset = PRESETS[form.id];
    const at = presetRepo(preset);
    if (!at) {
      // Not a hub folder (no preset is today): its URL as it is.
      if (revision !== undefined) throw new TypeError(`preset '${form.id}' is not on the hub (${preset.url}), so it takes no revision.`);
      return { baseUrl: preset.url, preset: explicit ?? preset, ...(preset.revision ? { revision: preset.revision } : {}) };
    }
    return hubSource(at.repo, revision ?? at.revision, explicit ?? preset, options.hub);
  }
  if (form.kind === 'hub') {
    if (form.revision !== undefined && revision !== undefined && form.revision !== revision) {
      throw new TypeError(`'${idOrUrl}' names revision '${form.revision}' and the revision option says '${revision}': give one of them.`);
    }
    return hubSource(form.repo, form.revision ?? revision ?? DEFAULT_REVISION, explicit ?? presetForRepo(form.repo)?.preset, options.hub);
  }

  if (revision !== undefined) {
    throw new TypeError(`revision applies to hub ids and preset ids; a folder URL (${idOrUrl}) names its files itself: put the revision in the URL (…/resolve/<revision>/).`);
  }
  return { baseUrl: folderUrl(idOrUrl, form.relative), ...(explicit ? { preset: explicit, ...(explicit.revision ? { revision: explicit.revision } : {}) } : {}) };
}

/**
 * A repository's folder at a revision, with the preset whose facts apply. The preset's SHA-256
 * pins describe the bytes of the commit it pins: they apply only when this folder is that
 * repository at that commit (from any host: a mirror must serve the same bytes). At another
 * revision (a branch, a newer commit) the files may legitimately differ, and a pin would refuse
 * them, so the preset's other facts (pooling, prompts, dtypes, ...) apply without the pins.
 */
function hubSource(repo: string, revision: string, preset: ModelPreset | undefined, hub: HubOptions | undefined): ModelSource {
  const { baseUrl, hub: where } = hubFolder(repo, revision, hub);
  if (!preset) return { baseUrl, revision, hub: where };
  const at = presetRepo(preset);
  if (at && sameRepo(at.repo, repo) && at.revision === revision) {
    // Exactly the folder the preset describes: its pins and its cache key (its pinned commit, or
    // none for a preset on main, so that the preset id and its hub id share cached files).
    return { baseUrl, preset: { ...preset, url: baseUrl }, ...(preset.revision ? { revision: preset.revision } : {}), hub: where };
  }
  return { baseUrl, preset: withoutPins(preset, baseUrl, revision), revision, hub: where };
}

/** The preset's facts for another folder: no SHA-256 pins, the folder and revision it is used at. */
function withoutPins(preset: ModelPreset, url: string, revision: string): ModelPreset {
  const dtypes: ModelPreset['dtypes'] = {};
  for (const [dtype, file] of Object.entries(preset.dtypes) as [keyof ModelPreset['dtypes'], NonNullable<ModelPreset['dtypes'][keyof ModelPreset['dtypes']]>][]) {
    const { sha256: _pins, ...rest } = file;
    dtypes[dtype] = rest;
  }
  return { ...preset, url, revision, dtypes };
}

const HF_FOLDER = /^https:\/\/huggingface\.co\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/$/;

/** A preset's hub repository and the revision its URL reads (its pinned commit, or 'main'). */
export function presetRepo(preset: ModelPreset): { repo: string; revision: string } | undefined {
  const m = HF_FOLDER.exec(preset.url);
  return m ? { repo: m[1]!, revision: decodeURIComponent(m[2]!) } : undefined;
}

/** The preset whose repository this is (the hub's repository names are case-insensitive). */
export function presetForRepo(repo: string): { id: string; preset: ModelPreset } | undefined {
  for (const [id, preset] of Object.entries(PRESETS)) {
    const at = presetRepo(preset);
    if (at && sameRepo(at.repo, repo)) return { id, preset };
  }
  return undefined;
}

/** The preset a model string names: a preset id, or a hub id of a preset's repository (at any revision). */
export function presetForModel(model: string): { id: string; preset: ModelPreset } | undefined {
  const byId = findPreset(model);
  if (byId) return byId;
  const hub = /^([\w.-]+\/[\w.-]+)(?:@[\w./-]+)?$/.exec(model.trim());
  return hub ? presetForRepo(hub[1]!) : undefined;
}

function sameRepo(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
