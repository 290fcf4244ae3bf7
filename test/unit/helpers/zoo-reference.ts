/**
 * The model zoo (`npm run zoo` → test/fixtures/zoo/): encoder folders made as the hub's
 * Xenova / onnx-community folders are, each with `reference.json`, the PyTorch
 * sentence-transformers answers (fp32, normalized) that the real-encoder tests hold us to.
 * Read here, with the retrieval corpus those answers were computed on; nothing from src/.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const ZOO = join(REPO, 'test', 'fixtures', 'zoo');

/** The zoo's models, in the order the tables list them. */
export const ZOO_MODELS = ['all-minilm-l6-v2', 'bge-small-en-v1.5-shape', 'multilingual-e5-small-shape'] as const;
export type ZooModel = (typeof ZOO_MODELS)[number];

export type ZooDtype = 'fp32' | 'fp16' | 'q8' | 'int8' | 'uint8' | 'q4' | 'q4f16' | 'bnb4';
export type ZooTask = 'query' | 'document';

/** transformers.js' dtype names → the file in onnx/ (its conversion scripts' naming). */
export const DTYPE_FILES: Record<ZooDtype, string> = {
  fp32: 'model.onnx',
  fp16: 'model_fp16.onnx',
  q8: 'model_quantized.onnx',
  int8: 'model_int8.onnx',
  uint8: 'model_uint8.onnx',
  q4: 'model_q4.onnx',
  q4f16: 'model_q4f16.onnx',
  bnb4: 'model_bnb4.onnx',
};
export const ZOO_DTYPES = Object.keys(DTYPE_FILES) as ZooDtype[];
/** The dtypes whose weights or activations are float16: WebGPU runs them only with 'shader-f16'. */
export const F16_DTYPES: readonly ZooDtype[] = ['fp16', 'q4f16'];

export interface ZooProbe {
  text: string;
  task: ZooTask;
  /** the text with the model's prompt, as sentence-transformers fed it */
  input: string;
  /** tokens after truncation to maxTokens, special tokens included */
  tokens: number;
  embedding: number[];
}

export interface ZooReference {
  model: string;
  pooling: 'mean' | 'cls';
  normalize: boolean;
  maxTokens: number;
  prompts: Record<ZooTask, string>;
  probe: ZooProbe[];
  /** PyTorch's vectors of the retrieval corpus, in the corpus files' order */
  retrieval: { queries: number[][]; paragraphs: number[][] };
}

export const zooFolder = (model: ZooModel): string => join(ZOO, model);

export function readReference(model: ZooModel): ZooReference {
  return JSON.parse(readFileSync(join(zooFolder(model), 'reference.json'), 'utf8')) as ZooReference;
}

/** The dtypes whose file the zoo wrote for this model (a failed conversion leaves its file out). */
export function dtypesPresent(model: ZooModel): ZooDtype[] {
  return ZOO_DTYPES.filter((d) => existsSync(join(zooFolder(model), 'onnx', DTYPE_FILES[d])));
}

/**
 * Whether the file quantizes activations at run time (DynamicQuantizeLinear: q8, int8, uint8),
 * with one scale per tensor, so per batch: a text's vector then depends on what it is batched with.
 */
export function dynamicallyQuantized(model: ZooModel, dtype: ZooDtype): boolean {
  return readFileSync(join(zooFolder(model), 'onnx', DTYPE_FILES[dtype])).includes('DynamicQuantizeLinear');
}

/** Why the zoo wrote no file for some of a model's dtypes (manifest.json: models[model].failed). */
export function missingDtypeNotes(model: ZooModel): string[] {
  const manifest = JSON.parse(readFileSync(join(ZOO, 'manifest.json'), 'utf8')) as { models?: Record<string, { failed?: Record<string, unknown> }> };
  const failed = manifest.models?.[model]?.failed ?? {};
  const present = new Set(dtypesPresent(model));
  return ZOO_DTYPES.filter((d) => !present.has(d)).map((d) => `${d}: no ${DTYPE_FILES[d]}${d in failed ? ` (${JSON.stringify(failed[d])})` : ''}`);
}

export interface RetrievalCorpus {
  queries: { text: string; expected: string }[];
  paragraphs: { id: string; text: string }[];
}

/** examples/corpus: 40 queries, each answered by one of the 240 paragraphs (`expected` is its id). */
export function retrievalCorpus(): RetrievalCorpus {
  const read = (f: string) => JSON.parse(readFileSync(join(REPO, 'examples', 'corpus', f), 'utf8')) as unknown;
  const queries = (read('paragraph-queries.json') as { query: string; expected: string }[]).map((q) => ({ text: q.query, expected: q.expected }));
  const paragraphs = read('paragraphs.json') as { id: string; text: string }[];
  return { queries, paragraphs: paragraphs.map((p) => ({ id: p.id, text: p.text })) };
}
