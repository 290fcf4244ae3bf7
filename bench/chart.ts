/**
 * A bar chart (SVG, written by hand) of one run's ratios: webgpu-embed's throughput over
 * transformers.js' for each embedding case and each reranking case, and the wasm path over native
 * onnxruntime-node (its ceiling), on a log axis with lines at 1× (parity) and 2× (the target).
 *
 * `npx tsx bench/chart.ts [results.json]` writes <results>.svg next to the JSON (the newest JSON
 * in bench/results by default).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { BenchResult } from './result.ts';

export interface Bar {
  group: string;
  label: string;
  ratio: number;
}

/** The ratios of a run, in chart order. */
export function ratios(r: BenchResult): Bar[] {
  const bars: Bar[] = [];
  for (const t of r.throughput) {
    for (const c of t.cases) {
      bars.push({
        group: 'webgpu-embed ÷ transformers.js, texts/s',
        label: `${t.model}${t.dtype === 'fp32' ? '' : ` ${t.dtype}`} ${t.device}, ${c.texts} ${c.corpus}${c.corpus === 'fixed' ? ` (${c.fixedTokens ?? 64} tok)` : ''}, B=${c.batchSize}`,
        ratio: c.speedup,
      });
    }
  }
  for (const k of r.rerank) {
    bars.push({ group: 'webgpu-embed ÷ transformers.js, reranked docs/s', label: `${k.model} ${k.device}, ${k.documents} docs, B=${k.batchSize}`, ratio: k.speedup });
  }
  for (const n of r.nodeCeiling) {
    const wasm = r.throughput.find((t) => t.model === n.model && t.device === 'wasm' && t.dtype === n.dtype);
    for (const c of n.cases) {
      const ours = wasm?.cases.find((w) => w.corpus === c.corpus && w.texts === c.texts && w.batchSize === c.batchSize)?.results[0];
      if (ours) bars.push({ group: 'webgpu-embed on wasm ÷ onnxruntime-node (the ceiling)', label: `${n.model}${n.dtype === 'fp32' ? '' : ` ${n.dtype}`}, ${c.texts} ${c.corpus}, B=${c.batchSize}`, ratio: ours.textsPerSecond / c.textsPerSecond });
    }
  }
  return bars;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Ratios on a log₂ axis, each bar drawn from 1× (parity) to its value: left of 1× is slower, right is faster. */
export function renderChart(r: BenchResult): string {
  const bars = ratios(r);
  const W = 900, labelW = 390, gap = 52, right = 60, rowH = 22, groupH = 28, top = 78;
  const lo = Math.min(0.5, ...bars.map((b) => b.ratio)) / 1.2;
  const hi = Math.max(2.5, ...bars.map((b) => b.ratio)) * 1.25;
  const xAt = (v: number) => labelW + gap + ((Math.log2(v) - Math.log2(lo)) / (Math.log2(hi) - Math.log2(lo))) * (W - labelW - gap - right);
  const groups = [...new Set(bars.map((b) => b.group))];
  const height = top + groups.length * groupH + bars.length * rowH + 40;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="system-ui, sans-serif" font-size="12">`);
  out.push(`<rect width="100%" height="100%" fill="#fff"/>`);
  out.push(`<text x="10" y="20" font-size="15" font-weight="bold">${esc(`npm run bench — ${r.date.slice(0, 10)}, ${r.machine.name}`)}</text>`);
  out.push(`<text x="10" y="38" fill="#555">${esc(`Chromium ${r.browser.version}, WebGPU adapter: ${r.adapter.description}${r.adapter.isFallbackAdapter ? ' (software: no real GPU in this run)' : ''}; median of ${r.throughput[0]?.runs ?? '?'} runs`)}</text>`);
  // the axis: powers of two, 1× dashed, 2× (the target) solid
  const gridTop = top - 14;
  const gridBottom = height - 40;
  for (let e = Math.ceil(Math.log2(lo)); e <= Math.floor(Math.log2(hi)); e++) {
    const v = 2 ** e;
    const x = xAt(v).toFixed(1);
    const style = v === 1 ? 'stroke="#333" stroke-dasharray="4 3"' : v === 2 ? 'stroke="#2e7d32" stroke-width="1.5"' : 'stroke="#ddd"';
    out.push(`<line x1="${x}" y1="${gridTop}" x2="${x}" y2="${gridBottom}" ${style}/>`);
    const label = v < 1 ? `1/${1 / v}×` : `${v}×`;
    out.push(`<text x="${x}" y="${gridTop - 4}" text-anchor="middle" fill="${v === 2 ? '#2e7d32' : '#555'}"${v <= 2 && v >= 1 ? ' font-weight="bold"' : ''}>${label}</text>`);
  }
  let y = top;
  for (const g of groups) {
    out.push(`<text x="10" y="${y + 18}" font-weight="bold">${esc(g)}</text>`);
    y += groupH;
    for (const b of bars.filter((x) => x.group === g)) {
      const colour = g.includes('onnxruntime-node') ? '#8c8c8c' : b.ratio >= 2 ? '#2e7d32' : b.ratio >= 1 ? '#f9a825' : '#c62828';
      const x0 = Math.min(xAt(1), xAt(b.ratio)), x1 = Math.max(xAt(1), xAt(b.ratio));
      out.push(`<text x="${labelW - 8}" y="${y + 15}" text-anchor="end">${esc(b.label)}</text>`);
      out.push(`<rect x="${x0.toFixed(1)}" y="${y + 4}" width="${Math.max(1, x1 - x0).toFixed(1)}" height="${rowH - 8}" fill="${colour}"><title>${esc(`${b.label}: ${b.ratio.toFixed(2)}×`)}</title></rect>`);
      const after = b.ratio >= 1;
      out.push(`<text x="${(after ? x1 + 4 : x0 - 4).toFixed(1)}" y="${y + 15}" text-anchor="${after ? 'start' : 'end'}" font-weight="bold">${b.ratio.toFixed(2)}×</text>`);
      y += rowH;
    }
  }
  out.push(`<text x="10" y="${height - 22}" fill="#555">log scale; bars run from 1× (dashed, parity): right of it webgpu-embed is faster, left of it slower;</text>`);
  out.push(`<text x="10" y="${height - 7}" fill="#555">green line: the 2× target; grey bars: webgpu-embed on wasm against native onnxruntime-node on the same CPU</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}

async function main(): Promise<void> {
  const { latestResult } = await import('./report.ts');
  const file = process.argv[2] ?? latestResult();
  const r = JSON.parse(readFileSync(file, 'utf8')) as BenchResult;
  const svg = file.replace(/\.json$/, '.svg');
  writeFileSync(svg, renderChart(r));
  console.log(`wrote ${svg}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
