import fc from 'fast-check';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { AuthorizerConfigInput } from '../../contract/config';
import { routeAuthorizer } from '../../contract/route-authorizer';
import type { AuthorizerEvent } from '../../lambdas/authorizer/authorizer';
import { type PolicyDocument, evaluatePolicy } from '../../lambdas/authorizer/policy';
import type { AnswerFormat } from '../../lambdas/authorizer/request';
import { sha256Hex } from '../../contract/signing';
import { uniqueName } from '../support/aws';
import { API_ARN_PREFIX, type Fixture, TEST_ROUTES, authorizerEvent, createFixture, signedHeaders, withRequestLine } from '../support/fixture';
import { nowSeconds, signHs256, signWith } from '../support/jwt';
import { v2EventLike } from '../lambdas/v2-event';

/**
 * Properties of the real handler (DynamoDB, Secrets Manager and JWKS on loopback) under hostile input:
 * - no header map an attacker can send ever yields Allow on any route;
 * - bad input only ever ends in `Error('Unauthorized')` (401) or a Deny policy, never in another error (a 500
 *   means a dependency failed, and these inputs fail none);
 * - a decision on hostile input up to the 8 KiB header cap stays fast.
 */
let fx: Fixture;
const SIGNER = 'stripe-relay';
const signerSecret = randomBytes(32).toString('base64url');
const signerSecretId = uniqueName('signer');
beforeAll(async () => {
  fx = await createFixture();
  const sm = new SecretsManagerClient({});
  await sm.send(new CreateSecretCommand({ Name: signerSecretId, SecretString: signerSecret }));
  sm.destroy();
  await fx.putTenant({ tenantId: 'acme' });
  await fx.putTenant({ tenantId: 'frozen', status: 'suspended' });
});
afterAll(() => fx.close());

/** Every request the route table serves, as API Gateway's method ARNs (a decision is reused on all of them). */
const REQUESTS = TEST_ROUTES!.filter((r) => !r.public).map((r) => ({ method: r.method, path: r.path.replace(/\{[^}]+\}/g, '42') }));
const ARNS = REQUESTS.map((r) => `${API_ARN_PREFIX}/${r.method}${r.path}`);

/** Multiplies every numRuns, e.g. GATEHOUSE_PROPERTY_RUNS=20 for a long search; 1 in `npm test`. */
const RUNS = Number(process.env.GATEHOUSE_PROPERTY_RUNS ?? 1);
const runs = (n: number) => Math.max(1, Math.round(n * RUNS));

const B64URL = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'];
const HEX = [...'0123456789abcdef'];
const b64url = (minLength: number, maxLength: number) => fc.string({ unit: fc.constantFrom(...B64URL), minLength, maxLength });
const hex = (n: number) => fc.string({ unit: fc.constantFrom(...HEX), minLength: n, maxLength: n });
const checksum = (head: string) => (crc32(head) >>> 0).toString(16).padStart(8, '0');
/** A base64url signature segment: canonical (from bytes) mostly, sometimes any base64url characters. */
const signature = (maxBytes: number) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.uint8Array({ minLength: 1, maxLength: maxBytes }).map((b) => Buffer.from(b).toString('base64url')) },
    { weight: 1, arbitrary: b64url(1, Math.ceil((maxBytes * 4) / 3)) },
  );
const segment = (arb: fc.Arbitrary<unknown>) => arb.map((v) => Buffer.from(JSON.stringify(v) ?? 'null').toString('base64url'));

type Outcome =
  | { readonly kind: 'threw'; readonly error: unknown; readonly reason: string | undefined; readonly decision: string | undefined }
  | { readonly kind: 'returned'; readonly allowed: string[]; readonly reason: string | undefined; readonly decision: string | undefined; readonly context?: unknown };

/** Runs the handler once and reports what it did, with the reason and decision it logged. */
async function run(handler: ReturnType<Fixture['authorizer']>, event: AuthorizerEvent): Promise<Outcome> {
  const before = fx.logs.length;
  const logged = () => {
    const d = fx.logs.slice(before).filter((l) => l.message === 'decision');
    const last = d[d.length - 1];
    return { reason: last ? String(last.reason) : undefined, decision: last ? String(last.decision) : undefined };
  };
  try {
    const result = await handler(event);
    const allowed = ARNS.filter((arn) => evaluatePolicy(result.policyDocument as PolicyDocument, arn) === 'Allow');
    return { kind: 'returned', allowed, context: result.context, ...logged() };
  } catch (error) {
    return { kind: 'threw', error, ...logged() };
  }
}

const isUnauthorized = (e: unknown) => e instanceof Error && e.message === 'Unauthorized';
const describeError = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : `${typeof e}: ${String(e)}`);

/** Both payload formats, for properties that run over REST events and HTTP API (payload 2.0) events alike. */
const FORMATS = fc.constantFrom<AnswerFormat>('rest', 'http-2.0');
/** The event of `format` for a REST event (test/lambdas/v2-event.ts: the same request as an HTTP API sends it). */
const inFormat = (format: AnswerFormat, e: Parameters<typeof v2EventLike>[0]): AuthorizerEvent => (format === 'http-2.0' ? v2EventLike(e) : e);

