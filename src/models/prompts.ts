/**
 * Prompts: the text a model wants before an input, per task (MODELS.md).
 *   E5:                 'query: ' / 'passage: '
 *   E5-instruct:        'Instruct: {instruction}\nQuery: ' for queries, documents raw
 *   Qwen3-Embedding:    'Instruct: {instruction}\nQuery:' for queries (no space), documents raw
 *   NV-Embed:           'Instruct: {instruction}\nQuery: ' for queries, passages raw
 * A prompt may hold '{instruction}', filled by the caller's instruction or the model's default.
 */
import type { ModelSpec, Task } from './types.ts';

export const TASKS: readonly Task[] = ['query', 'document'];
export const INSTRUCTION_SLOT = '{instruction}';

/** Throws a RangeError unless `task` is 'query' or 'document'. */
export function assertTask(task: unknown): asserts task is Task {
  if (!TASKS.includes(task as Task)) {
    throw new RangeError(`Unknown task ${JSON.stringify(task)}: expected 'query' | 'document'.`);
  }
}

/**
 * The text put before an input of this task, with the instruction filled in ('' when the model
 * has no prompt for the task).
 *
 * @example
 * promptPrefix(qwen3Spec, 'query', 'Find the answer'); // 'Instruct: Find the answer\nQuery:'
 */
export function promptPrefix(spec: Pick<ModelSpec, 'prompts' | 'defaultInstruction'>, task: Task, instruction?: string): string {
  assertTask(task);
  const prompt = spec.prompts[task] ?? '';
  if (!prompt.includes(INSTRUCTION_SLOT)) return prompt;
  const filled = instruction ?? spec.defaultInstruction;
  if (filled === undefined) {
    throw new RangeError(`This model's ${task} prompt takes an instruction and the model has no default: pass { instruction }.`);
  }
  // A function replacement, so that '$&' or '$1' in an instruction stay literal.
  return prompt.replace(INSTRUCTION_SLOT, () => filled);
}

/**
 * The input as the model wants it for a task.
 *
 * @example
 * formatPrompt(e5Spec, 'how to bake bread', 'query'); // 'query: how to bake bread'
 */
export function formatPrompt(spec: Pick<ModelSpec, 'prompts' | 'defaultInstruction'>, text: string, task: Task, instruction?: string): string {
  return promptPrefix(spec, task, instruction) + text;
}

/**
 * Reads config_sentence_transformers.json's "prompts" into our tasks: 'query' and 'document'
 * ('passage' is E5's name for it). A prompt of the form 'Instruct: <text>\nQuery:' (Qwen3,
 * NV-Embed, E5-instruct) becomes a template whose <text> is the default instruction, so that a
 * caller's instruction replaces it.
 */
export function promptsFromSentenceTransformers(raw: unknown): { prompts: Partial<Record<Task, string>>; defaultInstruction?: string } {
  const prompts: Partial<Record<Task, string>> = {};
  let defaultInstruction: string | undefined;
  if (!raw || typeof raw !== 'object') return { prompts };
  const named = raw as Record<string, unknown>;
  for (const [name, task] of [['query', 'query'], ['document', 'document'], ['passage', 'document']] as const) {
    const value = named[name];
    if (typeof value !== 'string' || (name === 'passage' && typeof named.document === 'string')) continue;
    const instruct = /^Instruct: ([\s\S]*?)\nQuery:( ?)$/.exec(value);
    if (instruct) {
      prompts[task] = `Instruct: ${INSTRUCTION_SLOT}\nQuery:${instruct[2]}`;
      defaultInstruction ??= instruct[1];
    } else {
      prompts[task] = value;
    }
  }
  return defaultInstruction === undefined ? { prompts } : { prompts, defaultInstruction };
}
