/**
 * The `webgpu-embed` CLI (src/cli), run in-process through runCli with captured streams:
 *  - a wrong command line exits 2 with a message saying what to do; a runtime error exits 1 with
 *    the typed error's name and message;
 *  - the readers turn .txt / .jsonl / .json / .md files and stdin into texts with ids and metadata;
 *  - `embed` writes exactly the vectors createEmbedder({ worker: false }) gives (the model read
 *    from a local folder path by the CLI, over HTTP by the library);
 *  - `rerank` writes createReranker's ranking, best first;
 *  - `index` writes a WGEI blob that createIndex().import() reads into the same search results as
 *    an index built with the library directly.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmbedder, createIndex, createReranker, type Embedder } from '../../src/index.ts';
import { defaultCacheDir, parseCommandLine } from '../../src/cli/args.ts';
import { splitMarkdown, stripInline } from '../../src/cli/markdown.ts';
import { parse, readInputs } from '../../src/cli/readers.ts';
import { runCli } from '../../src/cli/run.ts';
import { decodeIndex } from '../../src/vector-index/format.ts';
import { startHubServer, type HubServer } from './helpers/hub-server.ts';
import { MODELS, startServer, type TestServer } from './helpers/model-folders.ts';

const ROOT = join(MODELS, '..', '..', '..');
const GLOVE = 'test/fixtures/models/glove-sif';
const E5 = 'test/fixtures/models/tiny-e5';
const CROSS = 'test/fixtures/models/tiny-cross-encoder';
const tmp = mkdtempSync(join(tmpdir(), 'webgpu-embed-cli-'));
const file = (name: string, content: string) => {
  const path = join(tmp, name);
  writeFileSync(path, content);
  return path;
};

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  bytes: Buffer;
}

async function cli(argv: string[], stdin?: string): Promise<Run> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const code = await runCli(argv, { stdout, stderr, cwd: ROOT, ...(stdin !== undefined ? { stdin: Readable.from([stdin]) } : {}) });
  const bytes = Buffer.concat(out);
  return { code, stdout: bytes.toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), bytes };
}

const jsonLines = <T>(s: string): T[] =>
  s
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as T);

const READ = { paragraphs: false, sections: false, textField: 'text', idField: 'id' };

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.close();
});

describe('command line: usage errors exit 2 and say what to do', () => {
  const cases: [string[], RegExp][] = [
    [['frobnicate'], /unknown command 'frobnicate': the commands are embed, rerank, index/],
    [['embed', '--model', GLOVE, '--bogus', 'a.txt'], /unknown option --bogus for embed/],
    [['embed', 'a.txt'], /--model is required/],
    [['embed', '--model'], /option --model needs a value/],
    [['embed', '--model', GLOVE], /no inputs: give files/],
    [['embed', '--model', GLOVE, '--dimensions', '0', 'a.txt'], /--dimensions must be a positive integer, not '0'/],
    [['embed', '--model', GLOVE, '--task', 'search', 'a.txt'], /--task must be query \| document, not 'search'/],
    [['embed', '--model', GLOVE, '--quiet=yes', 'a.txt'], /option --quiet takes no value/],
    [['rerank', '--model', CROSS, 'a.txt'], /--query is required/],
    [['rerank', '--model', CROSS, '--query', 'q', '--top-k', '2.5', 'a.txt'], /--top-k must be a positive integer/],
    [['index', '--model', GLOVE, 'a.txt'], /give -o <file>\.wgei \(or --format jsonl/],
    [['index', '--model', GLOVE, '--storage', 'f16', '-o', 'x.wgei', 'a.txt'], /--storage must be f32 \| float32 \| int8 \| binary/],
    [['embed', '--model', 'no/such/folder', 'examples/corpus/README.md'], /no such folder, and not a hub id or a preset id.*a hub id \(Xenova\/all-MiniLM-L6-v2/],
    [['embed', '--preset', 'multilingual-e5-smal', 'a.txt'], /--preset multilingual-e5-smal is not a preset; the presets, closest first: multilingual-e5-small/],
    [['embed', '--preset', 'multilingual-e5-small', '--model', GLOVE, 'a.txt'], /give --model or --preset, not both/],
    [['embed', '--model', GLOVE, '--device', 'gpu', 'a.txt'], /--device must be cpu \| wasm, not 'gpu'/],
    [['embed', '--model', GLOVE, '--format', 'npy', 'a.txt'], /--format npy writes a binary file: give -o <file>\.npy/],
    [['embed', '--model', GLOVE, '--format', 'csv', 'a.txt'], /--format must be jsonl \| npy \| fvecs/],
    [['embed', '--model', GLOVE, '--no-cache', '--cache-dir', '/tmp/x', 'a.txt'], /give --cache-dir or --no-cache, not both/],
    [['embed', '--model', 'org/model', '--hub', 'no/such/mirror', 'examples/corpus/README.md'], /--hub no\/such\/mirror: no such folder/],
    [['cache', 'purge'], /cache needs list or clear, e\.g\. webgpu-embed cache list \(not 'purge'\)/],
    [['cache', 'list', 'some/model'], /cache list takes no model/],
    [['embed', '--model', `${GLOVE}/config.json`, 'examples/corpus/README.md'], /is a file: give the model's folder/],
    [['embed', '--model', GLOVE, 'no-such-input.txt'], /input no-such-input\.txt does not exist/],
    [['embed', '--model', GLOVE, 'package-lock'], /unknown kind of input.*--input-format/],
    [['embed', '--model', GLOVE, '-', '-'], /stdin \(-\) can be given once/],
    [['embed', '--model', GLOVE, '-o', 'no/such/dir/out.jsonl', 'examples/corpus/README.md'], /the folder no\/such\/dir does not exist/],
  ];
  for (const [argv, message] of cases) {
    it(argv.join(' '), async () => {
      const r = await cli(argv);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toMatch(/--help shows the usage/);
      expect(r.stdout).toBe('');
    });
  }

  it('--help of each command exits 0 with its usage; no arguments shows the overview', async () => {
    for (const command of ['embed', 'rerank', 'index']) {
      const r = await cli([command, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: webgpu-embed ${command} --model <m>`);
    }
    const r = await cli([]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/webgpu-embed embed +--model/);
    expect(parseCommandLine(['help', 'index'])).toEqual({ kind: 'help', command: 'index' });
  });

  it('parses a full embed command line', () => {
    expect(parseCommandLine(['embed', '-m', 'm', '--task', 'query', '--dimensions', '64', '--instruction', 'find', '-o', 'o.jsonl', '--paragraphs', 'a.txt', '-'])).toEqual({
      kind: 'run',
      args: {
        command: 'embed',
        model: 'm',
        format: 'jsonl',
        device: 'cpu',
        cacheDir: defaultCacheDir(),
        noText: false,
        task: 'query',
        dimensions: 64,
        instruction: 'find',
        output: 'o.jsonl',
        quiet: false,
        inputs: ['a.txt', '-'],
        read: { paragraphs: true, sections: false, textField: 'text', idField: 'id' },
      },
    });
  });
});

describe('readers', () => {
  it('.txt: one text per non-empty line, or per paragraph', () => {
    const txt = 'first line\r\n\n  second line  \nthird\n\n\nfourth\n';
    expect(parse(txt, 'txt', 'a.txt', READ)).toEqual([
      { id: 'a.txt#1', text: 'first line' },
      { id: 'a.txt#2', text: 'second line' },
      { id: 'a.txt#3', text: 'third' },
      { id: 'a.txt#4', text: 'fourth' },
    ]);
    expect(parse(txt, 'txt', 'a.txt', { ...READ, paragraphs: true }).map((t) => t.text)).toEqual(['first line', 'second line  \nthird', 'fourth']);
  });

  it('.jsonl: text and id fields (numbers too), other fields as metadata, custom field names; bad lines named', () => {
    const jsonl = '{"id":"a","text":"alpha","topic":"x"}\n\n{"text":"beta"}\n{"id":7,"text":"gamma"}\n"delta"\n';
    expect(parse(jsonl, 'jsonl', 'f.jsonl', READ)).toEqual([
      { id: 'a', text: 'alpha', metadata: { topic: 'x' } },
      { id: 'f.jsonl#2', text: 'beta' },
      { id: '7', text: 'gamma' },
      { id: 'f.jsonl#4', text: 'delta' },
    ]);
    expect(parse('{"key":"k1","body":"one"}\n', 'jsonl', 'g.jsonl', { ...READ, textField: 'body', idField: 'key' })).toEqual([{ id: 'k1', text: 'one' }]);
    expect(() => parse('{"text":"ok"}\n{"text": nope}\n', 'jsonl', 'bad.jsonl', READ)).toThrow(/bad\.jsonl line 2 is not JSON/);
    expect(() => parse('{"body":"x"}\n', 'jsonl', 'bad.jsonl', READ)).toThrow(/bad\.jsonl line 1 has no string field "text" \(its fields: body; pick one with --text-field\)/);
    expect(parse('[{"id":"x","text":"a"},"b"]', 'json', 'c.json', READ)).toEqual([
      { id: 'x', text: 'a' },
      { id: 'c.json#2', text: 'b' },
    ]);
  });

  it('markdown: paragraphs under their heading, syntax stripped, fences and front matter', () => {
    const md = [
      '---',
      'title: front matter',
      '---',
      '# Baking *bread*',
      '',
      'Knead the **dough** for [ten minutes](https://example.com/knead "title") and see ![a loaf](loaf.png).',
      'A second line with `a*b*c` and snake_case_name and <https://x.y/z>.',
      '',
      '<!-- a comment -->',
      '## Steps',
      '',
      '- mix flour and _water_',
      '- [x] let it rise',
      '> a quoted ~~bad~~ good tip',
      '',
      '```sh',
      'make bread',
      '',
      'eat',
      '```',
      '',
      'Setext title',
      '------------',
      'Under the setext [ref link][r].',
      '',
      '[r]: https://example.com/ref',
    ].join('\n');
    expect(splitMarkdown(md)).toEqual([
      {
        heading: 'Baking bread',
        text: 'Knead the dough for ten minutes and see a loaf.\nA second line with a*b*c and snake_case_name and https://x.y/z.',
      },
      { heading: 'Steps', text: 'mix flour and water\nlet it rise\na quoted bad good tip' },
      { heading: 'Steps', text: 'make bread\n\neat' },
      { heading: 'Setext title', text: 'Under the setext ref link.' },
    ]);
    expect(splitMarkdown(md, 'section').map((s) => s.heading)).toEqual(['Baking bread', 'Steps', 'Setext title']);
    expect(splitMarkdown(md, 'section')[1]!.text).toBe('mix flour and water\nlet it rise\na quoted bad good tip\n\nmake bread\n\neat');
    expect(stripInline('**[the docs](https://x.y/(a))** and \\*not emphasis\\*')).toBe('the docs and *not emphasis*');
    expect(stripInline('\\`not code\\` and `a\\*b` and `` x`y ``')).toBe('`not code` and a\\*b and x`y');
  });

  it('stdin (-) as text lines, files resolved from the working folder, ids unique across inputs', async () => {
    const a = file('a.txt', 'one\ntwo\n');
    const texts = await readInputs([a, '-'], READ, Readable.from(['three\n', 'four']), ROOT);
    expect(texts).toEqual([
      { id: `${a}#1`, text: 'one' },
      { id: `${a}#2`, text: 'two' },
      { id: 'stdin#1', text: 'three' },
      { id: 'stdin#2', text: 'four' },
    ]);
    await expect(readInputs([a, a], READ, undefined, ROOT)).rejects.toThrow(/the id ".*a\.txt#1" comes twice/);
    file('notes.md', '# Notes\n\nFirst *paragraph*.\n\n## More\n\n- `second` one\n');
    // a relative path is read from the working folder (io.cwd) and names the ids as given
    expect(await readInputs(['notes.md'], READ, undefined, tmp)).toEqual([
      { id: 'notes.md#1', text: 'First paragraph.', metadata: { heading: 'Notes' } },
      { id: 'notes.md#2', text: 'second one', metadata: { heading: 'More' } },
    ]);
  });
});

describe('embed --device wasm: the vectors of createEmbedder({ worker: false }), bit for bit', () => {
  const TEXTS = ['hello world', 'Knead the dough for ten minutes, then let it rise in a warm place.', 'a', 'planets orbit the sun on elliptical paths'];

  for (const [fixture, name, task] of [
    [GLOVE, 'glove-sif', undefined],
    [E5, 'tiny-e5', 'query'],
  ] as const) {
    it(`${name}${task ? ` (--task ${task})` : ''}: JSON lines {id, text, embedding} equal to the library's`, async () => {
      const input = file(`${name}.txt`, TEXTS.join('\n') + '\n');
      const out = join(tmp, `${name}.jsonl`);
      const r = await cli(['embed', '--model', fixture, '--device', 'wasm', ...(task ? ['--task', task] : []), '-o', out, input]);
      expect(r.stderr).toMatch(/embedded 4 texts/);
      expect(r.code).toBe(0);
      const rows = jsonLines<{ id: string; text: string; embedding: number[] }>(readFileSync(out, 'utf8'));
      expect(rows.map((x) => x.id)).toEqual(TEXTS.map((_, i) => `${input}#${i + 1}`));
      expect(rows.map((x) => x.text)).toEqual(TEXTS);

      const embedder = await createEmbedder({ model: server.folder(name), worker: false, device: 'wasm' });
      try {
        const direct = await embedder.embed(TEXTS, task ? { task } : {});
        rows.forEach((row, i) => expect(Float32Array.from(row.embedding)).toEqual(direct[i]));
      } finally {
        await embedder.dispose();
      }
    });
  }

  it('stdin to stdout, --quiet leaves stderr empty; a runtime error exits 1 with the typed error', async () => {
    const r = await cli(['embed', '-q', '--model', GLOVE, '-'], 'bread\nbutter\n');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(jsonLines<{ id: string }>(r.stdout).map((x) => x.id)).toEqual(['stdin#1', 'stdin#2']);

    // any size from 1 to the model's width is a size (Matryoshka as truncate_dim); past it, none
    const bad = await cli(['embed', '-q', '--model', GLOVE, '--dimensions', '101', '-'], 'bread\n');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^webgpu-embed: RangeError: dimensions must be an integer from 1 to 100/);
    const notReranker = await cli(['rerank', '-q', '--model', GLOVE, '--query', 'q', '-'], 'bread\n');
    expect(notReranker.code).toBe(1);
    expect(notReranker.stderr).toMatch(/^webgpu-embed: ModelLoadError: .*not a reranker/);
    const badLine = await cli(['embed', '-q', '--model', GLOVE, file('bad.jsonl', '{"text":"ok"}\n{oops\n')]);
    expect(badLine.code).toBe(1);
    expect(badLine.stderr).toMatch(/^webgpu-embed: error: .*bad\.jsonl line 2 is not JSON/);
  });
});

describe('rerank', () => {
  it("writes createReranker's ranking best first as {index, id, score, text}; --top-k keeps the best", async () => {
    const docs = JSON.parse(readFileSync(join(ROOT, 'examples/corpus/documents.json'), 'utf8')) as { id: string; text: string }[];
    const input = file('docs.jsonl', docs.slice(0, 12).map((d) => JSON.stringify({ id: d.id, text: d.text })).join('\n'));
    const query = 'how do planets orbit the sun';
    const r = await cli(['rerank', '-q', '--model', CROSS, '--device', 'wasm', '--query', query, input]);
    expect(r.code).toBe(0);
    const rows = jsonLines<{ index: number; id: string; score: number; text: string }>(r.stdout);
    expect(rows).toHaveLength(12);

    const reranker = await createReranker({ model: server.folder('tiny-cross-encoder'), worker: false, device: 'wasm' });
    try {
      const direct = await reranker.rerank(query, docs.slice(0, 12).map((d) => d.text));
      expect(rows.map((x) => [x.index, x.score])).toEqual(direct.map((d) => [d.index, d.score]));
    } finally {
      await reranker.dispose();
    }
    rows.forEach((x, i) => {
      expect(x.id).toBe(docs[x.index]!.id);
      expect(x.text).toBe(docs[x.index]!.text);
      if (i > 0) expect(x.score).toBeLessThanOrEqual(rows[i - 1]!.score);
    });
    const top = await cli(['rerank', '-q', '--model', CROSS, '--device', 'wasm', '--query', query, '--top-k', '3', input]);
    expect(jsonLines(top.stdout)).toEqual(rows.slice(0, 3));
  });
});

describe('index: the WGEI blob round-trips through createIndex().import()', () => {
  let embedder: Embedder;
  beforeAll(async () => {
    embedder = await createEmbedder({ model: server.folder('glove-sif'), worker: false, device: 'wasm' });
  });
  afterAll(async () => {
    await embedder?.dispose();
  });

  it('the same vectors and search hits as an index built with the library; --format jsonl lists the passages', async () => {
    const docs = JSON.parse(readFileSync(join(ROOT, 'examples/corpus/documents.json'), 'utf8')) as { id: string; topic: string; text: string }[];
    const queries = JSON.parse(readFileSync(join(ROOT, 'examples/corpus/queries.json'), 'utf8')) as { query: string; expected: string }[];
    const input = file('corpus.jsonl', docs.map((d) => JSON.stringify({ id: d.id, text: d.text, topic: d.topic })).join('\n'));
    const out = join(tmp, 'site.wgei');
    const r = await cli(['index', '--model', GLOVE, '--device', 'wasm', '--storage', 'int8', '-o', out, input]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/indexed 37 documents as 40 passages of 100 dimensions/);
    const blob = new Uint8Array(readFileSync(out));

    const built = await createIndex<{ topic: string }>({ embedder, device: 'cpu' });
    const imported = await createIndex<{ topic: string }>({ embedder, device: 'cpu' });
    try {
      await built.add(docs.map((d) => ({ id: d.id, text: d.text, metadata: { topic: d.topic } })));
      await imported.import(blob);
      expect(imported.size).toBe(37);
      expect(imported.get('bread')!.metadata).toEqual({ topic: 'cooking' });
      const mine = decodeIndex(built.export());
      const theirs = decodeIndex(blob);
      expect(theirs.vectors).toEqual(mine.vectors);
      expect(theirs.documents).toEqual(mine.documents);
      expect(theirs.model).toBe('glove-sif');
      // import → export gives the CLI's vectors and documents back (the model named by this embedder)
      expect({ ...decodeIndex(imported.export()), model: 'glove-sif' }).toEqual(theirs);
      for (const q of queries.slice(0, 8)) {
        const a = await imported.search(q.query, { topK: 3 });
        const b = await built.search(q.query, { topK: 3 });
        expect(a).toEqual(b);
        expect(a[0]!.id).toBe(q.expected);
      }
    } finally {
      await built.dispose();
      await imported.dispose();
    }

    const jsonl = await cli(['index', '-q', '--model', GLOVE, '--device', 'wasm', '--format', 'jsonl', input]);
    expect(jsonl.code).toBe(0);
    const rows = jsonLines<{ id: string; passage: number; start: number; end: number; text: string; metadata: unknown; embedding: number[] }>(jsonl.stdout);
    expect(rows).toHaveLength(40);
    const theirs = decodeIndex(blob);
    expect(Float32Array.from(rows.flatMap((x) => x.embedding))).toEqual(theirs.vectors);
    const guide = rows.filter((x) => x.id === 'field-guide');
    expect(guide.map((x) => x.passage)).toEqual([0, 1, 2, 3]);
    expect(guide[1]!.text).toBe(docs.find((d) => d.id === 'field-guide')!.text.slice(guide[1]!.start, guide[1]!.end));
  });
});

describe('the default device: onnxruntime-node, within 1e-6 of the wasm path', () => {
  it('embed on the real all-MiniLM-L6-v2 says which runtime ran, and gives the library\'s wasm vectors', async () => {
    const texts = ['A man is eating food.', 'The new movie is awesome, and the popcorn was fine too; we stayed for the credits.', 'x', 'Paris is the capital of France. '.repeat(10)];
    const input = file('minilm.txt', texts.join('\n') + '\n');
    const r = await cli(['embed', '--model', 'test/fixtures/models/all-minilm-l6-v2', input]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/384 dimensions, mean pooling, fp32, max 256 tokens, on onnxruntime-node\n/);
    const rows = jsonLines<{ embedding: number[] }>(r.stdout);
    const embedder = await createEmbedder({ model: server.folder('all-minilm-l6-v2'), worker: false, device: 'wasm' });
    try {
      const direct = await embedder.embed(texts);
      rows.forEach((row, i) => row.embedding.forEach((x, d) => expect(Math.abs(x - direct[i]![d]!)).toBeLessThan(1e-6)));
    } finally {
      await embedder.dispose();
    }
  });

  it('rerank --no-text: the scores of the wasm path within 1e-6, and no text in the lines', async () => {
    const docs = ['bread is baked from dough', 'planets orbit the sun', 'the capital of France is Paris'];
    const input = file('three.txt', docs.join('\n'));
    const native = jsonLines<{ index: number; score: number; text?: string }>((await cli(['rerank', '-q', '--model', CROSS, '--no-text', '--query', 'how is bread made', input])).stdout);
    const wasm = jsonLines<{ index: number; score: number; text?: string }>((await cli(['rerank', '-q', '--model', CROSS, '--device', 'wasm', '--query', 'how is bread made', input])).stdout);
    expect(native.map((x) => x.index)).toEqual(wasm.map((x) => x.index));
    native.forEach((x, i) => expect(Math.abs(x.score - wasm[i]!.score)).toBeLessThan(1e-6));
    expect(native.every((x) => !('text' in x))).toBe(true);
    expect(wasm.map((x) => x.text)).toEqual(wasm.map((x) => docs[x.index]));
  });
});

describe('embed --format npy | fvecs: a float32 matrix, ids beside it', () => {
  /** numpy's .npy read as numpy does (magic, version 1.0, header dict, then little-endian float32 rows), written here independently of the CLI. */
  function readNpy(bytes: Buffer): { shape: number[]; data: Float32Array; descr: string; dataOffset: number } {
    expect([...bytes.subarray(0, 8)]).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    const headerLength = bytes.readUInt16LE(8);
    const header = bytes.subarray(10, 10 + headerLength).toString('latin1');
    expect(header.endsWith('\n')).toBe(true);
    const descr = /'descr': '([^']+)'/.exec(header)![1]!;
    expect(header).toMatch(/'fortran_order': False/);
    const shape = /'shape': \((\d+), (\d+)\)/.exec(header)!.slice(1).map(Number);
    const dataOffset = 10 + headerLength;
    const body = bytes.subarray(dataOffset);
    const data = new Float32Array(body.length / 4);
    for (let i = 0; i < data.length; i++) data[i] = body.readFloatLE(i * 4);
    return { shape, data, descr, dataOffset };
  }

  it('npy and fvecs hold the JSON lines\' vectors in input order; the ids file has id and metadata, text unless --no-text', async () => {
    const input = file('rows.jsonl', ['{"id":"a","text":"bread and butter","lang":"en"}', '{"id":"b","text":"planets orbit the sun"}', '{"id":"c","text":"butter on toast"}'].join('\n'));
    const jsonl = jsonLines<{ id: string; embedding: number[] }>((await cli(['embed', '-q', '--model', GLOVE, input])).stdout);
    const npyOut = join(tmp, 'vectors.npy');
    const r = await cli(['embed', '--model', GLOVE, '--format', 'npy', '-o', npyOut, input]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/→ .*vectors\.npy \(npy, float32 \[3, 100\]; ids in .*vectors\.ids\.jsonl\)/);
    const npy = readNpy(readFileSync(npyOut));
    expect(npy).toMatchObject({ descr: '<f4', shape: [3, 100] });
    expect(npy.dataOffset % 64).toBe(0);
    expect(npy.data).toEqual(Float32Array.from(jsonl.flatMap((x) => x.embedding)));
    expect(jsonLines(readFileSync(join(tmp, 'vectors.ids.jsonl'), 'utf8'))).toEqual([
      { row: 0, id: 'a', text: 'bread and butter', metadata: { lang: 'en' } },
      { row: 1, id: 'b', text: 'planets orbit the sun' },
      { row: 2, id: 'c', text: 'butter on toast' },
    ]);

    const fvecsOut = join(tmp, 'vectors.fvecs');
    expect((await cli(['embed', '-q', '--model', GLOVE, '--format', 'fvecs', '--no-text', '--dimensions', '32', '-o', fvecsOut, input])).code).toBe(0);
    const fvecs = readFileSync(fvecsOut);
    expect(fvecs.length).toBe(3 * (4 + 32 * 4));
    for (let row = 0; row < 3; row++) {
      const at = row * (4 + 32 * 4);
      expect(fvecs.readInt32LE(at)).toBe(32);
      const v = Array.from({ length: 32 }, (_, d) => fvecs.readFloatLE(at + 4 + d * 4));
      const full = jsonl[row]!.embedding.slice(0, 32);
      const norm = Math.hypot(...full);
      v.forEach((x, d) => expect(Math.abs(x - full[d]! / norm)).toBeLessThan(1e-6)); // Matryoshka: cut, then renormalized
    }
    expect(jsonLines(readFileSync(join(tmp, 'vectors.ids.jsonl'), 'utf8'))).toEqual([{ row: 0, id: 'a', metadata: { lang: 'en' } }, { row: 1, id: 'b' }, { row: 2, id: 'c' }]);
    // jsonl --no-text
    expect(jsonLines<object>((await cli(['embed', '-q', '--model', GLOVE, '--no-text', input])).stdout).every((x) => !('text' in x))).toBe(true);
  });

  it('a run that fails leaves no matrix file behind, not even a partial one', async () => {
    const out = join(tmp, 'failed.npy');
    const r = await cli(['embed', '-q', '--model', GLOVE, '--dimensions', '101', '--format', 'npy', '-o', out, file('one.txt', 'bread\n')]);
    expect(r.code).toBe(1);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(out + '.partial')).toBe(false);
    expect(existsSync(join(tmp, 'failed.ids.jsonl.partial'))).toBe(false);
  });
});

