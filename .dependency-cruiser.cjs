/**
 * The project's layers and "no import cycles", checked by `npm run check:layers` (part of `npm test`).
 *
 * Layers, bottom up; each imports only the ones below it:
 *   1. contract/  imports nothing else from the project
 *   2. control/
 *   3. lambdas/   never lib/, bin/, local/, bench/
 *   4. lib/
 *   5. local/ and bin/ (neither imports the other); bench/ on top (may import anything)
 * client/ is a standalone client library: it imports only contract/. test/ and scripts/ are exempt from the
 * layers but not from the cycle rule. Type-only imports count (tsPreCompilationDeps): a type is a dependency too.
 *
 * @type {import('dependency-cruiser').IConfiguration}
 */
const PROJECT = '^(contract|control|lambdas|lib|local|bin|bench|client|test|scripts)/';

/** A rule that `from` may not import anything matching `to` (paths relative to the repository root). */
const layer = (name, comment, from, to, toNot) => ({
  name,
  comment,
  severity: 'error',
  from: { path: from },
  to: toNot === undefined ? { path: to } : { path: to, pathNot: toNot },
});

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'An import cycle anywhere (including test/, bench/, scripts/): break it by moving the shared part down a layer.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'resolvable',
      comment: 'Every relative or project import resolves: an unresolved one would be invisible to the layer rules.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    layer('contract-imports-nothing', 'contract/ is the bottom layer: it imports nothing else from the project.', '^contract/', PROJECT, '^contract/'),
    layer('control-not-up', 'control/ imports only contract/ (and itself).', '^control/', '^(lambdas|lib|local|bin|bench)/'),
    layer('lambdas-not-up', 'lambdas/ is deployed code: never lib/, bin/, local/ or bench/.', '^lambdas/', '^(lib|local|bin|bench)/'),
    layer('lib-not-up', 'lib/ (the CDK stack) never imports local/, bin/ or bench/.', '^lib/', '^(local|bin|bench)/'),
    layer('local-not-bin', 'local/ and bin/ are siblings: local/ never imports bin/.', '^local/', '^bin/'),
    layer('bin-not-local', 'local/ and bin/ are siblings: bin/ never imports local/.', '^bin/', '^local/'),
    layer('client-only-contract', 'client/ is a standalone library: it imports only contract/ (and itself).', '^client/', PROJECT, '^(client|contract)/'),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|cdk\\.out|\\.local|coverage)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
};
