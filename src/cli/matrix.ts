/**
 * Vectors as a float32 matrix file that vector tools load as it is:
 *   .npy   — numpy's format (version 1.0: magic, a header dict, then row-major little-endian
 *            float32 [rows, dimensions]): numpy.load, and through it FAISS, Qdrant, Chroma, LanceDB …
 *   .fvecs — the TEXMEX / FAISS benchmark format: per row an int32 dimension count, then its floats.
 * Rows are written as they come (the row count is known before the first: every input text is one).
 */

/** numpy's header for a little-endian float32 [rows, dimensions] matrix, padded so the data starts on a 64-byte boundary. */
export function npyHeader(rows: number, dimensions: number): Uint8Array {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, ${dimensions}), }`;
  const prefix = 10; // magic (6) + version (2) + header length (2)
  const padded = Math.ceil((prefix + dict.length + 1) / 64) * 64 - prefix;
  const header = new Uint8Array(prefix + padded);
  header.set([0x93, ...new TextEncoder().encode('NUMPY'), 1, 0]);
  new DataView(header.buffer).setUint16(8, padded, true);
  header.set(new TextEncoder().encode(dict.padEnd(padded - 1, ' ') + '\n'), prefix);
  return header;
}

/** Rows as bytes: float32 little-endian, each prefixed by its int32 length for fvecs. */
export function matrixRows(vectors: readonly Float32Array[], format: 'npy' | 'fvecs'): Uint8Array {
  const d = vectors[0]?.length ?? 0;
  const rowBytes = d * 4 + (format === 'fvecs' ? 4 : 0);
  const out = new Uint8Array(vectors.length * rowBytes);
  const view = new DataView(out.buffer);
  vectors.forEach((v, r) => {
    let at = r * rowBytes;
    if (format === 'fvecs') {
      view.setInt32(at, v.length, true);
      at += 4;
    }
    for (let i = 0; i < v.length; i++) view.setFloat32(at + i * 4, v[i]!, true);
  });
  return out;
}

/** Where the row ids of a matrix file go: vectors.npy → vectors.ids.jsonl. */
export function idsPath(output: string): string {
  return output.replace(/\.(npy|fvecs)$/i, '') + '.ids.jsonl';
}
