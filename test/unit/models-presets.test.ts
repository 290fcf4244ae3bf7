/**
 * The presets table is well-formed: every record can be loaded as it stands (a folder URL, a
 * default dtype it lists, a pooling, limits), and holds its model's facts: its prompts format to
 * the text its family's card gives, and its pooling, width and limits are the card's (FACTS below,
 * written from ../shared/MODELS.md and the cards, not from presets.ts).
 */
import { describe, expect, it } from 'vitest';
import { DTYPES, onnxFileFor } from '../../src/models/onnx-files.ts';
import { findPreset, PRESETS, type PresetId } from '../../src/models/presets.ts';
import { promptPrefix } from '../../src/models/prompts.ts';
import type { Dtype } from '../../src/models/types.ts';

const POOLINGS = ['mean', 'cls', 'last-token', 'latent-attention', 'graph'];

/**
 * The facts of each model, written here from ../shared/MODELS.md and the models' cards, not read
 * from presets.ts: what it is fed before a text per task (the default instruction filled in), its
 * pooling, width, token limit and padding, and for a reranker its kind. A preset added without a
 * row here fails to type-check.
 */
const WEB_SEARCH = 'Given a web search query, retrieve relevant passages that answer the query'; // Qwen3-Embedding's default task (MODELS.md), the E5-instruct card's example
const E5 = { query: 'query: ', document: 'passage: ' }; // MODELS.md: the prefixes 'query: ' and 'passage: '
const NONE = { query: '', document: '' };
interface Facts {
  prompts: { query: string; document: string };
  pooling: string;
  dimensions: number;
  maxTokens: number;
  paddingSide: 'left' | 'right';
  reranker?: 'yes-no' | 'cross-encoder';
}
const FACTS: Record<PresetId, Facts> = {
  // MODELS.md: 'Instruct: {task}\nQuery:{query}' (no space after 'Query:'), documents as they are; last token, left padding; 1024 wide; the card's 32k context
  'qwen3-embedding-0.6b': { prompts: { query: `Instruct: ${WEB_SEARCH}\nQuery:`, document: '' }, pooling: 'last-token', dimensions: 1024, maxTokens: 32768, paddingSide: 'left' },
  // MODELS.md: its graph pools (sentence_embedding, 768 wide), prompts 'task: search result | query: ' and 'title: none | text: '; the card's 2048-token context
  'embeddinggemma-300m': { prompts: { query: 'task: search result | query: ', document: 'title: none | text: ' }, pooling: 'graph', dimensions: 768, maxTokens: 2048, paddingSide: 'right' },
  // MODELS.md: masked mean; the cards: MiniLM 384, XLM-R base 768 and large 1024 wide, 512 tokens
  'multilingual-e5-small': { prompts: E5, pooling: 'mean', dimensions: 384, maxTokens: 512, paddingSide: 'right' },
  'multilingual-e5-base': { prompts: E5, pooling: 'mean', dimensions: 768, maxTokens: 512, paddingSide: 'right' },
  'multilingual-e5-large': { prompts: E5, pooling: 'mean', dimensions: 1024, maxTokens: 512, paddingSide: 'right' },
  // MODELS.md: 'Instruct: {task}\nQuery: {q}' for queries (a space after 'Query:'), documents raw
  'multilingual-e5-large-instruct': { prompts: { query: `Instruct: ${WEB_SEARCH}\nQuery: `, document: '' }, pooling: 'mean', dimensions: 1024, maxTokens: 512, paddingSide: 'right' },
  // MODELS.md: CLS pooling; the card: the query instruction for retrieval, passages without one; 384 wide, 512 tokens
  'bge-small-en-v1.5': { prompts: { query: 'Represent this sentence for searching relevant passages: ', document: '' }, pooling: 'cls', dimensions: 384, maxTokens: 512, paddingSide: 'right' },
  // MODELS.md: mean; sentence-transformers' card: 384 wide, inputs cut at 256 word pieces, no prompts
  'all-minilm-l6-v2': { prompts: NONE, pooling: 'mean', dimensions: 384, maxTokens: 256, paddingSide: 'right' },
  // MODELS.md: a causal LM asked "yes" or "no" at the last token (1024 wide, as the embedder); Qwen's example cuts at 8192 tokens
  'qwen3-reranker-0.6b': { prompts: NONE, pooling: 'last-token', dimensions: 1024, maxTokens: 8192, paddingSide: 'left', reranker: 'yes-no' },
  // MODELS.md: cross-encoders (sequence classification, one logit); XLM-R base 768 and MiniLM-L6 384 wide, 512 tokens
  'bge-reranker-base': { prompts: NONE, pooling: 'cls', dimensions: 768, maxTokens: 512, paddingSide: 'right', reranker: 'cross-encoder' },
  'ms-marco-minilm-l-6-v2': { prompts: NONE, pooling: 'cls', dimensions: 384, maxTokens: 512, paddingSide: 'right', reranker: 'cross-encoder' },
};

