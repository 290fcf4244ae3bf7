/**
 * Page side of the bad-input faults: generated bad arguments to every public entry point
 * (embed, rerank, the vector index, createEmbedder / createReranker / createIndex, the one-call
 * forms) and model folders that are broken on the server. Each case must end in a typed error
 * (the library's, or TypeError / RangeError) whose message names the bad thing, or in a result
 * the README documents; nothing may hang, throw an untyped error, or change a later call's answer.
 */
import * as lib from '../../../src/index.ts';
import { bounded, fixtureUrl, isTyped, maxDiff, rng, type ErrorInfo } from './common.ts';

interface State {
  embedder: lib.Embedder;
  reranker: lib.Reranker;
  index: lib.VectorIndex;
  vectors: number[][];
  scores: number[];
  hits: string;
}
let st: State | undefined;

const E5 = () => fixtureUrl('tiny-e5');
const CROSS = () => fixtureUrl('tiny-cross-encoder');
const DOCS = [
  { id: 'bread', text: 'Knead the dough for ten minutes, then let it rise.' },
  { id: 'planets', text: 'The planets orbit the sun on elliptical paths.' },
  { id: 'music', text: 'A piano has eighty-eight keys.' },
];
const FINE = ['a fine text about bread', 'another one about planets'];

async function references(s: Pick<State, 'embedder' | 'reranker' | 'index'>) {
  const vectors = (await s.embedder.embed(FINE)).map((v) => Array.from(v));
  const scores = [...(await s.reranker.rerank('bread', FINE))].sort((a, b) => a.index - b.index).map((x) => x.score);
  const hits = JSON.stringify((await s.index.search('how do I bake bread', { topK: 2 })).map((h) => [h.id, h.score]));
  return { vectors, scores, hits };
}

export async function setup(): Promise<void> {
  const embedder = await lib.createEmbedder({ model: E5(), device: 'wasm' });
  const reranker = await lib.createReranker({ model: CROSS(), device: 'wasm' });
  const index = await lib.createIndex({ embedder, device: 'cpu' });
  await index.add(DOCS);
  st = { embedder, reranker, index, ...(await references({ embedder, reranker, index })) };
}

/** What a later call gives after the bad input: '' when every reference call is still right. */
async function poisoned(): Promise<string> {
  const s = st!;
  const r = await bounded(() => references(s), 30_000);
  if (r.ok !== true) return `the normal calls after it: ${r.ok === 'hang' ? 'no answer in 30 s' : `${r.error.name}: ${r.error.message}`}`;
  const out: string[] = [];
  const dv = maxDiff(r.value.vectors, s.vectors);
  if (dv !== 0) out.push(`embed() after it differs by ${dv}`);
  const ds = maxDiff([r.value.scores], [s.scores]);
  if (ds !== 0) out.push(`rerank() after it differs by ${ds}`);
  if (r.value.hits !== s.hits) out.push(`search() after it gives ${r.value.hits}, was ${s.hits}`);
  return out.join('; ');
}

interface Case {
  label: string;
  run: () => Promise<unknown>;
  /** the bad thing the error message must name */
  names: RegExp;
  /** a documented result: returns '' when the value is what the README says; absent: only a typed error will do */
  result?: (v: unknown) => string;
  /** a load that fails: tried twice, the second must fail alike (nothing bad was cached) */
  twice?: boolean;
}

const vectorsOk = (n: number, truncated?: number[]) => (v: unknown) => {
  const r = v as lib.Embeddings;
  if (!Array.isArray(r) || r.length !== n) return `gave ${Array.isArray(r) ? r.length : typeof r} vectors for ${n} texts`;
  for (const x of r) if (!(x instanceof Float32Array) || x.length !== 32 || !x.every(Number.isFinite)) return 'a vector is not 32 finite numbers';
  if (truncated && JSON.stringify(r.truncated) !== JSON.stringify(truncated)) return `truncated is ${JSON.stringify(r.truncated)}, expected ${JSON.stringify(truncated)}`;
  return '';
};
const rankedOk = (n: number, truncated?: number[]) => (v: unknown) => {
  const r = v as lib.RerankResults;
  if (!Array.isArray(r) || r.length !== n) return `gave ${Array.isArray(r) ? r.length : typeof r} results, expected ${n}`;
  for (const x of r) if (!(x.score >= 0 && x.score <= 1)) return `a score is ${x.score}`;
  if (truncated && JSON.stringify(r.truncated) !== JSON.stringify(truncated)) return `truncated is ${JSON.stringify(r.truncated)}, expected ${JSON.stringify(truncated)}`;
  return '';
};
const hitsOk = (max: number) => (v: unknown) => (Array.isArray(v) && v.length <= max && v.length > 0 ? '' : `gave ${JSON.stringify(v)?.slice(0, 100)}`);

