/**
 * A preset's file list against the zoo's look-alike of its hub folder (issue #18): the zoo
 * (test/fixtures/zoo, `npm run zoo`, built by the test setup) exports small models the way the
 * hub's folders were made, so where a preset and its zoo twin disagree on which ONNX file a dtype
 * is, which external data goes with it, or what the graph's inputs and outputs are, one of them
 * is wrong about the hub. Read from the zoo's manifest.json (what the builder wrote, per dtype:
 * file, external data, inputs, outputs) and checked against the files on disk.
 *
 * Where the zoo differs from the hub on purpose, the twin says so below, with the reason, and
 * the difference itself is checked (the exception names the zoo's actual value), so an exception
 * cannot hide a new difference. With WEBGPU_EMBED_SKIP_ZOO=1 (no zoo wanted) the zoo checks skip;
 * otherwise a missing zoo fails here.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { onnxFileFor } from '../../src/models/onnx-files.ts';
import { PRESETS, type ModelPreset, type PresetId } from '../../src/models/presets.ts';
import type { Dtype } from '../../src/models/types.ts';
import { ZOO } from './helpers/zoo-reference.ts';

interface ZooDtype {
  file: string;
  external_data: string[];
  inputs: { name: string }[];
  outputs: { name: string }[];
}
interface ZooEntry {
  dtypes: Partial<Record<Dtype, ZooDtype>>;
  files: Record<string, number>;
}

/** The hub export's graph signature, where a source says it ('*' stands for a layer index). */
interface Signature {
  inputs?: string[];
  /** the first outputs, in order (a KV-cache export adds present.* after them) */
  outputs: string[];
  source: string;
}

interface Twin {
  zoo: string;
  preset: PresetId;
  /** dtypes the zoo builds that the hub folder (at the preset's revision) does not have: why */
  zooOnly: Partial<Record<Dtype, string>>;
  /** external data the zoo's export has where the hub's differs: the zoo's list, and why */
  externalData?: Partial<Record<Dtype, { zoo: string[]; why: string }>>;
  signature: Signature;
  /** inputs the zoo's graph has where the hub's differ: the zoo's list (normalized), and why */
  inputsDiffer?: { zoo: string[]; why: string };
}

const V3_MODES =
  "the zoo runs every mode of transformers.js' quantize.py (the dtype tests need each file); the hub folder at the pinned commit predates the " +
  'converter that writes them';
const BERT_IO = ['input_ids', 'attention_mask', 'token_type_ids'];

