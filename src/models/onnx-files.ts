/**
 * Which ONNX files a dtype means, named as transformers.js names them
 * (@huggingface/transformers src/utils/dtypes.js DEFAULT_DTYPE_SUFFIX_MAPPING), and which external
 * data files config.json says go with one (src/utils/model-loader.js resolveExternalDataFormat);
 * the files an ONNX file names itself are read from its bytes (onnx/external-data.ts).
 */
import { DtypeUnsupportedError } from '../errors.ts';
import type { Dtype, DtypeOption } from './types.ts';

export const DTYPES: readonly Dtype[] = ['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'q4f16', 'bnb4', 'q2', 'q2f16'];

const SUFFIX: Record<Dtype, string> = {
  fp32: '',
  fp16: '_fp16',
  q8: '_quantized',
  int8: '_int8',
  uint8: '_uint8',
  q4: '_q4',
  q4f16: '_q4f16',
  bnb4: '_bnb4',
  q2: '_q2',
  q2f16: '_q2f16',
};

/**
 * transformers.js names these too (model_q1.onnx, model_q1f16.onnx: 1-bit MatMulNBits), but
 * onnxruntime-web 1.30 refuses such a graph when the session is made ("nbits_ == 2 || nbits_ == 4
 * || nbits_ == 8 was false", test/unit/dtype-names.test.ts): they are refused by name, before any
 * download, rather than after one.
 */
const UNRUNNABLE: Record<string, string> = { q1: 'model_q1.onnx', q1f16: 'model_q1f16.onnx' };

/** transformers.js refuses more chunks than this (hub/constants.js MAX_EXTERNAL_DATA_CHUNKS). */
const MAX_CHUNKS = 100;

/**
 * The ONNX file of a dtype, relative to the folder.
 *
 * @example
 * onnxFileFor('q4f16'); // 'onnx/model_q4f16.onnx'
 */
export function onnxFileFor(dtype: Dtype): string {
  return `onnx/model${SUFFIX[dtype]}.onnx`;
}

export function isDtype(value: unknown): value is Dtype {
  return DTYPES.includes(value as Dtype);
}

/**
 * The `dtype` option (transformers.js' forms) → the file's dtype, or undefined for the engine's
 * choice per device ('auto', an empty map, or left out). A map's only key is 'model': a folder
 * here has one graph, onnx/model*.onnx, and 'model' is the key transformers.js gives that file.
 * A value of the wrong type is a TypeError, an unknown name a RangeError; both name the option.
 *
 * @example
 * resolveDtypeOption('auto');            // undefined
 * resolveDtypeOption({ model: 'q8' });   // 'q8'
 * resolveDtypeOption({ decoder_model_merged: 'q4' }); // RangeError: ... its key is 'model'
 */
export function resolveDtypeOption(value: unknown, name = 'dtype'): Dtype | undefined {
  if (value === undefined || value === 'auto') return undefined;
  if (typeof value === 'string') {
    if (isDtype(value)) return value;
    if (Object.hasOwn(UNRUNNABLE, value)) {
      throw new DtypeUnsupportedError(
        `${name} '${value}' (onnx/${UNRUNNABLE[value]}, 1-bit MatMulNBits) cannot run here: onnxruntime-web 1.30's MatMulNBits takes 2, 4 or 8 bits. Use 'q2', 'q4' or 'auto'.`,
      );
    }
    throw new RangeError(`${name} must be one of ${DTYPE_NAMES.map((d) => `'${d}'`).join(', ')} or a map { model: <one of those> }, got ${JSON.stringify(value)}.`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`${name} must be a dtype name such as 'q8' or 'auto', or a map { model: 'q8' }, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`}.`);
  }
  const others = Object.keys(value).filter((k) => k !== 'model');
  if (others.length) {
    throw new RangeError(
      `${name} map has ${others.map((k) => `'${k}'`).join(', ')}: a model folder here has one ONNX graph, onnx/model*.onnx, and its key is 'model' ` +
        `(transformers.js' own key for it): pass { model: 'q8' } or just 'q8'.`,
    );
  }
  return resolveDtypeOption((value as { model?: unknown }).model, `${name}.model`);
}

/** Every name the dtype option takes, 'auto' first (for messages). */
export const DTYPE_NAMES: readonly Extract<DtypeOption, string>[] = ['auto', ...DTYPES];

/**
 * The external data files config.json's "transformers.js_config".use_external_data_format names
 * for an ONNX file, as transformers.js reads it: true → one chunk, a number → that many, an
 * object → by the file's full name ('model_fp16.onnx') or its base name ('model'), falsy → none.
 * Chunks are '<file>_data', '<file>_data_1', ... next to the ONNX file.
 * Returns undefined when the config does not say (then the ONNX file's own external_data entries decide).
 *
 * @example
 * externalDataFromConfig({ 'transformers.js_config': { use_external_data_format: { 'model.onnx': 2 } } }, 'onnx/model.onnx');
 * // ['onnx/model.onnx_data', 'onnx/model.onnx_data_1']
 */
export function externalDataFromConfig(config: Record<string, unknown>, onnxFile: string): string[] | undefined {
  const jsConfig = config['transformers.js_config'];
  if (!jsConfig || typeof jsConfig !== 'object' || !('use_external_data_format' in jsConfig)) return undefined;
  const setting = (jsConfig as { use_external_data_format: unknown }).use_external_data_format;
  if (setting === undefined || setting === null) return undefined;
  const fullName = onnxFile.slice(onnxFile.lastIndexOf('/') + 1);
  const baseName = fullName.replace(/(_fp16|_quantized|_q4f16|_q4|_q2f16|_q2|_int8|_uint8|_bnb4)?\.onnx$/, '');
  let chunks: number;
  if (typeof setting === 'object') {
    const byName = setting as Record<string, unknown>;
    chunks = Object.hasOwn(byName, fullName) ? Number(byName[fullName]) : Object.hasOwn(byName, baseName) ? Number(byName[baseName]) : 0;
  } else {
    chunks = Number(setting);
  }
  if (!Number.isInteger(chunks) || chunks <= 0) return [];
  chunks = Math.min(chunks, MAX_CHUNKS);
  return Array.from({ length: chunks }, (_, i) => `${onnxFile}_data${i === 0 ? '' : `_${i}`}`);
}

/** The dtype transformers.js_config asks for by default, when it names one of ours. */
export function dtypeFromConfig(config: Record<string, unknown>): Dtype | undefined {
  const jsConfig = config['transformers.js_config'];
  const dtype = jsConfig && typeof jsConfig === 'object' ? (jsConfig as { dtype?: unknown }).dtype : undefined;
  return isDtype(dtype) ? dtype : undefined;
}
