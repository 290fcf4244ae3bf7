/**
 * Hub ids (issue #17): the forms of a model string told apart (preset id, hub id `owner/name[@rev]`,
 * folder URL), a hub id resolved to `${host}/${owner}/${name}/resolve/${revision}/` under the one hub
 * setting (the load option `hub`, else configureHub(), else huggingface.co), a preset's facts for a
 * hub id of its repository (its SHA-256 pins only at the commit they describe), and the errors:
 * a malformed hub id or revision a TypeError with an example of each form, a string of no form a
 * ModelLoadError listing the presets closest first, a hub folder that cannot be had a
 * ModelFileNotFoundError naming the URL and the setting that built it.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { engineLoadOptions } from '../../src/client/options.ts';
import { ModelFileNotFoundError, ModelLoadError } from '../../src/errors.ts';
import { loadModel } from '../../src/models/folder.ts';
import { configureHub } from '../../src/io/hub.ts';
import { editDistance, modelForm, presetsByDistance } from '../../src/models/hub.ts';
import { PRESETS } from '../../src/models/presets.ts';
import { presetForModel, resolveSource } from '../../src/models/source.ts';

const HF = 'https://huggingface.co';
const MINILM_COMMIT = 'cb3d680149bf9a3209564e1b27ab3bb355b65707';

afterEach(() => {
  configureHub();
  vi.unstubAllGlobals();
});

/** The thrown error, for asserting on its class and message. */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

/** An example of each accepted form, as the errors must show them. */
const EACH_FORM = [/'all-minilm-l6-v2'/, /'Xenova\/all-MiniLM-L6-v2'/, /'Xenova\/all-MiniLM-L6-v2@main'/, /'https:\/\/example\.com\/models\/e5\/'/, /'\.\/models\/e5\/'/];

describe('the forms of a model string', () => {
  it.each([
    ['multilingual-e5-small', { kind: 'preset', id: 'multilingual-e5-small' }],
    ['Multilingual-E5-Small', { kind: 'preset', id: 'multilingual-e5-small' }],
    ['  all-minilm-l6-v2 ', { kind: 'preset', id: 'all-minilm-l6-v2' }],
    ['Xenova/all-MiniLM-L6-v2', { kind: 'hub', repo: 'Xenova/all-MiniLM-L6-v2' }],
    ['Xenova/all-MiniLM-L6-v2@main', { kind: 'hub', repo: 'Xenova/all-MiniLM-L6-v2', revision: 'main' }],
    [`Xenova/all-MiniLM-L6-v2@${MINILM_COMMIT}`, { kind: 'hub', repo: 'Xenova/all-MiniLM-L6-v2', revision: MINILM_COMMIT }],
    ['onnx-community/Qwen3-Embedding-0.6B-ONNX@refs/pr/3', { kind: 'hub', repo: 'onnx-community/Qwen3-Embedding-0.6B-ONNX', revision: 'refs/pr/3' }],
    ['https://host.example/models/e5/', { kind: 'url', relative: false }],
    ['file:///srv/models/e5', { kind: 'url', relative: false }],
    ['/models/e5/', { kind: 'url', relative: true }],
    ['./models/e5', { kind: 'url', relative: true }],
    ['../e5/', { kind: 'url', relative: true }],
  ])('%s', (model, form) => {
    expect(modelForm(model)).toEqual(form);
  });
});

