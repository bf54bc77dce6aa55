/**
 * Section 3: cold start. The authorizer's deployed entry point (lambdas/authorizer/index.ts) bundled with the
 * stack's esbuild options (lib/gatehouse-function.ts: minify, target node22, CommonJS, `@aws-sdk/*` external), next
 * to an empty handler bundled the same way. Each is loaded in a fresh `node` many times (interleaved), timed inside
 * the child from process start; the authorizer then decides a Supabase ES256 JWT whose key comes from a JWKS on
 * loopback (no AWS API needed), and a second token after it. AWS endpoints point at a closed port, so an AWS call
 * that should not happen fails the decision instead of passing unnoticed. Then the same for every built-in handler
 * (bench/cold-start-handlers.ts).
 */
import { type Bundle, type Child, type ChildResult, bundle, childRunner, deployedConfig } from './cold-start-probe';
import { type SigningKey, asymmetricKey, nowSeconds, signJwt, startJwksServer } from './keys';
import { handlerRows } from './cold-start-handlers';
import type { SectionContext } from './section';
import { kb, median, met, ms, msDiff, ratio, table } from './stats';
import { authorizerEvent } from './world';

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
    const handlers = await handlerRows(ctx, child, empty, ctx.quick ? 4 : 12);
    return [coldStartText(runs, auth, empty, figures(measured.auth, measured.empty), largest), '', handlers].join('\n');
  } finally {
    await jwks.close();
  }
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
    ['Process start → handler ready (median)', ms(f.readyAuth), ms(f.readyEmpty), msDiff(f.readyAuth - f.readyEmpty), ratio(f.readyAuth, f.readyEmpty), '≤ +40 ms over empty', met(f.readyAuth - f.readyEmpty <= 40)],
    ['  of which: require the bundle + build the handler', ms(f.initAuth), ms(f.initEmpty), msDiff(f.initAuth - f.initEmpty), ratio(f.initAuth, f.initEmpty), '—', '—'],
    ['First decision after init (ES256 JWT; JWKS fetched on loopback)', ms(f.first), `${ms(f.emptyFetch)} (empty handler fetching the JWKS)`, msDiff(f.first - f.emptyFetch), ratio(f.first, f.emptyFetch), '—', '—'],
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

