/**
 * The smallest ONNX model onnxruntime takes: y = Identity(x), x a float [1]. Creating a session on
 * it starts onnxruntime-web's wasm (download, compile, instantiate, threads) without any model,
 * so a load can do that while it reads the model's files (src/runtime/warm-start.ts).
 */
import { DT, encodeNode, encodeValueInfo } from './onnx-graph.ts';
import { ProtoWriter } from './protobuf.ts';

export function identityModel(): Uint8Array {
  const graph = new ProtoWriter()
    .message(1, encodeNode({ name: '', opType: 'Identity', domain: '', inputs: ['x'], outputs: ['y'], attributes: [] }))
    .string(2, 'warm-start')
    .message(11, encodeValueInfo({ name: 'x', elemType: DT.FLOAT, dims: [1] }))
    .message(12, encodeValueInfo({ name: 'y', elemType: DT.FLOAT, dims: [1] }));
  return new ProtoWriter()
    .int(1, 8) // ir_version
    .string(2, 'webgpu-embed')
    .message(7, graph)
    .message(8, new ProtoWriter().string(1, '').int(2, 13)) // opset_import: ai.onnx 13
    .finish();
}
