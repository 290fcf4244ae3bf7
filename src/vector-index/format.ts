/**
 * The index as one binary blob, for save() / load() and for shipping a prebuilt index next to a
 * site's pages. Little-endian:
 *
 *   offset  size            field
 *   0       4               magic "WGEI"
 *   4       4   u32         format version (1)
 *   8       4   u32         dimensions d
 *   12      4   u32         rows n (passages, in document order)
 *   16      4   u32         JSON section bytes j
 *   20      12              reserved, 0
 *   32      n · d · 4 f32   the unit vectors, row-major
 *   32+n·d·4  j             UTF-8 JSON: { model, documents: [{ id, text, metadata?, passages: [[start, end], ...] }] }
 *
 * Only live passages are written, compacted and in order, so exporting, importing and exporting
 * again gives the same bytes. The vectors are full precision whatever the index's storage:
 * int8 / binary codes are made again on import (the Matryoshka kernel is deterministic).
 */
import { IndexFormatError } from '../errors.ts';
import type { PassageRange } from './passages.ts';

export const FORMAT_VERSION = 1;
const MAGIC = [0x57, 0x47, 0x45, 0x49]; // "WGEI"
const HEADER_BYTES = 32;

export interface StoredDocument {
  id: string;
  text: string;
  metadata?: unknown;
  passages: PassageRange[];
}

export interface IndexSnapshot {
  dimensions: number;
  /** the embedder's model id when the index was built */
  model: string;
  documents: StoredDocument[];
  /** rows · dimensions, rows in document and passage order */
  vectors: Float32Array;
}

const littleEndian = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/**
 * @example
 * const bytes = encodeIndex({ dimensions: 2, model: 'm', documents: [{ id: 'a', text: 'hi', passages: [{ start: 0, end: 2 }] }], vectors: Float32Array.of(1, 0) });
 */
export function encodeIndex(s: IndexSnapshot): Uint8Array<ArrayBuffer> {
  const rows = s.documents.reduce((n, d) => n + d.passages.length, 0);
  if (s.vectors.length !== rows * s.dimensions) throw new RangeError(`encodeIndex: ${s.vectors.length} values for ${rows} passages of ${s.dimensions}`);
  const json = new TextEncoder().encode(
    JSON.stringify({
      model: s.model,
      documents: s.documents.map((d) => ({
        id: d.id,
        text: d.text,
        ...(d.metadata !== undefined ? { metadata: d.metadata } : {}),
        passages: d.passages.map((p) => [p.start, p.end]),
      })),
    }),
  );
  const vectorBytes = rows * s.dimensions * 4;
  const out = new Uint8Array(HEADER_BYTES + vectorBytes + json.length);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  view.setUint32(4, FORMAT_VERSION, true);
  view.setUint32(8, s.dimensions, true);
  view.setUint32(12, rows, true);
  view.setUint32(16, json.length, true);
  if (littleEndian) out.set(new Uint8Array(s.vectors.buffer, s.vectors.byteOffset, vectorBytes), HEADER_BYTES);
  else for (let i = 0; i < s.vectors.length; i++) view.setFloat32(HEADER_BYTES + i * 4, s.vectors[i]!, true);
  out.set(json, HEADER_BYTES + vectorBytes);
  return out;
}

export function decodeIndex(bytes: Uint8Array): IndexSnapshot {
  const bad = (why: string) => new IndexFormatError(`not a webgpu-embed index blob (${why}); make one with index.export() or index.save()`);
  if (bytes.length < HEADER_BYTES || MAGIC.some((b, i) => bytes[i] !== b)) throw bad('no "WGEI" header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(4, true);
  if (version !== FORMAT_VERSION) {
    throw new IndexFormatError(`this index blob has format version ${version}; this webgpu-embed reads version ${FORMAT_VERSION}: rebuild the index, or use the webgpu-embed that wrote it`);
  }
  const dimensions = view.getUint32(8, true);
  const rows = view.getUint32(12, true);
  const jsonBytes = view.getUint32(16, true);
  const vectorBytes = rows * dimensions * 4;
  if (dimensions < 1 || bytes.length !== HEADER_BYTES + vectorBytes + jsonBytes) throw bad(`${bytes.length} bytes where the header says ${HEADER_BYTES + vectorBytes + jsonBytes}`);
  const vectors = new Float32Array(rows * dimensions);
  if (littleEndian) new Uint8Array(vectors.buffer).set(bytes.subarray(HEADER_BYTES, HEADER_BYTES + vectorBytes));
  else for (let i = 0; i < vectors.length; i++) vectors[i] = view.getFloat32(HEADER_BYTES + i * 4, true);
  let parsed: { model?: unknown; documents?: unknown };
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes.subarray(HEADER_BYTES + vectorBytes)));
  } catch (e) {
    throw new IndexFormatError(`the index blob's JSON section does not parse: ${(e as Error).message}`);
  }
  if (!Array.isArray(parsed.documents)) throw bad('no documents list');
  let passages = 0;
  const documents = parsed.documents.map((d: { id?: unknown; text?: unknown; metadata?: unknown; passages?: unknown }, i: number): StoredDocument => {
    const ok =
      typeof d.id === 'string' &&
      typeof d.text === 'string' &&
      Array.isArray(d.passages) &&
      d.passages.length > 0 &&
      d.passages.every((p: unknown) => Array.isArray(p) && Number.isInteger(p[0]) && Number.isInteger(p[1]) && 0 <= p[0] && p[0] <= p[1] && p[1] <= (d.text as string).length);
    if (!ok) throw bad(`document ${i} lacks an id, a text or valid passage ranges`);
    passages += (d.passages as unknown[]).length;
    return {
      id: d.id as string,
      text: d.text as string,
      ...(d.metadata !== undefined ? { metadata: d.metadata } : {}),
      passages: (d.passages as [number, number][]).map(([start, end]) => ({ start, end })),
    };
  });
  if (passages !== rows) throw bad(`${passages} passages listed for ${rows} vectors`);
  return { dimensions, model: typeof parsed.model === 'string' ? parsed.model : '', documents, vectors };
}
