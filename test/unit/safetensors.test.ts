/**
 * src/models/safetensors.ts: the header, offsets and the three float types a pooling head ships
 * in (F32, F16, BF16), and a ModelLoadError for every way a file can be broken.
 */
import { describe, expect, it } from 'vitest';
import { ModelLoadError } from '../../src/errors.ts';
import { readSafetensors } from '../../src/models/safetensors.ts';
import { encodeSafetensors } from '../fixtures/build/safetensors.ts';

interface RawTensor {
  dtype: string;
  shape: number[];
  bytes: Uint8Array;
}

/** A minimal writer for any dtype: header JSON (optionally unpadded), then the raw bytes. */
function writeRaw(tensors: Record<string, RawTensor>, options: { pad?: boolean } = {}): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.length] };
    offset += t.bytes.length;
  }
  let json = JSON.stringify(header);
  if (options.pad ?? true) while ((8 + json.length) % 8 !== 0) json += ' ';
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const t of Object.values(tensors)) {
    out.set(t.bytes, at);
    at += t.bytes.length;
  }
  return out;
}

const u16 = (bits: number[]) => new Uint8Array(Uint16Array.from(bits).buffer);

describe('readSafetensors', () => {
  it('reads F32 tensors with their shapes and skips __metadata__', () => {
    const a = Float32Array.from({ length: 6 }, (_, i) => i * 0.25 - 1);
    const b = Float32Array.of(3.5, -1e-30, 1e30);
    const file = encodeSafetensors({ 'x.weight': { shape: [2, 3], data: a }, 'x.bias': { shape: [3], data: b } }, { format: 'pt' });
    const t = readSafetensors('head.safetensors', file);
    expect(Object.keys(t).sort()).toEqual(['x.bias', 'x.weight']);
    expect(t['x.weight']!.shape).toEqual([2, 3]);
    expect(Array.from(t['x.weight']!.data)).toEqual(Array.from(a));
    expect(Array.from(t['x.bias']!.data)).toEqual(Array.from(b));
  });

  it('converts F16 exactly: normals, subnormals, signed zero, the largest half, ±inf and NaN', () => {
    // 1, -2, 0.5+2^-11 (1 + 1/1024 of 0.5), smallest subnormal 2^-24, largest subnormal, 65504, -0, +inf, -inf, NaN
    const bits = [0x3c00, 0xc000, 0x3801, 0x0001, 0x03ff, 0x7bff, 0x8000, 0x7c00, 0xfc00, 0x7e00];
    const t = readSafetensors('h', writeRaw({ h: { dtype: 'F16', shape: [bits.length], bytes: u16(bits) } }))['h']!;
    const d = Array.from(t.data);
    expect(d.slice(0, 6)).toEqual([1, -2, 0.5 + 2 ** -11, 2 ** -24, 1023 * 2 ** -24, 65504]);
    expect(Object.is(d[6], -0)).toBe(true);
    expect(d[7]).toBe(Infinity);
    expect(d[8]).toBe(-Infinity);
    expect(Number.isNaN(d[9])).toBe(true);
  });

  it('converts BF16 as the top half of an f32', () => {
    const values = Float32Array.of(1, -3.140625, 1e-39, 3e38, -0);
    const bits = Array.from(new Uint32Array(values.buffer), (u) => u >>> 16);
    const t = readSafetensors('b', writeRaw({ b: { dtype: 'BF16', shape: [5], bytes: u16(bits) } }))['b']!;
    const expected = Array.from(new Float32Array(Uint32Array.from(bits, (b) => b << 16).buffer));
    expect(Array.from(t.data)).toEqual(expected);
    expect(t.data[1]).toBe(-3.140625); // exactly representable in bf16
  });

  it('reads mixed dtypes, an unpadded header (unaligned data) and bytes that are a view into a larger buffer', () => {
    const f32 = Float32Array.of(1.25, -7);
    const file = writeRaw(
      {
        a: { dtype: 'F16', shape: [1], bytes: u16([0x4000]) }, // 2: leaves the F32 data 2-byte aligned
        b: { dtype: 'F32', shape: [1, 2], bytes: new Uint8Array(f32.buffer) },
        c: { dtype: 'BF16', shape: [], bytes: u16([0x3f80]) }, // a scalar: shape [] holds one value
      },
      { pad: false },
    );
    const host = new Uint8Array(file.length + 3);
    host.set(file, 3);
    const t = readSafetensors('m', host.subarray(3));
    expect(Array.from(t['a']!.data)).toEqual([2]);
    expect(Array.from(t['b']!.data)).toEqual([1.25, -7]);
    expect(t['c']!.shape).toEqual([]);
    expect(Array.from(t['c']!.data)).toEqual([1]);
  });

  it('names the file and the problem in a ModelLoadError for broken files', () => {
    const good = encodeSafetensors({ w: { shape: [2], data: Float32Array.of(1, 2) } });
    const broken: [string, Uint8Array, RegExp][] = [
      ['too short', good.subarray(0, 5), /only 5 bytes/],
      ['header past the end', (() => { const b = good.slice(); new DataView(b.buffer).setBigUint64(0, 1n << 40n, true); return b; })(), /header claims/],
      ['header not JSON', (() => { const b = good.slice(); b[8] = 0x21; return b; })(), /not JSON/],
      ['data cut short', good.subarray(0, good.length - 4), /does not fit/],
      ['unsupported dtype', writeRaw({ q: { dtype: 'I8', shape: [4], bytes: new Uint8Array(4) } }), /dtype I8/],
      ['shape disagrees with offsets', writeRaw({ s: { dtype: 'F32', shape: [3], bytes: new Uint8Array(8) } }), /does not fit/],
    ];
    for (const [what, bytes, message] of broken) {
      let error: unknown;
      try {
        readSafetensors('https://host/m/latent_attention.safetensors', bytes);
      } catch (e) {
        error = e;
      }
      expect(error, what).toBeInstanceOf(ModelLoadError);
      expect((error as ModelLoadError).message, what).toMatch(message);
      expect((error as ModelLoadError).url, what).toBe('https://host/m/latent_attention.safetensors');
    }
  });
});
