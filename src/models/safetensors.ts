/**
 * Reads a .safetensors file (an 8-byte little-endian header length, a JSON header
 * { name: { dtype, shape, data_offsets } }, then the raw little-endian tensor bytes) into f32
 * arrays. Only the float types a pooling head ships in: F32, F16, BF16.
 */
import { ModelLoadError } from '../errors.ts';
import { halfToFloat } from '../reference/half-to-float.ts';

export interface SafetensorsTensor {
  shape: number[];
  data: Float32Array;
}

/**
 * @example
 * const tensors = readSafetensors(url, bytes);
 * tensors['latent_attention_model.latents']?.shape; // [512, 4096]
 */
export function readSafetensors(url: string, bytes: Uint8Array): Record<string, SafetensorsTensor> {
  const fail = (why: string) => new ModelLoadError(`${url} is not a readable safetensors file: ${why}. Re-export the file.`, url);
  if (bytes.length < 8) throw fail(`only ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > bytes.length - 8) throw fail(`its header claims ${headerLength} bytes but the file has ${bytes.length}`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  } catch {
    throw fail('its header is not JSON');
  }
  const dataStart = 8 + headerLength;
  const out: Record<string, SafetensorsTensor> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const { dtype, shape, data_offsets: [begin, end] } = entry;
    const count = shape.reduce((a, b) => a * b, 1);
    const width = dtype === 'F32' ? 4 : dtype === 'F16' || dtype === 'BF16' ? 2 : 0;
    if (!width) throw fail(`tensor ${name} has dtype ${dtype}; only F32, F16 and BF16 are read`);
    if (end - begin !== count * width || dataStart + end > bytes.length) throw fail(`tensor ${name} [${shape}] does not fit its data offsets`);
    const data = new Float32Array(count);
    const at = bytes.byteOffset + dataStart + begin;
    const src = new DataView(bytes.buffer, at, end - begin);
    for (let i = 0; i < count; i++) {
      data[i] =
        dtype === 'F32' ? src.getFloat32(i * 4, true) : dtype === 'F16' ? halfToFloat(src.getUint16(i * 2, true)) : bf16ToFloat(src.getUint16(i * 2, true));
    }
    out[name] = { shape, data };
  }
  return out;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

function bf16ToFloat(bits: number): number {
  u32[0] = bits << 16;
  return f32[0]!;
}
