/**
 * The presets table is well-formed: every record can be loaded as it stands (a folder URL, a
 * default dtype it lists, a pooling, limits) and its prompts format as their family's card says.
 */
import { describe, expect, it } from 'vitest';
import { DTYPES } from '../../src/models/onnx-files.ts';
import { findPreset, PRESETS } from '../../src/models/presets.ts';
import { promptPrefix } from '../../src/models/prompts.ts';

const POOLINGS = ['mean', 'cls', 'last-token', 'latent-attention'];

describe.each(Object.entries(PRESETS))('preset %s', (id, p) => {
  it('has a folder URL ending in /, a default dtype among its dtypes, a pooling and limits', () => {
    expect(() => new URL(p.url)).not.toThrow();
    expect(p.url.endsWith('/')).toBe(true);
    expect(p.url).toMatch(/^https:\/\/huggingface\.co\/[^/]+\/[^/]+\/resolve\/main\/$/);
    expect(Object.keys(p.dtypes).length).toBeGreaterThan(0);
    for (const [dtype, file] of Object.entries(p.dtypes)) {
      expect(DTYPES).toContain(dtype);
      expect(file!.sizeMB).toBeGreaterThan(0);
      for (const data of file!.externalData ?? []) expect(data).toMatch(/^onnx\/model(_\w+)?\.onnx_data(_\d+)?$/);
    }
    expect(Object.keys(p.dtypes)).toContain(p.defaultDtype);
    expect(POOLINGS).toContain(p.pooling);
    expect(Number.isInteger(p.maxTokens) && p.maxTokens >= 128).toBe(true);
    expect(Number.isInteger(p.dimensions) && p.dimensions > 0).toBe(true);
    expect(['left', 'right']).toContain(p.paddingSide);
    if (p.matryoshka) expect(p.matryoshka.min).toBeLessThan(p.dimensions);
    expect(findPreset(id.toUpperCase())?.preset).toBe(p);
  });

  it('its prompts format without error, an instruction template always having a default', () => {
    for (const task of ['query', 'document'] as const) expect(typeof promptPrefix(p, task)).toBe('string');
    const templated = Object.values(p.prompts).some((s) => s?.includes('{instruction}'));
    expect(templated).toBe('defaultInstruction' in p && typeof p.defaultInstruction === 'string');
  });
});

describe('facts per family', () => {
  it('Qwen3-Embedding: last token, left padding, Matryoshka from 32, widths 1024 / 2560 / 4096, EOS appended', () => {
    const widths = { 'qwen3-embedding-0.6b': 1024, 'qwen3-embedding-4b': 2560, 'qwen3-embedding-8b': 4096 } as const;
    for (const [id, width] of Object.entries(widths)) {
      const p = PRESETS[id as keyof typeof widths];
      expect(p).toMatchObject({ pooling: 'last-token', paddingSide: 'left', dimensions: width, matryoshka: { min: 32 }, appendEos: true, maxTokens: 32768 });
      expect(p.prompts).toEqual({ query: 'Instruct: {instruction}\nQuery:' });
    }
    expect(PRESETS['qwen3-embedding-0.6b'].dtypes.fp32?.externalData).toEqual(['onnx/model.onnx_data']);
  });

  it("E5: mean, normalized, 512 tokens, 'query: ' / 'passage: ' (the -instruct model: an instruction for queries, raw documents)", () => {
    for (const id of ['multilingual-e5-small', 'multilingual-e5-base', 'multilingual-e5-large'] as const) {
      expect(PRESETS[id]).toMatchObject({ pooling: 'mean', normalize: true, maxTokens: 512, prompts: { query: 'query: ', document: 'passage: ' } });
    }
    expect(PRESETS['multilingual-e5-large-instruct'].prompts).toEqual({ query: 'Instruct: {instruction}\nQuery: ', document: '' });
  });

  it('bge-small-en-v1.5 pools CLS; all-MiniLM-L6-v2 the mean over 256 tokens', () => {
    expect(PRESETS['bge-small-en-v1.5']).toMatchObject({ pooling: 'cls', dimensions: 384 });
    expect(PRESETS['all-minilm-l6-v2']).toMatchObject({ pooling: 'mean', dimensions: 384, maxTokens: 256 });
  });
});
