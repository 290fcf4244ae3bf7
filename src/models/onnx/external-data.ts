/**
 * The external data files an ONNX model names itself, found by a scan of its bytes rather than a
 * parse (tensors in nested graphs count too): the loader fetches them when neither config.json
 * nor a preset lists them (src/models/folder.ts).
 */

const LOCATION = [0x6c, 0x6f, 0x63, 0x61, 0x74, 0x69, 0x6f, 0x6e]; // "location"

/**
 * The external data files an ONNX model names: each tensor stored outside the graph carries
 * `external_data { key: "location" value: "model.onnx_data" }`, which is encoded as the bytes
 * 0x0a 0x08 "location" 0x12 <length> <value>. Reading those finds the files with no request.
 *
 * @example externalDataLocations(onnxBytes); // ['model.onnx_data'] or []
 */
export function externalDataLocations(onnx: Uint8Array): string[] {
  const found = new Set<string>();
  for (let i = onnx.indexOf(0x6c, 2); i !== -1 && i + 9 < onnx.length; i = onnx.indexOf(0x6c, i + 1)) {
    if (onnx[i - 2] !== 0x0a || onnx[i - 1] !== 0x08 || onnx[i + 8] !== 0x12) continue;
    if (!LOCATION.every((b, k) => onnx[i + k] === b)) continue;
    let len = 0, shift = 0, p = i + 9;
    for (; p < onnx.length && shift < 28; p++, shift += 7) {
      len |= (onnx[p]! & 0x7f) << shift;
      if (!(onnx[p]! & 0x80)) break;
    }
    const start = p + 1;
    if (len <= 0 || len > 4096 || start + len > onnx.length) continue;
    const name = new TextDecoder().decode(onnx.subarray(start, start + len));
    // a location is a relative file name, never a path out of the folder
    if (!name.includes('..') && !name.startsWith('/') && !name.includes(':')) found.add(name);
  }
  return [...found];
}
