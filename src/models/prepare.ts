/**
 * Texts → token ids the model takes: the task's prompt, the tokenizer's special tokens, a cut
 * at maxTokens that keeps the closing special tokens (Qwen3's last-token pooling must still see
 * <|endoftext|>, BERT its [SEP]), and NV-Embed's instruction tokens left out of the pooling.
 * Long texts can instead be cut into overlapping windows (chunkText).
 */
import { promptPrefix } from './prompts.ts';
import type { LoadedModel, PreparedText, Task } from './types.ts';

type Model = Pick<LoadedModel, 'spec' | 'tokenizer'>;

export interface PrepareOptions {
  /** 'query' | 'document' (default 'document'): chooses the model's prompt */
  task?: Task | undefined;
  /** fills the prompt's '{instruction}'; the model's default instruction when left out */
  instruction?: string | undefined;
  /** a lower limit than the model's maxTokens */
  maxTokens?: number | undefined;
}

export interface ChunkOptions extends PrepareOptions {
  /** tokens of the text shared by neighbouring windows (default 0); less than a window */
  overlap?: number | undefined;
}

/** One window of a long text. */
export interface TextChunk extends PreparedText {
  /** the window's tokens within the text's own tokens (prompt and special tokens not counted): [start, end) */
  start: number;
  end: number;
  /** the window's text, decoded from its tokens (after the tokenizer's normalization, e.g. lowercased) */
  text?: string;
}

/**
 * Formats, tokenizes and (when too long) cuts each text. Checks its input: `texts` must be an
 * array of strings (a TypeError names the first entry that is not); [] gives [].
 *
 * @example
 * const [q] = prepareTexts(model, ['what is a cat?'], { task: 'query' });
 * q.ids;        // [...prompt tokens, ...text tokens, <|endoftext|>]
 * q.truncated;  // false
 */
export function prepareTexts(model: Model, texts: readonly string[], opts: PrepareOptions = {}): PreparedText[] {
  checkTexts(texts);
  if (texts.length === 0) return [];
  const { tokenizer } = model;
  const { prefix, limit, poolSkip } = setup(model, opts);
  return texts.map((text) => {
    const full = tokenizer.encode(prefix + text);
    const ids = full.length <= limit ? full : [...full.slice(0, limit - tokenizer.tail.length), ...tokenizer.tail];
    return { ids, poolSkip: clampSkip(poolSkip, ids.length), truncated: full.length > limit, fullLength: full.length };
  });
}

/**
 * Cuts a text into windows that each fit the model: head + prompt + a window of the text's
 * tokens + tail, neighbouring windows sharing `overlap` tokens, together covering every token.
 * A text that fits gives one window, equal to prepareTexts' result.
 *
 * @example
 * const windows = chunkText(model, longDocument, { overlap: 32, maxTokens: 512 });
 * windows.map((w) => [w.start, w.end]); // [[0, 480], [448, 928], ...]
 */
export function chunkText(model: Model, text: string, opts: ChunkOptions = {}): TextChunk[] {
  if (typeof text !== 'string') throw new TypeError(`text must be a string, got ${describe(text)}.`);
  const { tokenizer } = model;
  const { prefix, limit, poolSkip } = setup(model, opts);
  const overlap = opts.overlap ?? 0;

  // Tokenize prompt and text together, as prepareTexts does, then split them where the prompt's
  // own tokens stop matching (a BPE token may straddle the boundary: it goes with the text).
  const joint = tokenizer.encode(prefix + text, { addSpecialTokens: false });
  const promptOnly = prefix ? tokenizer.encode(prefix, { addSpecialTokens: false }) : [];
  let k = 0;
  while (k < promptOnly.length && k < joint.length && promptOnly[k] === joint[k]) k++;
  const promptIds = joint.slice(0, k);
  const textIds = joint.slice(k);
  const { head, tail } = tokenizer;
  const fullLength = head.length + joint.length + tail.length;

  const window = limit - head.length - promptIds.length - tail.length;
  if (window < 1) throw new RangeError(`The prompt takes ${promptIds.length} of ${limit} tokens and leaves no room for text: raise maxTokens or shorten the instruction.`);
  if (!Number.isInteger(overlap) || overlap < 0 || overlap >= window) {
    throw new RangeError(`chunkOverlap: the overlap must be an integer from 0 to ${window - 1} (a window holds ${window} tokens of text), got ${overlap}.`);
  }

  const chunks: TextChunk[] = [];
  for (let start = 0; ; start += window - overlap) {
    const end = Math.min(start + window, textIds.length);
    const piece = textIds.slice(start, end);
    const ids = [...head, ...promptIds, ...piece, ...tail];
    const chunk: TextChunk = { ids, poolSkip: clampSkip(poolSkip, ids.length), truncated: false, fullLength, start, end };
    if (tokenizer.decode) chunk.text = tokenizer.decode(piece);
    chunks.push(chunk);
    if (end >= textIds.length) return chunks;
  }
}

function setup(model: Model, opts: PrepareOptions): { prefix: string; limit: number; poolSkip: number } {
  const { spec, tokenizer } = model;
  if (opts.instruction !== undefined && typeof opts.instruction !== 'string') {
    throw new TypeError(`instruction must be a string, got ${describe(opts.instruction)}.`);
  }
  const prefix = promptPrefix(spec, opts.task ?? 'document', opts.instruction);
  const limit = opts.maxTokens === undefined ? spec.maxTokens : Math.min(opts.maxTokens, spec.maxTokens);
  const reserved = tokenizer.head.length + tokenizer.tail.length;
  if (!Number.isInteger(limit) || limit <= reserved) {
    throw new RangeError(`maxTokens must be an integer above ${reserved} (this model's special tokens), got ${opts.maxTokens ?? spec.maxTokens}.`);
  }
  // NV-Embed (MODELS.md): positions [0, n) leave the pooling mean, n = the prompt's tokens
  // counted without special tokens, as NV-Embed's own code counts them.
  const poolSkip = spec.maskInstruction && prefix ? tokenizer.encode(prefix, { addSpecialTokens: false }).length : 0;
  return { prefix, limit, poolSkip };
}

/** At least one token (the EOS) stays in the mean, even when a cut left little besides the prompt. */
function clampSkip(poolSkip: number, length: number): number {
  return Math.max(0, Math.min(poolSkip, length - 1));
}

function checkTexts(texts: unknown): asserts texts is readonly string[] {
  if (!Array.isArray(texts)) throw new TypeError(`texts must be an array of strings, got ${describe(texts)}; wrap a single text as [text].`);
  for (let i = 0; i < texts.length; i++) {
    if (typeof texts[i] !== 'string') throw new TypeError(`texts[${i}] is ${describe(texts[i])}, not a string.`);
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `${typeof v === 'undefined' ? 'undefined' : `a ${typeof v}`}`;
}
