/**
 * Checks that a fetched file is what its name claims, before it reaches the JSON parser or
 * onnxruntime, whose own errors ("Unexpected token '<'", "protobuf parsing failed") would not
 * say which URL was wrong or why.
 */
import { ModelLoadError } from '../errors.ts';

/** Parses a JSON file of the folder; a web page, an LFS pointer or broken JSON is a ModelLoadError naming the URL. */
export function parseJsonFile(url: string, bytes: Uint8Array): Record<string, unknown> {
  const text = new TextDecoder().decode(bytes);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const found = /^\s*[[{]/.test(text)
      ? `${err instanceof Error ? err.message : String(err)} — the file is truncated or corrupt`
      : describeStart(bytes);
    throw new ModelLoadError(`${url} is not valid JSON: ${found}. Check that the URL serves the raw file.`, url, { cause: err });
  }
  if (value === null || typeof value !== 'object') {
    throw new ModelLoadError(`${url} holds ${JSON.stringify(value)?.slice(0, 40)}, not a JSON object: check that the URL serves the raw file.`, url);
  }
  return value as Record<string, unknown>;
}

/**
 * An ONNX file is a serialized ModelProto, whose first field is 1 (ir_version, a varint): the
 * byte 0x08. Anything else is a web page, an LFS pointer, an empty or a foreign file.
 */
export function assertOnnxBytes(url: string, bytes: Uint8Array): void {
  if (isOnnxBytes(bytes)) return;
  throw new ModelLoadError(`${url} is not an ONNX model: ${describeStart(bytes)}. Check the URL and re-upload or re-export the file.`, url);
}

export function isOnnxBytes(bytes: Uint8Array): boolean {
  return bytes.length > 1 && bytes[0] === 0x08;
}

/** What the start of some bytes looks like, in words, for an error message. */
export function describeStart(bytes: Uint8Array): string {
  if (bytes.length === 0) return 'it is empty (0 bytes)';
  const head = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, 64)).trimStart();
  if (/^<(!doctype|html|head|body)/i.test(head)) return `it starts with '${head.slice(0, 9)}' — the server returned a web page`;
  if (head.startsWith('<')) return `it starts with '${head.slice(0, 12)}' — looks like HTML or XML (an error page?)`;
  if (head.startsWith('version https://git-lfs')) return 'it is a Git LFS pointer, not the file itself (serve the LFS object, e.g. through /resolve/ on huggingface.co)';
  if (head.startsWith('{') || head.startsWith('[')) return `it starts with '${head.slice(0, 20)}' — looks like JSON (an error message from the server?)`;
  const hex = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return `it starts with the bytes ${hex} (${bytes.length} bytes in all)`;
}
