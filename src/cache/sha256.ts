/**
 * SHA-256, two ways. Chunks are hashed by Web Crypto (native, one call per chunk). A whole file
 * pinned by a preset is hashed incrementally here, chunk after chunk, because Web Crypto has no
 * streaming digest and copies its input: one digest over a multi-gigabyte buffer would double
 * the model in memory for a moment.
 */

/** The SHA-256 of some bytes, as lowercase hex (Web Crypto; in plain JavaScript where there is none: pages not served over HTTPS). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  if (!globalThis.crypto?.subtle) {
    const h = createSha256();
    h.update(bytes);
    return h.digest();
  }
  return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>)));
}

export interface Sha256 {
  update(bytes: Uint8Array): void;
  /** lowercase hex; the hash cannot be updated afterwards */
  digest(): string;
}

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
  0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/** An incremental SHA-256 (FIPS 180-4) in plain JavaScript. */
export function createSha256(): Sha256 {
  const h = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  const w = new Int32Array(64);
  const tail = new Uint8Array(64);
  let tailLength = 0;
  let total = 0;
  let finished = false;

  const block = (b: Uint8Array, o: number) => {
    for (let i = 0; i < 16; i++, o += 4) w[i] = (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
    for (let i = 16; i < 64; i++) {
      const x = w[i - 15]!;
      const y = w[i - 2]!;
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
    }
    let a = h[0]! | 0;
    let bb = h[1]! | 0;
    let c = h[2]! | 0;
    let d = h[3]! | 0;
    let e = h[4]! | 0;
    let f = h[5]! | 0;
    let g = h[6]! | 0;
    let hh = h[7]! | 0;
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (hh + S1 + ((e & f) ^ (~e & g)) + K[i]! + w[i]!) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (S0 + ((a & bb) ^ (a & c) ^ (bb & c))) | 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = bb;
      bb = a;
      a = (t1 + t2) | 0;
    }
    h[0] = h[0]! + a;
    h[1] = h[1]! + bb;
    h[2] = h[2]! + c;
    h[3] = h[3]! + d;
    h[4] = h[4]! + e;
    h[5] = h[5]! + f;
    h[6] = h[6]! + g;
    h[7] = h[7]! + hh;
  };

  return {
    update(bytes) {
      if (finished) throw new Error('sha256: update after digest');
      total += bytes.length;
      let o = 0;
      if (tailLength) {
        const take = Math.min(64 - tailLength, bytes.length);
        tail.set(bytes.subarray(0, take), tailLength);
        tailLength += take;
        o = take;
        if (tailLength < 64) return;
        block(tail, 0);
        tailLength = 0;
      }
      for (; o + 64 <= bytes.length; o += 64) block(bytes, o);
      tail.set(bytes.subarray(o), 0);
      tailLength = bytes.length - o;
    },
    digest() {
      finished = true;
      const bits = total * 8;
      const pad = new Uint8Array((tailLength < 56 ? 64 : 128) - tailLength);
      pad[0] = 0x80;
      const view = new DataView(pad.buffer);
      view.setUint32(pad.length - 8, Math.floor(bits / 2 ** 32));
      view.setUint32(pad.length - 4, bits >>> 0);
      const rest = new Uint8Array(tailLength + pad.length);
      rest.set(tail.subarray(0, tailLength));
      rest.set(pad, tailLength);
      for (let o = 0; o < rest.length; o += 64) block(rest, o);
      const out = new Uint8Array(32);
      const outView = new DataView(out.buffer);
      h.forEach((v, i) => outView.setUint32(i * 4, v));
      return toHex(out);
    },
  };
}

function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}