/**
 * A hostile-input outcome is acceptable only as a 401 or a policy that allows nothing; on an HTTP API (payload 2.0),
 * only as a policy that allows nothing (the authorizer has no 401 there: ./lambdas/authorizer/refusal.ts).
 */
function assertRefused(o: Outcome, input: unknown, format: AnswerFormat = 'rest'): void {
  if (o.kind === 'threw' && format === 'http-2.0') {
    throw new Error(`expected a Deny policy, got ${describeError(o.error)} (reason ${o.reason}, decision ${o.decision}) for ${JSON.stringify(input)}`);
  }
  if (o.kind === 'threw' && !isUnauthorized(o.error)) {
    throw new Error(`expected Error('Unauthorized'), got ${describeError(o.error)} (reason ${o.reason}, decision ${o.decision}) for ${JSON.stringify(input)}`);
  }
  if (o.kind === 'returned' && o.allowed.length) {
    throw new Error(`Allow on ${o.allowed.join(', ')} (reason ${o.reason}) for ${JSON.stringify(input)}`);
  }
}

/** Values by header name, as multiValueHeaders holds them (names such as `__proto__` included, as own keys). */
function group(entries: [string, string][]): Record<string, string[]> {
  const m = new Map<string, string[]>();
  for (const [k, v] of entries) m.set(k, [...(m.get(k) ?? []), v]);
  return Object.fromEntries(m);
}

