/**
 * What makes a loaded model a reranker, and a (query, document) pair into its tokens.
 *
 *   yes-no (Qwen3-Reranker; any *ForCausalLM folder handed to rerank()): the chat prompt of
 *     MODELS.md, the score softmax([logit "yes", logit "no"])[0] at the last token; the ids of
 *     "yes" and "no" are looked up in the tokenizer (9693 / 2152 for Qwen3); left padding.
 *   cross-encoder (*ForSequenceClassification: bge-reranker-base, ms-marco-MiniLM-L-6-v2): the
 *     tokenizer's pair template ([CLS] query [SEP] document [SEP], token types 0 / 1), one logit
 *     (sigmoid) or two (softmax, the positive label's probability); right padding.
 *
 * A document longer than the model's maximum is cut on the document side only: the template, the
 * instruction and the query always survive.
 */
import { ModelLoadError, YesNoTokenError } from '../errors.ts';
import { findPreset } from './presets.ts';
import { presetForModel } from './source.ts';
import type { LoadedModel, PaddingSide } from './types.ts';

export type RerankerKind = 'yes-no' | 'cross-encoder';

/** A yes/no prompt: `prefix` and `suffix` are tokenized on their own (as Qwen's code does), `body` ends with '{document}'. */
export interface RerankTemplate {
  prefix: string;
  /** holds '{instruction}', '{query}' and, at its end, '{document}' */
  body: string;
  suffix: string;
}

/** Qwen3-Reranker's prompt (MODELS.md), exactly. */
export const QWEN3_RERANK_TEMPLATE: RerankTemplate = {
  prefix:
    '<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the Instruct provided. ' +
    'Note that the answer can only be "yes" or "no".<|im_end|>\n<|im_start|>user\n',
  body: '<Instruct>: {instruction}\n<Query>: {query}\n<Document>: {document}',
  suffix: '<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n',
};

export const DEFAULT_RERANK_INSTRUCTION = 'Given a web search query, retrieve relevant passages that answer the query';

/** What a caller may set over what the folder says. */
export interface RerankerOverrides {
  /** how the model scores; by default from config.json's architectures */
  kind?: RerankerKind;
  /** yes-no: another prompt (default: Qwen3-Reranker's) */
  template?: RerankTemplate;
  /** yes-no: the instruction used when a call gives none */
  defaultInstruction?: string;
  /** yes-no: the answer words, each a single token of the vocabulary (default 'yes' / 'no') */
  yesToken?: string;
  noToken?: string;
  /** cross-encoder with two labels: the index of the relevant one (default: by id2label, else 1) */
  positiveLabel?: number;
}

export interface RerankerSpec {
  kind: RerankerKind;
  /** most tokens per pair, special tokens and template included */
  maxTokens: number;
  paddingSide: PaddingSide;
  template?: RerankTemplate;
  defaultInstruction?: string;
  yes?: { token: string; id: number };
  no?: { token: string; id: number };
  /** cross-encoder: labels config.json declares (1: sigmoid; 2: softmax) */
  labels?: number;
  positiveLabel?: number;
}

type Model = Pick<LoadedModel, 'spec' | 'tokenizer'>;

/**
 * The reranker facts of a loaded model.
 *
 * @example
 * const rs = rerankerSpec(model);
 * rs.kind;   // 'yes-no'
 * rs.yes;    // { token: 'yes', id: 9693 }
 */
export function rerankerSpec(model: Model, o: RerankerOverrides = {}, presetName?: string): RerankerSpec {
  const { spec, tokenizer } = model;
  const config = spec.config;
  const presetKind = (presetName ? findPreset(presetName) : undefined)?.preset.reranker?.kind ?? presetForModel(spec.id)?.preset.reranker?.kind;
  const kind = o.kind ?? presetKind ?? kindFromConfig(config);
  const url = `${spec.baseUrl}config.json`;
  if (!kind) {
    const archs = Array.isArray(config.architectures) ? config.architectures.join(', ') : String(config.model_type ?? 'unknown');
    throw new ModelLoadError(
      `${url} describes ${archs}, which is not a reranker: a reranker is a causal LM asked "yes"/"no" (Qwen3ForCausalLM) or a ` +
        `sequence classifier (…ForSequenceClassification). Use createEmbedder() for embedding models, or pass overrides: { kind }.`,
      url,
    );
  }
  if (kind === 'yes-no') {
    const template = o.template ?? QWEN3_RERANK_TEMPLATE;
    if (!template.body.endsWith('{document}')) throw new RangeError(`a rerank template's body must end with '{document}', got ${JSON.stringify(template.body)}`);
    return {
      kind,
      maxTokens: spec.maxTokens,
      // Left, so the pruned head reads position T-1 only; right where the graph needs it (GroupQueryAttention).
      paddingSide: spec.graph.groupQueryAttention ? 'right' : 'left',
      template,
      defaultInstruction: o.defaultInstruction ?? DEFAULT_RERANK_INSTRUCTION,
      yes: answerToken(model, o.yesToken ?? 'yes', url),
      no: answerToken(model, o.noToken ?? 'no', url),
    };
  }
  if (!tokenizer.pair) {
    throw new ModelLoadError(`${spec.baseUrl}tokenizer.json has no pair template, which a cross-encoder needs to join query and document.`, `${spec.baseUrl}tokenizer.json`);
  }
  const labels = labelCount(config);
  if (labels < 1 || labels > 2) {
    throw new ModelLoadError(`${url} declares ${labels} labels; a relevance cross-encoder has 1 (a score) or 2 (irrelevant / relevant).`, url);
  }
  const positiveLabel = labels === 2 ? (o.positiveLabel ?? positiveFromLabels(config) ?? 1) : 0;
  if (labels === 2 && positiveLabel !== 0 && positiveLabel !== 1) throw new RangeError(`positiveLabel must be 0 or 1, got ${positiveLabel}`);
  return { kind, maxTokens: spec.maxTokens, paddingSide: 'right', labels, positiveLabel };
}

