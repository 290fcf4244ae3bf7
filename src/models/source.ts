/**
 * Where a model lives: a preset id or a folder URL resolved to the folder URL (ending in '/') and
 * the preset that applies. Shared by the loader and the weight cache (which keys files by folder).
 */
import { ModelLoadError } from '../errors.ts';
import { findPreset, PRESETS, type ModelPreset } from './presets.ts';

/** A preset id → its folder; a URL (absolute, or relative to the page or worker) → itself with a trailing '/'. */
export function resolveSource(idOrUrl: string, presetName: string | undefined): { baseUrl: string; preset?: ModelPreset } {
  if (typeof idOrUrl !== 'string' || idOrUrl.trim() === '') {
    throw new TypeError(`model must be a preset id or a folder URL, got ${JSON.stringify(idOrUrl)}.`);
  }
  let preset: ModelPreset | undefined;
  if (presetName !== undefined) {
    preset = findPreset(presetName)?.preset;
    if (!preset) throw new RangeError(`Unknown preset '${presetName}': known presets are ${Object.keys(PRESETS).join(', ')}.`);
  }
  const named = findPreset(idOrUrl);
  if (named) return { baseUrl: named.preset.url, preset: preset ?? named.preset };

  let url: URL;
  try {
    url = new URL(idOrUrl);
  } catch {
    const here = (globalThis as { location?: { href?: string } }).location?.href;
    if (!here) {
      throw new ModelLoadError(
        `'${idOrUrl}' is neither a known model (${Object.keys(PRESETS).join(', ')}) nor an absolute URL: pass a folder URL such as https://huggingface.co/<owner>/<name>/resolve/main/.`,
        idOrUrl,
      );
    }
    url = new URL(idOrUrl, here);
  }
  url.hash = '';
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return preset ? { baseUrl: url.href, preset } : { baseUrl: url.href };
}
