/**
 * Input files → the texts the commands embed, rerank or index, each with an id and optional
 * metadata. The kind comes from the extension (or --input-format): .txt lines or paragraphs,
 * .jsonl objects, a .json array, markdown paragraphs or sections; '-' is stdin.
 */
import { readFile, stat } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import type { InputFormat, ReadArgs } from './args.ts';
import { splitMarkdown } from './markdown.ts';
import { InputError, UsageError } from './usage.ts';

export interface InputText {
  id: string;
  text: string;
  metadata?: Record<string, unknown>;
}

const EXTENSIONS: Record<string, InputFormat> = {
  '.txt': 'txt',
  '.text': 'txt',
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.json': 'json',
  '.md': 'md',
  '.markdown': 'md',
  '.mdx': 'md',
};

/**
 * Reads every input in order. A path that is missing, a folder, or of an unknown kind is a
 * UsageError; content that does not parse is an InputError naming the file and line; two texts
 * with one id (given ids, or a file named twice) too.
 *
 * @example
 * const texts = await readInputs(['notes.txt', 'faq.jsonl'], { paragraphs: false, sections: false, textField: 'text', idField: 'id' }, process.stdin);
 */
export async function readInputs(inputs: readonly string[], o: ReadArgs, stdin: AsyncIterable<unknown> | undefined, cwd = process.cwd()): Promise<InputText[]> {
  const all: InputText[] = [];
  const seen = new Map<string, string>();
  for (const input of inputs) {
    const name = input === '-' ? 'stdin' : input;
    const format = o.inputFormat ?? (input === '-' ? 'txt' : formatOf(input));
    const content = input === '-' ? await readStdin(stdin) : await readPath(input, resolve(cwd, input));
    const texts = parse(content, format, name, o);
    for (const t of texts) {
      const earlier = seen.get(t.id);
      if (earlier !== undefined) throw new InputError(`the id ${JSON.stringify(t.id)} comes twice (${earlier} and ${name}): ids must be unique`);
      seen.set(t.id, name);
      all.push(t);
    }
  }
  return all;
}

function formatOf(path: string): InputFormat {
  const format = EXTENSIONS[extname(path).toLowerCase()];
  if (!format) {
    throw new UsageError(`${path}: unknown kind of input '${extname(path) || '(no extension)'}': use .txt, .jsonl, .json or .md files, or say --input-format txt|jsonl|json|md`);
  }
  return format;
}

async function readPath(path: string, fullPath: string): Promise<string> {
  const info = await stat(fullPath).catch(() => undefined);
  if (!info) throw new UsageError(`input ${path} does not exist`);
  if (!info.isFile()) throw new UsageError(`input ${path} is not a file (give the files themselves, e.g. docs/*.md)`);
  return readFile(fullPath, 'utf8');
}

async function readStdin(stdin: AsyncIterable<unknown> | undefined): Promise<string> {
  if (!stdin) throw new UsageError('- reads stdin, and there is none here');
  const chunks: Buffer[] = [];
  for await (const c of stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * One file's content → its texts, with ids `<name>#<n>` where the file gives none.
 *
 * @example
 * parse('first\n\nsecond\n', 'txt', 'a.txt', opts); // [{ id: 'a.txt#1', text: 'first' }, { id: 'a.txt#2', text: 'second' }]
 */
export function parse(content: string, format: InputFormat, name: string, o: ReadArgs): InputText[] {
  const body = content.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const id = (n: number) => `${name}#${n}`;
  switch (format) {
    case 'txt': {
      const parts = o.paragraphs ? body.split(/\n[ \t]*\n/) : body.split('\n');
      return parts
        .map((p) => p.trim())
        .filter((p) => p !== '')
        .map((text, i) => ({ id: id(i + 1), text }));
    }
    case 'md':
      return splitMarkdown(body, o.sections ? 'section' : 'paragraph').map((m, i) => ({
        id: id(i + 1),
        text: m.text,
        ...(m.heading !== undefined ? { metadata: { heading: m.heading } } : {}),
      }));
    case 'jsonl': {
      const out: InputText[] = [];
      body.split('\n').forEach((line, i) => {
        if (line.trim() === '') return;
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch (e) {
          throw new InputError(`${name} line ${i + 1} is not JSON (${(e as Error).message}): each line must be one object such as {"id": "a", "text": "..."}`);
        }
        out.push(record(value, `${name} line ${i + 1}`, id(out.length + 1), o));
      });
      return out;
    }
    case 'json': {
      let value: unknown;
      try {
        value = JSON.parse(body);
      } catch (e) {
        throw new InputError(`${name} is not JSON (${(e as Error).message})`);
      }
      if (!Array.isArray(value)) throw new InputError(`${name} must hold a JSON array of texts or of {"${o.idField}"?, "${o.textField}"} objects`);
      return value.map((v, i) => record(v, `${name} item ${i}`, id(i + 1), o));
    }
  }
}

/** A JSON value → a text: a string as it is, an object's text field, its id field, the rest as metadata. */
function record(value: unknown, where: string, defaultId: string, o: ReadArgs): InputText {
  if (typeof value === 'string') return { id: defaultId, text: value };
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new InputError(`${where} is not an object with a "${o.textField}" field`);
  const { [o.textField]: text, [o.idField]: rawId, ...rest } = value as Record<string, unknown>;
  if (typeof text !== 'string') {
    throw new InputError(`${where} has no string field "${o.textField}"${text === undefined ? ` (its fields: ${Object.keys(value).join(', ') || 'none'}; pick one with --text-field)` : ''}`);
  }
  let id = defaultId;
  if (typeof rawId === 'string' && rawId !== '') id = rawId;
  else if (typeof rawId === 'number' && Number.isFinite(rawId)) id = String(rawId);
  else if (rawId !== undefined && rawId !== null) throw new InputError(`${where}: "${o.idField}" must be a non-empty string or a number`);
  return Object.keys(rest).length ? { id, text, metadata: rest } : { id, text };
}
