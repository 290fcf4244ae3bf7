/**
 * loadModel over the fixture folders (read from disk through a FetchFile): each resolves to the
 * pooling, prompts, padding, limits and sizes its files state; presets fill what a folder lacks
 * and options override both; the dtype picks the ONNX file and its external data as
 * transformers.js would; a broken folder fails with a ModelLoadError that names the URL.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ModelFileNotFoundError, ModelLoadError } from '../../src/errors.ts';
import onnxProto from 'onnx-proto';
import { externalDataLocations } from '../../src/models/onnx/external-data.ts';
import { readGraph } from '../../src/models/onnx/onnx-graph.ts';
import { loadModel } from '../../src/models/folder.ts';
import { PRESETS } from '../../src/models/presets.ts';
import { diskFetchFile, fixtureUrl, MODELS, type Replacement } from './helpers/model-folders.ts';

const WEB_SEARCH = 'Given a web search query, retrieve relevant passages that answer the query';

const load = (name: string, replace: Record<string, Replacement> = {}, options: Parameters<typeof loadModel>[1] = {}, log: string[] = []) =>
  loadModel(fixtureUrl(name), { fetchFile: diskFetchFile(replace, log), ...options });

const fixtureJson = (name: string, file: string) => JSON.parse(readFileSync(join(MODELS, name, file), 'utf8')) as Record<string, unknown>;

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('each fixture folder resolves to the facts its files state', () => {
  it('tiny-e5: mean pooling, normalized, E5 prefixes (passage → document), 512 tokens, right padding', async () => {
    const { spec, tokenizer, onnx, externalData } = await load('tiny-e5');
    expect(spec).toMatchObject({
      baseUrl: fixtureUrl('tiny-e5'),
      pooling: 'mean',
      normalize: true,
      dimensions: 32,
      matryoshka: { trained: false },
      maxTokens: 512,
      paddingSide: 'right',
      prompts: { query: 'query: ', document: 'passage: ' },
      maskInstruction: false,
      dtype: 'fp32',
      onnxFile: 'onnx/model.onnx',
      externalDataFiles: [],
    });
    expect(spec.defaultInstruction).toBeUndefined();
    expect(spec.latentAttention).toBeUndefined();
    expect(onnx.length).toBe(readFileSync(join(MODELS, 'tiny-e5/onnx/model.onnx')).length);
    expect(externalData).toEqual([]);
    expect(tokenizer.head).toEqual([101]);
    expect(tokenizer.tail).toEqual([102]);
    expect(tokenizer.padId).toBe(0);
  });

  it('glove-sif: mean pooling, no special tokens, 100 dimensions', async () => {
    const { spec, tokenizer } = await load('glove-sif');
    expect(spec).toMatchObject({ pooling: 'mean', normalize: true, dimensions: 100, maxTokens: 512, paddingSide: 'right', prompts: {} });
    expect(tokenizer.head).toEqual([]);
    expect(tokenizer.tail).toEqual([]);
    expect(tokenizer.padId).toBe(0);
  });

  it("minilm-shape: sentence_bert_config's 256 wins over the tokenizer's 512; dtype fp16 picks model_fp16.onnx", async () => {
    const { spec } = await load('minilm-shape', {}, { dtype: 'fp16' });
    expect(spec).toMatchObject({ pooling: 'mean', dimensions: 384, maxTokens: 256, dtype: 'fp16', onnxFile: 'onnx/model_fp16.onnx' });
  });

  it('tiny-qwen3-embedding: last token, left padding, the query prompt as an instruction template with its default', async () => {
    const { spec, tokenizer } = await load('tiny-qwen3-embedding');
    expect(spec).toMatchObject({
      pooling: 'last-token',
      normalize: true,
      dimensions: 32,
      maxTokens: 32768, // max_position_embeddings, below the tokenizer's 131072
      paddingSide: 'left',
      prompts: { query: 'Instruct: {instruction}\nQuery:', document: '' },
      defaultInstruction: WEB_SEARCH,
      maskInstruction: false,
    });
    expect(tokenizer.head).toEqual([]);
    expect(tokenizer.tail).toEqual([151643]);
    expect(tokenizer.padId).toBe(151643);
  });

  it('tiny-qwen3-reranker: last token, left padding by default (its tokenizer_config says none), no prompts', async () => {
    const { spec, tokenizer } = await load('tiny-qwen3-reranker');
    expect(spec).toMatchObject({ pooling: 'last-token', paddingSide: 'left', maxTokens: 32768, prompts: {}, dimensions: 32 });
    expect(tokenizer.tail).toEqual([]);
  });

  it("tiny-nv-embed: latent-attention pooling with the head's sizes and weights, instruction masked, right padding", async () => {
    const { spec, tokenizer } = await load('tiny-nv-embed');
    expect(spec).toMatchObject({
      pooling: 'latent-attention',
      dimensions: 32,
      maxTokens: 32768, // text_config.max_position_embeddings
      paddingSide: 'right',
      prompts: { query: 'Instruct: {instruction}\nQuery: ', document: '' },
      defaultInstruction: WEB_SEARCH,
      maskInstruction: true,
    });
    const la = spec.latentAttention!;
    expect(la).toMatchObject({ numLatents: 16, heads: 8, headDim: 12, latentDim: 32, hiddenDim: 32 });
    expect(la.weights['latent_attention_model.latents']).toHaveLength(16 * 32);
    expect(la.shapes?.['latent_attention_model.cross_attend_blocks.0.fn.to_kv.weight']).toEqual([2 * 8 * 12, 32]);
    expect(Object.keys(la.weights)).toHaveLength(14);
    // add_eos: true, and the post-processor already appends <|endoftext|>: once, not twice.
    expect(tokenizer.tail).toEqual([151643]);
  });

  it("asking for another pooling skips NV-Embed's head file", async () => {
    const log: string[] = [];
    const { spec } = await load('tiny-nv-embed', {}, { pooling: 'mean' }, log);
    expect(spec.pooling).toBe('mean');
    expect(spec.latentAttention).toBeUndefined();
    expect(log.some((u) => u.endsWith('latent_attention.safetensors'))).toBe(false);
  });
});

describe('the ONNX graph is read once, at load, for all that needs it', () => {
  it("the loaded model carries its graph's nodes, opsets and outputs, as a read of the file gives them", async () => {
    const model = await load('tiny-qwen3-reranker');
    expect(model.onnxGraph).toEqual(readGraph(model.onnx));
    expect(model.onnxGraph!.outputs.map((o) => o.name)).toContain('logits');
    expect(model.spec.graph).toEqual({ groupQueryAttention: false, dynamicQuantization: false });
  });

  it('a graph our reader cannot walk (half the file) says nothing, and the load goes on: onnxruntime judges the file', async () => {
    const whole = readFileSync(join(MODELS, 'tiny-e5', 'onnx', 'model.onnx'));
    const half = new Uint8Array(whole.subarray(0, whole.length >> 1));
    expect(() => readGraph(half)).toThrow();
    const model = await load('tiny-e5', { 'onnx/model.onnx': half });
    expect(model.onnxGraph).toBeUndefined();
    expect(model.spec).toMatchObject({ graph: { groupQueryAttention: false, dynamicQuantization: false }, pooling: 'mean', paddingSide: 'right' });
  });
});

describe('presets fill what a folder lacks; options override both', () => {
  const bare = { 'modules.json': 'missing', '1_Pooling/config.json': 'missing', 'config_sentence_transformers.json': 'missing' } as const;

  it("a folder without sentence-transformers files takes the preset's pooling, prompts and dtype, and no probe for external data", async () => {
    const log: string[] = [];
    const { spec } = await load('tiny-e5', bare, { preset: 'bge-small-en-v1.5' }, log);
    expect(spec).toMatchObject({
      pooling: 'cls',
      normalize: true,
      prompts: { query: 'Represent this sentence for searching relevant passages: ' },
      dimensions: 32, // the folder's own hidden_size, not the preset's 384
      dtype: 'fp32',
    });
    expect(log.some((u) => u.endsWith('_data'))).toBe(false);
  });

  it("the folder's own files win over the preset", async () => {
    const { spec } = await load('tiny-e5', {}, { preset: 'bge-small-en-v1.5' });
    expect(spec.pooling).toBe('mean');
    expect(spec.prompts).toEqual({ query: 'query: ', document: 'passage: ' });
  });

  it('a Matryoshka preset says the model was trained for every size from its minimum to the full width', async () => {
    // The preset's fp32 export has external data, which is then required.
    const data = new Uint8Array(8);
    const { spec, externalData } = await load('tiny-qwen3-embedding', { 'onnx/model.onnx_data': data }, { preset: 'qwen3-embedding-0.6b', dtype: 'fp32' });
    expect(spec.matryoshka).toEqual({ trained: true, sizes: { min: 32, max: 32 }, source: 'preset' });
    expect(externalData).toEqual([{ path: 'onnx/model.onnx_data', data }]);
  });

  it('options override folder and preset', async () => {
    const { spec } = await load(
      'tiny-e5',
      {},
      {
        preset: 'multilingual-e5-small',
        pooling: 'cls',
        normalize: false,
        prompts: { query: 'q: ' },
        defaultInstruction: 'x',
        maxTokens: 128,
        paddingSide: 'left',
        dtype: 'fp32',
      },
    );
    expect(spec).toMatchObject({
      pooling: 'cls',
      normalize: false,
      prompts: { query: 'q: ', document: 'passage: ' },
      defaultInstruction: 'x',
      maxTokens: 128,
      paddingSide: 'left',
    });
  });

  it("maxTokens above the model's positions is a RangeError", async () => {
    await expect(load('tiny-e5', {}, { maxTokens: 4096 })).rejects.toThrow(RangeError);
    await expect(load('tiny-e5', {}, { maxTokens: 4096 })).rejects.toThrow(/512 positions/);
  });

  it('an unknown preset or dtype is a RangeError that lists the known ones', async () => {
    await expect(load('tiny-e5', {}, { preset: 'nope' })).rejects.toThrow(/known presets are .*qwen3-embedding-0\.6b/);
    // @ts-expect-error: not a dtype
    await expect(load('tiny-e5', {}, { dtype: 'int3' })).rejects.toThrow(/'fp32' \| 'fp16'/);
  });

  it("a dtype the preset does not list fails before any weight is fetched, naming the ones it has", async () => {
    const log: string[] = [];
    const err = await load('tiny-e5', {}, { preset: 'multilingual-e5-large-instruct', dtype: 'q8' }, log).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelLoadError);
    expect((err as Error).message).toMatch(/no q8 export: pass dtype 'fp32'/);
    expect(log.some((u) => u.includes('/onnx/'))).toBe(false);
  });
});

describe('the dtype picks the ONNX file and its external data, as transformers.js names them', () => {
  it('with no dtype, a plain folder falls back through the files that exist (fp32, then fp16, ...)', async () => {
    const log: string[] = [];
    const { spec } = await load('minilm-shape', { 'onnx/model.onnx': 'missing' }, {}, log);
    expect(spec.dtype).toBe('fp16');
    expect(spec.onnxFile).toBe('onnx/model_fp16.onnx');
  });

  it('an explicit dtype whose file is missing is a ModelFileNotFoundError naming the file and the dtypes the folder has', async () => {
    const err = await load('tiny-e5', {}, { dtype: 'q4f16' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFileNotFoundError);
    expect((err as ModelLoadError).url).toBe(fixtureUrl('tiny-e5') + 'onnx/model_q4f16.onnx');
    expect((err as Error).message).toMatch(/it has 'fp32' \(onnx\/model\.onnx\): pass one of those as dtype/);
  });

  it('a folder with no ONNX file at all says which files it tried', async () => {
    const gone = Object.fromEntries(['model.onnx', 'model_fp16.onnx'].map((f) => [`onnx/${f}`, 'missing' as const]));
    await expect(load('minilm-shape', gone)).rejects.toThrow(/has no ONNX model: tried onnx\/model\.onnx, onnx\/model_fp16\.onnx, onnx\/model_quantized\.onnx/);
  });

  it("a plain folder's external data is the file its ONNX graph names, and none is asked for when it names none", async () => {
    const data = new Uint8Array([1, 2, 3, 4]);
    const graph = onnxWithExternalData('weights.bin');
    expect(externalDataLocations(graph)).toEqual(['weights.bin']);
    const log: string[] = [];
    const { spec, externalData } = await load('tiny-e5', { 'onnx/model.onnx': graph, 'onnx/weights.bin': data }, {}, log);
    expect(spec.externalDataFiles).toEqual(['onnx/weights.bin']);
    expect(externalData).toEqual([{ path: 'onnx/weights.bin', data }]);

    const plain: string[] = [];
    expect((await load('tiny-e5', {}, {}, plain)).externalData).toEqual([]);
    expect(plain.some((u) => /_data|\.bin$/.test(u))).toBe(false);
    await expect(load('tiny-e5', { 'onnx/model.onnx': graph })).rejects.toThrow(/has no onnx\/weights\.bin/);
  });

  it('with no dtype asked, the order the engine gives decides among the files that exist', async () => {
    expect((await load('minilm-shape', {}, { dtypeOrder: ['fp16', 'fp32'] })).spec).toMatchObject({ dtype: 'fp16', onnxFile: 'onnx/model_fp16.onnx' });
    const log: string[] = [];
    const fallback = await load('minilm-shape', {}, { dtypeOrder: ['q8', 'fp32', 'fp16'] }, log);
    expect(fallback.spec).toMatchObject({ dtype: 'fp32', onnxFile: 'onnx/model.onnx' });
    // q8 was asked for first, missing, and no error
    expect(log.findIndex((u) => u.endsWith('model_quantized.onnx'))).toBeLessThan(log.findIndex((u) => u.endsWith('/model.onnx')));
    await expect(load('minilm-shape', {}, { dtype: 'q8' })).rejects.toThrow(/no onnx\/model_quantized\.onnx/);
  });

  it('config.json "transformers.js_config".use_external_data_format decides, by full file name, without probing', async () => {
    const config = fixtureJson('tiny-e5', 'config.json');
    const withChunks = JSON.stringify({ ...config, 'transformers.js_config': { use_external_data_format: { 'model.onnx': 2 } } });
    const a = new Uint8Array([1]);
    const b = new Uint8Array([2]);
    const { externalData } = await load('tiny-e5', { 'config.json': withChunks, 'onnx/model.onnx_data': a, 'onnx/model.onnx_data_1': b });
    expect(externalData).toEqual([
      { path: 'onnx/model.onnx_data', data: a },
      { path: 'onnx/model.onnx_data_1', data: b },
    ]);

    const log: string[] = [];
    const without = JSON.stringify({ ...config, 'transformers.js_config': { use_external_data_format: false } });
    const none = await load('tiny-e5', { 'config.json': without, 'onnx/model.onnx_data': a }, {}, log);
    expect(none.externalData).toEqual([]);
    expect(log.some((u) => u.endsWith('_data'))).toBe(false);
  });

  it('external data the config announces but the folder lacks is an error', async () => {
    const config = fixtureJson('tiny-e5', 'config.json');
    const withOne = JSON.stringify({ ...config, 'transformers.js_config': { use_external_data_format: true } });
    await expect(load('tiny-e5', { 'config.json': withOne })).rejects.toThrow(/has no onnx\/model\.onnx_data/);
  });
});

describe('where the folder is', () => {
  it('a relative URL (./, ../ or /) resolves against the page (or worker) location and gains its trailing slash', async () => {
    vi.stubGlobal('location', { href: pathToFileURL(MODELS).href + '/index.html' });
    const { spec } = await loadModel('./tiny-e5', { fetchFile: diskFetchFile() });
    expect(spec.baseUrl).toBe(fixtureUrl('tiny-e5'));
    expect(spec.id).toBe('./tiny-e5');
  });

  it('a bare name that is not a preset is no longer read as a folder under the page: a ModelLoadError listing the presets', async () => {
    // (it used to be a folder relative to the page, or in the library's worker its assets folder)
    vi.stubGlobal('location', { href: pathToFileURL(MODELS).href + '/index.html' });
    const log: string[] = [];
    const err = await loadModel('tiny-e5', { fetchFile: diskFetchFile({}, log) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelLoadError);
    expect((err as Error).message).toMatch(/'tiny-e5' is neither a preset, a hub id nor a model folder URL.*Presets, closest first: .*qwen3-embedding-0\.6b/);
    expect(log).toEqual([]);
  });

  it('a preset id (any case) reads from its folder URL', async () => {
    const log: string[] = [];
    const fetchFile = diskFetchFile();
    await loadModel('Multilingual-E5-Small', {
      fetchFile: async (url) => {
        log.push(url);
        return fetchFile(fixtureUrl('tiny-e5') + url.slice(PRESETS['multilingual-e5-small'].url.length), {});
      },
      dtype: 'fp32',
    });
    expect(log[0]).toBe(`${PRESETS['multilingual-e5-small'].url}config.json`);
  });

  it('an already-aborted signal rejects with its reason before any fetch', async () => {
    const log: string[] = [];
    const reason = new DOMException('stop', 'AbortError');
    await expect(load('tiny-e5', {}, { signal: AbortSignal.abort(reason) }, log)).rejects.toBe(reason);
    expect(log).toEqual([]);
  });
});

describe('a broken folder fails with a ModelLoadError naming the URL', () => {
  it('missing tokenizer.json', async () => {
    const err = await load('tiny-e5', { 'tokenizer.json': 'missing' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelLoadError);
    expect((err as ModelLoadError).url).toBe(fixtureUrl('tiny-e5') + 'tokenizer.json');
    expect((err as Error).message).toContain('has no tokenizer.json');
    expect((err as Error).message).toContain('onnx/model.onnx');
  });

  it('a web page instead of config.json', async () => {
    const err = await load('tiny-e5', { 'config.json': '<!DOCTYPE html><html><body>Sign in</body></html>' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelLoadError);
    expect((err as ModelLoadError).url).toBe(fixtureUrl('tiny-e5') + 'config.json');
    expect((err as Error).message).toMatch(/not valid JSON: it starts with '<!DOCTYPE' — the server returned a web page/);
  });

  it('truncated JSON', async () => {
    await expect(load('tiny-e5', { 'tokenizer_config.json': '{"model_max_length": 51' })).rejects.toThrow(/tokenizer_config\.json is not valid JSON: .*truncated or corrupt/);
  });

  it('an optional file that exists but is broken is an error, not skipped', async () => {
    await expect(load('tiny-e5', { 'modules.json': '<html>oops</html>' })).rejects.toThrow(/modules\.json is not valid JSON/);
  });

  it.each([
    ['random bytes', new Uint8Array([0x42, 0x13, 0x37, 0x00, 0xff]), /starts with the bytes 42 13 37 00 ff/],
    ['an empty file', new Uint8Array(), /empty \(0 bytes\)/],
    ['a web page', '<!DOCTYPE html><html></html>', /starts with '<!DOCTYPE' — the server returned a web page/],
    ['a Git LFS pointer', 'version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 123\n', /Git LFS pointer/],
  ] as const)('ONNX bytes that are %s', async (_what, bytes, message) => {
    const err = await load('tiny-e5', { 'onnx/model.onnx': bytes }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelLoadError);
    expect((err as ModelLoadError).url).toBe(fixtureUrl('tiny-e5') + 'onnx/model.onnx');
    expect((err as Error).message).toMatch(/is not an ONNX model/);
    expect((err as Error).message).toMatch(message);
  });

  it("NV-Embed's head file missing", async () => {
    await expect(load('tiny-nv-embed', { 'latent_attention.safetensors': 'missing' })).rejects.toThrow(/has no latent_attention\.safetensors/);
  });

  it("NV-Embed's head file that is not safetensors, or lacks the latents", async () => {
    await expect(load('tiny-nv-embed', { 'latent_attention.safetensors': new Uint8Array([1, 2, 3]) })).rejects.toThrow(/not a readable safetensors file/);
    const config = fixtureJson('tiny-nv-embed', 'config.json');
    const other = JSON.stringify({ ...config, latent_attention_config: { ...(config.latent_attention_config as object), num_latents_value: 7 } });
    await expect(load('tiny-nv-embed', { 'config.json': other })).rejects.toThrow(/latents of shape \[7, 32\].*found \[16,32\]/);
  });

  it('latent-attention pooling asked of a folder without the head', async () => {
    await expect(load('tiny-e5', {}, { pooling: 'latent-attention' })).rejects.toThrow(/no latent_attention_config: pass \{ pooling/);
  });

  it("a pooling mode we do not compute names the file and the option to pass", async () => {
    const pooling = JSON.stringify({ word_embedding_dimension: 32, pooling_mode_max_tokens: true });
    await expect(load('tiny-e5', { '1_Pooling/config.json': pooling })).rejects.toThrow(/pooling_mode_max_tokens.*pass \{ pooling/);
  });
});

/** A real ONNX encoding (onnx-proto) of a graph whose one initializer lives in an external file. */
function onnxWithExternalData(location: string): Uint8Array {
  const { onnx } = onnxProto;
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 17 }],
      graph: {
        name: 'g',
        initializer: [
          {
            name: 'w',
            dims: [1],
            dataType: onnx.TensorProto.DataType.FLOAT,
            dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
            externalData: [
              { key: 'location', value: location },
              { key: 'offset', value: '0' },
              { key: 'length', value: '4' },
            ],
          },
        ],
        node: [{ opType: 'Identity', input: ['w'], output: ['y'] }],
        output: [{ name: 'y', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 1 }] } } } }],
      },
    }),
  ).finish();
}