describe('a malformed hub id or revision is a TypeError with an example of each form', () => {
  it.each([
    ['a/b/c', /one '\/'.*'\.\/a\/b\/c'/],
    ['models/e5/', /one '\/'.*'\.\/models\/e5\/'/],
    ['Xenova/all-MiniLM-L6-v2@', /'@' must be followed by a revision.*'Xenova\/all-MiniLM-L6-v2@main'/],
    ['Xenova/all MiniLM', /no spaces/],
    ['Xenova/all-MiniLM-L6-v2@ main', /no spaces/],
    ['Xenova/all-MiniLM-L6-v2@v1:2', /'v1:2' is not a revision/],
    ['Xenova/e5+small', /letters, digits/],
    ['a/..', /not a repository name/],
    ['Xenova/all-MiniLM-L6-v2@..', /must be a branch, tag or commit/],
    ['@main', /'owner\/name'/],
  ])('%s', (model, problem) => {
    const err = thrown(() => resolveSource(model));
    expect(err).toBeInstanceOf(TypeError);
    expect(err.message).toMatch(problem);
    for (const form of EACH_FORM) expect(err.message).toMatch(form);
  });

  it.each([[''], ['a b'], ['..'], [42], ['v1?x']])('the revision option %j', (revision) => {
    const err = thrown(() => resolveSource('Xenova/all-MiniLM-L6-v2', { revision: revision as string }));
    expect(err).toBeInstanceOf(TypeError);
    expect(err.message).toMatch(/^revision must be a branch, tag or commit .*'main'/);
  });

  it('a revision both in the id and in the option must agree; a folder URL takes none', () => {
    expect(resolveSource('Xenova/all-MiniLM-L6-v2@v2', { revision: 'v2' }).baseUrl).toBe(`${HF}/Xenova/all-MiniLM-L6-v2/resolve/v2/`);
    expect(thrown(() => resolveSource('Xenova/all-MiniLM-L6-v2@v2', { revision: 'v3' }))).toBeInstanceOf(TypeError);
    const err = thrown(() => resolveSource('https://host.example/m/', { revision: 'v2' }));
    expect(err).toBeInstanceOf(TypeError);
    expect(err.message).toMatch(/put the revision in the URL/);
  });
});

describe('a string of no form is a ModelLoadError listing the presets, closest first, and the forms', () => {
  it("'multilingual-e5-smal' suggests 'multilingual-e5-small' and lists it first", () => {
    const err = thrown(() => resolveSource('multilingual-e5-smal'));
    expect(err).toBeInstanceOf(ModelLoadError);
    expect(err.message).toMatch(/Did you mean 'multilingual-e5-small'\?/);
    const listed = /Presets, closest first: (.*?)\. A model is/.exec(err.message)?.[1]?.split(', ');
    expect(listed?.[0]).toBe('multilingual-e5-small');
    expect([...listed!].sort()).toEqual(Object.keys(PRESETS).sort());
    for (const form of EACH_FORM) expect(err.message).toMatch(form);
    expect((err as ModelLoadError).url).toBe('multilingual-e5-smal');
  });

  it('a name near no preset gets the list without a guess', () => {
    const err = thrown(() => resolveSource('tiny-e5'));
    expect(err).toBeInstanceOf(ModelLoadError);
    expect(err.message).not.toMatch(/Did you mean/);
    expect(err.message).toMatch(/Presets, closest first: /);
  });

  it('closest first by edit distance, ties in the table order', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(presetsByDistance('BGE-SMALL-EN-V1.6')[0]).toBe('bge-small-en-v1.5');
    expect(presetsByDistance('qwen3-reranker')[0]).toBe('qwen3-reranker-0.6b');
    expect(presetsByDistance('multilingual-e5-larg').slice(0, 2)).toEqual(['multilingual-e5-large', 'multilingual-e5-base']);
  });
});

