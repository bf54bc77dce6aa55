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
import { asymmetricKey, nowSeconds, signJwt, startJwksServer } from './keys';
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
  const { build } = await import('esbuild');
  const outDir = path.join(ctx.dir, 'cold-start');
  mkdirSync(outDir, { recursive: true });
  const bundle = async (entry: string, name: string) => {
    const outfile = path.join(outDir, name, 'index.js');
    const result = await build({ ...STACK_OPTIONS, absWorkingDir: ctx.root, entryPoints: [entry], outfile, metafile: true, logLevel: 'warning' });
    return { outfile, bytes: statSync(outfile).size, meta: result.metafile?.outputs[path.relative(ctx.root, outfile)] };
  };
  ctx.log('bundling the authorizer and an empty handler with the stack options');
  const auth = await bundle('lambdas/authorizer/index.ts', 'authorizer');
  const empty = await bundle('bench/cold-start-empty.ts', 'empty');

  // Largest contributors to the authorizer bundle, by package.
  const byPackage = new Map<string, number>();
  for (const [file, { bytesInOutput }] of Object.entries(auth.meta?.inputs ?? {})) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
    const name = m ? m[1]! : 'Gatehouse code';
    byPackage.set(name, (byPackage.get(name) ?? 0) + bytesInOutput);
  }
  const largest = [...byPackage.entries()].sort((a, b) => b[1] - a[1]).slice(0, 6);

  // The example configuration as the stack deploys it, its Supabase issuer on a loopback JWKS.
  const key = asymmetricKey('ES256', 'cold-es256');
  const jwks = await startJwksServer([key.publicJwk!], '/auth/v1/.well-known/jwks.json');
  try {
    const supabaseUrl = jwks.url.replace('/auth/v1/.well-known/jwks.json', '');
    const config = deployedConfig(ctx.root, supabaseUrl);
    const token = (sub: string) => {
      const iat = nowSeconds();
      return signJwt(key, { iss: `${supabaseUrl}/auth/v1`, sub, aud: 'authenticated', role: 'authenticated', iat, exp: iat + 3600 });
    };
    const arnPrefix = 'arn:aws:execute-api:us-east-1:123456789012:cold12345/prod';
    const events = [token('user-1'), token('user-2')].map((t) => ({
      ...authorizerEvent({ Authorization: `Bearer ${t}` }),
      methodArn: `${arnPrefix}/GET/v1/me`,
    }));

    const child = (bundlePath: string, childEvents: readonly unknown[]) =>
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

    ctx.log(`${runs} fresh processes each for the empty handler and the authorizer`);
    const emptyRuns: ChildResult[] = [];
    const authRuns: ChildResult[] = [];
    // The empty handler's one call fetches the same JWKS: the network part of a first JWT decision.
    const emptyEvents = [{ fetch: jwks.url }];
    await child(empty.outfile, emptyEvents); // warms the file system cache for node itself
    await child(auth.outfile, events);
    for (let i = 0; i < runs; i++) {
      emptyRuns.push(await child(empty.outfile, emptyEvents));
      authRuns.push(await child(auth.outfile, events));
    }
    const broken = authRuns.find((r) => r.error) ?? emptyRuns.find((r) => r.error);
    if (broken) throw new Error(`the cold-start child failed: ${broken.error}`);

    const med = (rs: readonly ChildResult[], f: (r: ChildResult) => number) => median(rs.map(f));
    const readyAuth = med(authRuns, (r) => r.ready);
    const readyEmpty = med(emptyRuns, (r) => r.ready);
    const initAuth = med(authRuns, (r) => r.initMs);
    const initEmpty = med(emptyRuns, (r) => r.initMs);
    const first = med(authRuns, (r) => r.decisions[0]!.ms);
    const second = med(authRuns, (r) => r.decisions[1]!.ms);
    const emptyFetch = med(emptyRuns, (r) => r.decisions[0]!.ms);
    const outcomes = [...new Set(authRuns.flatMap((r) => r.decisions.map((d) => d.outcome)))];
    const sdkAtInit = authRuns[0]!.sdkLoads.filter((l) => l.startsWith('init:'));
    const sdkAtDecision = [...new Set(authRuns.flatMap((r) => r.sdkLoads.filter((l) => !l.startsWith('init:'))))];
    const modulesAtInit = authRuns[0]!.modulesAtInit;
    const modulesAfter = Math.max(...authRuns.map((r) => r.modulesAfter));
    const noSdk = sdkAtInit.length === 0 && sdkAtDecision.length === 0 && modulesAfter === 0;
    const sdkText = (loads: readonly string[]) =>
      loads.length ? [...new Set(loads.map((l) => l.split(':')[1]))].join(', ') : 'none';

    const rows = [
      ['Bundle (minified CJS, @aws-sdk/* external)', kb(auth.bytes), kb(empty.bytes), `+${kb(auth.bytes - empty.bytes)}`, ratio(auth.bytes, empty.bytes), '≤ 150 KB', met(auth.bytes <= 150 * 1024)],
      ['Process start → handler ready (median)', ms(readyAuth), ms(readyEmpty), `+${ms(readyAuth - readyEmpty)}`, ratio(readyAuth, readyEmpty), '≤ +40 ms over empty', met(readyAuth - readyEmpty <= 40)],
      ['  of which: require the bundle + build the handler', ms(initAuth), ms(initEmpty), `+${ms(initAuth - initEmpty)}`, ratio(initAuth, initEmpty), '—', '—'],
      ['First decision after init (ES256 JWT; JWKS fetched on loopback)', ms(first), `${ms(emptyFetch)} (empty handler fetching the JWKS)`, `+${ms(first - emptyFetch)}`, ratio(first, emptyFetch), '—', '—'],
      [
        '@aws-sdk modules loaded: at init / by the decisions',
        `${sdkText(sdkAtInit)} / ${sdkText(sdkAtDecision)} (${modulesAfter} SDK files in require.cache)`,
        'none',
        '—',
        '—',
        'a no-AWS request loads no SDK client',
        met(noSdk),
      ],
    ];
    return [
      `Bundles built with the stack's esbuild options (lib/gatehouse-function.ts). ${runs} fresh \`node\` processes per variant, interleaved; times from process start (performance.now() in the child), medians. ` +
        `The authorizer is its deployed entry point (lambdas/authorizer/index.ts) with config/gatehouse.example.json rendered as the stack deploys it (created secret ids filled in) in GATEHOUSE_CONFIG; decisions: ${outcomes.join(', ')}; ` +
        `${modulesAtInit} @aws-sdk/@smithy files in require.cache after init. Node here is ${process.version}; Lambda runs nodejs22.x or newer.`,
      '',
      table(['Figure', 'Authorizer', 'Empty handler / baseline', 'Difference', 'Ratio', 'Target', 'Met'], rows),
      '',
      `The second decision in the same process (another token, JWKS cached) takes ${ms(second)}. Largest parts of the authorizer bundle: ${largest.map(([name, bytes]) => `${name} ${kb(bytes)}`).join(', ')}.`,
    ].join('\n');
  } finally {
    await jwks.close();
  }
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