/** Random text of random code points (any plane, lone surrogate halves included). */
function randomText(r: () => number, length: number): string {
  let s = '';
  while (s.length < length) {
    const roll = r();
    const cp =
      roll < 0.3 ? 0x20 + Math.floor(r() * 0x5f) : roll < 0.5 ? Math.floor(r() * 0x3000) : roll < 0.6 ? 0xd800 + Math.floor(r() * 0x800) : roll < 0.8 ? Math.floor(r() * 0x10000) : 0x10000 + Math.floor(r() * 0xfffff);
    s += cp >= 0xd800 && cp < 0xe000 ? String.fromCharCode(cp) : String.fromCodePoint(cp);
  }
  return s;
}

function cases(seed: number): Case[] {
  const s = st!;
  const r = rng(seed);
  const E = s.embedder;
  const R = s.reranker;
  const X = s.index;
  const any = (v: unknown) => v as never;
  const load = async (model: string) => {
    const e = await lib.createEmbedder({ model, device: 'wasm' });
    await e.dispose();
    return e;
  };
  const createWith = async (o: Record<string, unknown>) => {
    const e = await lib.createEmbedder(any({ model: E5(), device: 'wasm', ...o }));
    try {
      return await e.embed(FINE);
    } finally {
      await e.dispose();
    }
  };
  const MB = 'lorem ipsum dolor sit amet '.repeat(Math.ceil((1 << 20) / 27)).slice(0, 1 << 20);
  const faulty = (c: string) => new URL(`/faulty/${c}/`, location.href).href;
  const out: Case[] = [
    // texts that are not an array of strings
    ...([
      ['a number', 42],
      ['null', null],
      ['undefined', undefined],
      ['a string', 'one text'],
      ['an array-like object', { length: 1, 0: 'a' }],
    ] as [string, unknown][]).map(([what, v]): Case => ({ label: `embed(${what})`, run: () => E.embed(any(v)), names: /texts/ })),
    ...([
      ['a number', [42], 0],
      ['null', [null], 0],
      ['undefined', ['ok', undefined], 1],
      ['an object', [{}], 0],
      ['a nested array', [['nested']], 0],
      ['a Symbol', ['ok', Symbol('s')], 1],
      ['a function', [() => 'f'], 0],
      ['a BigInt', [10n], 0],
      ['a boxed String', [new String('boxed')], 0],
      ['a hole', [, 'a'], 0], // eslint-disable-line no-sparse-arrays
    ] as [string, unknown[], number][]).map(([what, v, i]): Case => ({ label: `embed([… ${what} …])`, run: () => E.embed(any(v)), names: new RegExp(`texts\\[${i}\\]`) })),
    // texts the README answers with vectors
    ...([
      ['an empty string', ['']],
      ['whitespace only', ['   ']],
      ['tabs and newlines only', ['\t\n\r ']],
      ['a lone high surrogate', ['\uD800']],
      ['a lone low surrogate inside text', ['abc\uDC00def']],
      ['surrogates out of order', ['\uDC00\uD800\uDBFF\uDFFF\uD800']],
      ['control characters and NUL', ['\u0000\u0001\u0007\u001b[31m']],
      ['zero-width characters only', ['\uFEFF\u200B\u200D\u2060']],
      ['2,000 combining accents', ['e' + '\u0301'.repeat(2000)]],
      ['ZWJ emoji sequences', ['🏳️‍🌈👨‍👩‍👧‍👦🇺🇳']],
      ['bidi overrides', ['\u202Eevil\u202C \u2067x\u2069']],
      ['noncharacters', ['\uFFFF\uFFFE\uFDD0\u{10FFFF}']],
      ...Array.from({ length: 5 }, (_, k) => [`random code points #${k + 1}`, [randomText(r, 1 + Math.floor(r() * 3000))]] as [string, string[]]),
      ['1,000 empty strings', Array.from({ length: 1000 }, () => '')],
    ] as [string, string[]][]).map(([what, v]): Case => ({ label: `embed(${what})`, run: () => E.embed(v), names: /texts/, result: vectorsOk(v.length) })),
    { label: 'embed(a 1 MB text)', run: () => E.embed([MB]), names: /texts/, result: vectorsOk(1, [0]) },
    { label: 'embed(1 MB of random code points)', run: () => E.embed([randomText(r, 1 << 20)]), names: /texts/, result: vectorsOk(1, [0]) },
    { label: "embed(a 1 MB text, longText: 'chunk')", run: () => E.embed([MB.slice(0, 200_000)], { longText: 'chunk' }), names: /texts/, result: vectorsOk(1, []) },
    // options
    ...([NaN, -1, 0, 1e9, 1.5, Infinity, '32', null] as unknown[]).map((d): Case => ({ label: `embed(dimensions: ${typeof d === 'string' ? `'${d}'` : String(d)})`, run: () => E.embed(FINE, any({ dimensions: d })), names: /dimensions/ })),
    ...(['summary', 42, 'QUERY'] as unknown[]).map((t): Case => ({ label: `embed(task: ${JSON.stringify(t)})`, run: () => E.embed(FINE, any({ task: t })), names: /task/ })),
    { label: "embed(longText: 'explode')", run: () => E.embed(FINE, any({ longText: 'explode' })), names: /longText/ },
    ...([-5, 1e9, NaN] as number[]).map((c): Case => ({
      label: `embed(longText: 'chunk', chunkOverlap: ${c})`,
      run: () => E.embed([MB.slice(0, 20_000)], { longText: 'chunk', chunkOverlap: c }),
      names: /chunkOverlap/,
    })),
    { label: 'embed(instruction: 42)', run: () => E.embed(FINE, any({ instruction: 42 })), names: /instruction/ },
    { label: 'embed(instruction: a Symbol)', run: () => E.embed(FINE, any({ instruction: Symbol('i') })), names: /instruction/ },
    { label: 'embed(task: a function)', run: () => E.embed(FINE, any({ task: () => 'query' })), names: /task/ },
    { label: "embed(signal: 'not a signal')", run: () => E.embed(FINE, any({ signal: 'not a signal' })), names: /signal/ },
    // loads with bad options
    ...([
      ["model: ''", { model: '' }, /model/],
      ['model: 42', { model: 42 }, /model/],
      ["preset: 'nope'", { preset: 'nope' }, /preset/],
      ["device: 'tpu'", { device: 'tpu' }, /device/],
      ["dtype: 'int3'", { dtype: 'int3' }, /dtype/],
      ['limits: { maxBatchSize: 0 }', { limits: { maxBatchSize: 0 } }, /maxBatchSize/],
      ['limits: { maxBatchSize: NaN }', { limits: { maxBatchSize: NaN } }, /maxBatchSize/],
      ['limits: { maxBatchTokens: -1 }', { limits: { maxBatchTokens: -1 } }, /maxBatchTokens/],
      ["cache: 'yes'", { cache: 'yes' }, /cache/],
      ['cache: { maxBytes: -1 }', { cache: { maxBytes: -1 } }, /maxBytes/],
      ["cache: { verify: 'sometimes' }", { cache: { verify: 'sometimes' } }, /verify/],
    ] as [string, Record<string, unknown>, RegExp][]).map(([what, o, names]): Case => ({ label: `createEmbedder(${what})`, run: () => createWith(o), names })),
    { label: "createEmbedder(model: 'no-such-preset-xyz')", run: () => load('no-such-preset-xyz'), names: /no-such-preset-xyz/, twice: true },
    { label: 'createEmbedder(overrides: { pooling: a function })', run: () => createWith({ overrides: { pooling: () => 'mean' } }), names: /overrides/ },
    { label: "createReranker(head: 'weird')", run: () => lib.createReranker(any({ model: CROSS(), device: 'wasm', head: 'weird' })), names: /head/ },
    // model folders broken on the server
    ...([
      ['a folder that is not there (404)', 'missing', /config\.json/],
      ['model.onnx answered with an HTML page', 'html-onnx', /model[a-z0-9_]*\.onnx/],
      ['model.onnx cut to 60%', 'truncated-onnx', /model\.onnx/],
      ['model.onnx of random bytes', 'garbage-onnx', /model\.onnx/],
      ['model.onnx empty', 'empty-onnx', /model\.onnx/],
      ['model.onnx a 500 error', 'error-onnx', /model[a-z0-9_]*\.onnx/],
      ['config.json answered with an HTML page', 'html-config', /config\.json/],
      ['config.json not JSON', 'bad-config', /config\.json/],
      ['tokenizer.json cut short', 'truncated-tokenizer', /tokenizer\.json/],
    ] as [string, string, RegExp][]).map(([what, c, names]): Case => ({ label: `createEmbedder(${what})`, run: () => load(faulty(c)), names, twice: true })),
    // rerank
    ...([
      ['a number', 42, /query/],
      ['null', null, /query/],
      ['an empty string', '', /query/],
      ['whitespace only', ' \n\t', /query/],
    ] as [string, unknown, RegExp][]).map(([what, q, names]): Case => ({ label: `rerank(query: ${what})`, run: () => R.rerank(any(q), FINE), names })),
    { label: "rerank(documents: 'doc')", run: () => R.rerank('q', any('doc')), names: /documents/ },
    { label: 'rerank(documents: [42])', run: () => R.rerank('q', any([42])), names: /documents\[0\]/ },
    { label: 'rerank(documents: [a Symbol])', run: () => R.rerank('q', any(['ok', Symbol('d')])), names: /documents\[1\]/ },
    { label: 'rerank(instruction: a function)', run: () => R.rerank('q', FINE, any({ instruction: () => 'x' })), names: /instruction/ },
    { label: 'rerank(documents: [])', run: () => R.rerank('q', []), names: /documents/, result: rankedOk(0) },
    { label: "rerank(documents: [''])", run: () => R.rerank('q', ['']), names: /documents/, result: rankedOk(1) },
    ...([0, -1, NaN, 1.5, Infinity, '3'] as unknown[]).map((k): Case => ({ label: `rerank(topK: ${typeof k === 'string' ? `'${k}'` : String(k)})`, run: () => R.rerank('q', FINE, any({ topK: k })), names: /topK/ })),
    { label: 'rerank(topK: 1e9)', run: () => R.rerank('q', FINE, { topK: 1e9 }), names: /topK/, result: rankedOk(2) },
    { label: 'rerank(batchSize: 0)', run: () => R.rerank('q', FINE, { batchSize: 0 }), names: /batchSize/ },
    { label: 'rerank(instruction: 42)', run: () => R.rerank('q', FINE, any({ instruction: 42 })), names: /instruction/ },
    { label: 'rerank(a 1 MB document)', run: () => R.rerank('q', [MB]), names: /documents/, result: rankedOk(1, [0]) },
    { label: 'rerank(a 1 MB query)', run: () => R.rerank(MB, FINE), names: /query/ },
    { label: 'rerank(lone surrogates)', run: () => R.rerank('\uD800q', ['\uDC00d', randomText(r, 500)]), names: /query|documents/, result: rankedOk(2) },
    // the vector index
    { label: 'index.search(42)', run: () => X.search(any(42)), names: /query|search/ },
    { label: 'index.search(topK: NaN)', run: () => X.search('bread', { topK: NaN }), names: /topK/ },
    { label: 'index.search(topK: -3)', run: () => X.search('bread', { topK: -3 }), names: /topK/ },
    { label: 'index.search(topK: 1e9)', run: () => X.search('bread', { topK: 1e9 }), names: /topK/, result: hitsOk(3) },
    { label: 'index.search(a Float32Array of 7)', run: () => X.search(new Float32Array(7)), names: /Float32Array|dimensions/ },
    { label: "index.search(filter: 'x')", run: () => X.search('bread', any({ filter: 'x' })), names: /filter/ },
    { label: "index.search('')", run: () => X.search(''), names: /query|search/, result: hitsOk(3) },
    { label: "index.add('text')", run: () => X.add(any('text')), names: /add|array/ },
    { label: 'index.add([{ text: 42 }])', run: () => X.add(any([{ text: 42 }])), names: /documents\[0\]/ },
    { label: "index.add([{ id: '', text }])", run: () => X.add([{ id: '', text: 'x' }]), names: /id/ },
    { label: 'index.add(the same id twice)', run: () => X.add([{ id: 'dup', text: 'x' }, { id: 'dup', text: 'y' }]), names: /id/ },
    { label: 'createIndex(embedder: null)', run: () => lib.createIndex(any({ embedder: null })), names: /embedder/ },
    { label: "createIndex(storage: 'float16')", run: () => lib.createIndex(any({ embedder: E, storage: 'float16' })), names: /storage/ },
    // the one-call forms
    { label: 'embed() with no model', run: () => lib.embed(['x'], any({})), names: /model/ },
    { label: "embed() with task 'bogus'", run: () => lib.embed(['x'], any({ model: E5(), device: 'wasm', task: 'bogus' })), names: /task/ },
    { label: 'rerank() with topK -1', run: () => lib.rerank('q', ['d'], { model: CROSS(), device: 'wasm', topK: -1 }), names: /topK/ },
  ];
  return out;
}

