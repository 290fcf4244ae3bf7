/**
 * The package as a user gets it: `npm pack` (which builds dist/ through `prepack`), then a fresh
 * app folder holding an app's own files and `npm install <tarball> vite`, resolved from npm's
 * cache (filled by `npm ci`) as a user's `npm install webgpu-embed` would resolve it.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './server.ts';

export interface PackedApp {
  /** the app's folder (its node_modules hold the installed package) */
  dir: string;
  /** runs a command in the app's folder, returns its stdout */
  run(cmd: string, args: string[]): string;
  /** deletes the folder */
  remove(): void;
}

function runIn(cwd: string, cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 240_000 });
}

/** Packs the repository and installs the tarball and Vite (the repo's version) into a copy of `appSource`. */
export async function createPackedApp(appSource: string): Promise<PackedApp> {
  const dir = mkdtempSync(join(tmpdir(), 'webgpu-embed-app-'));
  const app: PackedApp = { dir, run: (cmd, args) => runIn(dir, cmd, args), remove: () => rmSync(dir, { recursive: true, force: true }) };
  try {
    const viteVersion = (await import('vite/package.json', { with: { type: 'json' } })).default.version;
    runIn(REPO_ROOT, 'npm', ['pack', '--pack-destination', dir, '--silent']);
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
    if (!tarball) throw new Error(`npm pack wrote no tarball into ${dir}`);
    cpSync(appSource, dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer-app', private: true, type: 'module' }));
    app.run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', `./${tarball}`, `vite@${viteVersion}`]);
    return app;
  } catch (e) {
    app.remove();
    throw e;
  }
}
