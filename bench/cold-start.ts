/**
 * Section 3: cold start. The authorizer's deployed entry point (lambdas/authorizer/index.ts) bundled with the
 * stack's esbuild options (lib/gatehouse-function.ts: minify, target node22, CommonJS, `@aws-sdk/*` external), next
 * to an empty handler bundled the same way. Each is loaded in a fresh `node` many times (interleaved), timed inside
 * the child from process start; the authorizer then decides a Supabase ES256 JWT whose key comes from a JWKS on
 * loopback (no AWS API needed), and a second token after it. AWS endpoints point at a closed port, so an AWS call
 * that should not happen fails the decision instead of passing unnoticed.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { AuthorizerConfigInput } from '../contract/config';
import { parseStackConfig, renderAuthorizerConfig } from '../contract/stack-config';
import { type SigningKey, asymmetricKey, nowSeconds, signJwt, startJwksServer } from './keys';
import type { SectionContext } from './section';
import { kb, median, met, ms, ratio, table } from './stats';
import { authorizerEvent } from './world';

interface ChildResult {
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

export async function coldStartSection(ctx: SectionContext): Promise<string> {
  const runs = ctx.quick ? 8 : 30;
  ctx.log('bundling the authorizer and an empty handler with the stack options');
  const auth = await bundle(ctx, 'lambdas/authorizer/index.ts', 'authorizer');
  const empty = await bundle(ctx, 'bench/cold-start-empty.ts', 'empty');
  const largest = largestParts(auth);

  // The example configuration as the stack deploys it, its Supabase issuer on a loopback JWKS.
  const key = asymmetricKey('ES256', 'cold-es256');
  const jwks = await startJwksServer([key.publicJwk!], '/auth/v1/.well-known/jwks.json');
  try {
    const supabaseUrl = jwks.url.replace('/auth/v1/.well-known/jwks.json', '');
    const child = childRunner(ctx, deployedConfig(ctx.root, supabaseUrl));
    ctx.log(`${runs} fresh processes each for the empty handler and the authorizer`);
    // The empty handler's one call fetches the same JWKS: the network part of a first JWT decision.
    const measured = await measure(child, runs, { bundle: auth.outfile, events: supabaseEvents(key, supabaseUrl) }, { bundle: empty.outfile, events: [{ fetch: jwks.url }] });
    return coldStartText(runs, auth, empty, figures(measured.auth, measured.empty), largest);
  } finally {
    await jwks.close();
  }
}

interface Bundle {
  readonly outfile: string;
  readonly bytes: number;
  readonly meta: import('esbuild').Metafile['outputs'][string] | undefined;
}

/** `entry` bundled with the stack's options into `<dir>/cold-start/<name>/index.js`. */
async function bundle(ctx: SectionContext, entry: string, name: string): Promise<Bundle> {
  const { build } = await import('esbuild');
  const outfile = path.join(ctx.dir, 'cold-start', name, 'index.js');
  mkdirSync(path.dirname(outfile), { recursive: true });
  const result = await build({ ...STACK_OPTIONS, absWorkingDir: ctx.root, entryPoints: [entry], outfile, metafile: true, logLevel: 'warning' });
  return { outfile, bytes: statSync(outfile).size, meta: result.metafile?.outputs[path.relative(ctx.root, outfile)] };
}

/** Largest contributors to a bundle, by package (the rest is Gatehouse's own code): the six largest, bytes. */
function largestParts(b: Bundle): [string, number][] {
  const byPackage = new Map<string, number>();
  for (const [file, { bytesInOutput }] of Object.entries(b.meta?.inputs ?? {})) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
    const name = m ? m[1]! : 'Gatehouse code';
    byPackage.set(name, (byPackage.get(name) ?? 0) + bytesInOutput);
  }
  return [...byPackage.entries()].sort((a, b) => b[1] - a[1]).slice(0, 6);
}

/** Two GET /v1/me events, each with a new Supabase ES256 token of a user without a tenant. */
function supabaseEvents(key: SigningKey, supabaseUrl: string): unknown[] {
  const token = (sub: string) => {
    const iat = nowSeconds();
    return signJwt(key, { iss: `${supabaseUrl}/auth/v1`, sub, aud: 'authenticated', role: 'authenticated', iat, exp: iat + 3600 });
  };
  const arnPrefix = 'arn:aws:execute-api:us-east-1:123456789012:cold12345/prod';
  return [token('user-1'), token('user-2')].map((t) => ({
    ...authorizerEvent({ Authorization: `Bearer ${t}` }),
    methodArn: `${arnPrefix}/GET/v1/me`,
  }));
}

type Child = (bundlePath: string, events: readonly unknown[]) => Promise<ChildResult>;

