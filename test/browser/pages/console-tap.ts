/**
 * Records what the page prints to the console, and still prints it.
 *
 * It must be installed BEFORE onnxruntime-web initializes its wasm module: the Emscripten
 * loader binds `console.log` / `console.error` once, when the module is instantiated
 * (`var pa = console.error.bind(console)` in ort-wasm-simd-threaded.*.mjs), so wrapping the
 * console later never sees ORT's own log lines. Importing this module first is enough: it
 * installs itself on import.
 */

type Method = 'log' | 'info' | 'warn' | 'error' | 'debug';
const METHODS: Method[] = ['log', 'info', 'warn', 'error', 'debug'];

export interface TapLine {
  method: Method;
  text: string;
}

const lines: TapLine[] = [];

function render(args: unknown[]): string {
  return args
    .map((a) => {
      if (typeof a === 'string') return a;
      if (a instanceof Error) return a.stack ?? a.message;
      try {
        return JSON.stringify(a);
      } catch {
        return String(a);
      }
    })
    .join(' ');
}

const g = globalThis as typeof globalThis & { __consoleTapInstalled?: boolean };
if (!g.__consoleTapInstalled) {
  g.__consoleTapInstalled = true;
  for (const m of METHODS) {
    const original = console[m].bind(console);
    console[m] = (...args: unknown[]) => {
      lines.push({ method: m, text: render(args) });
      original(...args);
    };
  }
}

/** A position in the recording; pass it to `since`. */
export function mark(): number {
  return lines.length;
}

/** Everything printed since `mark` (all of it without one). */
export function since(from = 0): TapLine[] {
  return lines.slice(from);
}
