/**
 * "Vectors identical to the browser's": the CLI (src/cli, run in-process here, on both of its
 * runtimes: onnxruntime-node, its default where installed, and onnxruntime-web's wasm build) embeds texts with the glove-sif and tiny-e5 fixtures, and the same texts
 * are embedded in Chromium through the public API, on device 'wasm' (what 'auto' picks on this
 * machine, whose only adapter is SwiftShader) and on 'webgpu' (SwiftShader). The CLI's index blob,
 * imported in the page with createIndex().import(), answers the corpus queries as an index built
 * in the page does.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run.ts';
import { REPO_ROOT, useBrowser } from './harness/index.ts';
import type { IndexComparison, PageVectors } from './pages/cli.ts';

const PAGE = '/test/browser/pages/cli.ts';
const ctx = useBrowser();
const tmp = mkdtempSync(join(tmpdir(), 'webgpu-embed-cli-browser-'));

const DOCUMENTS: { id: string; text: string }[] = JSON.parse(readFileSync(join(REPO_ROOT, 'examples/corpus/documents.json'), 'utf8'));
const QUERIES: { query: string; expected: string }[] = JSON.parse(readFileSync(join(REPO_ROOT, 'examples/corpus/queries.json'), 'utf8'));
// short and long texts, so the engine's length-sorted batches have padding in them
const TEXTS = [...DOCUMENTS.map((d) => d.text), ...QUERIES.map((q) => q.query), 'a', 'Hello, world!'];

async function cli(argv: string[]): Promise<Buffer> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const code = await runCli(argv, { stdout, stderr, cwd: REPO_ROOT });
  if (code !== 0) throw new Error(`webgpu-embed ${argv.join(' ')} exited ${code}: ${Buffer.concat(err).toString()}`);
  return Buffer.concat(out);
}

function maxDiff(a: number[][], b: number[][]): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  a.forEach((row, i) => {
    expect(row.length).toBe(b[i]!.length);
    row.forEach((x, j) => (max = Math.max(max, Math.abs(x - b[i]![j]!))));
  });
  return max;
}

describe('the CLI in Node and the library in Chromium give the same vectors', () => {
  const input = join(tmp, 'texts.jsonl');
  writeFileSync(input, TEXTS.map((text) => JSON.stringify({ text })).join('\n'));

  for (const [name, task, runtime] of [
    ['glove-sif', 'document', 'cpu'],
    ['tiny-e5', 'query', 'cpu'],
    ['tiny-e5', 'query', 'wasm'],
  ] as const) {
    const on = runtime === 'cpu' ? 'onnxruntime-node' : 'wasm';
    it(`${name}, task ${task}, CLI on ${on}: ${TEXTS.length} texts; max |CLI − page| ≤ 1e-6 on wasm, ≤ 1e-5 on webgpu (SwiftShader)`, async () => {
      const lines = (await cli(['embed', '-q', '--device', runtime, '--model', `test/fixtures/models/${name}`, '--task', task, input])).toString('utf8').trim().split('\n');
      const mine = lines.map((l) => (JSON.parse(l) as { embedding: number[] }).embedding);
      expect(mine).toHaveLength(TEXTS.length);
      const wasm = await ctx.call<PageVectors>(PAGE, 'embedTexts', name, 'wasm', TEXTS, { task });
      const webgpu = await ctx.call<PageVectors>(PAGE, 'embedTexts', name, 'webgpu', TEXTS, { task });
      expect([wasm.device, webgpu.device]).toEqual(['wasm', 'webgpu']);
      const dWasm = maxDiff(mine, wasm.vectors);
      const dGpu = maxDiff(mine, webgpu.vectors);
      console.log(`${name} (${task}, ${wasm.dtype}, CLI on ${on}), ${TEXTS.length} texts × ${mine[0]!.length}: max |CLI − page| = ${dWasm.toExponential(2)} on wasm, ${dGpu.toExponential(2)} on webgpu (SwiftShader)`);
      expect(dWasm).toBeLessThanOrEqual(1e-6);
      expect(dGpu).toBeLessThanOrEqual(1e-5);
    });
  }
});

describe("the CLI's index blob in the page", () => {
  for (const device of ['wasm', 'webgpu'] as const) {
    it(`imported with createIndex().import() (embedder on ${device}): the hits of an index built in the page`, async () => {
      const corpus = join(tmp, 'corpus.jsonl');
      writeFileSync(corpus, DOCUMENTS.map((d) => JSON.stringify({ id: d.id, text: d.text })).join('\n'));
      const blob = join(tmp, 'site.wgei');
      await cli(['index', '-q', '--model', 'test/fixtures/models/glove-sif', '-o', blob, corpus]);
      const queries = QUERIES.slice(0, 10);
      const r = await ctx.call<IndexComparison>(PAGE, 'compareIndex', 'glove-sif', device, readFileSync(blob).toString('base64'), queries.map((q) => q.query));
      expect(r.embedderDevice).toBe(device);
      expect(r.indexDevice).toBe(device === 'webgpu' ? 'webgpu' : 'cpu');
      expect([r.importedSize, r.importedPassages]).toEqual([37, 40]);
      console.log(`index (${device}): max |page-built − CLI| vector component ${r.maxVectorDiff.toExponential(2)}`);
      expect(r.maxVectorDiff).toBeLessThanOrEqual(device === 'wasm' ? 1e-6 : 1e-5);
      // the same documents and passages, in the same order; scores as close as the vectors
      const ids = (hits: IndexComparison['imported']) => hits.map((h) => h.map((x) => `${x.id}@${x.start}-${x.end}`));
      expect(ids(r.imported)).toEqual(ids(r.built));
      expect(maxDiff(r.imported.map((h) => h.map((x) => x.score)), r.built.map((h) => h.map((x) => x.score)))).toBeLessThanOrEqual(1e-5);
      expect(r.imported.map((h) => h[0]!.id)).toEqual(queries.map((q) => q.expected));
    });
  }
});