describe('a hub id is ${host}/${owner}/${name}/resolve/${revision}/ under the one hub setting', () => {
  it("the Hugging Face hub and 'main' by default; '@rev' or the revision option; a revision with '/' one encoded segment", () => {
    expect(resolveSource('Xenova/all-MiniLM-L6-v2').baseUrl).toBe(`${HF}/Xenova/all-MiniLM-L6-v2/resolve/main/`);
    expect(resolveSource('Xenova/all-MiniLM-L6-v2@v1.0').baseUrl).toBe(`${HF}/Xenova/all-MiniLM-L6-v2/resolve/v1.0/`);
    expect(resolveSource('Xenova/all-MiniLM-L6-v2', { revision: 'dev' }).baseUrl).toBe(`${HF}/Xenova/all-MiniLM-L6-v2/resolve/dev/`);
    expect(resolveSource('me/model@refs/pr/3').baseUrl).toBe(`${HF}/me/model/resolve/refs%2Fpr%2F3/`);
  });

  it('a mirror (with or without a path and trailing slash)', () => {
    expect(resolveSource('me/model', { hub: { host: 'https://hf-mirror.com' } }).baseUrl).toBe('https://hf-mirror.com/me/model/resolve/main/');
    expect(resolveSource('me/model@v2', { hub: { host: 'https://cdn.example/hf' } }).baseUrl).toBe('https://cdn.example/hf/me/model/resolve/v2/');
    expect(resolveSource('me/model', { hub: { host: 'https://cdn.example/hf/' } }).baseUrl).toBe('https://cdn.example/hf/me/model/resolve/main/');
  });

  it("a path on the page's site, resolved against the page", () => {
    vi.stubGlobal('location', { href: 'https://app.example/docs/search.html' });
    expect(resolveSource('me/model', { hub: { host: '/models' } }).baseUrl).toBe('https://app.example/models/me/model/resolve/main/');
    expect(resolveSource('me/model', { hub: { host: './models' } }).baseUrl).toBe('https://app.example/docs/models/me/model/resolve/main/');
  });

  it('in Node (no page), a local folder: a path against the working directory, or a file: URL', () => {
    expect(resolveSource('me/model', { hub: { host: './models' } }).baseUrl).toBe(`${pathToFileURL(resolve('models')).href}/me/model/resolve/main/`);
    expect(resolveSource('me/model', { hub: { host: '/srv/hub', pathTemplate: '{model}/' } }).baseUrl).toBe('file:///srv/hub/me/model/');
    expect(resolveSource('me/model@v1', { hub: { host: 'file:///srv/hub/', pathTemplate: '{model}/{revision}' } }).baseUrl).toBe('file:///srv/hub/me/model/v1/');
  });

  it.each([
    [{ host: 'hf-mirror.com' }, /needs its scheme: 'https:\/\/hf-mirror\.com'/],
    [{ host: 'models' }, /a path on this site \('\/models'/],
    [{ host: 'ftp://mirror.example/' }, /http\(s\) or file URL/],
    [{ host: 'https://mirror.example/?token=1' }, /query or fragment/],
    [{ host: '' }, /must be an absolute URL/],
    [{ host: 42 }, /must be an absolute URL/],
    [{ pathTemplate: '{revision}/' }, /must be a path with '\{model\}'/],
    [{ pathTemplate: '{owner}/{model}/' }, /knows '\{model\}' and '\{revision\}' only, got \{owner\}/],
    ['https://hf-mirror.com', /hub must be an object \{ host\?, pathTemplate\? \}/],
  ])('a bad hub setting %j is a TypeError saying what it takes', (hub, problem) => {
    const err = thrown(() => resolveSource('me/model', { hub: hub as never }));
    expect(err).toBeInstanceOf(TypeError);
    expect(err.message).toMatch(problem);
  });

  it('configureHub() sets it for every load; a load option wins; configureHub() with nothing goes back to the hub', () => {
    configureHub({ host: 'https://mirror.example' });
    expect(resolveSource('me/model').baseUrl).toBe('https://mirror.example/me/model/resolve/main/');
    expect(resolveSource('me/model', { hub: { host: 'https://other.example' } }).baseUrl).toBe('https://other.example/me/model/resolve/main/');
    // a load option's pathTemplate alone keeps configureHub()'s host
    expect(resolveSource('me/model', { hub: { pathTemplate: '{model}/' } }).baseUrl).toBe('https://mirror.example/me/model/');
    expect(() => configureHub({ host: 'mirror.example' })).toThrow(TypeError);
    expect(resolveSource('me/model').baseUrl).toBe('https://mirror.example/me/model/resolve/main/'); // a refused setting changes nothing
    configureHub();
    expect(resolveSource('me/model').baseUrl).toBe(`${HF}/me/model/resolve/main/`);
  });

  it('the weight cache revision is the hub id\'s, so two revisions are two keys', () => {
    expect(resolveSource('me/model').revision).toBe('main');
    expect(resolveSource('me/model@v2').revision).toBe('v2');
    expect(resolveSource('https://host.example/m/').revision).toBeUndefined();
  });
});

describe("a hub id of a preset's repository gets the preset's facts; its SHA-256 pins only at the commit they describe", () => {
  const minilm = PRESETS['all-minilm-l6-v2'];
  const pins = (p: (typeof PRESETS)[keyof typeof PRESETS] | undefined) => Object.values(p?.dtypes ?? {}).flatMap((f) => Object.keys(f?.sha256 ?? {}));

  it('a preset id on the default hub reads its pinned folder exactly as before', () => {
    for (const [id, preset] of Object.entries(PRESETS)) {
      const s = resolveSource(id);
      expect(s.baseUrl).toBe(preset.url);
      expect(s.revision).toBe(preset.revision);
      expect(pins(s.preset)).toEqual(pins(preset));
    }
  });

  it('at main (no revision given): the facts (pooling, prompts, dtypes, sizes) without the pins, cached under main', () => {
    const s = resolveSource('Xenova/all-MiniLM-L6-v2');
    expect(s.baseUrl).toBe(`${HF}/Xenova/all-MiniLM-L6-v2/resolve/main/`);
    expect(s.revision).toBe('main');
    expect(s.preset).toMatchObject({ pooling: minilm.pooling, normalize: minilm.normalize, maxTokens: minilm.maxTokens, dimensions: minilm.dimensions, defaultDtype: minilm.defaultDtype });
    expect(Object.keys(s.preset!.dtypes)).toEqual(Object.keys(minilm.dtypes));
    expect(s.preset!.dtypes.fp32?.sizeMB).toBe(minilm.dtypes.fp32?.sizeMB);
    expect(pins(minilm).length).toBeGreaterThan(0);
    expect(pins(s.preset)).toEqual([]);
    expect(minilm.dtypes.fp32?.sha256).toBeDefined(); // the table itself is untouched
  });

  it('at the pinned commit: the pins apply (from a mirror too: it must serve the same bytes)', () => {
    const at = resolveSource(`Xenova/all-MiniLM-L6-v2@${MINILM_COMMIT}`);
    expect(at.baseUrl).toBe(minilm.url);
    expect(at.revision).toBe(MINILM_COMMIT);
    expect(pins(at.preset)).toEqual(pins(minilm));
    const mirrored = resolveSource('all-minilm-l6-v2', { hub: { host: 'https://mirror.example' } });
    expect(mirrored.baseUrl).toBe(`https://mirror.example/Xenova/all-MiniLM-L6-v2/resolve/${MINILM_COMMIT}/`);
    expect(pins(mirrored.preset)).toEqual(pins(minilm));
  });

  it('a preset id at another revision: the facts, not the pins', () => {
    const s = resolveSource('all-minilm-l6-v2', { revision: 'main' });
    expect(s.baseUrl).toBe(`${HF}/Xenova/all-MiniLM-L6-v2/resolve/main/`);
    expect(s.preset?.pooling).toBe('mean');
    expect(pins(s.preset)).toEqual([]);
  });

  it("the repository's name in any case; Qwen3-Embedding's facts for its onnx-community repository", () => {
    expect(resolveSource('xenova/all-minilm-l6-v2').preset?.maxTokens).toBe(minilm.maxTokens);
    const q = resolveSource('onnx-community/Qwen3-Embedding-0.6B-ONNX');
    expect(q.preset).toMatchObject({ pooling: 'last-token', appendEos: true, prompts: PRESETS['qwen3-embedding-0.6b'].prompts, defaultInstruction: PRESETS['qwen3-embedding-0.6b'].defaultInstruction });
    expect(pins(q.preset)).toEqual([]);
    expect(resolveSource('someone/else').preset).toBeUndefined();
  });

  it('a preset on main and its hub id are one folder with one cache key', () => {
    const byId = resolveSource('multilingual-e5-base');
    const byHub = resolveSource('Xenova/multilingual-e5-base');
    expect(byHub.baseUrl).toBe(byId.baseUrl);
    expect(byHub.revision).toBe(byId.revision);
    expect(byId.revision).toBeUndefined();
  });

  it("a reranker's kind follows its hub id too", () => {
    expect(presetForModel('Xenova/bge-reranker-base@main')?.id).toBe('bge-reranker-base');
    expect(presetForModel('BGE-Reranker-Base')?.id).toBe('bge-reranker-base');
    expect(presetForModel('someone/else')).toBeUndefined();
  });
});

describe('a hub folder that cannot be had is a ModelFileNotFoundError naming the URL and the setting that built it', () => {
  const failing = (make: (url: string) => Error) => async (url: string) => {
    throw make(url);
  };

  it('the hub unreachable (the default host)', async () => {
    const err = (await loadModel('Xenova/no-such-model', { fetchFile: failing((url) => new ModelLoadError(`Could not reach ${url} (fetch failed)`, url)) }).catch((e: unknown) => e)) as Error;
    const url = `${HF}/Xenova/no-such-model/resolve/main/config.json`;
    expect(err).toBeInstanceOf(ModelFileNotFoundError);
    expect((err as ModelFileNotFoundError).url).toBe(url);
    expect(err.message).toContain(`The hub model 'Xenova/no-such-model' was not found at ${url} (Could not reach`);
    expect(err.message).toContain('hub host https://huggingface.co/ (the default)');
    expect(err.message).toMatch(/set the load option hub: \{ host \} or configureHub\(\{ host \}\)/);
    expect((err.cause as Error).message).toMatch(/Could not reach/);
  });

  it('a preset missing from a mirror says which repository and commit were looked for', async () => {
    const err = (await loadModel('all-minilm-l6-v2', { hub: { host: 'https://mirror.example' }, fetchFile: failing((url) => new ModelFileNotFoundError(`${url} returned 404`, url)) }).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(ModelFileNotFoundError);
    expect(err.message).toContain(`The preset 'all-minilm-l6-v2' (Xenova/all-MiniLM-L6-v2 at ${MINILM_COMMIT}) was not found at https://mirror.example/Xenova/all-MiniLM-L6-v2/resolve/${MINILM_COMMIT}/config.json`);
    expect(err.message).toContain('hub host https://mirror.example/;');
  });

  it('an abort passes as it is', async () => {
    const reason = new DOMException('stop', 'AbortError');
    const controller = new AbortController();
    const err = await loadModel('me/model', {
      signal: controller.signal,
      fetchFile: async () => {
        controller.abort(reason);
        throw reason;
      },
    }).catch((e: unknown) => e);
    expect(err).toBe(reason);
  });
});

describe('the client reads the model string on the page', () => {
  it('a malformed hub id or a mistyped preset fails there, before any worker', () => {
    expect(() => engineLoadOptions({ model: 'a/b/c' })).toThrow(TypeError);
    expect(() => engineLoadOptions({ model: 'multilingual-e5-smal' })).toThrow(ModelLoadError);
    expect(() => engineLoadOptions({ model: 'me/model', hub: { host: 'mirror.example' } })).toThrow(TypeError);
  });

  it("a relative folder URL and a relative hub host go to the worker resolved against the page, not the worker's script", () => {
    vi.stubGlobal('location', { href: 'https://app.example/app/index.html' });
    expect(engineLoadOptions({ model: './models/e5' })).toMatchObject({ model: 'https://app.example/app/models/e5/' });
    expect(engineLoadOptions({ model: './models/e5' })).not.toHaveProperty('hub');
    expect(engineLoadOptions({ model: 'me/model@v1', hub: { host: '/hf' } })).toMatchObject({
      model: 'me/model@v1',
      hub: { host: 'https://app.example/hf/', pathTemplate: '{model}/resolve/{revision}/' },
    });
    configureHub({ host: './mirror' });
    expect(engineLoadOptions({ model: 'all-minilm-l6-v2', revision: 'main' })).toMatchObject({ revision: 'main', hub: { host: 'https://app.example/app/mirror/' } });
  });
});
