/**
 * `npm run demo`: the README's main command. The example pages (semantic search, in-page
 * reranking on the offline glove-sif model) land with the examples issue; until then this says
 * so, and exits cleanly.
 */
console.log(
  [
    'webgpu-embed demo: not built yet.',
    'The examples (examples/semantic-search, examples/rerank-page) land with the examples issue.',
    'Today: `npm test` runs the three test layers; `npm run fixtures` writes the offline models',
    'into test/fixtures/models/; `npm run build` builds dist/.',
  ].join('\n'),
);
