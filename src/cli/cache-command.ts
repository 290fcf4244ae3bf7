/**
 * `webgpu-embed cache list | clear [<model>]`: the disk cache the other commands fill
 * (--cache-dir), through the library's own listCachedModels() / clearCache() on that folder. A
 * model to clear is read as a load reads it (a folder URL, a hub id under --hub, a preset id).
 */
import { clearCache, listCachedModels } from '../client/clear-cache.ts';
import { resolveSource } from '../models/source.ts';
import type { CacheArgs } from './args.ts';
import { formatBytes, Progress, type CliIO } from './output.ts';

export async function cacheCommand(args: CacheArgs, io: CliIO): Promise<void> {
  const progress = new Progress(io.stderr, args.quiet);
  const where = { dir: args.cacheDir };
  if (args.action === 'list') {
    const models = await listCachedModels(where);
    io.stdout.write(models.map((m) => `${m.id}\t${formatBytes(m.bytes)}\t${m.files} files\t${new Date(m.lastUsed).toISOString()}\n`).join(''));
    progress.line(`${models.length} models in ${args.cacheDir} (${formatBytes(models.reduce((n, m) => n + m.bytes, 0))})`);
    return;
  }
  // the model's folder as a load under --hub read it (a folder URL stays itself in clearCache)
  const folder = args.model === undefined ? undefined : resolveSource(args.model, args.hub !== undefined ? { hub: { host: args.hub } } : {}).baseUrl;
  const before = (await listCachedModels(where)).length;
  await clearCache(folder, where);
  const after = (await listCachedModels(where)).length;
  progress.line(`${args.model === undefined ? 'cleared' : `cleared ${args.model}:`} ${before - after} models removed from ${args.cacheDir}`);
}
