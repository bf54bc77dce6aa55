/**
 * `npm run bench [-- --only <sections>] [-- --quick]`: Gatehouse's performance figures, each beside a baseline
 * measured in the same run. Prints Markdown; never fails on slowness (only on a broken setup). See bench/README.md.
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { awsCallsSection } from './aws-calls';
import { coldStartSection } from './cold-start';
import { costSection } from './cost';
import { decisionsSection } from './decisions';
import { e2eSection } from './e2e';
import { gateSection } from './gate';
import { limiterSection } from './limiter';
import type { Section } from './section';

const SECTIONS: readonly Section[] = [
  { id: 'decisions', title: '1. Warm decisions in process', needsAws: true, run: decisionsSection },
  { id: 'aws-calls', title: '2. AWS calls per 1,000 decisions', needsAws: true, run: awsCallsSection },
  { id: 'cold-start', title: '3. Cold start', needsAws: false, run: coldStartSection },
  { id: 'e2e', title: '4. End to end through the local gateway', needsAws: true, run: e2eSection },
  { id: 'gate', title: '5. Authorizer invocations per 1,000 anonymous requests (identity-source gate)', needsAws: false, run: gateSection },
  { id: 'limiter', title: '6. Rate limiter: writes per request, admissions against the tier, writes on one item', needsAws: false, run: limiterSection },
  { id: 'cost', title: '7. The price of a million requests, and the authorizer\'s memory size', needsAws: true, run: costSection },
];

const ROOT = process.env.GATEHOUSE_ROOT ?? process.cwd();
const DIR = process.env.GATEHOUSE_BENCH_DIR ?? path.join(ROOT, '.local', 'bench', String(process.pid));

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string', multiple: true },
      quick: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`Usage: npm run bench -- [--only ${SECTIONS.map((s) => s.id).join(',')}] [--quick]\n`);
    return;
  }
  const only = (values.only ?? []).flatMap((v) => v.split(',')).filter(Boolean);
  const unknown = only.filter((id) => !SECTIONS.some((s) => s.id === id));
  if (unknown.length) throw new Error(`--only: unknown section ${unknown.join(', ')} (sections: ${SECTIONS.map((s) => s.id).join(', ')})`);
  const selected = SECTIONS.filter((s) => !only.length || only.includes(s.id));
  const started = Date.now();
  const log = (m: string) => process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(3)}s] ${m}\n`);

  const cpu = os.cpus();
  const dirty = git(['status', '--porcelain', '--', 'lambdas', 'lib', 'local', 'bench']) ? ' (with uncommitted changes)' : '';
  process.stdout.write(
    [
      `# Gatehouse benchmark${values.quick ? ' (--quick: fewer iterations, rougher figures)' : ''}`,
      '',
      `- Node ${process.version} on ${os.platform()} ${os.arch()}; CPU: ${cpu[0]?.model ?? 'unknown'} x ${cpu.length} (load average ${os.loadavg()[0]!.toFixed(2)} at start)`,
      `- Code: ${git(['rev-parse', '--short', 'HEAD'])}${dirty}, ${new Date().toISOString().slice(0, 16)}Z`,
      `- AWS: moto on loopback (started by the benchmark). Shared, noisy machine: compare ratios within a run, not figures across runs.`,
      '',
    ].join('\n') + '\n',
  );

  // Imported at run time from the repository (not bundled): the emulator script finds .venv next to itself.
  let stopMoto: (() => Promise<void>) | undefined;
  let aws: { awsEndpoint: string; awsLog: string } | undefined;
  if (selected.some((s) => s.needsAws)) {
    const { startMoto } = (await import(pathToFileURL(path.join(ROOT, 'scripts/emulator.mjs')).href)) as typeof import('../scripts/emulator.mjs');
    log('starting moto');
    const moto = await startMoto();
    stopMoto = moto.stop;
    aws = { awsEndpoint: moto.endpoint, awsLog: moto.logFile };
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
    });
    for (const key of Object.keys(process.env)) if (key.startsWith('AWS_ENDPOINT_URL_') || key === 'AWS_SESSION_TOKEN' || key === 'AWS_PROFILE') delete process.env[key];
  }
  let failed = false;
  try {
    for (const section of selected) {
      log(`section ${section.id}`);
      const t = Date.now();
      try {
        const text = await section.run({ root: ROOT, dir: DIR, quick: values.quick!, log, ...aws });
        process.stdout.write(`## ${section.title}\n\n${text}\n\n`);
      } catch (err) {
        failed = true;
        process.stdout.write(`## ${section.title}\n\n**Failed to run:** ${(err as Error).stack ?? String(err)}\n\n`);
      }
      log(`section ${section.id} took ${((Date.now() - t) / 1000).toFixed(0)} s`);
    }
  } finally {
    await stopMoto?.();
  }
  process.stdout.write(`Total run time ${((Date.now() - started) / 1000).toFixed(0)} s.\n`);
  if (failed) process.exitCode = 1;
}

main().then(
  () => process.exit(),
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
