/**
 * The shape of bench/results/<date>-<machine>.json (written by bench/run.ts, read by
 * bench/report.ts and bench/chart.ts), and the issue's targets evaluated on it.
 */
import type { CeilingResult } from './node-ceiling.ts';
import type { CompareResult, FirstEmbedding, GpuSoak, LongTasks, PageEnvironment, RerankCompare } from './pages/throughput.ts';

export interface Skipped {
  what: string;
  why: string;
}

export interface FirstEmbeddingSummary {
  model: string;
  device: 'webgpu' | 'wasm';
  dtype: string;
  reps: number;
  /** median ms per library and cache state */
  rows: { lib: FirstEmbedding['lib']; cache: FirstEmbedding['cache']; medianMs: number; runsMs: number[] }[];
  runs: FirstEmbedding[];
}

/** One cost curve: a compare() run whose cases step along one axis (corpus size, or text length). */
export interface CostCurve {
  axis: 'texts' | 'tokens';
  result: CompareResult;
}

export interface Target {
  name: string;
  target: string;
  measured: string;
  met: boolean;
  /** by how much and why, where missed; what the number depends on otherwise */
  note: string;
}

export interface BenchResult {
  schema: 1;
  /** ISO time the run started */
  date: string;
  mode: 'quick' | 'default' | 'large';
  wallMs: number;
  command: string;
  machine: { name: string; hostname: string; cpu: string; cores: number; memoryBytes: number; os: string; node: string };
  browser: { name: string; version: string; userAgent: string; headless: boolean; crossOriginIsolated: boolean };
  adapter: { description: string; isFallbackAdapter: boolean; shaderF16: boolean; report: PageEnvironment['adapter']; info?: Record<string, unknown> };
  /** a sentence on what the WebGPU numbers are (a real GPU or not) */
  gpuNote: string;
  versions: Record<string, string>;
  throughput: CompareResult[];
  /** the zoo's real exports at every dtype they ship, both libraries on the same file, device and dtype */
  dtypes?: CompareResult[];
  /** how cost grows with the corpus and with text length */
  curves?: CostCurve[];
  nodeCeiling: CeilingResult[];
  firstEmbedding?: FirstEmbeddingSummary;
  /** the same on WebGPU (no stage table), where an adapter is */
  firstEmbeddingWebgpu?: FirstEmbeddingSummary;
  longTasks: LongTasks[];
  gpuSoak?: GpuSoak;
  rerank: RerankCompare[];
  skipped: Skipped[];
  targets: Target[];
}

const x = (r: number) => `${r.toFixed(2)}×`;