/** Runs the probe in a fresh `node` with only the environment a Lambda would have (and `config` as GATEHOUSE_CONFIG). */
function childRunner(ctx: SectionContext, config: AuthorizerConfigInput): Child {
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

interface Variant {
  readonly bundle: string;
  readonly events: readonly unknown[];
}

/** `runs` fresh processes per variant, interleaved, after one untimed run of each (the file system cache for node). */
async function measure(child: Child, runs: number, auth: Variant, empty: Variant): Promise<{ auth: ChildResult[]; empty: ChildResult[] }> {
  const emptyRuns: ChildResult[] = [];
  const authRuns: ChildResult[] = [];
  await child(empty.bundle, empty.events); // warms the file system cache for node itself
  await child(auth.bundle, auth.events);
  for (let i = 0; i < runs; i++) {
    emptyRuns.push(await child(empty.bundle, empty.events));
    authRuns.push(await child(auth.bundle, auth.events));
  }
  const broken = authRuns.find((r) => r.error) ?? emptyRuns.find((r) => r.error);
  if (broken) throw new Error(`the cold-start child failed: ${broken.error}`);
  return { auth: authRuns, empty: emptyRuns };
}

interface Figures {
  readonly readyAuth: number;
  readonly readyEmpty: number;
  readonly initAuth: number;
  readonly initEmpty: number;
  readonly first: number;
  readonly second: number;
  readonly emptyFetch: number;
  readonly outcomes: readonly string[];
  readonly sdkAtInit: readonly string[];
  readonly sdkAtDecision: readonly string[];
  readonly modulesAtInit: number;
  readonly modulesAfter: number;
}

/** Medians over the runs, and what the authorizer's runs loaded of the SDK. */
function figures(authRuns: readonly ChildResult[], emptyRuns: readonly ChildResult[]): Figures {
  const med = (rs: readonly ChildResult[], f: (r: ChildResult) => number) => median(rs.map(f));
  return {
    readyAuth: med(authRuns, (r) => r.ready),
    readyEmpty: med(emptyRuns, (r) => r.ready),
    initAuth: med(authRuns, (r) => r.initMs),
    initEmpty: med(emptyRuns, (r) => r.initMs),
    first: med(authRuns, (r) => r.decisions[0]!.ms),
    second: med(authRuns, (r) => r.decisions[1]!.ms),
    emptyFetch: med(emptyRuns, (r) => r.decisions[0]!.ms),
    outcomes: [...new Set(authRuns.flatMap((r) => r.decisions.map((d) => d.outcome)))],
    sdkAtInit: authRuns[0]!.sdkLoads.filter((l) => l.startsWith('init:')),
    sdkAtDecision: [...new Set(authRuns.flatMap((r) => r.sdkLoads.filter((l) => !l.startsWith('init:'))))],
    modulesAtInit: authRuns[0]!.modulesAtInit,
    modulesAfter: Math.max(...authRuns.map((r) => r.modulesAfter)),
  };
}

function coldStartText(runs: number, auth: Bundle, empty: Bundle, f: Figures, largest: readonly [string, number][]): string {
  const noSdk = f.sdkAtInit.length === 0 && f.sdkAtDecision.length === 0 && f.modulesAfter === 0;
  const sdkText = (loads: readonly string[]) => (loads.length ? [...new Set(loads.map((l) => l.split(':')[1]))].join(', ') : 'none');
  const rows = [
    ['Bundle (minified CJS, @aws-sdk/* external)', kb(auth.bytes), kb(empty.bytes), `+${kb(auth.bytes - empty.bytes)}`, ratio(auth.bytes, empty.bytes), '≤ 150 KB', met(auth.bytes <= 150 * 1024)],
    ['Process start → handler ready (median)', ms(f.readyAuth), ms(f.readyEmpty), `+${ms(f.readyAuth - f.readyEmpty)}`, ratio(f.readyAuth, f.readyEmpty), '≤ +40 ms over empty', met(f.readyAuth - f.readyEmpty <= 40)],
    ['  of which: require the bundle + build the handler', ms(f.initAuth), ms(f.initEmpty), `+${ms(f.initAuth - f.initEmpty)}`, ratio(f.initAuth, f.initEmpty), '—', '—'],
    ['First decision after init (ES256 JWT; JWKS fetched on loopback)', ms(f.first), `${ms(f.emptyFetch)} (empty handler fetching the JWKS)`, `+${ms(f.first - f.emptyFetch)}`, ratio(f.first, f.emptyFetch), '—', '—'],
    [
      '@aws-sdk modules loaded: at init / by the decisions',
      `${sdkText(f.sdkAtInit)} / ${sdkText(f.sdkAtDecision)} (${f.modulesAfter} SDK files in require.cache)`,
      'none',
      '—',
      '—',
      'a no-AWS request loads no SDK client',
      met(noSdk),
    ],
  ];
  return [
    `Bundles built with the stack's esbuild options (lib/gatehouse-function.ts). ${runs} fresh \`node\` processes per variant, interleaved; times from process start (performance.now() in the child), medians. ` +
      `The authorizer is its deployed entry point (lambdas/authorizer/index.ts) with config/gatehouse.example.json rendered as the stack deploys it (created secret ids filled in) in GATEHOUSE_CONFIG; decisions: ${f.outcomes.join(', ')}; ` +
      `${f.modulesAtInit} @aws-sdk/@smithy files in require.cache after init. Node here is ${process.version}; Lambda runs nodejs22.x or newer.`,
    '',
    table(['Figure', 'Authorizer', 'Empty handler / baseline', 'Difference', 'Ratio', 'Target', 'Met'], rows),
    '',
    `The second decision in the same process (another token, JWKS cached) takes ${ms(f.second)}. Largest parts of the authorizer bundle: ${largest.map(([name, bytes]) => `${name} ${kb(bytes)}`).join(', ')}.`,
  ].join('\n');
}

/**
 * config/gatehouse.example.json as the stack renders it into the authorizer's GATEHOUSE_CONFIG: validated by
 * parseStackConfig, then renderAuthorizerConfig fills in the table name and the secret ids of the services and
 * signers whose secret the stack creates (stand-in names here). Its Supabase issuer points at `supabaseUrl` and
 * lets a user without a tenant in, so the timed decisions need no AWS API.
 */
function deployedConfig(root: string, supabaseUrl: string): AuthorizerConfigInput {
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
