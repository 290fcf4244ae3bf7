/**
 * TextTokenizer over @huggingface/tokenizers (the library transformers.js v4 itself uses), so
 * ids match transformers.js' AutoTokenizer for the same folder. Adds what the engine needs and
 * the library does not say directly: the special tokens around a single text, and the pad id.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import type { PairTemplate, TextTokenizer } from './types.ts';

export interface TextTokenizerOptions {
  /**
   * A token id to append after every text when the post-processor does not already end with it
   * (NV-Embed's add_eos; Qwen3-Embedding's <|endoftext|> with an older tokenizer.json).
   */
  appendEos?: number;
}

/**
 * @example
 * const tok = createTextTokenizer(tokenizerJson, tokenizerConfig);
 * tok.encode('hello'); // [101, 7592, 102] for a BERT vocab
 * tok.head; // [101]   tok.tail; // [102]
 */
export function createTextTokenizer(
  tokenizerJson: Record<string, unknown>,
  tokenizerConfig: Record<string, unknown>,
  options: TextTokenizerOptions = {},
): TextTokenizer {
  const tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
  const raw = (text: string, special: boolean) => tokenizer.encode(text, { add_special_tokens: special }).ids;
  const { head, tail: processorTail } = specialTokensAround(raw);
  const eos = options.appendEos;
  const appendsEos = eos !== undefined && processorTail[processorTail.length - 1] !== eos;
  const tail = appendsEos ? [...processorTail, eos] : processorTail;

  return {
    encode(text, opts) {
      if (opts?.addSpecialTokens === false) return raw(text, false);
      const ids = raw(text, true);
      if (appendsEos) ids.push(eos);
      return ids;
    },
    decode(ids) {
      return tokenizer.decode(ids, { skip_special_tokens: true });
    },
    padId: padTokenId(tokenizer, tokenizerJson, tokenizerConfig),
    head,
    tail,
    tokenId: (token) => tokenizer.token_to_id(token),
    ...pairTemplateOf(tokenizer),
  };
}

/**
 * The post-processor's tokens around a pair, found like `specialTokensAround`: encode a probe pair
 * with and without special tokens, and find each text's plain ids inside the full encoding.
 */
function pairTemplateOf(tokenizer: Tokenizer): { pair?: PairTemplate } {
  const [a, b] = ['hello world', 'x y z 1 2 3'];
  const plainA = tokenizer.encode(a, { add_special_tokens: false }).ids;
  const plainB = tokenizer.encode(b, { add_special_tokens: false }).ids;
  let full: { ids: number[]; token_type_ids: number[] };
  try {
    full = tokenizer.encode(a, { text_pair: b, add_special_tokens: true, return_token_type_ids: true });
  } catch {
    return {};
  }
  const at = (ids: number[], from: number) => {
    for (let i = from; i + ids.length <= full.ids.length; i++) if (ids.every((id, k) => full.ids[i + k] === id)) return i;
    return -1;
  };
  const i = at(plainA, 0);
  const j = i < 0 ? -1 : at(plainB, i + plainA.length);
  if (i < 0 || j < 0) return {};
  const types = full.token_type_ids ?? full.ids.map(() => 0);
  const end = j + plainB.length;
  return {
    pair: {
      head: full.ids.slice(0, i),
      middle: full.ids.slice(i + plainA.length, j),
      tail: full.ids.slice(end),
      types: {
        head: types.slice(0, i),
        first: types[i] ?? 0,
        middle: types.slice(i + plainA.length, j),
        second: types[j] ?? 0,
        tail: types.slice(end),
      },
    },
  };
}

/**
 * The post-processor's tokens before and after a single text, found by encoding probe texts with
 * and without special tokens and locating the plain ids inside the full ones.
 */
function specialTokensAround(encode: (text: string, special: boolean) => number[]): { head: number[]; tail: number[] } {
  for (const probe of ['hello world', 'a', 'x y z 1 2 3']) {
    const plain = encode(probe, false);
    const full = encode(probe, true);
    if (plain.length === 0) continue;
    for (let at = 0; at + plain.length <= full.length; at++) {
      if (plain.every((id, i) => full[at + i] === id)) return { head: full.slice(0, at), tail: full.slice(at + plain.length) };
    }
  }
  // A post-processor that rewrites the text's own ids: take the empty text's specials as a head.
  return { head: encode('', true), tail: [] };
}

function padTokenId(tokenizer: Tokenizer, tokenizerJson: Record<string, unknown>, tokenizerConfig: Record<string, unknown>): number {
  const pad = tokenizerConfig.pad_token;
  const padText = typeof pad === 'string' ? pad : pad && typeof pad === 'object' ? (pad as { content?: unknown }).content : undefined;
  if (typeof padText === 'string') {
    const id = tokenizer.token_to_id(padText);
    if (id !== undefined) return id;
  }
  const padding = tokenizerJson.padding as { pad_id?: unknown } | null | undefined;
  if (padding && typeof padding.pad_id === 'number') return padding.pad_id;
  return 0;
}
