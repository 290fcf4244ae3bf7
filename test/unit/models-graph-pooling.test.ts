/**
 * How a model's facts change once its ONNX graph is read (src/models/spec.ts): a graph that outputs
 * sentence_embedding pools by itself (pooling 'graph', its width the model's), over the folder's
 * Pooling module and the preset, but not over the caller; a preset or caller that says 'graph' for
 * a graph without that output is an error naming what the graph has.
 */
import { describe, expect, it } from 'vitest';
import { ModelLoadError } from '../../src/errors.ts';
import type { OnnxValueInfo } from '../../src/models/onnx/onnx-graph.ts';
import { PRESETS } from '../../src/models/presets.ts';
import { resolveSpecFacts, type FolderFiles } from '../../src/models/spec.ts';

const URL_ = 'https://example.test/gemma/';
const FILE = 'onnx/model.onnx';
// EmbeddingGemma's folder shape: config.json's hidden_size is the transformer's, not the pooled output's.
const base: FolderFiles = {
  config: { model_type: 'gemma3_text', architectures: ['Gemma3TextModel'], hidden_size: 64, max_position_embeddings: 2048 },
  tokenizerConfig: { padding_side: 'right', model_max_length: 32768 },
  hasLatentAttention: false,
};
const hidden: OnnxValueInfo = { name: 'last_hidden_state', elemType: 1, dims: ['batch_size', 'sequence_length', 64] };
const pooled = (dims: OnnxValueInfo['dims']): OnnxValueInfo => ({ name: 'sentence_embedding', elemType: 1, dims });
const withGraph = (outputs: OnnxValueInfo[], more: Partial<FolderFiles> = {}): FolderFiles => ({ ...base, ...more, graph: { file: FILE, outputs } });
// A sentence-transformers folder that says mean pooling (as optimum's sentence-transformers exports carry).
const meanModule = { pooling: { pooling_mode_mean_tokens: true }, modules: [{ type: 'sentence_transformers.models.Pooling', path: '1_Pooling' }] };

describe("pooling 'graph'", () => {
  it('a sentence_embedding output makes the pooling the graph\'s and its static width the model\'s, over the folder\'s Pooling module', () => {
    expect(resolveSpecFacts({ ...base, ...meanModule }, undefined, {}, URL_)).toMatchObject({ pooling: 'mean', dimensions: 64 });
    const facts = resolveSpecFacts(withGraph([hidden, pooled(['batch_size', 768])], meanModule), undefined, {}, URL_);
    expect(facts).toMatchObject({ pooling: 'graph', dimensions: 768, matryoshka: { trained: false } });
  });

  it('the preset\'s Matryoshka sizes apply to the graph\'s width, not to config.json\'s hidden_size', () => {
    const facts = resolveSpecFacts(withGraph([hidden, pooled(['batch_size', 768])]), PRESETS['embeddinggemma-300m'], {}, URL_);
    expect(facts).toMatchObject({ pooling: 'graph', dimensions: 768, matryoshka: { trained: true, sizes: { min: 128, max: 768 }, source: 'preset' }, paddingSide: 'right', maxTokens: 2048 });
  });

  it('a caller who asks for another pooling gets it: the token states are pooled as asked', () => {
    const facts = resolveSpecFacts(withGraph([hidden, pooled(['batch_size', 768])]), undefined, { pooling: 'mean' }, URL_);
    expect(facts).toMatchObject({ pooling: 'mean', dimensions: 64 });
  });

  it('a symbolic width: the preset\'s width, else config.json\'s (the engine checks what the graph gives)', () => {
    const symbolic = withGraph([hidden, pooled(['batch_size', 'embedding_dim'])]);
    expect(resolveSpecFacts(symbolic, PRESETS['embeddinggemma-300m'], {}, URL_).dimensions).toBe(768);
    expect(resolveSpecFacts(symbolic, undefined, {}, URL_).dimensions).toBe(64);
  });

  it("'graph' from the preset or the caller, on a graph without sentence_embedding: an error that names the graph's outputs", () => {
    const plain = withGraph([hidden]);
    for (const [preset, overrides] of [[PRESETS['embeddinggemma-300m'], {}], [undefined, { pooling: 'graph' as const }]] as const) {
      let error: unknown;
      try {
        resolveSpecFacts(plain, preset, overrides, URL_);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ModelLoadError);
      expect((error as Error).message).toMatch(new RegExp(`pooling 'graph' needs a graph that outputs sentence_embedding, and ${URL_}${FILE} outputs last_hidden_state:`));
    }
    // before the graph is read (the folder's JSON files only) the preset's word stands
    expect(resolveSpecFacts(base, PRESETS['embeddinggemma-300m'], {}, URL_).pooling).toBe('graph');
  });

  it('a sentence_embedding that is not [batch, width] is refused', () => {
    expect(() => resolveSpecFacts(withGraph([pooled(['batch_size', 'sequence_length', 768])]), undefined, {}, URL_)).toThrow(/has 3 dimensions .* a pooled output is \[batch, width\]/);
  });
});
