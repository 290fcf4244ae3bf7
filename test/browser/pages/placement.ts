/**
 * Where onnxruntime-web places ONNX models' nodes on executionProviders ['webgpu']: each model's
 * session is created with the verbose log on and its placement lines parsed
 * (harness/ort-placement.ts). Page side of test/browser/webgpu-ops.test.ts.
 */
import { parsePlacement } from '../harness/ort-placement.ts';
import { mark, ort, since } from './ort-env.ts';

export interface NodePlacement {
  op: string;
  name: string;
  ep: string;
}

export interface ModelPlacement {
  label: string;
  /** every node ORT listed, with its provider (empty when one provider took all: see allOn) */
  nodes: NodePlacement[];
  allOn: string | null;
  error?: string;
}

/**
 * Each model given by its bytes (small ones) or its URL. `optimize: false` keeps the graph as
 * written (no fusions), so each node is placed as it is.
 */
export async function placeModels(models: { label: string; bytes?: number[]; url?: string }[], optimize = false): Promise<ModelPlacement[]> {
  const out: ModelPlacement[] = [];
  for (const m of models) {
    const from = mark();
    try {
      const bytes = m.bytes ? new Uint8Array(m.bytes) : new Uint8Array(await (await fetch(m.url!)).arrayBuffer());
      const session = await ort.InferenceSession.create(bytes, {
        executionProviders: ['webgpu'],
        graphOptimizationLevel: optimize ? 'all' : 'disabled',
        logSeverityLevel: 0,
        logVerbosityLevel: 0,
      });
      await session.release();
      const p = parsePlacement(since(from).map((l) => l.text));
      const nodes = Object.entries(p.providers).flatMap(([ep, v]) => v.nodes.map((n) => ({ op: n.op, name: n.name, ep })));
      out.push({ label: m.label, nodes, allOn: p.allOn });
    } catch (e) {
      out.push({ label: m.label, nodes: [], allOn: null, error: String((e as Error)?.message ?? e).slice(0, 400) });
    }
  }
  return out;
}