const TWINS: Twin[] = [
  {
    zoo: 'all-minilm-l6-v2',
    preset: 'all-minilm-l6-v2',
    zooOnly: { uint8: V3_MODES, q4: V3_MODES, q4f16: V3_MODES, bnb4: V3_MODES },
    // ergosumx/tokenx examples/.models/all-minilm-l6-v2/README.md read the hub's model_quantized.onnx with onnxruntime
    signature: { inputs: BERT_IO, outputs: ['last_hidden_state'], source: "onnxruntime's session inputs of the hub's model_quantized.onnx (ergosumx/tokenx)" },
  },
  {
    zoo: 'bge-small-en-v1.5-shape',
    preset: 'bge-small-en-v1.5',
    zooOnly: { int8: V3_MODES, uint8: V3_MODES, q4: V3_MODES, q4f16: V3_MODES, bnb4: V3_MODES },
    signature: { inputs: BERT_IO, outputs: ['last_hidden_state'], source: "a BertModel (the hub's tree page tags it bert) through the same optimum export as all-MiniLM-L6-v2" },
  },
  {
    zoo: 'multilingual-e5-small-shape',
    preset: 'multilingual-e5-small',
    zooOnly: { int8: V3_MODES, uint8: V3_MODES, q4: V3_MODES, q4f16: V3_MODES, bnb4: V3_MODES },
    externalData: {
      fp32: {
        zoo: ['onnx/model.onnx_data'],
        why: "scripts/zoo/models.py saves this fp32 as model.onnx + model.onnx_data on purpose (external_data=True), so an encoder's external-data path is tested; the hub's model.onnx is one 470 MB file",
      },
    },
    signature: { inputs: BERT_IO, outputs: ['last_hidden_state'], source: "a BertModel with token_type_ids (the hub's tree page tags it bert; the zoo's own note in manifest.json says so)" },
    inputsDiffer: {
      zoo: ['input_ids', 'attention_mask'],
      why: "the zoo's look-alike is multilingual-e5-base/-large's XLMRobertaModel made small (no token type input); the real -small is a BertModel",
    },
  },
  {
    zoo: 'qwen3-embedding-shape',
    preset: 'qwen3-embedding-0.6b',
    zooOnly: {},
    externalData: {
      fp16: {
        zoo: [],
        why: "a toy-size fp16 (20 MB) is saved inline by quantize.py's fp16 mode; the hub's 1.19 GB fp16 keeps its weights in model_fp16.onnx_data",
      },
    },
    // 28 layers on the hub, 2 in the zoo: compared with '*' for the layer index
    signature: {
      inputs: ['input_ids', 'attention_mask', 'position_ids', 'past_key_values.*.key', 'past_key_values.*.value'],
      outputs: ['last_hidden_state'],
      source: "MODELS.md; memd's loader, which feeds the hub's model_int8.onnx position_ids and 28 empty past_key_values pairs",
    },
  },
  {
    zoo: 'embeddinggemma-shape',
    preset: 'embeddinggemma-300m',
    zooOnly: {
      fp16: "the hub has model_fp16.onnx but its card says EmbeddingGemma's activations do not support fp16, so the preset leaves it out; the zoo builds it to test the dtype path",
      q4f16: 'as fp16: on the hub, left out of the preset (fp16 activations)',
    },
    // the card's own example: `_, sentence_embedding = session.run(None, inputs)` with input_ids and attention_mask
    signature: { inputs: ['input_ids', 'attention_mask'], outputs: ['last_hidden_state', 'sentence_embedding'], source: "onnx-community/embeddinggemma-300m-ONNX's card (its onnxruntime example)" },
  },
  {
    zoo: 'qwen3-reranker-gqa-shape',
    preset: 'qwen3-reranker-0.6b',
    zooOnly: { fp32: 'kept for the PyTorch comparison at full precision; the hub ships none ("fp32 and fp16 variants are not provided", its card)' },
    // The hub's input list was not found (its card names the ops, not the inputs): outputs only.
    signature: { outputs: ['logits'], source: 'MODELS.md and the hub card: a causal LM whose output is logits [B,T,vocab]' },
  },
];

/** Input names with layer indices replaced by '*', each name once, in order. */
function normalizeNames(names: string[]): string[] {
  return [...new Set(names.map((n) => n.replace(/^(past_key_values|present)\.\d+\./, '$1.*.')))];
}

/**
 * Where a preset and its zoo twin disagree, in words; [] when they agree (exceptions included).
 * `onDisk` says whether a zoo file exists (the manifest's claims are checked against the folder).
 */
