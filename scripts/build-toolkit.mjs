#!/usr/bin/env node
// Part of `npm run build`: the installed `gatehouse` command (below), and the handler toolkit (lambdas/toolkit.ts) as one ES module, dist/toolkit.mjs, which
// package.json exports as `gatehouse/toolkit` (its types are tsc's dist/lambdas/toolkit.d.ts). An ES module because
// @middy/core is one and exports nothing to require(): esbuild bundles a team's handler from it at the app's synth,
// and Node >= 20.19 loads it from import and require alike. Dependencies (jose, zod, @middy, the AWS SDK) stay
// imports, resolved from the app's node_modules.
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** What both bundles share: one ES module for Node 20, its packages left as imports. */
const esm = { absWorkingDir: root, bundle: true, packages: 'external', platform: 'node', format: 'esm', target: 'node20', logLevel: 'warning' };
await build({ ...esm, entryPoints: ['lambdas/toolkit.ts'], outfile: 'dist/toolkit.mjs' });

// The `gatehouse` command of an installed package (scripts/gatehouse.mjs runs it there; in the repository it
// bundles bin/gatehouse-cli.ts afresh instead): one ES module, its dependencies resolved from the app's node_modules.
await build({
  ...esm,
  entryPoints: ['bin/gatehouse-cli.ts'],
  outfile: 'dist/gatehouse-cli.mjs',
  // Bundled CommonJS-style code may call require() for Node built-ins; ESM output has none of its own.
  banner: { js: "import { createRequire as __gatehouseRequire } from 'node:module'; const require = __gatehouseRequire(import.meta.url);" },
});
