import { it } from 'vitest';
import { useBrowser } from './harness/index.ts';
import { hiddenAlone, oracleTokens } from './oracle.ts';
const ctx = useBrowser();
it('diag', async () => {
  const xs = Array.from({ length: 41 }, (_, i) => i * 1.0 + 0.5);
  const r = await ctx.call<{ sin: number[]; cos: number[] }>('/test/browser/pages/diag-tmp.ts', 'wgslSinCos', xs);
  console.log('sin/cos err by x:', xs.map((x, i) => `${x}:${Math.max(Math.abs(r.sin[i]! - Math.sin(Math.fround(x))), Math.abs(r.cos[i]! - Math.cos(Math.fround(x)))).toExponential(1)}`).join(' '));
  for (const name of ['tiny-nv-embed', 'tiny-qwen3-embedding'] as const) {
    const { ids } = await oracleTokens(name, { text: 'how do I bake sourdough bread at home without a starter?', task: 'query' });
    const node = await hiddenAlone(name, ids);
    for (const ep of ['webgpu', 'wasm'] as const) {
      const w = await ctx.call<{ dims: number[]; data: number[] }>('/test/browser/pages/diag-tmp.ts', 'decoderHidden', ctx.server.url(`/test/fixtures/models/${name}/onnx/model.onnx`), ep, ids);
      const H = 32;
      const per = ids.map((_, t) => Math.max(...Array.from({ length: H }, (_, k) => Math.abs(w.data[t * H + k]! - node.hidden[t * H + k]!))));
      console.log(name, ep, 'T', ids.length, 'max|diff| per position:', per.map((x) => x.toExponential(1)).join(' '));
    }
  }
});
