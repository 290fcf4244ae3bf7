/**
 * What a new user meets first (issue #17): the README's order, its first app (which must
 * type-check against the public API and embed the query as a query), the commands a fresh
 * machine runs (the test command exactly CI's), the licence the package ships, its metadata,
 * and the API reference's generator config.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const read = (file: string) => readFileSync(resolve(ROOT, file), 'utf8');
const readme = read('README.md');
const pkg = JSON.parse(read('package.json')) as Record<string, unknown> & { files: string[]; scripts: Record<string, string>; keywords: string[] };

/** The README's fenced code blocks, in order. */
function codeBlocks(markdown: string): { lang: string; code: string; at: number }[] {
  return [...markdown.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!, code: m[2]!, at: m.index }));
}

function headingAt(title: string): number {
  const at = readme.search(new RegExp(`^## ${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
  expect(at, `README heading "## ${title}"`).toBeGreaterThan(-1);
  return at;
}

describe('README', () => {
  it('starts with what it is, then install and a first app, then the demo and test commands, then the transformers.js table', () => {
    const order = ['Install and a first app', 'Run the demo and the tests', 'Coming from transformers.js', 'API reference'].map(headingAt);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(readme.indexOf('\n## ')).toBe(order[0]! - 1);
  });

  it("has `npm i webgpu-embed` first, and a first app that embeds the query with task: 'query'", () => {
    const blocks = codeBlocks(readme);
    expect(blocks[0]!.code.trim()).toBe('npm i webgpu-embed');
    const app = blocks.find((b) => b.lang === 'ts')!;
    expect(app.at).toBeLessThan(headingAt('Run the demo and the tests'));
    expect(app.code).toMatch(/embed\(\['how do I bake bread\?'\], \{[^}]*task: 'query'/);
  });

  it('shows the test command exactly as .ci/run runs it, after the demo command', () => {
    const ci = read('.ci/run')
      .split('\n')
      .filter((l) => l.trim() && !l.startsWith('#') && !/^(set|cd) /.test(l));
    expect(ci).toEqual(['bash scripts/setup.sh && npm test']);
    const section = readme.slice(headingAt('Run the demo and the tests'), headingAt('Coming from transformers.js'));
    const commands = codeBlocks(section).flatMap((b) => b.code.split('\n').map((l) => l.replace(/\s+#.*$/, '').trim()).filter(Boolean));
    expect(commands).toEqual(['bash scripts/setup.sh && npm run demo', ci[0]]);
  });

  it("first app type-checks against src/index.ts (an app's strict tsconfig)", () => {
    const app = codeBlocks(readme).find((b) => b.lang === 'ts')!.code;
    const file = resolve(ROOT, 'test/unit/readme-first-app.virtual.ts');
    const config = ts.getParsedCommandLineOfConfigFile(resolve(ROOT, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined })!;
    // noUncheckedIndexedAccess is this repository's choice, not strict's: an app's `tsc --init` config leaves it off.
    const options = { ...config.options, noEmit: true, noUncheckedIndexedAccess: false };
    const host = ts.createCompilerHost(options);
    const getSourceFile = host.getSourceFile.bind(host);
    host.getSourceFile = (name, language, ...rest) => (name === file ? ts.createSourceFile(name, app, language) : getSourceFile(name, language, ...rest));
    const fileExists = host.fileExists.bind(host);
    host.fileExists = (name) => name === file || fileExists(name);
    const program = ts.createProgram([file], options, host);
    const problems = ts
      .getPreEmitDiagnostics(program, program.getSourceFile(file))
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(problems).toEqual([]);
  }, 60_000);
});

describe('package', () => {
  it('ships an MIT LICENSE, as package.json says', () => {
    expect(pkg.license).toBe('MIT');
    expect(read('LICENSE')).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} /);
    expect(pkg.files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'CHANGELOG.md', 'dist', 'kernels']));
  });

  it('has keywords and an author, and no made-up repository links', () => {
    // No public repository exists yet: a placeholder URL would be published to npm as a real link.
    // When one exists, add repository / homepage / bugs and test them here.
    expect(pkg.repository).toBeUndefined();
    expect(pkg.author).toEqual(expect.any(String));
    expect(pkg.keywords).toEqual(expect.arrayContaining(['embeddings', 'reranker', 'webgpu', 'onnx', 'transformers.js']));
  });

  it('generates the API reference from src/index.ts into docs/api (npm run docs:api)', () => {
    expect(pkg.scripts['docs:api']).toBe('typedoc');
    const config = JSON.parse(read('typedoc.json')) as { entryPoints: string[]; out: string };
    expect(config.entryPoints).toEqual(['src/index.ts']);
    expect(config.out).toBe('docs/api');
    expect(read('docs/api/README.md')).toMatch(/\[createEmbedder\]\(functions\/createEmbedder\.md\)/);
  });
});
