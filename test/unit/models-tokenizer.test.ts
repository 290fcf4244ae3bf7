/**
 * Our tokenizer (over @huggingface/tokenizers) gives transformers.js' AutoTokenizer's ids for the
 * same folder, on plain texts, awkward ones and the formatted prompts; head/tail are the special
 * tokens its post-processor adds; the pad id is the tokenizer's; an appended EOS is added once.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AutoTokenizer, env } from '@huggingface/transformers';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../src/models/folder.ts';
import { formatPrompt } from '../../src/models/prompts.ts';
import { createTextTokenizer } from '../../src/models/tokenizer.ts';
import type { LoadedModel } from '../../src/models/types.ts';
import { diskFetchFile, fixtureUrl, MODELS } from './helpers/model-folders.ts';

env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = MODELS + '/';

const TEXTS = [
  'Hello world',
  'The QUICK brown fox; jumps over the lazy dog!',
  'Café déjà vu — naïve coöperation',
  '北京是中国的首都。東京は日本の首都です。',
  '👍🏽 ok 🤖🚀',
  '  lots   of\tspace\n\nand newlines  ',
  'pi is 3.14159, a million is 1,000,000',
  "don't won't they're I'll",
  'special literals: <|endoftext|> [SEP] [CLS] <|im_start|>',
  '',
  'a'.repeat(300),
  'word '.repeat(200).trim(),
];

const read = (name: string, file: string) => JSON.parse(readFileSync(join(MODELS, name, file), 'utf8')) as Record<string, unknown>;

describe.each(['tiny-e5', 'tiny-qwen3-embedding', 'glove-sif'])('%s tokenizes like transformers.js', (name) => {
  let model: LoadedModel;
  let reference: Awaited<ReturnType<typeof AutoTokenizer.from_pretrained>>;

  beforeAll(async () => {
    model = await loadModel(fixtureUrl(name), { fetchFile: diskFetchFile() });
    reference = await AutoTokenizer.from_pretrained(name);
  });

  const withPrompts = () => [
    ...TEXTS,
    formatPrompt(model.spec, 'what is the capital of France?', 'query'),
    formatPrompt(model.spec, 'what is the capital of France?', 'query', 'Given a question, find its answer'),
    formatPrompt(model.spec, 'Paris is the capital of France.', 'document'),
  ];

  it('with special tokens', () => {
    for (const text of withPrompts()) expect(model.tokenizer.encode(text), JSON.stringify(text)).toEqual(reference.encode(text));
  });

  it('without special tokens', () => {
    for (const text of withPrompts()) {
      expect(model.tokenizer.encode(text, { addSpecialTokens: false }), JSON.stringify(text)).toEqual(reference.encode(text, { add_special_tokens: false }));
    }
  });

  it('head and tail are what the post-processor puts around a text; the pad id is the tokenizer’s', () => {
    const { head, tail } = model.tokenizer;
    for (const text of ['x', 'Hello world']) {
      const plain = reference.encode(text, { add_special_tokens: false });
      expect([...head, ...plain, ...tail]).toEqual(reference.encode(text));
    }
    expect(model.tokenizer.padId).toBe(reference.pad_token_id ?? 0);
  });

  it('decodes its own ids back to the (normalized) text', () => {
    const ids = model.tokenizer.encode('Hello world', { addSpecialTokens: false });
    expect(model.tokenizer.decode?.(ids).toLowerCase()).toBe('hello world');
  });
});

describe('appending the EOS token', () => {
  it('adds it after a tokenizer that does not (the reranker fixture has no EOS post-processor)', () => {
    const plain = createTextTokenizer(read('tiny-qwen3-reranker', 'tokenizer.json'), read('tiny-qwen3-reranker', 'tokenizer_config.json'));
    const withEos = createTextTokenizer(read('tiny-qwen3-reranker', 'tokenizer.json'), read('tiny-qwen3-reranker', 'tokenizer_config.json'), {
      appendEos: 151643,
    });
    expect(plain.tail).toEqual([]);
    expect(withEos.tail).toEqual([151643]);
    expect(withEos.encode('Hello world')).toEqual([...plain.encode('Hello world'), 151643]);
    expect(withEos.encode('Hello world', { addSpecialTokens: false })).toEqual(plain.encode('Hello world'));
  });

  it('does not add it twice after a tokenizer that already does', () => {
    const tok = createTextTokenizer(read('tiny-qwen3-embedding', 'tokenizer.json'), read('tiny-qwen3-embedding', 'tokenizer_config.json'), {
      appendEos: 151643,
    });
    expect(tok.tail).toEqual([151643]);
    expect(tok.encode('Hello world').filter((id) => id === 151643)).toHaveLength(1);
  });
});