let list: Case[] = [];

export function listCases(seed: number): string[] {
  list = cases(seed);
  return list.map((c) => c.label);
}

export interface CaseResult {
  label: string;
  /** '' when the case was answered as it should be */
  problem: string;
  /** what it did, for the record */
  outcome: string;
}

function judge(c: Case, o: Awaited<ReturnType<typeof bounded<unknown>>>): { problem: string; outcome: string; error?: ErrorInfo } {
  if (o.ok === 'hang') return { problem: `no answer in ${o.ms.toFixed(0)} ms (a hang)`, outcome: 'hang' };
  if (o.ok === true) {
    if (!c.result) return { problem: 'accepted without an error (not a documented result)', outcome: 'resolved' };
    const bad = c.result(o.value);
    return { problem: bad ? `the result: ${bad}` : '', outcome: 'documented result' };
  }
  const e = o.error;
  const outcome = `${e.name}: ${e.message.slice(0, 160)}`;
  if (!isTyped(e)) return { problem: `an untyped error ${e.name} [${e.is.join(',')}]: ${e.message.slice(0, 240)}`, outcome, error: e };
  if (!e.message || e.message.length < 20) return { problem: `an error with too short a message: '${e.message}'`, outcome, error: e };
  if (!c.names.test(e.message) && !(e.url && c.names.test(e.url))) return { problem: `${e.name}'s message does not name ${c.names}: ${e.message.slice(0, 240)}`, outcome, error: e };
  return { problem: '', outcome, error: e };
}

/** Runs cases [from, to), each bounded by 20 s, each followed by the normal calls. */
export async function runCases(from: number, to: number): Promise<CaseResult[]> {
  const out: CaseResult[] = [];
  for (const c of list.slice(from, to)) {
    const first = judge(c, await bounded(c.run, 20_000));
    let problem = first.problem;
    if (!problem && c.twice) {
      const again = judge(c, await bounded(c.run, 20_000));
      if (again.problem) problem = `the second try: ${again.problem}`;
      else if (again.error?.name !== first.error?.name) problem = `the second try threw ${again.error?.name}, the first ${first.error?.name}`;
    }
    const p = await poisoned();
    out.push({ label: c.label, problem: [problem, p].filter(Boolean).join('; '), outcome: first.outcome });
  }
  return out;
}

export async function teardown(): Promise<void> {
  await st?.index.dispose();
  await st?.embedder.dispose();
  await st?.reranker.dispose();
  await lib.releaseSharedEmbedders();
  await lib.releaseSharedRerankers();
  st = undefined;
}
