/**
 * The CLI as a function: argv (without node and the script) and the streams → the exit status.
 * 0: done; 1: an error while running (the library's typed error, or an input file's content),
 * its name and message on stderr; 2: a wrong command line, with what to type instead.
 * The bin (main.ts) calls this with the process's streams; tests call it in-process.
 */
import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import pkg from '../../package.json' with { type: 'json' };
import { parseCommandLine, type CliArgs } from './args.ts';
import { cacheCommand } from './cache-command.ts';
import { embedCommand } from './embed-command.ts';
import { indexCommand } from './index-command.ts';
import { resolveHubArg, resolveModel } from './model-source.ts';
import type { CliIO } from './output.ts';
import { readInputs } from './readers.ts';
import { rerankCommand } from './rerank-command.ts';
import { HELP, InputError, UsageError } from './usage.ts';

export type { CliIO } from './output.ts';

/**
 * @example
 * const code = await runCli(['embed', '--model', 'test/fixtures/models/glove-sif', 'notes.txt'], { stdout: process.stdout, stderr: process.stderr });
 */
export async function runCli(argv: readonly string[], io: CliIO, signal?: AbortSignal): Promise<number> {
  let args: CliArgs | undefined;
  try {
    const parsed = parseCommandLine(argv);
    if (parsed.kind === 'help') {
      io.stdout.write(`${HELP[parsed.command ?? 'main']}\n`);
      return 0;
    }
    if (parsed.kind === 'version') {
      io.stdout.write(`${pkg.version}\n`);
      return 0;
    }
    args = parsed.args;
    if (args.hub !== undefined) args = { ...args, hub: await resolveHubArg(args.hub, io.cwd) };
    if (args.command === 'cache') {
      await cacheCommand(args, io);
      return 0;
    }
    if (args.output !== undefined) await checkOutput(args.output, io.cwd);
    const { model } = await resolveModel(args.model, io.cwd);
    const texts = await readInputs(args.inputs, args.read, io.stdin, io.cwd);
    if (texts.length === 0) throw new InputError(`the inputs hold no texts (${args.inputs.join(', ')})`);
    if (args.command === 'embed') await embedCommand(args, model, texts, io, signal);
    else if (args.command === 'rerank') await rerankCommand(args, model, texts, io, signal);
    else await indexCommand(args, model, texts, io, signal);
    return 0;
  } catch (e) {
    // a progress status drawn in place on a terminal: the message starts on a clean line
    if ((io.stderr as { isTTY?: boolean }).isTTY) io.stderr.write('\r\x1b[K');
    if (e instanceof UsageError) {
      const command = e.command ?? args?.command;
      io.stderr.write(`webgpu-embed: ${e.message}\n(webgpu-embed ${command ? `${command} ` : ''}--help shows the usage)\n`);
      return 2;
    }
    const err = e instanceof Error ? e : new Error(String(e));
    if (signal?.aborted) {
      io.stderr.write('webgpu-embed: stopped\n');
      return 130;
    }
    io.stderr.write(`webgpu-embed: ${err.name === 'Error' || err.name === 'InputError' ? 'error' : err.name}: ${err.message}\n`);
    return 1;
  }
}

/** -o names a file in a folder that exists (checked before the model loads, not after the work). */
async function checkOutput(output: string, cwd = process.cwd()): Promise<void> {
  const path = resolve(cwd, output);
  const dir = await stat(dirname(path)).catch(() => undefined);
  if (!dir?.isDirectory()) throw new UsageError(`-o ${output}: the folder ${dirname(output)} does not exist; create it first`);
  const file = await stat(path).catch(() => undefined);
  if (file?.isDirectory()) throw new UsageError(`-o ${output} is a folder: give a file name, e.g. ${output.replace(/\/$/, '')}/site.wgei`);
}