/** The issue's targets (reported, never asserted) on one run's figures. */
export function evaluateTargets(r: Omit<BenchResult, 'targets'>): Target[] {
  const out: Target[] = [];

  // 1. at least 2× transformers.js on the mixed-length corpus, at equal dtype (batched: B ≥ 8)
  for (const t of r.throughput) {
    const mixed = t.cases.filter((c) => c.corpus === 'mixed');
    if (!mixed.length) continue;
    const batched = mixed.filter((c) => c.batchSize > 1);
    const single = mixed.filter((c) => c.batchSize === 1);
    const judged = batched.length ? batched : mixed;
    const worst = judged.reduce((a, c) => (c.speedup < a.speedup ? c : a));
    const each = mixed.map((c) => `B=${c.batchSize}: ${x(c.speedup)}`).join(', ');
    // if time were proportional to the tokens computed, the speedup would be their padded-token ratio
    const bound = (c: (typeof mixed)[number]) => c.results[1]!.paddedTokens / c.results[0]!.paddedTokens;
    const met = worst.speedup >= 2;
    const b = bound(worst);
    const tokens = `transformers.js computes ${x(b)} the tokens we compute at B=${worst.batchSize} (padding ${worst.results[1]!.paddingRatio.toFixed(2)} vs ${worst.results[0]!.paddingRatio.toFixed(2)})`;
    const parts = [
      met
        ? `Lowest at B=${worst.batchSize}: ${tokens}; both run the same ORT kernels, so the gain is the padding we do not compute (more than the token ratio where the padded texts are long: attention grows with T²).`
        : `Missed by ${x(2 / worst.speedup)} at B=${worst.batchSize}: ${tokens}, and with both libraries on the same ORT kernels that is about what length-sorted batching can win${b < 2 ? ` — under 2× with only ${worst.texts} texts per call` : ''}.`,
      single.length ? `B=1 (${single.map((c) => x(c.speedup)).join(', ')}) is not judged: one text per batch means no padding for either library, so batching cannot win anything there; what differs is per-call overhead (tokenizer, tensors, pooling), which is what a tiny model's B=1 ratio shows.` : '',
      t.device === 'webgpu' ? 'WebGPU here is SwiftShader (a CPU), where the hidden-state readback we avoid is cheap: the gap on a real GPU is not measured.' : '',
    ];
    out.push({
      name: `throughput ${t.model} ${t.dtype} on ${t.device}`,
      target: '≥ 2× transformers.js texts/s, mixed-length corpus, equal dtype',
      measured: each,
      met,
      note: parts.filter(Boolean).join(' '),
    });
  }

  // 2. readback = B × dimensions × 4 bytes
  const rb: string[] = [];
  let rbMet = true;
  let rbCount = 0;
  for (const t of r.throughput) {
    if (t.device !== 'webgpu') continue;
    const dims = Number(t.libraries['webgpu-embed']['dimensions']);
    for (const c of t.cases) {
      const ours = c.results[0]!;
      const want = c.texts * dims * 4;
      rbCount++;
      if (ours.readbackBytes !== want) rbMet = false;
      rb.push(`${t.model} B=${c.batchSize}: ${ours.readbackPerBatch.toFixed(0)} B/batch (${ours.readbackBytes} for ${c.texts} × ${dims} × 4 = ${want})`);
    }
  }
  if (r.gpuSoak) {
    rbCount++;
    if (r.gpuSoak.readbackPerBatch !== r.gpuSoak.expectedReadbackPerBatch) rbMet = false;
    rb.push(`soak: ${r.gpuSoak.readbackPerBatch} B/batch (expected ${r.gpuSoak.expectedReadbackPerBatch})`);
  }
  if (rbCount) {
    out.push({
      name: 'readback',
      target: 'B × dimensions × 4 bytes per batch',
      measured: rb.join('; '),
      met: rbMet,
      note: rbMet ? 'counted at GPUBuffer.mapAsync(READ) in the page, for every buffer of our device' : 'more bytes were mapped for reading than the vectors: see the cases above',
    });
  }

  // 3. padding ratio ≤ 1.15 (ours, mixed corpus)
  const pads = r.throughput.flatMap((t) => t.cases.filter((c) => c.corpus === 'mixed').map((c) => ({ t, c, p: c.results[0]!.paddingRatio })));
  if (pads.length) {
    const worst = pads.reduce((a, b) => (b.p > a.p ? b : a));
    const met = worst.p <= 1.15;
    const good = pads.filter(({ c, p }) => c.batchSize > 1 && p <= 1.15);
    out.push({
      name: 'padding ratio',
      target: 'tokens computed / real tokens ≤ 1.15 (mixed corpus)',
      measured: pads.map(({ t, c, p }) => `${t.model} ${t.device} ${c.texts} texts B=${c.batchSize}: ${p.toFixed(3)}`).join('; '),
      met,
      note: met
        ? 'length-sorted batches'
        : `missed by ${(worst.p - 1.15).toFixed(3)} (${((worst.p / 1.15 - 1) * 100).toFixed(0)} %) at ${worst.c.texts} texts, B=${worst.c.batchSize}: with only ${Math.ceil(worst.c.texts / worst.c.batchSize)} batches over lengths 8–256, each batch spans a wide slice of the sorted lengths; the ratio falls as the texts per call grow relative to B` +
          (good.length ? ` (met at ${good.map(({ t, c, p }) => `${c.texts} texts B=${c.batchSize} on ${t.device}: ${p.toFixed(3)}`).join(', ')}).` : '.'),
    });
  }

  // 1b. per-call cost: ≥ 1× where batching cannot help (one text per batch, or equal lengths)
  const flat = r.throughput.flatMap((t) => t.cases.filter((c) => c.batchSize === 1 || c.corpus === 'fixed').map((c) => ({ t, c })));
  if (flat.length) {
    const worst = flat.reduce((a, x) => (x.c.speedup < a.c.speedup ? x : a));
    const met = worst.c.speedup >= 1;
    out.push({
      name: 'per-call cost (B = 1 and fixed length)',
      target: '≥ 1× transformers.js texts/s where batching wins nothing',
      measured: flat.map(({ t, c }) => `${t.model} ${t.device} ${c.corpus} B=${c.batchSize}: ${x(c.speedup)}`).join('; '),
      met,
      note: met
        ? 'the same ORT kernels on both sides; what differs is the runtime build (ours: the plain wasm build on wasm), the threads, and per-call work — see the stage table'
        : `lowest: ${worst.t.model} on ${worst.t.device}, ${worst.c.corpus} B=${worst.c.batchSize} (${x(worst.c.speedup)}); run-to-run noise on this shared VM is about ±10 % — see the stage table for where the time goes`,
    });
  }

  // 1c. every dtype of the zoo's exports: ≥ 2× mixed, ≥ 1× fixed
  if (r.dtypes?.length) {
    const all = r.dtypes.flatMap((t) => t.cases.map((c) => ({ t, c, goal: c.corpus === 'mixed' ? 2 : 1 })));
    const missed = all.filter((a) => a.c.speedup < a.goal);
    out.push({
      name: 'every dtype on the zoo',
      target: '≥ 2× on mixed corpora, ≥ 1× on equal lengths, at every dtype, same file, device and dtype',
      measured: `${all.length - missed.length} of ${all.length} cases met; lowest mixed ${x(Math.min(...all.filter((a) => a.goal === 2).map((a) => a.c.speedup)))}, lowest fixed ${x(Math.min(...all.filter((a) => a.goal === 1).map((a) => a.c.speedup)))}`,
      met: missed.length === 0,
      note: missed.length ? `missed: ${missed.map((a) => `${a.t.model} ${a.t.dtype} ${a.t.device} ${a.c.corpus} ${x(a.c.speedup)}`).join('; ')}` : 'every case met',
    });
  }

  // 4. no main-thread long task over 50 ms (ours, engine in its worker)
  for (const l of r.longTasks.filter((l) => l.lib === 'webgpu-embed')) {
    const met = l.longTasks === 0;
    out.push({
      name: 'main-thread long tasks',
      target: `none over 50 ms while ${l.texts.toLocaleString('en-US')} texts are embedded`,
      measured: `${l.longTasks} long tasks, longest ${l.longestMs.toFixed(0)} ms (${(l.ms / 1000).toFixed(1)} s)`,
      met,
      note: met ? 'the engine runs in its worker; the page only receives one transferred buffer' : `over by ${(l.longestMs - 50).toFixed(0)} ms; on a shared 2-core VM a long task can be the browser itself starved of CPU`,
    });
  }

  // 5. GPU memory flat over many batches: ORT's pool takes buffers for new shapes early on, so
  // "flat" is judged over the second half of the batches (and nothing left after dispose)
  if (r.gpuSoak) {
    const s = r.gpuSoak;
    const half = s.samples.filter((p) => p.batches >= s.batches / 2);
    const lo = Math.min(...half.map((p) => p.liveBytes));
    const hi = Math.max(...half.map((p) => p.liveBytes));
    const first = s.samples[0]?.liveBytes ?? 0;
    const growth = lo > 0 ? (hi - lo) / lo : 0;
    const met = hi === lo && s.afterDisposeBytes === 0;
    const mib = (b: number) => `${(b / 2 ** 20).toFixed(2)} MiB`;
    out.push({
      name: 'GPU memory',
      target: `flat over ${s.batches.toLocaleString('en-US')} batches`,
      measured: `${mib(first)} after batch 1, ${lo === hi ? mib(lo) : `${mib(lo)}–${mib(hi)}`} from batch ${half[0]?.batches ?? '?'} to ${s.batches}; ${s.afterDisposeBytes} bytes after dispose`,
      met,
      note: met
        ? `ORT's buffer pool takes ${mib(lo - first)} more for new shapes in the first batches, then nothing; ${s.model}, ${s.perBatch} texts of 8–32 tokens per batch`
        : `grew ${(growth * 100).toFixed(2)} % (${hi - lo} bytes) over the second half${s.afterDisposeBytes ? `; ${s.afterDisposeBytes} bytes left after dispose` : ''}: a new batch shape still made ORT's pool take a buffer`,
    });
  }
  return out;
}
