#!/usr/bin/env node
/**
 * The `webgpu-embed` bin: runs the CLI on this process's arguments and streams, and exits with
 * its status. Ctrl-C stops the work in flight (status 130); a second Ctrl-C exits at once.
 */
import { allowRawImports } from './raw-imports.ts';

allowRawImports();
// after the hook: the engine's kernel imports load through it when run from source
const { runCli } = await import('./run.ts');

const controller = new AbortController();
process.once('SIGINT', () => {
  controller.abort(new Error('interrupted'));
  process.once('SIGINT', () => process.exit(130));
});

const code = await runCli(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }, controller.signal);
// onnxruntime's wasm threads may keep the event loop alive: the work is done and written
process.exit(code);
