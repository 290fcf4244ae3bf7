/**
 * The command line → a checked request, through node:util's parseArgs (strict: an unknown flag
 * or a missing value is a UsageError naming it). Values are checked here, before any model loads:
 * numbers are positive integers, enumerations one of their words, --model and the inputs present.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { presetsByDistance } from '../models/hub.ts';
import { DTYPES } from '../models/onnx-files.ts';
import { PRESETS } from '../models/presets.ts';
import type { Dtype, Task } from '../models/types.ts';
import { COMMANDS, UsageError, type Command } from './usage.ts';

export type InputFormat = 'txt' | 'jsonl' | 'json' | 'md';

/** How inputs are read into texts (shared by the three commands). */
export interface ReadArgs {
  inputFormat?: InputFormat;
  paragraphs: boolean;
  sections: boolean;
  textField: string;
  idField: string;
}

/** Where the model comes from and what runs it (shared by the three commands). */
export interface ModelArgs {
  /** --model (a folder path or URL, a hub id or a preset id) or --preset (a preset id) */
  model: string;
  dtype?: Dtype;
  /** 'cpu': onnxruntime-node where it is installed, else wasm; 'wasm': onnxruntime-web always */
  device: 'cpu' | 'wasm';
  /** --hub: where hub ids' files come from (a mirror URL, or a local folder laid out as the hub) */
  hub?: string;
  revision?: string;
  /** the disk cache of downloaded model files; undefined with --no-cache */
  cacheDir?: string;
}

interface CommonArgs extends ModelArgs {
  output?: string;
  quiet: boolean;
  /** --no-text: the output leaves out the input texts */
  noText: boolean;
  inputs: string[];
  read: ReadArgs;
}

/** embed's output: JSON lines, or a float32 matrix (.npy for numpy and the libraries that load it, .fvecs for FAISS' tools) */
export type EmbedFormat = 'jsonl' | 'npy' | 'fvecs';

export interface EmbedArgs extends CommonArgs {
  command: 'embed';
  format: EmbedFormat;
  task?: Task;
  instruction?: string;
  dimensions?: number;
  longText?: 'truncate' | 'chunk';
}

export interface RerankArgs extends CommonArgs {
  command: 'rerank';
  query: string;
  instruction?: string;
  topK?: number;
}

export interface IndexArgs extends CommonArgs {
  command: 'index';
  dimensions?: number;
  storage: 'float32' | 'int8' | 'binary';
  passageTokens?: number;
  format: 'wgei' | 'jsonl';
}

export interface CacheArgs {
  command: 'cache';
  action: 'list' | 'clear';
  /** clear: the model whose files go (all when absent) */
  model?: string;
  cacheDir: string;
  hub?: string;
  quiet: boolean;
}

export type CliArgs = EmbedArgs | RerankArgs | IndexArgs | CacheArgs;

/** What the command line asks for: help (of a command, or the overview), the version, or a run. */
export type Parsed = { kind: 'help'; command?: Command } | { kind: 'version' } | { kind: 'run'; args: CliArgs };

type Options = NonNullable<ParseArgsConfig['options']>;

