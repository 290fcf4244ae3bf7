/**
 * The protobuf wire format, as much as the ONNX head edit needs (onnx-graph.ts):
 * reading a message as a list of fields that point into the original bytes, and writing new
 * messages. Hand-written rather than protobufjs (a code generator plus a runtime, ~30 kB in the
 * worker) because the edit touches five message types and must not copy what it leaves alone: a
 * 500 MB model's initializers stay where they are, referenced by offset, until the one copy that
 * writes the edited model.
 */

export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
export const WIRE_I32 = 5;

/** One field of a message: where it lies in the buffer, and its payload. */
export interface Field {
  no: number;
  wire: number;
  /** the whole field, tag included: [start, end) */
  start: number;
  end: number;
  /** WIRE_LEN: the payload bytes [from, to) */
  from: number;
  to: number;
  /** WIRE_VARINT: the value as int64 (two's complement); WIRE_I32/I64: the raw bits */
  value: bigint;
}

export class ProtobufError extends Error {}

/** Reads a varint at `pos`; returns the value (unsigned 64-bit) and the position after it. */
export function readVarint(buf: Uint8Array, pos: number): [bigint, number] {
  // Fast path: up to 4 bytes fit a 28-bit number exactly.
  let small = 0;
  for (let i = 0; i < 4; i++) {
    const b = buf[pos + i];
    if (b === undefined) throw new ProtobufError('truncated varint');
    small |= (b & 0x7f) << (7 * i);
    if (!(b & 0x80)) return [BigInt(small), pos + i + 1];
  }
  let value = 0n;
  for (let i = 0; i < 10; i++) {
    const b = buf[pos + i];
    if (b === undefined) throw new ProtobufError('truncated varint');
    value |= BigInt(b & 0x7f) << BigInt(7 * i);
    if (!(b & 0x80)) return [BigInt.asUintN(64, value), pos + i + 1];
  }
  throw new ProtobufError('varint longer than 10 bytes');
}

/** The fields of the message in buf[from, to), in order. */
export function readFields(buf: Uint8Array, from = 0, to = buf.length): Field[] {
  const fields: Field[] = [];
  let pos = from;
  while (pos < to) {
    const start = pos;
    const [tag, afterTag] = readVarint(buf, pos);
    const no = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    pos = afterTag;
    let value = 0n;
    let payloadFrom = pos;
    let payloadTo = pos;
    if (wire === WIRE_VARINT) {
      [value, pos] = readVarint(buf, pos);
    } else if (wire === WIRE_LEN) {
      const [len, after] = readVarint(buf, pos);
      payloadFrom = after;
      payloadTo = after + Number(len);
      pos = payloadTo;
    } else if (wire === WIRE_I32 || wire === WIRE_I64) {
      const n = wire === WIRE_I32 ? 4 : 8;
      for (let i = n - 1; i >= 0; i--) value = (value << 8n) | BigInt(buf[pos + i] ?? 0);
      pos += n;
    } else {
      throw new ProtobufError(`unsupported wire type ${wire} (field ${no})`);
    }
    if (pos > to || no === 0) throw new ProtobufError(`malformed field ${no} at byte ${start}`);
    fields.push({ no, wire, start, end: pos, from: payloadFrom, to: payloadTo, value });
  }
  return fields;
}

/** A varint field as a signed number (int64 / int32 / enum). */
export function asInt(f: Field): number {
  return Number(BigInt.asIntN(64, f.value));
}

/** A WIRE_I32 field as a float. */
export function asFloat(f: Field): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setUint32(0, Number(f.value), true);
  return view.getFloat32(0, true);
}

const decoder = new TextDecoder();
export function asString(buf: Uint8Array, f: Field): string {
  return decoder.decode(buf.subarray(f.from, f.to));
}

/**
 * Repeated int64 values of one field number: packed (one LEN field) or not (one varint each),
 * as proto3 writers choose.
 */
export function repeatedInts(buf: Uint8Array, fields: Field[], no: number): number[] {
  const out: number[] = [];
  for (const f of fields) {
    if (f.no !== no) continue;
    if (f.wire === WIRE_VARINT) out.push(asInt(f));
    else if (f.wire === WIRE_LEN) {
      for (let pos = f.from; pos < f.to; ) {
        const [v, next] = readVarint(buf, pos);
        out.push(Number(BigInt.asIntN(64, v)));
        pos = next;
      }
    }
  }
  return out;
}

/** Builds one message: fields appended in order, nested messages as finished bytes. */
export class ProtoWriter {
  private readonly parts: Uint8Array[] = [];
  private size = 0;

  private push(bytes: Uint8Array): this {
    this.parts.push(bytes);
    this.size += bytes.length;
    return this;
  }

  private varint(value: number | bigint): this {
    let v = BigInt.asUintN(64, BigInt(value));
    const bytes: number[] = [];
    do {
      let b = Number(v & 0x7fn);
      v >>= 7n;
      if (v) b |= 0x80;
      bytes.push(b);
    } while (v);
    return this.push(Uint8Array.from(bytes));
  }

  private tag(no: number, wire: number): this {
    return this.varint((no << 3) | wire);
  }

  int(no: number, value: number | bigint): this {
    return this.tag(no, WIRE_VARINT).varint(value);
  }

  float(no: number, value: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    return this.tag(no, WIRE_I32).push(b);
  }

  bytes(no: number, value: Uint8Array): this {
    return this.tag(no, WIRE_LEN).varint(value.length).push(value);
  }

  string(no: number, value: string): this {
    return this.bytes(no, new TextEncoder().encode(value));
  }

  /** Packed repeated int64. */
  ints(no: number, values: readonly number[]): this {
    const inner = new ProtoWriter();
    for (const v of values) inner.varint(v);
    return this.bytes(no, inner.finish());
  }

  /** A nested message, its parts taken over without concatenating them first (one copy in all). */
  message(no: number, inner: ProtoWriter): this {
    this.tag(no, WIRE_LEN).varint(inner.size);
    for (const p of inner.parts) this.push(p);
    return this;
  }

  /** Bytes copied as they are (a field read from another message, tag included). */
  raw(bytes: Uint8Array): this {
    return this.push(bytes);
  }

  get length(): number {
    return this.size;
  }

  finish(): Uint8Array {
    if (this.parts.length === 1) return this.parts[0]!;
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}
