// node bench/run.mjs [--only decisions,aws-calls,cold-start,e2e,gate,cost] [--quick]: `npm run bench`.
// Bundles the TypeScript benchmark with esbuild (as scripts/run.mjs does: jose and @middy are ESM-only, the project is
// CommonJS) into a private folder under .local/, runs it in a child `node` (with --expose-gc, so batches can start
// from a collected heap), and removes the folder afterwards. The benchmark starts and stops its own AWS emulator.
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDeps } from '../scripts/ensure-deps.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
ensureDeps();
const { build } = await import('esbuild');

const out = path.join(REPO, '.local', 'bench', String(process.pid));
mkdirSync(out, { recursive: true });
const common = { bundle: true, platform: 'node', target: 'node20', logLevel: 'warning', absWorkingDir: REPO };
// The benchmark and the load generator: ESM, with a `require` for the bundled CommonJS code's Node built-ins.
await build({
  ...common,
  entryPoints: { main: 'bench/main.ts', 'load-client': 'bench/load-client.ts' },
  outdir: out,
  outExtension: { '.js': '.mjs' },
  format: 'esm',
  sourcemap: 'inline',
  // esbuild's own API cannot be bundled (it runs its binary); the cold-start section imports it from node_modules.
  external: ['esbuild'],
  banner: { js: "import { createRequire as __benchRequire } from 'node:module'; const require = __benchRequire(import.meta.url);" },
});
// The cold-start probe: CommonJS like the deployed bundles it loads, and tiny, so it adds next to nothing to start-up.
await build({ ...common, entryPoints: ['bench/cold-start-child.ts'], outfile: path.join(out, 'cold-start-child.cjs'), format: 'cjs' });

const child = spawn(process.execPath, ['--expose-gc', path.join(out, 'main.mjs'), ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: {
    ...process.env,
    GATEHOUSE_ROOT: REPO,
    GATEHOUSE_BENCH_DIR: out,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  },
});
// Ctrl-C reaches the child through the terminal's process group; this process only waits for it.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
const code = await new Promise((resolve) => child.on('exit', (c, s) => resolve(c ?? (s ? 1 : 0))));
rmSync(out, { recursive: true, force: true });
process.exit(code);