const COMMON: Options = {
  model: { type: 'string', short: 'm' },
  preset: { type: 'string' },
  dtype: { type: 'string' },
  device: { type: 'string' },
  hub: { type: 'string' },
  revision: { type: 'string' },
  'cache-dir': { type: 'string' },
  'no-cache': { type: 'boolean' },
  'no-text': { type: 'boolean' },
  output: { type: 'string', short: 'o' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
  'input-format': { type: 'string' },
  paragraphs: { type: 'boolean' },
  sections: { type: 'boolean' },
  'text-field': { type: 'string' },
  'id-field': { type: 'string' },
};

const OPTIONS: Record<Command, Options> = {
  embed: {
    ...COMMON,
    task: { type: 'string' },
    instruction: { type: 'string' },
    dimensions: { type: 'string' },
    'long-text': { type: 'string' },
    format: { type: 'string' },
  },
  rerank: { ...COMMON, query: { type: 'string' }, instruction: { type: 'string' }, 'top-k': { type: 'string' } },
  index: { ...COMMON, dimensions: { type: 'string' }, storage: { type: 'string' }, 'passage-tokens': { type: 'string' }, format: { type: 'string' } },
  cache: { 'cache-dir': { type: 'string' }, hub: { type: 'string' }, quiet: { type: 'boolean', short: 'q' }, help: { type: 'boolean', short: 'h' } },
};

const STORAGE = { f32: 'float32', float32: 'float32', int8: 'int8', binary: 'binary' } as const;

/**
 * @example
 * parseCommandLine(['embed', '--model', './models/e5', 'notes.txt']);
 * // { kind: 'run', args: { command: 'embed', model: './models/e5', inputs: ['notes.txt'], ... } }
 */
export function parseCommandLine(argv: readonly string[]): Parsed {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    const topic = first === 'help' ? rest[0] : undefined;
    return topic && isCommand(topic) ? { kind: 'help', command: topic } : { kind: 'help' };
  }
  if (first === '-v' || first === '--version') return { kind: 'version' };
  if (!isCommand(first)) {
    const what = first.startsWith('-') ? `the option ${first} comes before a command` : `unknown command '${first}'`;
    throw new UsageError(`${what}: the commands are ${COMMANDS.join(', ')} (webgpu-embed <command> --help)`);
  }
  const command = first;
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: [...rest], options: OPTIONS[command], allowPositionals: true, strict: true }) as {
      values: Record<string, string | boolean | undefined>;
      positionals: string[];
    });
  } catch (e) {
    throw new UsageError(parseArgsMessage(e as Error & { code?: string }, command), command);
  }
  if (values.help) return { kind: 'help', command };

  const fail = (message: string): never => {
    throw new UsageError(message, command);
  };
  const str = (name: string) => values[name] as string | undefined;
  const oneOf = <T extends string>(name: string, allowed: readonly T[]): T | undefined => {
    const v = str(name);
    if (v !== undefined && !allowed.includes(v as T)) fail(`--${name} must be ${allowed.join(' | ')}, not '${v}'`);
    return v as T | undefined;
  };
  const positive = (name: string): number | undefined => {
    const v = str(name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < 1) fail(`--${name} must be a positive integer, not '${v}'`);
    return n;
  };

  if (command === 'cache') {
    const [action, model, ...extra] = positionals;
    if (action !== 'list' && action !== 'clear') fail(`cache needs list or clear, e.g. webgpu-embed cache list${action === undefined ? '' : ` (not '${action}')`}`);
    if (action === 'list' && model !== undefined) fail('cache list takes no model: it lists them all');
    if (extra.length) fail(`cache clear takes one model at most, got ${[model, ...extra].join(' ')}`);
    for (const name of ['hub', 'cache-dir'] as const) if (str(name) === '') fail(`--${name} needs a value`);
    const args: CacheArgs = {
      command,
      action: action as 'list' | 'clear',
      ...(model !== undefined ? { model } : {}),
      cacheDir: str('cache-dir') ?? defaultCacheDir(),
      ...(str('hub') !== undefined ? { hub: str('hub')! } : {}),
      quiet: !!values.quiet,
    };
    return { kind: 'run', args };
  }
  const preset = str('preset');
  if (preset !== undefined && str('model') !== undefined) fail('give --model or --preset, not both');
  if (preset !== undefined && !Object.hasOwn(PRESETS, preset.toLowerCase())) {
    fail(`--preset ${preset} is not a preset; the presets, closest first: ${presetsByDistance(preset).join(', ')}`);
  }
  const model = preset?.toLowerCase() ?? str('model');
  if (!model) fail(`--model is required: a model folder (path or URL), a hub id or a preset id, e.g. --model Xenova/multilingual-e5-small (or --preset multilingual-e5-small)`);
  if (values['no-cache'] && str('cache-dir') !== undefined) fail('give --cache-dir or --no-cache, not both');
  for (const name of ['hub', 'revision', 'cache-dir'] as const) if (str(name) === '') fail(`--${name} needs a value`);
  if (positionals.length === 0) fail(`no inputs: give files (.txt, .jsonl, .json, .md) or - for stdin, e.g. webgpu-embed ${command} --model <m> notes.txt`);
  const stdinCount = positionals.filter((p) => p === '-').length;
  if (stdinCount > 1) fail('stdin (-) can be given once');
  for (const name of ['text-field', 'id-field'] as const) if (str(name) === '') fail(`--${name} needs a field name`);
  const dtype = oneOf('dtype', DTYPES);
  const inputFormat = oneOf<InputFormat>('input-format', ['txt', 'jsonl', 'json', 'md']);
  const device = oneOf('device', ['cpu', 'wasm'] as const) ?? 'cpu';
  const common: CommonArgs = {
    model: model!,
    ...(dtype ? { dtype } : {}),
    device,
    ...(str('hub') !== undefined ? { hub: str('hub')! } : {}),
    ...(str('revision') !== undefined ? { revision: str('revision')! } : {}),
    ...(values['no-cache'] ? {} : { cacheDir: str('cache-dir') ?? defaultCacheDir() }),
    noText: !!values['no-text'],
    ...(str('output') !== undefined ? { output: str('output')! } : {}),
    quiet: !!values.quiet,
    inputs: positionals,
    read: {
      ...(inputFormat ? { inputFormat } : {}),
      paragraphs: !!values.paragraphs,
      sections: !!values.sections,
      textField: str('text-field') ?? 'text',
      idField: str('id-field') ?? 'id',
    },
  };
  if (common.output === '') fail('--output needs a file name');

  if (command === 'embed') {
    const format = oneOf<EmbedFormat>('format', ['jsonl', 'npy', 'fvecs']) ?? 'jsonl';
    if (format !== 'jsonl' && common.output === undefined) fail(`--format ${format} writes a binary file: give -o <file>.${format} (its ids go beside it, in <file>.ids.jsonl)`);
    const task = oneOf<Task>('task', ['query', 'document']);
    const longText = oneOf('long-text', ['truncate', 'chunk'] as const);
    const dimensions = positive('dimensions');
    const args: EmbedArgs = {
      command,
      ...common,
      format,
      ...(task ? { task } : {}),
      ...(str('instruction') !== undefined ? { instruction: str('instruction')! } : {}),
      ...(dimensions !== undefined ? { dimensions } : {}),
      ...(longText ? { longText } : {}),
    };
    return { kind: 'run', args };
  }
  if (command === 'rerank') {
    const query = str('query');
    if (query === undefined || query.trim() === '') fail(`--query is required: the text to rank the inputs against, e.g. --query "how do I bake bread?"`);
    const topK = positive('top-k');
    const args: RerankArgs = {
      command,
      ...common,
      query: query!,
      ...(str('instruction') !== undefined ? { instruction: str('instruction')! } : {}),
      ...(topK !== undefined ? { topK } : {}),
    };
    return { kind: 'run', args };
  }
  const format = oneOf('format', ['wgei', 'jsonl'] as const) ?? 'wgei';
  const storage = oneOf('storage', Object.keys(STORAGE) as (keyof typeof STORAGE)[]);
  if (format === 'wgei' && common.output === undefined) fail('index writes a binary file: give -o <file>.wgei (or --format jsonl to print JSON lines)');
  const dimensions = positive('dimensions');
  const passageTokens = positive('passage-tokens');
  const args: IndexArgs = {
    command,
    ...common,
    format,
    storage: STORAGE[storage ?? 'f32'],
    ...(dimensions !== undefined ? { dimensions } : {}),
    ...(passageTokens !== undefined ? { passageTokens } : {}),
  };
  return { kind: 'run', args };
}

/**
 * Where downloaded model files are kept between runs: $WEBGPU_EMBED_CACHE/models, else
 * $XDG_CACHE_HOME/webgpu-embed/models, else ~/.cache/webgpu-embed/models (the folder the project's
 * other caches use).
 */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.WEBGPU_EMBED_CACHE) return join(env.WEBGPU_EMBED_CACHE, 'models');
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'webgpu-embed', 'models');
}

function isCommand(s: string): s is Command {
  return (COMMANDS as readonly string[]).includes(s);
}

/** parseArgs' own messages, reworded to say what to do. */
function parseArgsMessage(e: Error & { code?: string }, command: Command): string {
  const quoted = /'([^']+)'/.exec(e.message)?.[1] ?? '';
  const flag = /--[\w-]+/.exec(quoted)?.[0] ?? quoted;
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    return `unknown option ${flag} for ${command}: see webgpu-embed ${command} --help (an input whose name starts with '-': put it after --)`;
  }
  if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    if (/does not take an argument/.test(e.message)) return `option ${flag} takes no value`;
    return `option ${flag} needs a value (one that starts with '-': ${flag}=-value)`;
  }
  return e.message;
}
