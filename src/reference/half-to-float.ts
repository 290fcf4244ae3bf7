/**
 * IEEE 754 binary16 bits to a number: the CPU twin of kernels/half-to-float.wgsl (which uses WGSL's
 * unpack2x16float), for fp16 hidden states on the wasm path and fp16 tensors in safetensors files.
 *
 * @example
 * halfToFloat(0x3c00); // 1
 */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}
