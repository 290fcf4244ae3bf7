/**
 * Parses onnxruntime's node-placement log (session option logSeverityLevel 0,
 * logVerbosityLevel 0), printed by the wasm build through console.error:
 *
 *   [V:onnxruntime:, session_state.cc:1383 VerifyEachNodeIsAssignedToAnEp]  Node(s) placed on [WebGpuExecutionProvider]. Number of nodes: 70
 *   [V:onnxruntime:, session_state.cc:1385 VerifyEachNodeIsAssignedToAnEp]   MatMul (MatMul_43_node)
 *   ...
 *   [V:onnxruntime:, session_state.cc:1383 VerifyEachNodeIsAssignedToAnEp]  Node(s) placed on [CPUExecutionProvider]. Number of nodes: 4
 *   [V:onnxruntime:, session_state.cc:1385 VerifyEachNodeIsAssignedToAnEp]   Shape (Shape_0_node)
 *
 * or, when one provider took everything, a single line
 *   "All nodes placed on [WebGpuExecutionProvider]. Number of nodes: N" (no per-node list).
 *
 * Pure TypeScript: used in pages and in Node.
 */

export interface PlacedNode {
  op: string;
  name: string;
}

export interface Placement {
  /** provider name → its nodes (empty `nodes` with `count` > 0 for an "All nodes placed" line) */
  providers: Record<string, { count: number; nodes: PlacedNode[] }>;
  /** "All nodes placed on [X]" was printed: X, else null */
  allOn: string | null;
  /** the raw lines that carried the placement (for the test output) */
  lines: string[];
}

const HEADER = /(All nodes|Node\(s\)) placed on \[(\w+)\]\. Number of nodes: (\d+)/;
const NODE = /VerifyEachNodeIsAssignedToAnEp\]\s{2,}(\S+) \((.*)\)\s*$/;

/** Ops that do the arithmetic of a transformer encoder: these must never fall back to the CPU. */
export const COMPUTE_OPS = new Set([
  'MatMul',
  'Gemm',
  'MatMulNBits',
  'MatMulInteger',
  'Softmax',
  'LayerNormalization',
  'SkipLayerNormalization',
  'SimplifiedLayerNormalization',
  'SkipSimplifiedLayerNormalization',
  'Attention',
  'MultiHeadAttention',
  'GroupQueryAttention',
  'Gelu',
  'BiasGelu',
  'FastGelu',
  'Erf',
  'Tanh',
  'Sqrt',
  'Pow',
  'ReduceMean',
  'ReduceSum',
]);

/**
 * What ORT may legitimately keep on the CPU next to a GPU provider: shape and integer
 * bookkeeping (it assigns shape-related ops to the CPU on purpose), and Casts of int64 inputs
 * (the WebGPU EP has no int64 kernels: the attention-mask Cast int64 → float lands here).
 */
export const CPU_ALLOWED_OPS = new Set([
  'Shape',
  'Size',
  'Gather',
  'Range',
  'Cast',
  'Unsqueeze',
  'Squeeze',
  'Concat',
  'Slice',
  'ConstantOfShape',
  'Expand',
  'Equal',
  'Where',
  'Identity',
]);

export function parsePlacement(text: string | string[]): Placement {
  const all = (Array.isArray(text) ? text : [text]).flatMap((t) => t.split('\n'));
  const out: Placement = { providers: {}, allOn: null, lines: [] };
  let current: string | null = null;
  for (const raw of all) {
    const line = raw.replace(/\u001b\[[0-9;]*m/g, '');
    const h = HEADER.exec(line);
    if (h) {
      const ep = h[2]!;
      const entry = (out.providers[ep] ??= { count: 0, nodes: [] });
      entry.count += Number(h[3]);
      if (h[1] === 'All nodes') {
        out.allOn = ep;
        current = null;
      } else {
        current = ep;
      }
      out.lines.push(line.slice(line.indexOf(h[0])));
      continue;
    }
    const n = current ? NODE.exec(line) : null;
    if (n && current) {
      out.providers[current]!.nodes.push({ op: n[1]!, name: n[2]! });
      out.lines.push(`  ${current}: ${n[1]} (${n[2]})`);
      continue;
    }
    if (line.includes('VerifyEachNodeIsAssignedToAnEp') || !line.includes('onnxruntime')) continue;
    current = null;
  }
  return out;
}

/** op type → count, for one provider */
export function opCounts(p: Placement, ep: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const n of p.providers[ep]?.nodes ?? []) counts[n.op] = (counts[n.op] ?? 0) + 1;
  return counts;
}

/** Header lines, op counts per provider, and the full node list of every provider but `main`. */
export function summarizePlacement(p: Placement, main: string): string {
  const out: string[] = [];
  for (const [ep, v] of Object.entries(p.providers)) {
    out.push(`${p.allOn === ep ? 'All nodes' : 'Node(s)'} placed on [${ep}]. Number of nodes: ${v.count}`);
    if (ep === main) {
      const counts = Object.entries(opCounts(p, ep)).sort((a, b) => b[1] - a[1]);
      if (counts.length) out.push(`  ops: ${counts.map(([op, n]) => `${op}×${n}`).join(' ')}`);
    } else {
      for (const n of v.nodes) out.push(`  ${n.op} (${n.name})`);
    }
  }
  return out.join('\n');
}