function disagreements(twin: Twin, preset: ModelPreset, zoo: ZooEntry, onDisk: (path: string) => boolean): string[] {
  const out: string[] = [];
  const presetDtypes = Object.keys(preset.dtypes) as Dtype[];
  const zooDtypes = Object.keys(zoo.dtypes) as Dtype[];
  for (const d of presetDtypes) if (!zoo.dtypes[d]) out.push(`${twin.preset} lists ${d}, which the zoo's ${twin.zoo} does not build`);
  for (const d of zooDtypes) {
    if (!preset.dtypes[d] && !twin.zooOnly[d]) out.push(`the zoo builds ${d} (${zoo.dtypes[d]!.file}), which ${twin.preset} does not list and no exception explains`);
  }
  for (const d of Object.keys(twin.zooOnly) as Dtype[]) {
    if (preset.dtypes[d]) out.push(`${d} is listed as zoo-only, but ${twin.preset} lists it`);
    if (!zoo.dtypes[d]) out.push(`${d} is listed as zoo-only, but the zoo does not build it`);
  }
  for (const d of zooDtypes) {
    const z = zoo.dtypes[d]!;
    const file = `onnx/${z.file}`;
    const zooData = z.external_data.map((f) => `onnx/${f}`);
    for (const f of [file, ...zooData]) if (!(f in zoo.files) || !onDisk(f)) out.push(`the zoo's ${twin.zoo} lacks ${f} on disk or in its manifest`);
    // the file each dtype means is the same on both sides (transformers.js' naming)
    if (file !== onnxFileFor(d)) out.push(`${d}: the zoo wrote ${file}, the loader reads ${onnxFileFor(d)}`);

    const inputs = normalizeNames(z.inputs.map((i) => i.name));
    const outputs = z.outputs.map((o) => o.name);
    const sig = twin.signature;
    if (sig.inputs) {
      const want = twin.inputsDiffer ? twin.inputsDiffer.zoo : sig.inputs;
      if (inputs.join() !== want.join()) out.push(`${d}: the zoo's inputs are ${inputs.join(', ')}, expected ${want.join(', ')}${twin.inputsDiffer ? ' (the recorded difference)' : ` (${sig.source})`}`);
    }
    if (outputs.slice(0, sig.outputs.length).join() !== sig.outputs.join()) out.push(`${d}: the zoo's outputs start ${outputs.join(', ')}, expected ${sig.outputs.join(', ')} (${sig.source})`);

    const p = preset.dtypes[d];
    if (!p) continue;
    if (p.externalData === undefined) {
      out.push(`${twin.preset} ${d} leaves its external data to the graph: state it, the zoo's export has [${zooData.join(', ')}]`);
      continue;
    }
    const exception = twin.externalData?.[d];
    if (exception) {
      if (exception.zoo.join() !== zooData.join()) out.push(`${d}: the recorded zoo external data [${exception.zoo.join(', ')}] is not the zoo's [${zooData.join(', ')}]`);
      if (exception.zoo.join() === p.externalData.join()) out.push(`${d}: an external-data exception is recorded, but the preset and the zoo agree`);
    } else if (p.externalData.join() !== zooData.join()) {
      out.push(`${d}: ${twin.preset} lists external data [${p.externalData.join(', ')}], the zoo's export has [${zooData.join(', ')}]`);
    }
  }
  if (twin.inputsDiffer && twin.signature.inputs && twin.inputsDiffer.zoo.join() === twin.signature.inputs.join()) {
    out.push('an inputs exception is recorded, but the zoo has the hub signature');
  }
  return out;
}

const skipZoo = process.env.WEBGPU_EMBED_SKIP_ZOO === '1';
const manifestPath = join(ZOO, 'manifest.json');
const readManifest = () => JSON.parse(readFileSync(manifestPath, 'utf8')) as { models: Record<string, ZooEntry> };

describe.skipIf(skipZoo)('presets against their zoo twins', () => {
  it('the zoo is there (the test setup builds it; WEBGPU_EMBED_SKIP_ZOO=1 skips these checks)', () => {
    expect(existsSync(manifestPath), `${manifestPath}: run npm run zoo`).toBe(true);
  });

  it.each(TWINS.map((t) => [t.preset, t.zoo, t] as const))('%s ↔ zoo %s', (_p, _z, twin) => {
    const zoo = readManifest().models[twin.zoo];
    expect(zoo, `the zoo has no ${twin.zoo}`).toBeDefined();
    expect(disagreements(twin, PRESETS[twin.preset], zoo!, (f) => existsSync(join(ZOO, twin.zoo, f)))).toEqual([]);
  });
});