function kindFromConfig(config: Record<string, unknown>): RerankerKind | undefined {
  const archs = Array.isArray(config.architectures) ? config.architectures.map(String) : [];
  if (archs.some((a) => /ForSequenceClassification$/.test(a))) return 'cross-encoder';
  if (archs.some((a) => /ForCausalLM$/.test(a))) return 'yes-no';
  if (archs.length === 0 && /^(qwen2|qwen3|llama|mistral|gemma\d?)$/.test(String(config.model_type ?? ''))) return 'yes-no';
  return undefined;
}

/** The id of an answer word, which must be one token on its own. */
function answerToken(model: Model, token: string, url: string): { token: string; id: number } {
  const { tokenizer } = model;
  const id = tokenizer.tokenId?.(token);
  const alone = tokenizer.encode(token, { addSpecialTokens: false });
  if (id === undefined || alone.length !== 1 || alone[0] !== id) {
    throw new YesNoTokenError(
      `the tokenizer of ${model.spec.baseUrl} has no single token ${JSON.stringify(token)} (it encodes as [${alone.join(', ')}]), so a yes/no ` +
        `score cannot be read from the logits: pass overrides: { yesToken, noToken } with the words the model answers with.`,
      url,
    );
  }
  return { token, id };
}

function labelCount(config: Record<string, unknown>): number {
  if (typeof config.num_labels === 'number') return config.num_labels;
  const id2label = config.id2label;
  if (id2label && typeof id2label === 'object') return Object.keys(id2label).length;
  return 1;
}

/** The relevant class of a two-label classifier, when its labels say which. */
function positiveFromLabels(config: Record<string, unknown>): number | undefined {
  const id2label = config.id2label as Record<string, unknown> | undefined;
  if (!id2label) return undefined;
  for (const [id, label] of Object.entries(id2label)) {
    if (/^(label_1|relevant|positive|yes|true|entailment)$/i.test(String(label))) return Number(id);
  }
  return undefined;
}

/** A (query, document) pair as the model takes it. */
export interface PreparedPair {
  ids: number[];
  /** cross-encoders: the token type of each id */
  typeIds?: number[];
  /** the document was cut to fit maxTokens */
  truncated: boolean;
  /** tokens the pair would have had uncut */
  fullLength: number;
}

/**
 * Formats and tokenizes each (query, document) pair, cutting documents (only) to fit.
 *
 * @example
 * const [p] = preparePairs(model, rs, 'capital of France?', ['Paris is the capital of France.']);
 * p.ids;  // [<|im_start|>, 'system', …, '<Document>', ':', ' Paris', …, '\n\n']
 */
export function preparePairs(model: Model, rs: RerankerSpec, query: string, documents: readonly string[], opts: { instruction?: string | undefined } = {}): PreparedPair[] {
  const { tokenizer } = model;
  const enc = (s: string) => tokenizer.encode(s, { addSpecialTokens: false });
  if (rs.kind === 'yes-no') {
    const t = rs.template!;
    const instruction = opts.instruction ?? rs.defaultInstruction ?? DEFAULT_RERANK_INSTRUCTION;
    const prefix = enc(t.prefix);
    const suffix = enc(t.suffix);
    // Function replacements, so that '$&' in a query or instruction stays literal.
    const head = t.body.slice(0, -'{document}'.length).replace('{instruction}', () => instruction).replace('{query}', () => query);
    const headIds = enc(head);
    const room = rs.maxTokens - prefix.length - suffix.length - headIds.length;
    if (room < 1) throw tooLong(prefix.length + suffix.length + headIds.length, rs.maxTokens, 'the template, the instruction and the query');
    return documents.map((doc) => {
      // Tokenized together, as the model's own code does; the document's tokens are those after
      // the longest run shared with the head alone (a BPE token may straddle the boundary).
      const joint = enc(head + doc);
      let k = 0;
      while (k < headIds.length && k < joint.length && headIds[k] === joint[k]) k++;
      const budget = rs.maxTokens - prefix.length - suffix.length - k;
      const fullLength = prefix.length + joint.length + suffix.length;
      const truncated = joint.length - k > budget;
      const body = truncated ? joint.slice(0, k + budget) : joint;
      return { ids: [...prefix, ...body, ...suffix], truncated, fullLength };
    });
  }
  const pair = tokenizer.pair!;
  const q = enc(query);
  const fixed = pair.head.length + pair.middle.length + pair.tail.length;
  const budget = rs.maxTokens - fixed - q.length;
  if (budget < 1) throw tooLong(fixed + q.length, rs.maxTokens, "the query and the model's special tokens");
  const { types } = pair;
  return documents.map((doc) => {
    const d = enc(doc);
    const kept = d.length > budget ? d.slice(0, budget) : d;
    return {
      ids: [...pair.head, ...q, ...pair.middle, ...kept, ...pair.tail],
      typeIds: [...types.head, ...q.map(() => types.first), ...types.middle, ...kept.map(() => types.second), ...types.tail],
      truncated: d.length > budget,
      fullLength: fixed + q.length + d.length,
    };
  });
}

function tooLong(used: number, max: number, what: string): RangeError {
  return new RangeError(`${what} take ${used} of this model's ${max} tokens, leaving no room for a document: shorten the query (or instruction), or raise maxTokens.`);
}
