/**
 * The layer rules of docs/ARCHITECTURE.md ("Dependencies point one way"), checked by
 * `npm run lint:layers` (part of `npm test`): each part of src/ imports only the parts listed
 * for it below (and itself, and src/errors.ts), and no runtime import closes a cycle.
 */

/**
 * Each part of src/ and what it may import, top to bottom: a part may skip layers below it,
 * never import one above it or beside it. The worker is an entry of its own (dist/worker.js):
 * only the client, which starts it, imports it. runtime → models is the one arrow within a tier
 * (ORT sessions apply models' ONNX rewrites and read their graphs).
 */
const MAY_IMPORT = {
  'index.ts': ['client', 'vector-index', 'engine', 'models', 'runtime', 'gpu', 'cache', 'io', 'reference'],
  cli: ['index.ts', 'client', 'vector-index', 'engine', 'models', 'runtime', 'gpu', 'cache', 'io', 'reference'],
  'vector-index': ['client', 'engine', 'models', 'runtime', 'gpu', 'cache', 'io', 'reference'],
  client: ['worker', 'engine', 'models', 'runtime', 'gpu', 'cache', 'io', 'reference'],
  worker: ['engine', 'models', 'runtime', 'gpu', 'cache', 'io', 'reference'],
  engine: ['models', 'runtime', 'gpu', 'cache', 'io', 'reference'],
  models: ['io', 'reference'],
  runtime: ['models', 'io', 'reference'],
  gpu: ['io', 'reference'],
  cache: ['io', 'reference'],
  io: [],
  reference: [],
  'errors.ts': [],
};

/**
 * Arrows the code has against the order, for types only (erased at build time): the client's
 * option rules are typed by the vector index's option interfaces (Rules<T>), and an error carries
 * a Dtype.
 */
const TYPES_ONLY = {
  client: ['vector-index'],
  'errors.ts': ['models'],
};

const pathOf = (part) => (part.endsWith('.ts') ? `^src/${part.replace('.', '\\.')}$` : `^src/${part}/`);

const layerRules = Object.entries(MAY_IMPORT).flatMap(([part, allowed]) => {
  const typesOnly = TYPES_ONLY[part] ?? [];
  const rules = [
    {
      name: `layer-${part}`,
      comment: `src/${part} may import ${allowed.length ? allowed.join(', ') : 'nothing'} (and src/errors.ts): docs/ARCHITECTURE.md, "Dependencies point one way"`,
      severity: 'error',
      from: { path: pathOf(part) },
      to: { path: '^src/', pathNot: [part, 'errors.ts', ...allowed, ...typesOnly].map(pathOf) },
    },
  ];
  if (typesOnly.length) {
    rules.push({
      name: `layer-${part}-types-only`,
      comment: `src/${part} may import ${typesOnly.join(', ')} for types only`,
      severity: 'error',
      from: { path: pathOf(part) },
      to: { path: typesOnly.map(pathOf), dependencyTypesNot: ['type-only'] },
    });
  }
  return rules;
});

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'layer-unknown',
      comment: 'every file of src/ belongs to a part listed in .dependency-cruiser.cjs (add a new folder there, with its arrows)',
      severity: 'error',
      from: { path: '^src/', pathNot: Object.keys(MAY_IMPORT).map(pathOf) },
      to: {},
    },
    {
      name: 'no-circular',
      comment:
        'no cycle of runtime imports (a module would run before its dependency is initialised); type-only imports are erased at build time and may close one (the client option rules, typed by the interfaces of the modules that use them)',
      severity: 'error',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // type-only imports are arrows too (a layer that names another's types knows it)
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // '#ort' is a package.json subpath import; kernels come in as '../../kernels/x.wgsl?raw'
    combinedDependencies: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'node', 'default', 'types'],
      extensions: ['.ts', '.d.ts', '.js'],
    },
  },
};