describe('the comparison finds what it is for', () => {
  // A zoo entry and a preset that agree, then each kind of disagreement made on purpose: the
  // checker must name it, or the twin tests above could pass by checking nothing.
  const sig = { inputs: ['input_ids', 'attention_mask'], outputs: ['last_hidden_state'], source: 'test' };
  const twin: Twin = { zoo: 'z', preset: 'all-minilm-l6-v2', zooOnly: { q4: 'test' }, signature: sig };
  const entry = (file: string, data: string[] = []): ZooDtype => ({
    file,
    external_data: data,
    inputs: [{ name: 'input_ids' }, { name: 'attention_mask' }],
    outputs: [{ name: 'last_hidden_state' }],
  });
  const zoo = (): ZooEntry => ({
    dtypes: { fp32: entry('model.onnx', ['model.onnx_data']), q8: entry('model_quantized.onnx'), q4: entry('model_q4.onnx') },
    files: { 'onnx/model.onnx': 1, 'onnx/model.onnx_data': 1, 'onnx/model_quantized.onnx': 1, 'onnx/model_q4.onnx': 1 },
  });
  const preset = (): ModelPreset => ({
    ...PRESETS['all-minilm-l6-v2'],
    dtypes: { fp32: { sizeMB: 1, externalData: ['onnx/model.onnx_data'] }, q8: { sizeMB: 1, externalData: [] } },
  });
  const all = () => true;

  it('agreement is no disagreement', () => {
    expect(disagreements(twin, preset(), zoo(), all)).toEqual([]);
  });

  it('a dtype on one side only, without an exception', () => {
    const p = preset();
    p.dtypes.fp16 = { sizeMB: 1, externalData: [] };
    expect(disagreements(twin, p, zoo(), all)).toEqual(["all-minilm-l6-v2 lists fp16, which the zoo's z does not build"]);
    expect(disagreements({ ...twin, zooOnly: {} }, preset(), zoo(), all)).toEqual([
      'the zoo builds q4 (model_q4.onnx), which all-minilm-l6-v2 does not list and no exception explains',
    ]);
  });

  it('external data that differs, or that the preset leaves unsaid', () => {
    const p = preset();
    p.dtypes.fp32 = { sizeMB: 1, externalData: [] };
    expect(disagreements(twin, p, zoo(), all)).toEqual(['fp32: all-minilm-l6-v2 lists external data [], the zoo\'s export has [onnx/model.onnx_data]']);
    p.dtypes.fp32 = { sizeMB: 1 };
    expect(disagreements(twin, p, zoo(), all)).toEqual(["all-minilm-l6-v2 fp32 leaves its external data to the graph: state it, the zoo's export has [onnx/model.onnx_data]"]);
    // an exception must name the zoo's real list, and must be needed
    const excepted = { ...twin, externalData: { fp32: { zoo: ['onnx/model.onnx_data'], why: 'test' } } };
    expect(disagreements(excepted, preset(), zoo(), all)).toEqual(['fp32: an external-data exception is recorded, but the preset and the zoo agree']);
  });

  it('a file the zoo names but does not have, and a graph signature that differs', () => {
    expect(disagreements(twin, preset(), zoo(), (f) => f !== 'onnx/model.onnx_data')).toEqual(["the zoo's z lacks onnx/model.onnx_data on disk or in its manifest"]);
    const z = zoo();
    z.dtypes.q8!.inputs.push({ name: 'token_type_ids' });
    z.dtypes.q4!.outputs = [{ name: 'logits' }];
    expect(disagreements(twin, preset(), z, all)).toEqual([
      'q8: the zoo\'s inputs are input_ids, attention_mask, token_type_ids, expected input_ids, attention_mask (test)',
      "q4: the zoo's outputs start logits, expected last_hidden_state (test)",
    ]);
  });

  it('layer-indexed inputs compare by pattern', () => {
    expect(normalizeNames(['input_ids', 'past_key_values.0.key', 'past_key_values.0.value', 'past_key_values.27.key', 'past_key_values.27.value'])).toEqual([
      'input_ids',
      'past_key_values.*.key',
      'past_key_values.*.value',
    ]);
  });
});