describe.each(Object.entries(PRESETS))('preset %s', (id, p) => {
  it('has a folder URL ending in /, a default dtype among its dtypes, a pooling and limits', () => {
    expect(() => new URL(p.url)).not.toThrow();
    expect(p.url.endsWith('/')).toBe(true);
    expect(p.url).toMatch(/^https:\/\/huggingface\.co\/[^/]+\/[^/]+\/resolve\/(main|[0-9a-f]{40})\/$/);
    expect(Object.keys(p.dtypes).length).toBeGreaterThan(0);
    for (const [dtype, file] of Object.entries(p.dtypes)) {
      expect(DTYPES).toContain(dtype);
      expect(file!.sizeMB).toBeGreaterThan(0);
      // A dtype's external data is named after its own ONNX file: '<onnx>_data', '<onnx>_data_1', ...
      const onnx = onnxFileFor(dtype as Dtype);
      for (const data of file!.externalData ?? []) expect(data).toMatch(new RegExp(`^${onnx.replace(/\./g, '\\.')}_data(_\\d+)?$`));
    }
    expect(Object.keys(p.dtypes)).toContain(p.defaultDtype);
    expect(POOLINGS).toContain(p.pooling);
    expect(Number.isInteger(p.maxTokens) && p.maxTokens >= 128).toBe(true);
    expect(Number.isInteger(p.dimensions) && p.dimensions > 0).toBe(true);
    expect(['left', 'right']).toContain(p.paddingSide);
    if (p.matryoshka) expect(p.matryoshka.min).toBeLessThan(p.dimensions);
    expect(findPreset(id.toUpperCase())?.preset).toBe(p);
  });

  it('pins SHA-256s only at a pinned revision, which its URL resolves at', () => {
    // The revision is part of the weight cache's key: it must name the bytes the URL serves, so a
    // preset that pins one resolves at that commit. A hash pinned on a moving 'main' would refuse
    // a legitimately updated file, so hashes go with a pinned commit only.
    if (p.revision !== undefined) {
      expect(p.revision).toMatch(/^[0-9a-f]{40}$/);
      expect(p.url.endsWith(`/resolve/${p.revision}/`)).toBe(true);
    } else {
      expect(p.url.endsWith('/resolve/main/')).toBe(true);
    }
    for (const [dtype, file] of Object.entries(p.dtypes)) {
      const pins = Object.entries(file!.sha256 ?? {});
      if (pins.length) expect(p.revision, `${id} ${dtype} pins a SHA-256 on main`).toBeDefined();
      for (const [path, hash] of pins) {
        expect(hash).toMatch(/^[0-9a-f]{64}$/);
        // a pin names one of this dtype's own files, or the cache would check nothing
        expect([onnxFileFor(dtype as Dtype), ...(file!.externalData ?? [])]).toContain(path);
      }
    }
  });

  it('its prompts format without error, an instruction template always having a default', () => {
    const facts = FACTS[id as PresetId];
    for (const task of ['query', 'document'] as const) expect(promptPrefix(p, task)).toBe(facts.prompts[task]);
    const templated = Object.values(p.prompts).some((s) => s?.includes('{instruction}'));
    expect(templated).toBe('defaultInstruction' in p && typeof p.defaultInstruction === 'string');
    // a caller's instruction takes the default's place, taken literally ('$&' is no replacement pattern here)
    const asked = 'Find recipes with $& in them';
    for (const task of ['query', 'document'] as const) expect(promptPrefix(p, task, asked)).toBe(facts.prompts[task].split(WEB_SEARCH).join(asked));
    expect(facts.prompts.query.includes(WEB_SEARCH)).toBe(templated);
  });

  it("matches its model's facts: pooling, width, token limit, padding, and what kind of reranker it is", () => {
    const facts = FACTS[id as PresetId];
    expect({ pooling: p.pooling, dimensions: p.dimensions, maxTokens: p.maxTokens, paddingSide: p.paddingSide, reranker: p.reranker?.kind }).toEqual({
      pooling: facts.pooling,
      dimensions: facts.dimensions,
      maxTokens: facts.maxTokens,
      paddingSide: facts.paddingSide,
      reranker: facts.reranker,
    });
  });
});

