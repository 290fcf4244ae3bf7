/**
 * How cost grows (SVG, written by hand like chart.ts): for each cost curve of a run, texts/s and
 * the peak JS heap over the run's start (GPU bytes alive too on WebGPU), webgpu-embed against
 * transformers.js, over the corpus size (10 → 10,000 texts) or the text length (16 → 512 tokens),
 * log-scaled axes. Written by bench/run.ts as <results>-curves.svg.
 *
 * `npx tsx bench/curves-chart.ts [results.json]` writes it again from a run's JSON.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { latestResult } from './report.ts';
import type { BenchResult, CostCurve } from './result.ts';

const W = 360;
const H = 220;
const PAD = { l: 64, r: 12, t: 28, b: 40 };
const COLORS: Record<string, string> = { 'webgpu-embed': '#1f77b4', 'transformers.js': '#d62728' };

interface Panel {
  title: string;
  xLabel: string;
  yLabel: string;
  series: { lib: string; points: [number, number][] }[];
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
const fmt = (v: number) => (v >= 1e6 ? `${(v / 2 ** 20).toFixed(0)}M` : v >= 1e3 ? `${(v / 1e3).toFixed(v >= 1e4 ? 0 : 1)}k` : v >= 10 ? v.toFixed(0) : v.toFixed(1));

function panel(p: Panel, x0: number, y0: number): string {
  const pts = p.series.flatMap((s) => s.points).filter(([x, y]) => x > 0 && y > 0);
  if (!pts.length) return '';
  const lx = pts.map(([x]) => Math.log10(x)), ly = pts.map(([, y]) => Math.log10(y));
  const [xa, xb] = [Math.min(...lx), Math.max(...lx) || Math.min(...lx) + 1];
  let [ya, yb] = [Math.min(...ly), Math.max(...ly)];
  if (yb - ya < 0.3) [ya, yb] = [ya - 0.15, yb + 0.15];
  const sx = (x: number) => x0 + PAD.l + ((Math.log10(x) - xa) / (xb - xa || 1)) * (W - PAD.l - PAD.r);
  const sy = (y: number) => y0 + H - PAD.b - ((Math.log10(y) - ya) / (yb - ya || 1)) * (H - PAD.t - PAD.b);
  const out: string[] = [];
  out.push(`<text x="${x0 + W / 2}" y="${y0 + 16}" text-anchor="middle" font-weight="bold">${esc(p.title)}</text>`);
  out.push(`<rect x="${x0 + PAD.l}" y="${y0 + PAD.t}" width="${W - PAD.l - PAD.r}" height="${H - PAD.t - PAD.b}" fill="none" stroke="#999"/>`);
  for (const x of [...new Set(pts.map(([x]) => x))]) out.push(`<text x="${sx(x)}" y="${y0 + H - PAD.b + 14}" text-anchor="middle" font-size="10">${fmt(x)}</text>`);
  for (let k = 0; k <= 3; k++) {
    const y = 10 ** (ya + ((yb - ya) * k) / 3);
    out.push(`<text x="${x0 + PAD.l - 4}" y="${sy(y) + 3}" text-anchor="end" font-size="10">${fmt(y)}</text>`);
  }
  out.push(`<text x="${x0 + PAD.l + (W - PAD.l - PAD.r) / 2}" y="${y0 + H - 8}" text-anchor="middle" font-size="11">${esc(p.xLabel)}</text>`);
  out.push(`<text x="${x0 + 12}" y="${y0 + H / 2}" text-anchor="middle" font-size="11" transform="rotate(-90 ${x0 + 12} ${y0 + H / 2})">${esc(p.yLabel)}</text>`);
  for (const s of p.series) {
    const ok = s.points.filter(([x, y]) => x > 0 && y > 0);
    const c = COLORS[s.lib] ?? '#555';
    out.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${ok.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>`);
    for (const [x, y] of ok) out.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3" fill="${c}"/>`);
  }
  return out.join('\n');
}

/** The panels of one curve: texts/s, then the JS heap, then (WebGPU) GPU bytes. */
export function curvePanels(c: CostCurve): Panel[] {
  const r = c.result;
  const x = (k: (typeof r.cases)[number]) => (c.axis === 'texts' ? k.texts : k.fixedTokens ?? 64);
  const xLabel = c.axis === 'texts' ? 'texts in the call (mixed lengths, B=32)' : 'tokens per text (64 texts, B=16)';
  const where = `${r.model}, ${r.device}`;
  const series = (f: (x: (typeof r.cases)[number]['results'][number]) => number) =>
    (['webgpu-embed', 'transformers.js'] as const).map((lib) => ({ lib, points: r.cases.map((k) => [x(k), f(k.results.find((q) => q.lib === lib)!)] as [number, number]) }));
  const panels: Panel[] = [
    { title: `texts/s — ${where}`, xLabel, yLabel: 'texts/s', series: series((q) => q.textsPerSecond) },
    { title: `JS heap growth — ${where}`, xLabel, yLabel: 'bytes', series: series((q) => q.heapDeltaBytes) },
  ];
  if (r.device === 'webgpu') panels.push({ title: `GPU bytes at peak — ${where}`, xLabel, yLabel: 'bytes', series: series((q) => q.peakGpuBytes) });
  return panels;
}

export function renderCurves(r: BenchResult): string {
  const rows = (r.curves ?? []).map(curvePanels);
  const cols = Math.max(1, ...rows.map((p) => p.length));
  const width = cols * W, height = rows.length * H + 30;
  const body = rows.flatMap((panels, i) => panels.map((p, j) => panel(p, j * W, 30 + i * H)));
  const legend = Object.entries(COLORS).map(([lib, c], i) => `<rect x="${10 + i * 160}" y="8" width="12" height="12" fill="${c}"/><text x="${26 + i * 160}" y="18">${lib}</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">\n<rect width="100%" height="100%" fill="white"/>\n${legend.join('\n')}\n${body.join('\n')}\n</svg>\n`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const file = process.argv[2] ?? latestResult();
  const r = JSON.parse(readFileSync(file, 'utf8')) as BenchResult;
  writeFileSync(file.replace(/\.json$/, '-curves.svg'), renderCurves(r));
}