describe('hub ids, and the disk cache of their files', () => {
  let hub: HubServer;
  const REPO = 'test-org/all-minilm';
  beforeAll(async () => {
    hub = await startHubServer({ [REPO]: join(MODELS, 'all-minilm-l6-v2') });
  });
  afterAll(async () => {
    await hub?.close();
  });

  it('--model owner/name --hub: downloads once into --cache-dir; the next run reads the disk and gives the same vectors; a damaged chunk is fetched again', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'webgpu-embed-cli-cache-'));
    const input = file('hub.txt', 'bread and butter\nplanets orbit the sun\n');
    const run = () => cli(['embed', '--model', REPO, '--hub', hub.host, '--cache-dir', cacheDir, input]);
    const onnx = `/${REPO}/resolve/main/onnx/model.onnx`;
    const asked = (from: number) => hub.requests.slice(from).filter((p) => p === onnx).length;

    let from = hub.requests.length;
    const first = await run();
    expect(first.code).toBe(0);
    expect(asked(from)).toBe(1);
    expect(readdirSync(join(cacheDir, 'files')).length).toBeGreaterThan(3);

    from = hub.requests.length;
    const second = await run();
    expect(second.code).toBe(0);
    expect(asked(from)).toBe(0);
    expect(second.stdout).toBe(first.stdout);

    // a chunk cut short on the disk (the cheap size check finds it): that file comes from the hub again, whole and right
    const chunks = join(cacheDir, 'chunks');
    const biggest = readdirSync(chunks)
      .map((d) => ({ d, n: readdirSync(join(chunks, d)).length }))
      .sort((a, b) => b.n - a.n)[0]!.d;
    const chunkFile = join(chunks, biggest, '0');
    writeFileSync(chunkFile, readFileSync(chunkFile).subarray(0, 1000));
    from = hub.requests.length;
    const third = await run();
    expect(third.code).toBe(0);
    expect(asked(from)).toBe(1);
    expect(third.stdout).toBe(first.stdout);

    // cache list / clear on the same folder: the model's folder URL, then none; the next run downloads again
    const folder = `${hub.host}${REPO}/resolve/main/`;
    const listed = await cli(['cache', 'list', '--cache-dir', cacheDir]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`^${folder.replace(/[.]/g, '\\.')}\t[\\d.]+ MB\t\\d+ files\t\\d{4}-`));
    expect(listed.stderr).toMatch(/^1 models in /);
    const cleared = await cli(['cache', 'clear', REPO, '--hub', hub.host, '--cache-dir', cacheDir]);
    expect(cleared.code).toBe(0);
    expect(cleared.stderr).toMatch(/cleared test-org\/all-minilm: 1 models removed/);
    expect((await cli(['cache', 'list', '-q', '--cache-dir', cacheDir])).stdout).toBe('');
    from = hub.requests.length;
    expect((await run()).stdout).toBe(first.stdout);
    expect(asked(from)).toBe(1);

    // --no-cache: from the hub every time
    from = hub.requests.length;
    expect((await cli(['embed', '-q', '--model', REPO, '--hub', hub.host, '--no-cache', input])).stdout).toBe(first.stdout);
    expect(asked(from)).toBe(1);
  }, 120_000);

  it('a local folder laid out as the hub is a --hub too; a repository it lacks is ModelFileNotFoundError naming the URL and the setting', async () => {
    const local = mkdtempSync(join(tmpdir(), 'webgpu-embed-local-hub-'));
    const folder = join(local, 'test-org', 'glove', 'resolve', 'v1');
    mkdirSync(folder, { recursive: true });
    cpSync(join(MODELS, 'glove-sif'), folder, { recursive: true });
    const input = file('local-hub.txt', 'bread\n');
    const r = await cli(['embed', '-q', '--model', 'test-org/glove@v1', '--hub', local, '--no-cache', input]);
    expect(r.code).toBe(0);
    const direct = await cli(['embed', '-q', '--model', GLOVE, input]);
    expect(r.stdout).toBe(direct.stdout);

    const missing = await cli(['embed', '-q', '--model', 'test-org/nothing', '--hub', hub.host, '--no-cache', input]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^webgpu-embed: ModelFileNotFoundError: .*test-org\/nothing\/resolve\/main\/config\.json.*hub host http:\/\/127\.0\.0\.1/);
  });
});
