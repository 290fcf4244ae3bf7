/**
 * onnxruntime-node, the native CPU runtime, for device 'cpu' in Node: the same ONNX files and the
 * same onnxruntime-common API as onnxruntime-web (sessions, tensors), 1.5–6× faster than the wasm
 * build on the same CPU (bench/node-ceiling.ts), so the CLI indexes a large corpus at native speed.
 *
 * It is an optional peer dependency: a browser app never installs it, and a Node app or the CLI uses
 * it when the user has (`npm i onnxruntime-node`). The import names the package in a variable with
 * both bundlers' ignore comments, so an app's bundler never tries to resolve or bundle it (in a
 * browser the import is never reached: chooseBackend answers 'wasm' there first).
 */
import type { ort } from './ort.ts';

/** The part of onnxruntime-common's module the engine uses: sessions (tensors stay onnxruntime-web's, which the native binding reads by shape). */
export type NativeOrt = Pick<typeof ort, 'InferenceSession'>;

export const NATIVE_PACKAGE = 'onnxruntime-node';

/** onnxruntime-node's session options: those of onnxruntime-common, without onnxruntime-web's `externalData` (below). */
type SessionOptions = Parameters<typeof ort.InferenceSession.create>[1];

/**
 * A native session from the model's bytes. onnxruntime-node's binding takes no external data from
 * memory (the `externalData` option is onnxruntime-web's), so a model with .onnx_data files is
 * written to a private temporary folder beside its data, loaded from there by path, and the folder
 * removed once the session holds the weights.
 *
 * @example
 * const session = await createNativeSession(native, onnx, [{ path: 'model.onnx_data', data }], { executionProviders: ['cpu'] });
 */
export async function createNativeSession(
  native: NativeOrt,
  onnx: Uint8Array,
  externalData: readonly { path: string; data: Uint8Array }[],
  options: SessionOptions,
): Promise<ort.InferenceSession> {
  if (!externalData.length) return native.InferenceSession.create(onnx, options);
  // Node's modules through process.getBuiltinModule, as src/io/local-files.ts: a browser bundle imports nothing from Node
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  if (typeof proc?.getBuiltinModule !== 'function') throw new Error('a model with external data needs Node ≥ 20.16 on the native runtime (process.getBuiltinModule)');
  const fs = (proc.getBuiltinModule('node:fs') as typeof import('node:fs')).promises;
  const os = proc.getBuiltinModule('node:os') as typeof import('node:os');
  const path = proc.getBuiltinModule('node:path') as typeof import('node:path');
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'webgpu-embed-'));
  try {
    await fs.writeFile(path.join(dir, 'model.onnx'), onnx);
    for (const file of externalData) await fs.writeFile(path.join(dir, path.basename(file.path)), file.data);
    return await native.InferenceSession.create(path.join(dir, 'model.onnx'), options);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

let loading: Promise<NativeOrt | { error: string }> | undefined;

/** onnxruntime-node where it can be loaded (Node with the package installed), else why not. Loaded once. */
export function loadNativeOrt(): Promise<NativeOrt | { error: string }> {
  return (loading ??= importNative());
}

/**
 * One try at the import (loadNativeOrt keeps the first answer); `load` is the tests' way to see a
 * machine without the package.
 */
export async function importNative(load: (name: string) => Promise<unknown> = (name) => import(/* @vite-ignore */ /* webpackIgnore: true */ name)): Promise<NativeOrt | { error: string }> {
  const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string' && typeof window === 'undefined';
  if (!isNode) return { error: `${NATIVE_PACKAGE} runs only in Node` };
  try {
    const mod = (await load(NATIVE_PACKAGE)) as NativeOrt & { default?: NativeOrt };
    const api = mod.InferenceSession ? mod : mod.default;
    if (!api?.InferenceSession) return { error: `${NATIVE_PACKAGE} loaded but exports no InferenceSession` };
    return api;
  } catch (e) {
    const code = (e as { code?: string }).code;
    return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND'
      ? { error: `${NATIVE_PACKAGE} is not installed (npm i ${NATIVE_PACKAGE})` }
      : { error: `${NATIVE_PACKAGE} could not be loaded: ${(e as Error).message}` };
  }
}