describe('facts per family', () => {
  it('Qwen3-Embedding-0.6B: last token, left padding, Matryoshka from 32, width 1024, EOS appended; fp32 and fp16 with external data', () => {
    const p = PRESETS['qwen3-embedding-0.6b'];
    expect(p).toMatchObject({ pooling: 'last-token', paddingSide: 'left', dimensions: 1024, matryoshka: { min: 32 }, appendEos: true, maxTokens: 32768 });
    expect(p.prompts).toEqual({ query: 'Instruct: {instruction}\nQuery:' });
    expect(p.dtypes.fp32?.externalData).toEqual(['onnx/model.onnx_data']);
    // the hub's fp16 export keeps its weights beside the graph too (two public sources, presets.ts)
    expect(p.dtypes.fp16?.externalData).toEqual(['onnx/model_fp16.onnx_data']);
  });

  it('Qwen3-Embedding-4B / -8B are not presets: their ONNX repositories hold fp32 only (16 / 30 GB), no file a browser can load', () => {
    expect(findPreset('qwen3-embedding-4b')).toBeUndefined();
    expect(findPreset('qwen3-embedding-8b')).toBeUndefined();
  });

  it("E5: mean, normalized, 512 tokens, 'query: ' / 'passage: ' (the -instruct model: an instruction for queries, raw documents)", () => {
    for (const id of ['multilingual-e5-small', 'multilingual-e5-base', 'multilingual-e5-large'] as const) {
      expect(PRESETS[id]).toMatchObject({ pooling: 'mean', normalize: true, maxTokens: 512, prompts: { query: 'query: ', document: 'passage: ' } });
    }
    expect(PRESETS['multilingual-e5-large-instruct'].prompts).toEqual({ query: 'Instruct: {instruction}\nQuery: ', document: '' });
  });

  it("EmbeddingGemma-300m: its graph pools (sentence_embedding, 768 wide), the card's prompts, Matryoshka down to 128, 2048 tokens, right padding, no fp16 files", () => {
    const p = PRESETS['embeddinggemma-300m'];
    expect(p).toMatchObject({ pooling: 'graph', normalize: true, dimensions: 768, matryoshka: { min: 128 }, maxTokens: 2048, paddingSide: 'right' });
    // the card's "Retrieval (Query)" and "Retrieval (Document)" prompts, with the title left as 'none'
    expect(p.prompts).toEqual({ query: 'task: search result | query: ', document: 'title: none | text: ' });
    // "EmbeddingGemma activations do not support fp16 or its derivatives. Please use fp32, q8, or q4"
    expect(Object.keys(p.dtypes).sort()).toEqual(['fp32', 'q4', 'q8']);
    // every file of the repository comes with its .onnx_data
    for (const [dtype, file] of Object.entries(p.dtypes)) expect(file!.externalData).toEqual([`onnx/${dtype === 'fp32' ? 'model' : dtype === 'q8' ? 'model_quantized' : `model_${dtype}`}.onnx_data`]);
  });

  it('bge-small-en-v1.5 pools CLS; all-MiniLM-L6-v2 the mean over 256 tokens', () => {
    expect(PRESETS['bge-small-en-v1.5']).toMatchObject({ pooling: 'cls', dimensions: 384 });
    expect(PRESETS['all-minilm-l6-v2']).toMatchObject({ pooling: 'mean', dimensions: 384, maxTokens: 256 });
  });
});
