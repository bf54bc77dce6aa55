#!/usr/bin/env node
// The npm bin `gatehouse` (run it with `npx gatehouse --help` in the repository): bundles and runs bin/gatehouse-cli.ts.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

process.argv.splice(2, 0, path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'gatehouse-cli.ts'));
await import('./run.mjs');
