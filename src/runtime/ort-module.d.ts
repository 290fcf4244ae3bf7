// '#ort', '#ort-jspi' and '#ort-wasm' (package.json "imports") are onnxruntime-web's browser builds
// (WebGPU on asyncify, WebGPU on JSPI, plain wasm) or its Node build; all have the API of
// onnxruntime-common, which is what onnxruntime-web's own (ambient) types declare too.
declare module '#ort' {
  export * from 'onnxruntime-common';
}
declare module '#ort-wasm' {
  export * from 'onnxruntime-common';
}
declare module '#ort-jspi' {
  export * from 'onnxruntime-common';
}
