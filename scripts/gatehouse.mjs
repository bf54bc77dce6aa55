#!/usr/bin/env node
// The npm bin `gatehouse`. In the repository (`npx gatehouse --help`): bundles and runs bin/gatehouse-cli.ts afresh.
// Installed as a package (node_modules/gatehouse): runs the bundle `npm run build` made at pack time,
// dist/gatehouse-cli.mjs, since an app has neither the sources' dev tools nor a reason to rebuild them.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const built = path.join(root, 'dist', 'gatehouse-cli.mjs');
if (root.split(path.sep).includes('node_modules') && existsSync(built)) {
  process.env.GATEHOUSE_ROOT ??= process.cwd();
  await import(pathToFileURL(built).href);
} else {
  process.argv.splice(2, 0, path.join(root, 'bin', 'gatehouse-cli.ts'));
  await import('./run.mjs');
}
