#!/usr/bin/env node
// Part of `npm run build`: the handler toolkit (lambdas/toolkit.ts) as one ES module, dist/toolkit.mjs, which
// package.json exports as `gatehouse/toolkit` (its types are tsc's dist/lambdas/toolkit.d.ts). An ES module because
// @middy/core is one and exports nothing to require(): esbuild bundles a team's handler from it at the app's synth,
// and Node >= 20.19 loads it from import and require alike. Dependencies (jose, zod, @middy, the AWS SDK) stay
// imports, resolved from the app's node_modules.
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
await build({
  absWorkingDir: root,
  entryPoints: ['lambdas/toolkit.ts'],
  outfile: 'dist/toolkit.mjs',
  bundle: true,
  packages: 'external',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
});
