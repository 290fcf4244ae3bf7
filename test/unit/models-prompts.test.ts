/**
 * Prompt formatting, byte for byte as MODELS.md gives it per family, and the reading of
 * config_sentence_transformers.json's prompts into our two tasks.
 */
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/models/folder.ts';
import { PRESETS } from '../../src/models/presets.ts';
import { assertTask, formatPrompt, promptPrefix, promptsFromSentenceTransformers } from '../../src/models/prompts.ts';
import { diskFetchFile, fixtureUrl } from './helpers/model-folders.ts';

const WEB_SEARCH = 'Given a web search query, retrieve relevant passages that answer the query';
const qwen3 = PRESETS['qwen3-embedding-0.6b'];
const e5 = PRESETS['multilingual-e5-small'];
const e5Instruct = PRESETS['multilingual-e5-large-instruct'];

describe('per family, exactly', () => {
  it("Qwen3-Embedding: 'Instruct: {instruction}\\nQuery:{query}' with no space; documents raw", () => {
    expect(formatPrompt(qwen3, 'what', 'query')).toBe(`Instruct: ${WEB_SEARCH}\nQuery:what`);
    expect(formatPrompt(qwen3, 'what', 'query', 'Find the answer')).toBe('Instruct: Find the answer\nQuery:what');
    expect(formatPrompt(qwen3, 'what', 'document')).toBe('what');
  });

  it('Qwen3-Embedding from its own folder gives the same bytes', async () => {
    const { spec } = await loadModel(fixtureUrl('tiny-qwen3-embedding'), { fetchFile: diskFetchFile() });
    expect(formatPrompt(spec, 'what', 'query')).toBe(`Instruct: ${WEB_SEARCH}\nQuery:what`);
    expect(formatPrompt(spec, 'what', 'query', 'Find the answer')).toBe('Instruct: Find the answer\nQuery:what');
    expect(formatPrompt(spec, 'what', 'document')).toBe('what');
  });

  it("E5: 'query: ' and 'passage: '; an instruction has nowhere to go and is ignored", () => {
    expect(formatPrompt(e5, 'how to bake bread', 'query')).toBe('query: how to bake bread');
    expect(formatPrompt(e5, 'Bread is baked.', 'document')).toBe('passage: Bread is baked.');
    expect(formatPrompt(e5, 'x', 'query', 'ignored')).toBe('query: x');
  });

  it("E5-instruct: 'Instruct: {task}\\nQuery: {q}' with a space; documents raw", () => {
    expect(formatPrompt(e5Instruct, 'what', 'query')).toBe(`Instruct: ${WEB_SEARCH}\nQuery: what`);
    expect(formatPrompt(e5Instruct, 'what', 'query', 'Retrieve code')).toBe('Instruct: Retrieve code\nQuery: what');
    expect(formatPrompt(e5Instruct, 'what', 'document')).toBe('what');
  });

  it("NV-Embed (its folder): 'Instruct: {task}\\nQuery: {query}'; passages without instruction", async () => {
    const { spec } = await loadModel(fixtureUrl('tiny-nv-embed'), { fetchFile: diskFetchFile() });
    expect(formatPrompt(spec, 'what', 'query')).toBe(`Instruct: ${WEB_SEARCH}\nQuery: what`);
    expect(formatPrompt(spec, 'what', 'query', 'Retrieve code')).toBe('Instruct: Retrieve code\nQuery: what');
    expect(formatPrompt(spec, 'what', 'document')).toBe('what');
  });

  it("an instruction is put in literally, '$&' and all", () => {
    expect(promptPrefix(qwen3, 'query', 'cost in $& and $1')).toBe('Instruct: cost in $& and $1\nQuery:');
  });

  it('a template with no instruction and no default asks for one', () => {
    expect(() => promptPrefix({ prompts: { query: 'Instruct: {instruction}\nQuery:' } }, 'query')).toThrow(/pass \{ instruction \}/);
  });

  it("an unknown task is a RangeError listing 'query' | 'document'", () => {
    // @ts-expect-error: not a task
    expect(() => formatPrompt(e5, 'x', 'passage')).toThrow(RangeError);
    // @ts-expect-error: not a task
    expect(() => formatPrompt(e5, 'x', 'passage')).toThrow(/Unknown task "passage": expected 'query' \| 'document'/);
    expect(() => assertTask(undefined)).toThrow(RangeError);
  });
});

describe("reading config_sentence_transformers.json's prompts", () => {
  it("maps E5's 'passage' to 'document'", () => {
    expect(promptsFromSentenceTransformers({ query: 'query: ', passage: 'passage: ' })).toEqual({ prompts: { query: 'query: ', document: 'passage: ' } });
  });

  it("prefers 'document' over 'passage' when both are there, and ignores other names", () => {
    expect(promptsFromSentenceTransformers({ document: 'd: ', passage: 'p: ', classification: 'c: ' })).toEqual({ prompts: { document: 'd: ' } });
  });

  it("turns 'Instruct: …\\nQuery:' into a template with the instruction as its default, keeping the space or its absence", () => {
    expect(promptsFromSentenceTransformers({ query: `Instruct: ${WEB_SEARCH}\nQuery:`, document: '' })).toEqual({
      prompts: { query: 'Instruct: {instruction}\nQuery:', document: '' },
      defaultInstruction: WEB_SEARCH,
    });
    expect(promptsFromSentenceTransformers({ query: 'Instruct: Find code\nQuery: ' })).toEqual({
      prompts: { query: 'Instruct: {instruction}\nQuery: ' },
      defaultInstruction: 'Find code',
    });
  });

  it('no prompts, or not an object: none', () => {
    expect(promptsFromSentenceTransformers({})).toEqual({ prompts: {} });
    expect(promptsFromSentenceTransformers(undefined)).toEqual({ prompts: {} });
    expect(promptsFromSentenceTransformers('query: ')).toEqual({ prompts: {} });
  });
});
