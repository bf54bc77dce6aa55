// node scripts/run.mjs <entry.ts> [args...]: installs what is missing, bundles a TypeScript entry point with esbuild
// and runs it. Bundling (rather than a TypeScript loader) is what lets CommonJS project code use the ESM-only
// packages (@middy/core, jose) on Node 20, the same way the Lambda bundles do.
import { renameSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureDeps } from './ensure-deps.mjs';

const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  process.stderr.write('usage: node scripts/run.mjs <entry.ts> [args...]\n');
  process.exit(2);
}
ensureDeps();
const { build } = await import('esbuild');
const outfile = path.join(REPO, '.local', 'build', `${path.basename(entry, '.ts')}.mjs`);
// Built to a private file and renamed into place, so two commands started at once never read a half-written bundle.
const building = `${outfile}.${process.pid}.tmp`;
await build({
  entryPoints: [path.resolve(REPO, entry)],
  outfile: building,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'inline',
  logLevel: 'warning',
  // Bundled CommonJS code calls require() for Node built-ins; ESM output has none of its own.
  banner: { js: "import { createRequire as __gatehouseRequire } from 'node:module'; const require = __gatehouseRequire(import.meta.url);" },
});
renameSync(building, outfile);
watchParent();
process.env.GATEHOUSE_ROOT ??= REPO;
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.argv = [process.argv[0], outfile, ...args];
await import(pathToFileURL(outfile).href);

/**
 * `npm start` runs this through `sh -c`; on SIGTERM or SIGINT npm signals that shell, which dies without passing the
 * signal on, and this process would go on serving, reparented. So losing the parent counts as the signal: this
 * process sends itself SIGTERM, and the entry point stops what it started as it does on Ctrl-C (local mode stops
 * the gateway and the emulator). Nobody reads stdout and stderr then: writes to them must not fail the stop.
 */
function watchParent() {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
    process.kill(process.pid, 'SIGTERM');
  }, 200);
  timer.unref();
}