/** Mostly a good value (so that generated input gets past the early checks), sometimes a bad one, anything, or absent. */
function claim<T>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<T>): fc.Arbitrary<T | fc.JsonValue | undefined> {
  return fc.oneof(
    { weight: 24, arbitrary: good },
    { weight: 2, arbitrary: bad },
    { weight: 1, arbitrary: fc.jsonValue() },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
}

function arbitraries() {
  const supabaseIss = `${fx.supabaseUrl}/auth/v1`;
  const now = nowSeconds();
  const one = <T>(v: T) => fc.constant(v);

  const alg = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom('HS256', 'ES256', 'RS256') },
    { weight: 2, arbitrary: fc.constantFrom('PS256', 'ES384', 'EdDSA', 'none', 'None', 'HS512', 'hs256', '') },
    { weight: 1, arbitrary: fc.jsonValue() },
  );
  const kid = claim(fc.constantFrom(fx.supabaseKey.kid, fx.oidcKey.kid), fc.constantFrom('../../etc/passwd', '', 'kid-unknown'));
  const jwtHeader = fc.oneof(
    { weight: 6, arbitrary: fc.record({ alg, kid, typ: claim(one('JWT'), one('at+jwt')) }) },
    { weight: 1, arbitrary: fc.record({ alg, kid, crit: claim(one<string[]>(['b64']), fc.constantFrom<string[]>(['exp'], [])), b64: claim(fc.boolean(), one(false)) }) },
    {
      weight: 1,
      arbitrary: fc
        .record({ alg, kid, name: fc.constantFrom('jku', 'jwk', 'x5u', 'x5c'), value: fc.jsonValue() })
        .map(({ name, value, ...h }) => ({ ...h, [name]: name === 'jwk' ? fx.oidcKey.publicJwk : value })),
    },
    { weight: 1, arbitrary: fc.jsonValue() },
  );
  const jwtClaims = fc.record({
    iss: fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom(supabaseIss, fx.oidcIssuer) },
      { weight: 1, arbitrary: fc.constantFrom(`${fx.oidcIssuer}/`, supabaseIss.toUpperCase(), `${supabaseIss}/`, 'https://evil.example/auth/v1') },
      { weight: 1, arbitrary: fc.jsonValue() },
    ),
    sub: claim(one('user-1'), fc.constantFrom('a'.repeat(257), '', 'x y', '__proto__', 'user\u0000')),
    aud: claim(fc.constantFrom<string | string[]>('authenticated', 'gatehouse-api', ['authenticated', 'gatehouse-api']), fc.constantFrom<string | string[]>('other', [], ['other'])),
    role: claim(one('authenticated'), fc.constantFrom('anon', 'service_role', 'Authenticated', 'authenticated ')),
    // Bad times stay a minute or more clear of the 30 s tolerance and the 1-day age limit, so the model's clock
    // and the handler's never disagree about a boundary.
    iat: claim(fc.integer({ min: now - 3600, max: now }), fc.oneof(fc.integer({ min: now - 3 * 86_400, max: now - 86_400 - 120 }), fc.integer({ min: now + 120, max: now + 600 }))),
    exp: claim(fc.integer({ min: now + 120, max: now + 3 * 86_400 }), fc.integer({ min: now - 600, max: now - 120 })),
    nbf: fc.oneof(
      { weight: 8, arbitrary: one(undefined) },
      { weight: 1, arbitrary: fc.oneof(fc.integer({ min: now - 600, max: now - 120 }), fc.integer({ min: now + 120, max: now + 600 })) },
    ),
    app_metadata: claim(
      fc.record({
        tenant_id: claim(fc.constantFrom('acme', 'acme', 'acme', 'frozen', 'nobody'), fc.constantFrom('acme ', 'a'.repeat(300), 'ACME', '')),
        roles: claim(fc.array(fc.constantFrom('admin', 'member')), fc.array(fc.string())),
      }),
      fc.constantFrom<unknown>([], null, 'acme'),
    ),
    user_metadata: fc.option(fc.record({ tenant_id: fc.constantFrom('acme', 'frozen') }), { nil: undefined }),
    org: claim(fc.constantFrom('acme', 'acme', 'acme', 'frozen', 'nobody'), fc.constantFrom('ACME', '', 'a b')),
    scope: claim(fc.constantFrom('customers:read customers:write customers:admin', 'customers:read', ''), fc.constantFrom<unknown>(['customers:read'], [1], 'x'.repeat(200))),
    is_anonymous: claim(one(false), one(true)),
    session_id: fc.option(fc.jsonValue(), { nil: undefined }),
  });
  const jwtLike = fc.oneof(
    { weight: 1, arbitrary: fc.tuple(b64url(1, 60), b64url(1, 200), b64url(1, 120)).map((p) => p.join('.')) },
    { weight: 6, arbitrary: fc.tuple(segment(jwtHeader), segment(jwtClaims), signature(300)).map((p) => p.join('.')) },
    { weight: 1, arbitrary: fc.tuple(segment(jwtHeader), segment(jwtClaims), fc.constantFrom('', '=', 'AA==')).map((p) => p.join('.')) },
    { weight: 1, arbitrary: fc.tuple(segment(jwtHeader), segment(jwtClaims), signature(30), signature(30)).map((p) => p.join('.')) },
  );
  const apiKeyLike = fc
    .tuple(
      fc.oneof({ weight: 6, arbitrary: fc.constant('gh') }, fc.constantFrom('sk', 'ghp', 'g', 'GH')),
      fc.oneof({ weight: 6, arbitrary: fc.constant('live') }, fc.constantFrom('test', 'prod', 'LIVE')),
      hex(64),
      fc.boolean(),
      hex(8),
    )
    .map(([prefix, env, body, valid, check]) => {
      const head = `${prefix}_${env}_${body}`;
      return head + (valid ? checksum(head) : check);
    });
  const token = fc.oneof(
    { weight: 4, arbitrary: jwtLike },
    { weight: 4, arbitrary: apiKeyLike },
    { weight: 1, arbitrary: b64url(1, 200) },
    { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
    { weight: 1, arbitrary: fc.tuple(jwtLike, fc.constantFrom(' ', ',', ', ', '.', '', '\t'), apiKeyLike).map((p) => p.join('')) },
  );
  const scheme = fc.oneof(
    { weight: 16, arbitrary: fc.mixedCase(fc.constant('bearer ')) },
    { weight: 1, arbitrary: fc.constantFrom('Bearer  ', 'Bearer\t', 'Basic ', 'Token ', '', 'Bearer', ' Bearer ', 'Bearer\u00a0') },
    { weight: 1, arbitrary: fc.string({ maxLength: 10 }) },
  );
  const authValue = fc.oneof(
    { weight: 16, arbitrary: fc.tuple(scheme, token).map(([s, t]) => s + t) },
    { weight: 1, arbitrary: fc.string({ maxLength: 300 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  );
  const serviceValue = fc.oneof(fc.constantFrom('billing', 'BILLING', '../billing', 'billing\u0000', ''), fc.string({ maxLength: 40 }));
  const entryNamed = (names: fc.Arbitrary<string>): fc.Arbitrary<[string, string]> =>
    names.chain((name) => {
      const lower = name.toLowerCase();
      const value = lower === 'authorization' ? authValue : lower === 'x-service-name' ? serviceValue : fc.oneof(authValue, fc.string({ maxLength: 40 }));
      return value.map((v): [string, string] => [name, v]);
    });
  const authorizationEntry = entryNamed(fc.mixedCase(fc.constant('authorization')));
  const otherEntry = fc.oneof(
    { weight: 1, arbitrary: authorizationEntry },
    { weight: 1, arbitrary: entryNamed(fc.mixedCase(fc.constant('x-service-name'))) },
    { weight: 2, arbitrary: entryNamed(fc.mixedCase(fc.constant('x-tenant-id'))) },
    { weight: 4, arbitrary: entryNamed(fc.string({ maxLength: 20 })) },
  );

  /** Header maps as an attacker controls them: names in any casing, repeated, the two maps agreeing or not. */
  const event = fc
    .record({
      entries: fc.tuple(fc.option(authorizationEntry, { freq: 10, nil: undefined }), fc.array(otherEntry, { maxLength: 2 })),
      mode: fc.oneof({ weight: 6, arbitrary: fc.constant('derived') }, fc.constantFrom('grouped', 'independent', 'no-multi', 'no-single')),
      extra: fc.array(otherEntry, { maxLength: 3 }),
      request: fc.constantFrom(...REQUESTS),
    })
    .map(({ entries: [first, rest], mode, extra, request }) => {
      const entries = first ? [first, ...rest] : rest;
      const headers = Object.fromEntries(entries);
      const grouped = group(entries);
      const multi = mode === 'grouped' || mode === 'no-single' ? grouped : mode === 'independent' ? group(extra) : undefined;
      const e = authorizerEvent(headers, request.method, request.path, request.path, multi);
      if (mode === 'no-multi') e.multiValueHeaders = null as never;
      if (mode === 'no-single') e.headers = null as never;
      return e;
    });

  return { event, jwtClaims };
}

describe('hostile headers', () => {
  it('never yield Allow, and end only in 401 or a policy that allows nothing (REST), or a Deny (HTTP API)', async () => {
    const authorize = fx.authorizer();
    const reasons = new Map<string, number>();

    await fc.assert(
      fc.asyncProperty(arbitraries().event, FORMATS, async (event, format) => {
        const o = await run(authorize, inFormat(format, event));
        reasons.set(String(o.reason), (reasons.get(String(o.reason)) ?? 0) + 1);
        assertRefused(o, { format, headers: event.headers, multiValueHeaders: event.multiValueHeaders }, format);
      }),
      { numRuns: runs(400) },
    );

    // The generators reach deep into the handler, not just the header parser.
    for (const reason of ['AUTHORIZATION_MALFORMED', 'CREDENTIAL_MULTIPLE', 'JWT_ISSUER_UNKNOWN', 'APIKEY_CHECKSUM_INVALID', 'APIKEY_NOT_FOUND']) {
      expect({ reason, seen: (reasons.get(reason) ?? 0) > 0 }).toEqual({ reason, seen: true });
    }
  }, 60_000);

  it('answer 401/403, never another error, for tokens signed with the real keys whatever their claims', async () => {
    const authorize = fx.authorizer();
    const supabaseIss = `${fx.supabaseUrl}/auth/v1`;
    const signers = [
      { sign: (c: Record<string, unknown>) => signHs256(fx.supabaseSecret, c), iss: supabaseIss, aud: 'authenticated' },
      { sign: (c: Record<string, unknown>) => signWith(fx.supabaseKey, c), iss: supabaseIss, aud: 'authenticated' },
      { sign: (c: Record<string, unknown>) => signWith(fx.oidcKey, c), iss: fx.oidcIssuer, aud: 'gatehouse-api' },
    ];
    const outcomes = new Map<string, number>();
    const input = fc.record({
      claims: arbitraries().jwtClaims,
      signer: fc.nat({ max: signers.length - 1 }),
      // Mostly the signer's own issuer and audience, so that most tokens get past the signature to the claim rules.
      own: fc.constantFrom(true, true, true, false),
      request: fc.constantFrom(...REQUESTS),
    });

    await fc.assert(
      fc.asyncProperty(input, async ({ claims: generated, signer, own, request }) => {
        const s = signers[signer]!;
        const claims: Record<string, unknown> = own ? { ...generated, iss: s.iss, aud: generated.aud === undefined ? undefined : s.aud } : generated;
        const token = await s.sign(claims);
        const o = await run(authorize, authorizerEvent({ Authorization: `Bearer ${token}` }, request.method, request.path));
        outcomes.set(`${o.kind} ${o.reason}`, (outcomes.get(`${o.kind} ${o.reason}`) ?? 0) + 1);
        if (o.kind === 'threw' && !isUnauthorized(o.error)) {
          throw new Error(`expected Error('Unauthorized'), got ${describeError(o.error)} (reason ${o.reason}) for claims ${JSON.stringify(claims)}`);
        }
        if (o.kind === 'returned') {
          const expected = expectedAllows(claims, signer < 2 ? 'supabase' : 'oidc');
          // Whether a token without exp is accepted (until maxTokenAge) or refused is the issuer's policy, not a
          // safety property: both answers pass here; everything else must match the model exactly.
          const ok = JSON.stringify(o.allowed) === JSON.stringify(expected) || (claims.exp === undefined && o.allowed.length === 0);
          if (!ok) {
            throw new Error(`allowed ${JSON.stringify(o.allowed)}, expected ${JSON.stringify(expected)} (reason ${o.reason}) for claims ${JSON.stringify(claims)}`);
          }
        }
      }),
      { numRuns: runs(300) },
    );

    // Enough of the runs got past the signature to exercise the claim, tenant and route rules.
    expect((outcomes.get('returned ALLOWED') ?? 0) + (outcomes.get('returned ROUTE_NOT_PERMITTED') ?? 0)).toBeGreaterThan(10);
    expect(outcomes.get('returned TENANT_SUSPENDED') ?? 0).toBeGreaterThan(0);
  }, 60_000);
});

/**
 * Cache correctness on both payload formats. API Gateway keeps an authorizer's answer by the values of its identity
 * sources and reuses it on every route that authorizer guards: REST on every method; HTTP APIs likewise ("By default,
 * API Gateway uses the cached authorizer response for all routes of an API that use the authorizer",
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html#http-api-lambda-authorizer.caching).
 * So an answer obtained on one route, evaluated as an IAM policy on every route of the same authorizer (the same
 * identity sources, contract/route-authorizer.ts), must say what a fresh decision on that route says.
 */
describe('cached answers', () => {
  const ROUTED = TEST_ROUTES!.filter((r) => !r.public).map((r) => ({
    method: r.method,
    path: r.path.replace(/\{[^}]+\}/g, '42'),
    resource: r.path,
    authorizer: routeAuthorizer({ accepts: r.accepts!, cookie: r.cookie })!.name,
  }));
  const SCOPES = ['customers:read', 'customers:write', 'customers:admin'];

  it('are right on every route of the authorizer they are reused on, for any credential, REST and HTTP API alike', async () => {
    const authorize = fx.authorizer();
    const keys = await Promise.all([[], ['customers:read'], SCOPES].map(async (scopes) => (await fx.putApiKey({ tenantId: 'acme', scopes })).key));
    const credential = fc.oneof(
      fc.record({ kind: fc.constant('oidc' as const), scopes: fc.subarray(SCOPES), org: fc.constantFrom('acme', 'acme', 'frozen', 'nobody') }),
      fc.record({ kind: fc.constant('supabase' as const), tenant: fc.constantFrom('acme', 'frozen'), expired: fc.boolean() }),
      fc.record({ kind: fc.constant('apiKey' as const), key: fc.nat({ max: keys.length - 1 }), forged: fc.boolean() }),
      fc.record({ kind: fc.constant('service' as const), good: fc.boolean() }),
      fc.record({ kind: fc.constant('garbage' as const), value: fc.string({ maxLength: 40 }) }),
    );
    const now = nowSeconds();
    type Credential = typeof credential extends fc.Arbitrary<infer T> ? T : never;
    const headersOf = async (c: Credential): Promise<Record<string, string>> => {
      switch (c.kind) {
        case 'oidc':
          return { Authorization: `Bearer ${await signWith(fx.oidcKey, { iss: fx.oidcIssuer, sub: 'u-1', aud: 'gatehouse-api', iat: now, exp: now + 600, org: c.org, scope: c.scopes.join(' ') })}` };
        case 'supabase':
          return { Authorization: `Bearer ${await fx.userToken({ app_metadata: { tenant_id: c.tenant }, ...(c.expired ? { iat: now - 1000, exp: now - 100 } : {}) })}` };
        case 'apiKey':
          return { Authorization: `Bearer ${c.forged ? keys[c.key]!.replace(/.$/, (x) => (x === '0' ? '1' : '0')) : keys[c.key]!}` };
        case 'service':
          return { Authorization: `Bearer ${c.good ? fx.serviceSecret : 'not-the-secret-not-the-secret'}`, 'X-Service-Name': fx.serviceName };
        case 'garbage':
          return { Authorization: `Bearer ${c.value}` };
      }
    };
    const allowedOn = (o: Outcome, r: (typeof ROUTED)[number]) => o.kind === 'returned' && o.allowed.includes(`${API_ARN_PREFIX}/${r.method}${r.path}`);
    const seen = { allow: 0, deny: 0, formats: new Set<string>() };

    await fc.assert(
      fc.asyncProperty(credential, fc.constantFrom(...ROUTED), FORMATS, async (c, first, format) => {
        const headers = await headersOf(c);
        const event = (r: (typeof ROUTED)[number]) => inFormat(format, authorizerEvent(headers, r.method, r.path, r.resource));
        const cached = await run(authorize, event(first));
        if (format === 'http-2.0') expect({ format, threw: cached.kind === 'threw' }).toEqual({ format, threw: false });
        seen.formats.add(format);
        for (const r of ROUTED.filter((x) => x.authorizer === first.authorizer)) {
          const reused = allowedOn(cached, r);
          const fresh = allowedOn(await run(authorize, event(r)), r);
          if (reused) seen.allow++;
          else seen.deny++;
          expect({ c, format, from: `${first.method} ${first.path}`, on: `${r.method} ${r.path}`, reused }).toEqual({ c, format, from: `${first.method} ${first.path}`, on: `${r.method} ${r.path}`, reused: fresh });
        }
      }),
      { numRuns: runs(150) },
    );

    // Both outcomes were exercised, on both formats.
    expect({ allows: seen.allow > 20, denies: seen.deny > 20, formats: [...seen.formats].sort() }).toEqual({ allows: true, denies: true, formats: ['http-2.0', 'rest'] });
  }, 60_000);
});

/**
 * An independent model of which requests a signed token may call: a signed-in, non-anonymous user of the active
 * tenant (the audience and times right), on the user routes whose scopes the token holds.
 */
function expectedAllows(c: Record<string, unknown>, issuer: 'supabase' | 'oidc'): string[] {
  const now = nowSeconds();
  const hasAud = (aud: string) => c.aud === aud || (Array.isArray(c.aud) && c.aud.includes(aud));
  const id = (v: unknown) => typeof v === 'string' && /^[A-Za-z0-9._:@|+-]{1,256}$/.test(v);
  const times =
    typeof c.iat === 'number' &&
    c.iat >= now - 86_400 - 30 &&
    c.iat <= now + 30 &&
    (c.exp === undefined || (typeof c.exp === 'number' && c.exp > now - 30)) &&
    (c.nbf === undefined || (typeof c.nbf === 'number' && c.nbf <= now + 30));
  let scopes: string[] = [];
  let ok: boolean;
  if (issuer === 'supabase') {
    const app = c.app_metadata as Record<string, unknown> | undefined;
    ok =
      c.iss === `${fx.supabaseUrl}/auth/v1` &&
      hasAud('authenticated') &&
      c.role === 'authenticated' &&
      c.is_anonymous !== true &&
      id(c.sub) &&
      app !== null && typeof app === 'object' && !Array.isArray(app) && app.tenant_id === 'acme' &&
      // roles: absent, one space-separated string, or an array of strings.
      (app.roles === undefined || typeof app.roles === 'string' || (Array.isArray(app.roles) && app.roles.every((r) => typeof r === 'string')));
  } else {
    ok = c.iss === fx.oidcIssuer && hasAud('gatehouse-api') && id(c.sub) && c.org === 'acme';
    const scope = /^[A-Za-z0-9:._\-/*]{1,128}$/;
    if (typeof c.scope === 'string') scopes = c.scope.split(' ').filter((x) => scope.test(x));
    else if (Array.isArray(c.scope) && c.scope.every((x) => typeof x === 'string')) scopes = (c.scope as string[]).filter((x) => scope.test(x));
    else if (c.scope !== undefined) ok = false;
  }
  if (!ok || !times) return [];
  return TEST_ROUTES!.filter((r) => !r.public && r.accepts!.includes('user') && (r.scopes ?? []).every((x) => scopes.includes(x))).map(
    (r) => `${API_ARN_PREFIX}/${r.method}${r.path.replace(/\{[^}]+\}/g, '42')}`,
  );
}

describe('hostile input size', () => {
  it('decides on any header value up to the 8 KiB cap quickly', async () => {
    const authorize = fx.authorizer();
    const big = (unit: fc.Arbitrary<string>) =>
      fc.integer({ min: 0, max: 8192 }).chain((n) => fc.array(unit, { minLength: Math.min(n, 64), maxLength: Math.min(n, 64) }).map((chunk) => ({ n, chunk })));
    const repeatTo = (chunk: string, n: number) => (chunk && n > 0 ? chunk.repeat(Math.ceil(n / chunk.length)).slice(0, n) : '');
    const value = fc.oneof(
      // Random strings of any characters, then the same made long by repetition (regex-hostile shapes).
      fc.string({ maxLength: 8192, size: 'max' }),
      fc.string({ unit: 'binary', maxLength: 2048, size: 'max' }),
      big(fc.constantFrom(...B64URL, '.', '=', '+', '/', ' ')).map(({ n, chunk }) => `Bearer ${repeatTo(chunk.join(''), n - 7)}`),
      big(fc.constantFrom(...B64URL)).map(({ n, chunk }) => {
        const s = repeatTo(chunk.join(''), Math.max(3, n - 9));
        const third = Math.floor(s.length / 3);
        return `Bearer ${s.slice(0, third)}.${s.slice(third, 2 * third)}.${s.slice(2 * third)}`;
      }),
      fc.integer({ min: 1, max: 2700 }).map((n) => `Bearer ${Buffer.from('{"a":'.repeat(n)).toString('base64url')}.e30.c2ln`),
      fc.integer({ min: 1, max: 4000 }).map((n) => `Bearer ${Buffer.from('['.repeat(n)).toString('base64url')}.${Buffer.from('['.repeat(n)).toString('base64url')}.c2ln`),
      fc.integer({ min: 0, max: 8185 }).map((n) => `Bearer ${'a'.repeat(n)}!`),
      fc.integer({ min: 8185, max: 8200 }).map((n) => `Bearer ${'a'.repeat(n)}`),
    );
    // Warm up: clients, the HS256 secret and the JWKS are fetched once, as on a warm Lambda.
    await run(authorize, authorizerEvent({ Authorization: 'Bearer warm' }));
    await run(authorize, authorizerEvent({ Authorization: `Bearer ${await signHs256(fx.supabaseSecret, { iss: `${fx.supabaseUrl}/auth/v1`, sub: 'warm' })}` }));

    const times: number[] = [];
    await fc.assert(
      fc.asyncProperty(value, fc.boolean(), async (v, withService) => {
        const headers: Record<string, string> = { Authorization: v, ...(withService ? { 'X-Service-Name': 'nobody' } : {}) };
        const started = performance.now();
        const o = await run(authorize, authorizerEvent(headers));
        times.push(performance.now() - started);
        assertRefused(o, { length: v.length });
      }),
      { numRuns: 300 },
    );

    times.sort((a, b) => a - b);
    const max = times[times.length - 1]!;
    // Typical decisions take well under a millisecond; the bound only catches super-linear work, not noise.
    expect({ runs: times.length, maxUnder200ms: max < 200 }).toEqual({ runs: 300, maxUnder200ms: true });
  }, 60_000);

  it('refuses a header over the cap as AUTHORIZATION_TOO_LARGE, counting bytes, not characters', async () => {
    const authorize = fx.authorizer();
    const cases: [string, string][] = [
      [`Bearer ${'a'.repeat(8192 - 7 + 1)}`, 'AUTHORIZATION_TOO_LARGE'],
      [`Bearer ${'é'.repeat(4093)}`, 'AUTHORIZATION_TOO_LARGE'], // 4,100 characters, 8,193 bytes
      [`Bearer ${'a'.repeat(1_000_000)}`, 'AUTHORIZATION_TOO_LARGE'],
      [`Bearer ${'a'.repeat(8192 - 7)}`, 'CREDENTIAL_UNRECOGNIZED'],
    ];
    for (const [header, reason] of cases) {
      const o = await run(authorize, authorizerEvent({ Authorization: header }));
      expect({ kind: o.kind, unauthorized: o.kind === 'threw' && isUnauthorized(o.error), reason: o.reason }).toEqual({ kind: 'threw', unauthorized: true, reason });
    }
  });
});

/**
 * Browser callers and signed requests: routes that take a cookie and routes that accept signed requests, whose
 * answers are never cached, so every header of every request reaches the decision. A signature cannot be guessed
 * and no cookie here holds a token the issuer signed: no request may be allowed anywhere.
 */
describe('hostile cookies and signed-request headers', () => {
  const ROUTES: AuthorizerConfigInput['routes'] = [
    ...TEST_ROUTES!,
    { method: 'ANY', path: '/v1/session', accepts: ['user'], cookie: 'sb-access-token' },
    { method: 'POST', path: '/v1/mixed', accepts: ['user', 'signed', 'apiKey'], cookie: 'sb-access-token' },
    { method: 'ANY', path: '/v1/hooks/{proxy+}', accepts: ['signed'] },
  ];
  const ARNS_HERE = [
    ...ARNS,
    ...['GET', 'POST', 'DELETE'].map((m) => `${API_ARN_PREFIX}/${m}/v1/session`),
    `${API_ARN_PREFIX}/POST/v1/mixed`,
    ...['GET', 'POST', 'PUT'].map((m) => `${API_ARN_PREFIX}/${m}/v1/hooks/stripe`),
  ];
  const REQUESTS_HERE = [
    ...REQUESTS.map((r) => ({ ...r, resource: TEST_ROUTES!.find((t) => t.method === r.method && t.path.replace(/\{[^}]+\}/g, '42') === r.path)!.path })),
    ...['GET', 'POST', 'DELETE', 'HEAD'].map((method) => ({ method, path: '/v1/session', resource: '/v1/session' })),
    { method: 'POST', path: '/v1/mixed', resource: '/v1/mixed' },
    ...['GET', 'POST', 'PUT'].map((method) => ({ method, path: '/v1/hooks/stripe', resource: '/v1/hooks/{proxy+}' })),
  ];

  function arbitraries() {
    const now = nowSeconds();
    const hex64 = hex(64);
    const nonce = fc.oneof({ weight: 6, arbitrary: b64url(16, 40) }, { weight: 1, arbitrary: fc.constantFrom('short', '', 'a'.repeat(129), 'has space nonce!!', 'A'.repeat(16)) });
    const timestamp = fc.oneof(
      { weight: 6, arbitrary: fc.integer({ min: now - 600, max: now + 600 }).map(String) },
      { weight: 1, arbitrary: fc.constantFrom('0', '-1', '1e9', `0${now}`, `${now}.5`, '9'.repeat(13), '') },
    );
    const callerName = fc.oneof({ weight: 3, arbitrary: fc.constant(SIGNER) }, { weight: 1, arbitrary: fc.constantFrom('nobody', 'Stripe-relay', '', 'stripe_relay', 'billing') });
    // Near-valid headers: every part well-formed most of the time, so that most reach the signature check.
    const signature = fc
      .record({ caller: callerName, timestamp, nonce, signature: fc.oneof({ weight: 8, arbitrary: hex64 }, { weight: 1, arbitrary: hex64.map((h) => h.toUpperCase()) }, { weight: 1, arbitrary: hex(10) }) })
      .map((p) => `GH-HMAC-SHA256 Caller=${p.caller}, Timestamp=${p.timestamp}, Nonce=${p.nonce}, Signature=${p.signature}`);
    // A real signature over another path than any request here has (`stage` below never makes these), or a forger's.
    const replayed = fc
      .record({ path: fc.constantFrom('/prod/v1/hooks/other', '/staging/v1/hooks/stripe', '/prod/v1/hooks/stripe/', '/prod/v1/mixed/'), method: fc.constantFrom('GET', 'POST', 'DELETE'), forged: fc.boolean() })
      .map((p) => signedHeaders({ secret: p.forged ? randomBytes(32).toString('base64url') : signerSecret, caller: SIGNER, method: p.method, requestPath: p.path }).headers.Authorization!);
    const authorization = fc.oneof(
      { weight: 4, arbitrary: signature },
      { weight: 2, arbitrary: replayed },
      { weight: 1, arbitrary: fc.mixedCase(fc.constant('gh-hmac-sha256 ')).chain((scheme) => signature.map((v) => scheme + v.slice('GH-HMAC-SHA256 '.length))) },
      { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
    );
    const bodyHash = fc.oneof({ weight: 6, arbitrary: fc.constant(sha256Hex('')) }, { weight: 2, arbitrary: hex64 }, { weight: 1, arbitrary: fc.string({ maxLength: 70 }) });
    const forgedJwt = fc.tuple(b64url(10, 60), b64url(10, 200), b64url(10, 60)).map((p) => p.join('.'));
    const cookiePiece = fc.oneof(
      { weight: 4, arbitrary: forgedJwt.map((t) => `sb-access-token=${t}`) },
      { weight: 2, arbitrary: fc.constantFrom('sb-access-token=', '__Host-gh-csrf=cccccccccccccccccccc', 'theme=dark', 'xsb-access-token=a.b.c', 'sb-access-token="a.b.c"') },
      { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
    );
    const cookie = fc.array(fc.tuple(cookiePiece, fc.constantFrom('; ', ';', ', ', ' ', '')), { minLength: 1, maxLength: 4 }).map((ps) => ps.flat().join(''));
    const query = fc.dictionary(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 5 }), fc.array(fc.string({ unit: 'grapheme', maxLength: 5 }), { minLength: 1, maxLength: 2 }), { maxKeys: 3 });
    /** `a` in `present` of `present + absent` cases, otherwise absent. */
    const optional = <T>(a: fc.Arbitrary<T>, present: number, absent: number) =>
      fc.oneof({ weight: present, arbitrary: a }, { weight: absent, arbitrary: fc.constant(undefined) });
    // A signing caller (mostly headers of a signed request) or a browser (mostly cookies): each sometimes with the other's.
    const routes = (paths: string[]) =>
      fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom(...REQUESTS_HERE.filter((r) => paths.includes(r.path))) },
        { weight: 1, arbitrary: fc.constantFrom(...REQUESTS_HERE) },
      );
    // What a browser sends: the access token (forged here) and the CSRF cookie, among others.
    const browserCookie = fc
      .tuple(fc.constantFrom('', 'theme=dark; '), forgedJwt, fc.constantFrom('; __Host-gh-csrf=cccccccccccccccccccc', '; __Host-gh-csrf=short', ''))
      .map(([before, jwt, csrf]) => `${before}sb-access-token=${jwt}${csrf}`);
    const caller = (signing: boolean) =>
      fc.record({
        request: routes(signing ? ['/v1/hooks/stripe', '/v1/mixed'] : ['/v1/session', '/v1/mixed']),
        authorization: signing ? optional(authorization, 9, 1) : optional(authorization, 1, 4),
        bodyHash: signing ? optional(bodyHash, 8, 1) : optional(bodyHash, 1, 4),
        cookie: signing ? optional(cookie, 1, 4) : optional(fc.oneof({ weight: 2, arbitrary: browserCookie }, cookie), 9, 1),
        csrf: optional(fc.constantFrom('cccccccccccccccccccc', 'cccccccccccccccccccd', 'short', ''), signing ? 1 : 3, signing ? 4 : 1),
        origin: optional(fc.constantFrom('https://app.example.com', 'null', 'https://evil.example.com'), 1, 2),
      });
    return fc
      .record({
        caller: fc.oneof(caller(true), caller(false)),
        twice: fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, fc.constantFrom('Cookie', 'Authorization', 'X-Content-SHA256', 'X-CSRF-Token', 'Origin')),
        query,
        stage: fc.constantFrom('/prod', '/prod', '/prod', '', '/dev'),
      })
      .map(({ caller: { request, ...h }, ...g }) => {
        const entries: [string, string][] = [];
        if (h.authorization !== undefined) entries.push(['Authorization', h.authorization]);
        if (h.bodyHash !== undefined) entries.push(['X-Content-SHA256', h.bodyHash]);
        if (h.cookie !== undefined) entries.push(['Cookie', h.cookie]);
        if (h.csrf !== undefined) entries.push(['X-CSRF-Token', h.csrf]);
        if (h.origin !== undefined) entries.push(['Origin', h.origin]);
        const again = entries.find(([k]) => k === g.twice);
        if (again) entries.push(again);
        const e = authorizerEvent(Object.fromEntries(entries), request.method, request.path, request.resource, group(entries));
        return withRequestLine(e, { query: g.query, requestPath: `${g.stage}${request.path}` });
      });
  }

  it('never yield Allow, and end only in 401 or a policy that allows nothing (REST), or a Deny (HTTP API)', async () => {
    const authorize = fx.authorizer({ routes: ROUTES, signers: [{ name: SIGNER, secretId: signerSecretId }], csrf: { allowedOrigins: ['https://app.example.com'] } });
    const reasons = new Map<string, number>();

    await fc.assert(
      fc.asyncProperty(arbitraries(), FORMATS, async (event, format) => {
        const before = fx.logs.length;
        let o: Outcome;
        try {
          const result = await authorize(inFormat(format, event));
          o = { kind: 'returned', allowed: ARNS_HERE.filter((arn) => evaluatePolicy(result.policyDocument as PolicyDocument, arn) === 'Allow'), reason: undefined, decision: undefined };
        } catch (error) {
          o = { kind: 'threw', error, reason: undefined, decision: undefined };
        }
        const last = fx.logs.slice(before).filter((l) => l.message === 'decision').at(-1);
        const reason = String(last?.reason);
        reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
        assertRefused(
          { ...o, reason, decision: String(last?.decision) },
          { format, headers: event.multiValueHeaders, method: event.httpMethod, path: event.requestContext.path, query: event.multiValueQueryStringParameters },
          format,
        );
      }),
      { numRuns: runs(500) },
    );

    // The generators reach the signature and the cookie checks, not just the header parsers.
    const expected = ['SIGNATURE_MISMATCH', 'SIGNATURE_MALFORMED', 'SIGNER_UNKNOWN', 'SIGNATURE_BODY_HASH_INVALID', 'SIGNATURE_TIMESTAMP_OUT_OF_WINDOW', 'CREDENTIAL_AMBIGUOUS', 'CREDENTIAL_MULTIPLE', 'COOKIE_MALFORMED', 'CSRF_TOKEN_MISSING', 'CSRF_TOKEN_MISMATCH', 'CSRF_ORIGIN_NOT_ALLOWED', 'JWT_MALFORMED'];
    for (const reason of expected) {
      expect({ reason, seen: (reasons.get(reason) ?? 0) > 0 }).toEqual({ reason, seen: true });
    }
  }, 120_000);
});
