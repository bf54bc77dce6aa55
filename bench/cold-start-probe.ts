/**
 * What the cold-start measurements share (bench/cold-start.ts, bench/cold-start-handlers.ts, bench/cost-memory.ts):
 * a Lambda entry bundled with the stack's esbuild options, and the probe (cold-start-child.ts) run in a fresh `node`
 * with only the environment a Lambda would have.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { AuthorizerConfigInput } from '../contract/config';
import { parseStackConfig, renderAuthorizerConfig } from '../contract/stack-config';
import type { SectionContext } from './section';

export interface ChildResult {
  readonly scriptStart: number;
  readonly ready: number;
  readonly initMs: number;
  readonly modulesAtInit: number;
  readonly modulesAfter: number;
  readonly decisions: readonly { ms: number; outcome: string }[];
  readonly sdkLoads: readonly string[];
  readonly error?: string;
}

/** What lib/gatehouse-function.ts gives NodejsFunction, as esbuild options (NodejsFunction adds --platform=node). */
const STACK_OPTIONS = { bundle: true, minify: true, target: 'node22', platform: 'node', format: 'cjs', external: ['@aws-sdk/*'] } satisfies import('esbuild').BuildOptions;

export interface Bundle {
  readonly outfile: string;
  readonly bytes: number;
  readonly meta: import('esbuild').Metafile['outputs'][string] | undefined;
}

/** `entry` bundled with the stack's options into `<dir>/cold-start/<name>/index.js`. */
export async function bundle(ctx: SectionContext, entry: string, name: string): Promise<Bundle> {
  const { build } = await import('esbuild');
  const outfile = path.join(ctx.dir, 'cold-start', name, 'index.js');
  mkdirSync(path.dirname(outfile), { recursive: true });
  const result = await build({ ...STACK_OPTIONS, absWorkingDir: ctx.root, entryPoints: [entry], outfile, metafile: true, logLevel: 'warning' });
  return { outfile, bytes: statSync(outfile).size, meta: result.metafile?.outputs[path.relative(ctx.root, outfile)] };
}

export type Child = (bundlePath: string, events: readonly unknown[]) => Promise<ChildResult>;

/** Runs the probe in a fresh `node` with only the environment a Lambda would have (and `config` as GATEHOUSE_CONFIG). */
export function childRunner(ctx: SectionContext, config: AuthorizerConfigInput): Child {
  return (bundlePath, childEvents) =>
    runChild(path.join(ctx.dir, 'cold-start-child.cjs'), {
      PATH: process.env.PATH ?? '',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'cold',
      AWS_SECRET_ACCESS_KEY: 'cold',
      // Nothing listens on the discard port: an AWS call fails at once instead of reaching a real account.
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      GATEHOUSE_CONFIG: JSON.stringify(config),
      BENCH_BUNDLE: bundlePath,
      BENCH_EVENTS: JSON.stringify(childEvents),
    });
}

/**
 * config/gatehouse.example.json as the stack renders it into the authorizer's GATEHOUSE_CONFIG: validated by
 * parseStackConfig, then renderAuthorizerConfig fills in the table name and the secret ids of the services and
 * signers whose secret the stack creates (stand-in names here). Its Supabase issuer points at `supabaseUrl` and
 * lets a user without a tenant in, so the timed decisions need no AWS API.
 */
export function deployedConfig(root: string, supabaseUrl: string): AuthorizerConfigInput {
  const file = 'config/gatehouse.example.json';
  const example = JSON.parse(readFileSync(path.join(root, file), 'utf8')) as Record<string, unknown> & { issuers: Record<string, unknown>[] };
  const doc = { ...example, issuers: example.issuers.map((iss) => (iss.type === 'supabase' ? { ...iss, url: supabaseUrl, tenantRequired: false } : iss)) };
  const stack = parseStackConfig(doc, file);
  return renderAuthorizerConfig(stack, 'gatehouse-cold-start', {
    services: Object.fromEntries(stack.createdServiceSecrets.map((name) => [name, `gatehouse/services/${name}`])),
    signers: Object.fromEntries(stack.createdSignerSecrets.map((name) => [name, `gatehouse/signers/${name}`])),
  });
}

function runChild(script: string, env: Record<string, string>): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
      if (!line) return reject(new Error(`cold-start child exited with ${code} and no result: ${err.slice(0, 2000)}`));
      resolve(JSON.parse(line.slice('BENCH_RESULT '.length)) as ChildResult);
    });
  });
}
