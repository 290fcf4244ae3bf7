/**
 * The options of issue #17 through real models in Node (createEmbedder worker: false, device
 * 'wasm', folders served over HTTP from test/fixtures/models):
 *   - Matryoshka as sentence-transformers' truncate_dim: `dimensions: 100` on all-MiniLM-L6-v2,
 *     which was not trained for it, is the full vector's first 100 values re-normalized, and
 *     `info.matryoshka` says it was not trained (overrides.matryoshka says which sizes were);
 *   - dtype 'auto' and the per-file map, pooling in transformers.js' spelling;
 *   - the option checks on a loaded embedder and reranker (the engine never sees a bad signal).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmbedder, createReranker, type Embedder, type EmbedOptions, type RerankOptions } from '../../src/index.ts';
import { startServer, type TestServer } from './helpers/model-folders.ts';

let server: TestServer;
let minilm: Embedder;

beforeAll(async () => {
  server = await startServer();
  minilm = await createEmbedder({ model: server.folder('all-minilm-l6-v2'), worker: false, device: 'wasm' });
}, 120_000);
afterAll(async () => {
  await minilm?.dispose();
  await server?.close();
});

const TEXTS = ['The weather is lovely today.', 'Knead the dough for ten minutes, then let it rise until doubled.', 'a'];

/** The first d values of v, L2-normalized in float64: what truncate_dim and a re-normalization give. */
function cutAndNormalize(v: Float32Array, d: number): number[] {
  const cut = Array.from(v.subarray(0, d));
  const norm = Math.sqrt(cut.reduce((s, x) => s + x * x, 0));
  return cut.map((x) => x / norm);
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.max(...Array.from(a, (x, i) => Math.abs(x - b[i]!)));

describe('Matryoshka on any model, as sentence-transformers truncate_dim', () => {
  it('all-MiniLM-L6-v2 was not trained for it, and info says so', () => {
    expect(minilm.info.dimensions).toBe(384);
    expect(minilm.info.matryoshka).toEqual({ trained: false });
  });

  it('dimensions: 100 gives the full vector cut to 100 values and re-normalized', async () => {
    const full = await minilm.embed(TEXTS);
    const cut = await minilm.embed(TEXTS, { dimensions: 100 });
    expect(cut.dimensions).toBe(100);
    for (const [i, text] of TEXTS.entries()) {
      expect(cut[i]!.length, text).toBe(100);
      expect(Math.hypot(...cut[i]!), text).toBeCloseTo(1, 5);
      // not merely unit length: these values, in this order
      expect(maxAbsDiff(cut[i]!, cutAndNormalize(full[i]!, 100)), text).toBeLessThanOrEqual(1e-6);
    }
  });

  it('1 and the full width are sizes too', async () => {
    const [one] = await minilm.embed([TEXTS[0]!], { dimensions: 1 });
    expect(Array.from(one!)).toEqual([Math.sign(one![0]!)]);
    const [all] = await minilm.embed([TEXTS[0]!], { dimensions: 384 });
    const [plain] = await minilm.embed([TEXTS[0]!]);
    expect(Array.from(all!)).toEqual(Array.from(plain!));
  });

  it('a size outside 1..384 or not an integer is a RangeError listing the range; not a number, a TypeError', async () => {
    for (const d of [0, 385, 100.5, -3]) {
      await expect(minilm.embed(['x'], { dimensions: d })).rejects.toThrow(RangeError);
      await expect(minilm.embed(['x'], { dimensions: d })).rejects.toThrow(/dimensions must be an integer from 1 to 384/);
    }
    await expect(minilm.embed(['x'], { dimensions: '100' as unknown as number })).rejects.toThrow(TypeError);
  });

  it('overrides.matryoshka says which sizes the model was trained for: info reports them, any size still runs', async () => {
    const sized = await createEmbedder({ model: server.folder('tiny-e5'), worker: false, device: 'wasm', overrides: { matryoshka: { sizes: [8, 16] } } });
    const ranged = await createEmbedder({ model: server.folder('tiny-e5'), worker: false, device: 'wasm', overrides: { matryoshka: { min: 8 } } });
    try {
      // the full width is always a trained size
      expect(sized.info.matryoshka).toEqual({ trained: true, sizes: [8, 16, 32], source: 'overrides' });
      expect(ranged.info.matryoshka).toEqual({ trained: true, sizes: { min: 8, max: 32 }, source: 'overrides' });
      // below min, or between the listed sizes: allowed, the app decides whether to warn
      expect((await sized.embed(['x'], { dimensions: 5 })).dimensions).toBe(5);
      expect((await ranged.embed(['x'], { dimensions: 4 })).dimensions).toBe(4);
      await expect(createEmbedder({ model: server.folder('tiny-e5'), worker: false, device: 'wasm', overrides: { matryoshka: { sizes: [64] } } })).rejects.toThrow(
        "overrides.matryoshka.sizes must be a non-empty array of integers from 1 to the model's 32 dimensions",
      );
    } finally {
      await sized.dispose();
      await ranged.dispose();
    }
  });
});

describe("transformers.js' dtype and pooling forms on a real load", () => {
  it("dtype { model: 'fp32' } asks for that file; 'auto' is the device's choice, as leaving dtype out", async () => {
    const asked = await createEmbedder({ model: server.folder('tiny-e5'), worker: false, device: 'wasm', dtype: { model: 'fp32' } });
    const auto = await createEmbedder({ model: server.folder('tiny-e5'), worker: false, device: 'wasm', dtype: 'auto' });
    const left = await createEmbedder({ model: server.folder('tiny-e5'), worker: false, device: 'wasm' });
    try {
      expect(asked.info).toMatchObject({ dtype: 'fp32', dtypeReason: "dtype 'fp32' was asked for" });
      expect(auto.info.dtype).toBe('fp32'); // the folder's only file
      expect(auto.info.dtypeReason).toBe(left.info.dtypeReason);
      expect(auto.info.dtypeReason).toMatch(/this device's dtypes/);
    } finally {
      await Promise.all([asked.dispose(), auto.dispose(), left.dispose()]);
    }
  });

  it("pooling 'first_token' (transformers.js) is 'cls': the same vectors, info in our spelling", async () => {
    const alias = await createEmbedder({ model: server.folder('tiny-e5'), worker: false, device: 'wasm', overrides: { pooling: 'first_token' } });
    const ours = await createEmbedder({ model: server.folder('tiny-e5'), worker: false, device: 'wasm', overrides: { pooling: 'cls' } });
    const mean = await createEmbedder({ model: server.folder('tiny-e5'), worker: false, device: 'wasm' });
    try {
      expect(alias.info.pooling).toBe('cls');
      const [a] = await alias.embed([TEXTS[1]!]);
      const [b] = await ours.embed([TEXTS[1]!]);
      const [m] = await mean.embed([TEXTS[1]!]);
      expect(Array.from(a!)).toEqual(Array.from(b!));
      // and the override took: the folder's own pooling (mean) gives another vector
      expect(maxAbsDiff(a!, m!)).toBeGreaterThan(1e-3);
    } finally {
      await Promise.all([alias.dispose(), ours.dispose(), mean.dispose()]);
    }
  });
});

describe('the option checks on loaded instances', () => {
  it("embed(texts, { signal: {} }) is a TypeError naming signal (it was 't.signal?.throwIfAborted is not a function')", async () => {
    const err = await minilm.embed(['x'], { signal: {} as AbortSignal }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect((err as Error).message).toMatch(/^embed\(\): signal must be an AbortSignal/);
  });

  it("embed(texts, { pooling: 'cls', normalize: false }), the transformers.js way, is a TypeError saying they are load-time overrides", async () => {
    await expect(minilm.embed(['x'], { pooling: 'cls', normalize: false } as EmbedOptions)).rejects.toThrow(
      "embed(): unknown option 'pooling': pooling is a fact of the model, fixed when it loads: createEmbedder({ model, overrides: { pooling } })",
    );
  });

  it("countTokens takes embed()'s options (task and instruction count) and checks them", async () => {
    const opts: EmbedOptions = { task: 'query', dimensions: 100 };
    expect(await minilm.countTokens(['hello world'], opts)).toEqual(await minilm.countTokens(['hello world'], { task: 'query' }));
    await expect(minilm.countTokens(['x'], { tsak: 'query' } as EmbedOptions)).rejects.toThrow("countTokens(): unknown option 'tsak'; did you mean 'task'?");
  });

  it('reranker.rerank() checks its options too', async () => {
    const reranker = await createReranker({ model: server.folder('tiny-cross-encoder'), worker: false, device: 'wasm' });
    try {
      await expect(reranker.rerank('q', ['d'], { top_k: 1 } as RerankOptions)).rejects.toThrow("rerank(): unknown option 'top_k'; did you mean 'topK'?");
      await expect(reranker.rerank('q', ['d'], { signal: {} as AbortSignal })).rejects.toThrow('rerank(): signal must be an AbortSignal');
      expect(await reranker.rerank('q', ['d'], { topK: 1 })).toHaveLength(1);
    } finally {
      await reranker.dispose();
    }
  });
});
