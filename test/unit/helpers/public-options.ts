/**
 * The option keys of the public API as its TypeScript declarations state them, read with the
 * TypeScript compiler from src/index.ts: the parameters of the exported functions and of the
 * methods of the exported interfaces. Tests compare these with the option checker's rules, so
 * the checker can never reject a key the types declare, nor accept one they do not.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export interface PublicApi {
  /** keys of parameter `index` of the exported function `fn` */
  fnOptions(fn: string, index: number): string[];
  /** keys of parameter `index` of method `method` of the exported interface `iface` */
  methodOptions(iface: string, method: string, index: number): string[];
  /** keys of the exported type `name` */
  typeKeys(name: string): string[];
  /** keys of the object form of property path `path` ('overrides.prompts') inside parameter `index` of `fn` (every object member of a union) */
  nestedOptions(fn: string, index: number, path: string): string[];
}

export function readPublicApi(): PublicApi {
  const config = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  if (!config) throw new Error('tsconfig.json could not be read');
  const program = ts.createProgram([join(ROOT, 'src', 'index.ts')], { ...config.options, noEmit: true });
  const checker = program.getTypeChecker();
  const index = program.getSourceFile(join(ROOT, 'src', 'index.ts'));
  if (!index) throw new Error('src/index.ts is not in the program');
  const exports = new Map(checker.getExportsOfModule(checker.getSymbolAtLocation(index)!).map((s) => [s.name, s]));
  const exported = (name: string) => {
    const s = exports.get(name);
    if (!s) throw new Error(`src/index.ts exports no ${name}`);
    return s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
  };
  const objectMembers = (t: ts.Type): ts.Type[] =>
    (t.isUnion() ? t.types : [t]).filter((m) => m.flags & ts.TypeFlags.Object || m.isIntersection());
  const keysOf = (t: ts.Type) => [...new Set(objectMembers(checker.getNonNullableType(t)).flatMap((m) => checker.getPropertiesOfType(m).map((p) => p.name)))].sort();
  const paramType = (callable: ts.Type, i: number) => {
    const sig = callable.getCallSignatures()[0];
    const p = sig?.getParameters()[i];
    if (!p) throw new Error(`no parameter ${i}`);
    return checker.getTypeOfSymbol(p);
  };
  const fnParam = (fn: string, i: number) => paramType(checker.getTypeOfSymbol(exported(fn)), i);
  return {
    fnOptions: (fn, i) => keysOf(fnParam(fn, i)),
    methodOptions: (iface, method, i) => {
      const t = checker.getDeclaredTypeOfSymbol(exported(iface));
      const m = t.getProperty(method);
      if (!m) throw new Error(`${iface} has no ${method}`);
      return keysOf(paramType(checker.getTypeOfSymbol(m), i));
    },
    typeKeys: (name) => keysOf(checker.getDeclaredTypeOfSymbol(exported(name))),
    nestedOptions: (fn, i, path) => {
      let t = fnParam(fn, i);
      for (const key of path.split('.')) {
        const props = objectMembers(checker.getNonNullableType(t)).map((m) => checker.getPropertyOfType(m, key)).filter((p) => p !== undefined);
        if (!props.length) throw new Error(`${fn} option ${path}: no ${key}`);
        t = checker.getTypeOfSymbol(props[0]!);
      }
      return keysOf(t);
    },
  };
}
