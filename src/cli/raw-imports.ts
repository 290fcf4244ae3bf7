/**
 * Run from source (`tsx src/cli/main.ts`, `npm run cli`), the engine's `*.wgsl?raw` imports are
 * Vite's: Node cannot load them. This registers a module hook that answers a `?raw` import with
 * the file's text as the default export, as Vite does. The built bin (dist/cli.js) has the texts
 * inlined and needs none of this.
 */
import { register } from 'node:module';

const HOOKS = `
import { readFile } from 'node:fs/promises';
export async function load(url, context, next) {
  if (url.startsWith('file:') && url.endsWith('?raw')) {
    const file = new URL(url);
    file.search = '';
    const text = await readFile(file, 'utf8');
    return { format: 'module', source: 'export default ' + JSON.stringify(text) + ';', shortCircuit: true };
  }
  return next(url, context);
}
`;

/** Call before importing the engine; a no-op in the built bin. */
export function allowRawImports(): void {
  if (!import.meta.url.endsWith('.ts')) return;
  register(`data:text/javascript,${encodeURIComponent(HOOKS)}`);
}
