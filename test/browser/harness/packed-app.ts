/**
 * The package as a user gets it: `npm pack` (which builds dist/ through `prepack`), then a fresh
 * app folder holding an app's own files and `npm install <tarball> vite`, resolved from npm's
 * cache (filled by `npm ci`) as a user's `npm install webgpu-embed` would resolve it; and such an
 * app built for production and served by `vite preview`.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { preview, type Plugin } from 'vite';
import { ZOO } from '../../unit/helpers/zoo-reference.ts';
import { REPO_ROOT } from './server.ts';
import { serveFolder } from './static-folder.ts';

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

export interface PreviewedApp {
  /** the built app's URL on the preview server */
  readonly url: string;
  /** closes the preview server and deletes the app's folder */
  close(): Promise<void>;
}

/**
 * createPackedApp(appSource), the app's own production build (`vite build`, Vite's defaults), then
 * `vite preview` of it on 127.0.0.1 (a free port) with `plugin` (the test's middlewares, through
 * its configurePreviewServer).
 */
export async function previewPackedApp(appSource: string, plugin: Plugin): Promise<PreviewedApp> {
  const packed = await createPackedApp(appSource);
  try {
    packed.run('npx', ['vite', 'build', '--logLevel', 'warn']);
    const app = await preview({ root: packed.dir, configFile: false, logLevel: 'silent', plugins: [plugin], preview: { host: '127.0.0.1', port: 0 } });
    return {
      url: app.resolvedUrls!.local[0]!,
      close: async () => {
        await app.close();
        packed.remove();
      },
    };
  } catch (e) {
    packed.remove();
    throw e;
  }
}

/** serveFolder(dir) as a mounted middleware whose miss is a 404 'not found' (not the app's index.html). */
export function serveFolderOr404(dir: string): (req: IncomingMessage, res: ServerResponse) => void {
  const serve = serveFolder(dir);
  return (req, res) =>
    serve(req, res, () => {
      res.statusCode = 404;
      res.end('not found');
    });
}

/**
 * The real-model tests' app (test/browser/real-encoders-app: one import, nothing configured), packed,
 * built and previewed, with the zoo's folders (test/fixtures/zoo) as its static /models/: a missing
 * file a 404, not the app's index.html.
 */
export function previewZooApp(): Promise<PreviewedApp> {
  return previewPackedApp(join(REPO_ROOT, 'test', 'browser', 'real-encoders-app'), {
    name: 'zoo-as-static-models',
    configurePreviewServer: (s) => void s.middlewares.use('/models', serveFolderOr404(ZOO)),
  });
}
