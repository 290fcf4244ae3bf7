/**
 * `webgpu-embed cache list | clear [<model>]`: the disk cache the other commands fill
 * (--cache-dir), through the library's own listCachedModels() / clearCache() on that folder. A
 * model to clear is read as a load reads it (a folder URL, a hub id under --hub, a preset id).
 */
import { configureHub } from '../io/hub.ts';
import { clearCache, listCachedModels } from '../client/clear-cache.ts';
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
  if (args.hub !== undefined) configureHub({ host: args.hub });
  try {
    const before = (await listCachedModels(where)).length;
    await clearCache(args.model, where);
    const after = (await listCachedModels(where)).length;
    progress.line(`${args.model === undefined ? 'cleared' : `cleared ${args.model}:`} ${before - after} models removed from ${args.cacheDir}`);
  } finally {
    if (args.hub !== undefined) configureHub(undefined);
  }
}
