// '#ort' (package.json "imports") is onnxruntime-web's browser or Node build; both have the API
// of onnxruntime-common, which is what onnxruntime-web's own (ambient) types declare too.
declare module '#ort' {
  export * from 'onnxruntime-common';
}
