import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { classify } from '../../lambdas/authorizer/classify';
import type { AuthorizerConfigInput } from '../../contract/config';
import { AuthError } from '../../lambdas/authorizer/errors';
import { type PolicyDocument, evaluatePolicy } from '../../lambdas/authorizer/policy';
import { sha256Hex } from '../../contract/signing';
import { TTL_ATTRIBUTE } from '../../contract/table';
import { uniqueName } from '../support/aws';
import { DEAD_ENDPOINT, throttlingDynamoDb } from '../support/faults';
import { API_ARN_PREFIX, type Fixture, STAGE_PATH, TEST_ROUTES, authorizerEvent, createFixture, signedHeaders, withRequestLine } from '../support/fixture';
import { nowSeconds } from '../support/jwt';
import type { AnswerFormat } from '../../lambdas/authorizer/request';
import { v2EventLike } from '../lambdas/v2-event';

/**
 * Attacks on browser callers (a JWT in a cookie, the CSRF double-submit check) and on signed requests (HMAC-SHA256
 * over method, path, query, body hash, timestamp and nonce; each nonce once), through the real authorizer over
 * DynamoDB and Secrets Manager on the emulator. Each attack asserts the status API Gateway would answer and the
 * reason code logged.
 */
let fx: Fixture;
const SIGNER = 'stripe-relay';
const OTHER = 'other-relay';
const signerSecret = randomBytes(32).toString('base64url');
const otherSecret = randomBytes(32).toString('base64url');
const signerSecretId = uniqueName('signer');
const otherSecretId = uniqueName('signer-other');
const WINDOW = 300;

const ROUTES: AuthorizerConfigInput['routes'] = [
  ...TEST_ROUTES!,
  // A browser route for every method: the CSRF rule is by method.
  { method: 'ANY', path: '/v1/session', accepts: ['user'], cookie: 'sb-access-token' },
  // Another cookie route, with another cookie name.
  { method: 'GET', path: '/v1/widgets', accepts: ['user'], cookie: 'widget-token' },
  // Users (header or cookie) and signed callers on one route.
  { method: 'POST', path: '/v1/mixed', accepts: ['user', 'signed'], cookie: 'sb-access-token' },
  // Signed callers, any method and any path below: a refusal there is about the signature, never the route.
  { method: 'ANY', path: '/v1/hooks/{proxy+}', accepts: ['signed'] },
  { method: 'GET', path: '/v1/reports', accepts: ['signed'], signers: [OTHER] },
];
const config = (extra: Partial<AuthorizerConfigInput> = {}): Partial<AuthorizerConfigInput> => ({
  routes: ROUTES,
  signers: [
    { name: SIGNER, secretId: signerSecretId },
    { name: OTHER, secretId: otherSecretId },
  ],
  signedRequests: { windowSeconds: WINDOW },
  ...extra,
});

beforeAll(async () => {
  fx = await createFixture();
  await fx.putTenant({ tenantId: 'acme' });
  const sm = new SecretsManagerClient({});
  await sm.send(new CreateSecretCommand({ Name: signerSecretId, SecretString: signerSecret }));
  await sm.send(new CreateSecretCommand({ Name: otherSecretId, SecretString: otherSecret }));
  sm.destroy();
});
afterAll(() => fx.close());

/** Multiplies every numRuns, e.g. GATEHOUSE_PROPERTY_RUNS=20 for a long search; 1 in `npm test`. */
const RUNS = Number(process.env.GATEHOUSE_PROPERTY_RUNS ?? 1);
const runs = (n: number) => Math.max(1, Math.round(n * RUNS));

type Status = 200 | 401 | 403 | 500;

/** A request as API Gateway hands it to the authorizer. */
interface Request {
  readonly method: string;
  /** The path without the stage (event.path, and the method ARN's tail). */
  readonly path: string;
  /** The route's path. @default path */
  readonly resource?: string;
  /** requestContext.path. @default the stage and path */
  readonly requestPath?: string;
  readonly headers?: Record<string, string>;
  /** When given, the multi-value map (the single-value map then holds each header's last value). */
  readonly multi?: Record<string, string[]>;
  readonly query?: Record<string, string[]>;
  /** The payload the authorizer gets: REST's, or an HTTP API's (2.0) for the same request. @default 'rest' */
  readonly format?: AnswerFormat;
}

function event(r: Request): APIGatewayRequestAuthorizerEvent {
  const headers = r.multi ? Object.fromEntries(Object.entries(r.multi).map(([k, v]) => [k, v.at(-1)!])) : (r.headers ?? {});
  const e = authorizerEvent(headers, r.method, r.path, r.resource ?? r.path, r.multi);
  return withRequestLine(e, { query: r.query ?? {}, requestPath: r.requestPath });
}

interface Answer {
  readonly status: Status;
  readonly reason: string | undefined;
  readonly result?: APIGatewayAuthorizerResult;
  readonly error?: unknown;
}

/** One request through the authorizer: the status API Gateway answers, and the reason this decision logged. */
async function decide(authorize: ReturnType<Fixture['authorizer']>, r: Request): Promise<Answer> {
  const e = r.format === 'http-2.0' ? v2EventLike(event(r)) : event(r);
  const reason = () => fx.logs.filter((l) => l.message === 'decision' && l.requestId === e.requestContext.requestId).at(-1)?.reason as string | undefined;
  try {
    const result = await authorize(e);
    const verdict = evaluatePolicy(result.policyDocument as PolicyDocument, `${API_ARN_PREFIX}/${r.method}${r.path}`);
    return { status: verdict === 'Allow' ? 200 : 403, reason: reason(), result };
  } catch (error) {
    return { status: (error as Error).message === 'Unauthorized' ? 401 : 500, reason: reason(), error };
  }
}
const answer = async (authorize: ReturnType<Fixture['authorizer']>, r: Request) => {
  const { status, reason } = await decide(authorize, r);
  return { status, reason };
};

const cookies = (pairs: Record<string, string>) =>
  Object.entries(pairs)
    .map(([k, v]) => `${k}=${v}`)
    .join('; ');
const csrfToken = () => randomBytes(18).toString('base64url');

// ---------------------------------------------------------------------------------------------------------------
// Signed requests
// ---------------------------------------------------------------------------------------------------------------

interface Signed {
  readonly method?: string;
  /** Without the stage. @default /v1/hooks/stripe */
  readonly path?: string;
  readonly resource?: string;
  readonly query?: Record<string, string[]>;
  readonly body?: string;
  readonly caller?: string;
  readonly secret?: string;
  readonly timestamp?: number;
  readonly nonce?: string;
  /** The path the caller signs. @default the stage and path, as API Gateway reports it */
  readonly signedPath?: string;
}

/** A request signed as contract/signing.ts says, by default by SIGNER on its hooks route. */
function signed(s: Signed = {}): Request & { readonly signature: string } {
  const method = s.method ?? 'POST';
  const path = s.path ?? '/v1/hooks/stripe';
  const h = signedHeaders({
    secret: s.secret ?? (s.caller === OTHER ? otherSecret : signerSecret),
    caller: s.caller ?? SIGNER,
    method,
    requestPath: s.signedPath ?? `${STAGE_PATH}${path}`,
    query: s.query,
    body: s.body ?? '{"id":"evt_1"}',
    timestamp: s.timestamp,
    nonce: s.nonce,
  });
  return {
    method,
    path,
    resource: s.resource ?? (path.startsWith('/v1/hooks/') ? '/v1/hooks/{proxy+}' : path),
    ...(s.query ? { query: s.query } : {}),
    headers: h.headers,
    signature: h.signature,
  };
}

const withAuthorization = (r: Request, f: (value: string) => string): Request => ({ ...r, headers: { ...r.headers, Authorization: f(r.headers!.Authorization!) } });

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
const HEX = [...'0123456789abcdef'];

/** One change to one part of a signed request, after it was signed. */
type Tamper =
  | { readonly part: 'method'; readonly to: number }
  | { readonly part: 'path'; readonly how: 'append' | 'segment' | 'trailing-slash' | 'double-slash' | 'encode' | 'case' | 'no-stage' | 'dot-segment' }
  | { readonly part: 'query value' | 'query key'; readonly at: number; readonly suffix: string }
  | { readonly part: 'query added'; readonly key: string; readonly value: string }
  | { readonly part: 'query removed' | 'query value repeated'; readonly at: number }
  | { readonly part: 'body hash'; readonly how: 'other body' | 'uppercase' | 'missing' }
  | { readonly part: 'timestamp'; readonly delta: number }
  | { readonly part: 'nonce'; readonly at: number; readonly char: string }
  | { readonly part: 'caller'; readonly to: string }
  | { readonly part: 'signature'; readonly at: number; readonly char: string };

/** Every (key, value) pair of a query, flattened. */
const pairs = (q: Record<string, string[]>) => Object.entries(q).flatMap(([k, vs]) => vs.map((v): [string, string] => [k, v]));
const fromPairs = (ps: [string, string][]) => {
  // No prototype: a key named __proto__ is a key like any other, as in API Gateway's JSON.
  const out: Record<string, string[]> = Object.create(null);
  for (const [k, v] of ps) (out[k] ??= []).push(v);
  return out;
};
const sameMultiset = (a: [string, string][], b: [string, string][]) => JSON.stringify(a.map((p) => JSON.stringify(p)).sort()) === JSON.stringify(b.map((p) => JSON.stringify(p)).sort());

/** The request as sent after `t`; undefined when `t` does not apply to it (a query change on no query). */
function tampered(base: Request & { readonly signature: string }, t: Tamper): Request | undefined {
  const query = base.query ?? {};
  const ps = pairs(query);
  switch (t.part) {
    case 'method': {
      const to = METHODS.filter((m) => m !== base.method)[t.to % (METHODS.length - 1)]!;
      return { ...base, method: to };
    }
    case 'path': {
      const p = base.path;
      const last = p.slice(p.lastIndexOf('/') + 1);
      const changed = (path: string, requestPath = `${STAGE_PATH}${path}`): Request => ({ ...base, path, requestPath });
      switch (t.how) {
        case 'append':
          return changed(`${p}x`);
        case 'segment':
          return changed(`${p}/x`);
        case 'trailing-slash':
          return changed(`${p}/`);
        case 'double-slash':
          return changed(p.replace('/hooks/', '/hooks//'));
        case 'encode':
          // The same resource spelled with a percent-escape: not the bytes that were signed.
          return changed(`${p.slice(0, -last.length)}%${last.charCodeAt(0).toString(16).toUpperCase()}${last.slice(1)}`);
        case 'case':
          return /[a-z]/.test(last) ? changed(p.slice(0, -last.length) + last.toUpperCase()) : changed(`${p}X`);
        case 'dot-segment':
          return changed(p.replace('/hooks/', '/hooks/./'));
        case 'no-stage':
          // API Gateway reports the path with the stage; the same path without it is another path.
          return { ...base, requestPath: p };
      }
      break;
    }
    case 'query value':
    case 'query key': {
      if (!ps.length) return undefined;
      const i = t.at % ps.length;
      const [k, v] = ps[i]!;
      const next = ps.map((pair, j): [string, string] => (j !== i ? pair : t.part === 'query value' ? [k, v + t.suffix] : [k + t.suffix, v]));
      return { ...base, query: fromPairs(next) };
    }
    case 'query added':
      return { ...base, query: fromPairs([...ps, [t.key, t.value]]) };
    case 'query removed':
      if (!ps.length) return undefined;
      return { ...base, query: fromPairs(ps.filter((_, j) => j !== t.at % ps.length)) };
    case 'query value repeated':
      if (!ps.length) return undefined;
      return { ...base, query: fromPairs([...ps, ps[t.at % ps.length]!]) };
    case 'body hash': {
      const { 'X-Content-SHA256': hash, ...rest } = base.headers!;
      if (t.how === 'missing') return { ...base, headers: rest };
      return { ...base, headers: { ...rest, 'X-Content-SHA256': t.how === 'uppercase' ? hash!.toUpperCase() : sha256Hex('{"id":"evt_other"}') } };
    }
    case 'timestamp':
      return withAuthorization(base, (a) => a.replace(/Timestamp=(\d+)/, (_, ts: string) => `Timestamp=${Number(ts) + t.delta}`));
    case 'nonce':
      return withAuthorization(base, (a) =>
        a.replace(/Nonce=([^,]+)/, (_, n: string) => {
          const i = t.at % n.length;
          const c = n[i] === t.char ? (t.char === 'A' ? 'B' : 'A') : t.char;
          return `Nonce=${n.slice(0, i)}${c}${n.slice(i + 1)}`;
        }),
      );
    case 'caller':
      return withAuthorization(base, (a) => a.replace(`Caller=${SIGNER}`, `Caller=${t.to}`));
    case 'signature':
      return withAuthorization(base, (a) =>
        a.replace(/Signature=([0-9a-f]+)/, (_, s: string) => {
          const i = t.at % s.length;
          const c = s[i] === t.char ? HEX[(HEX.indexOf(t.char) + 1) % 16]! : t.char;
          return `Signature=${s.slice(0, i)}${c}${s.slice(i + 1)}`;
        }),
      );
  }
  return undefined;
}

/** The refusal of a tampered request: a 401 about the signature (never about the route), by what was changed. */
function tamperReason(t: Tamper): string {
  switch (t.part) {
    case 'body hash':
      return t.how === 'other body' ? 'SIGNATURE_MISMATCH' : 'SIGNATURE_BODY_HASH_INVALID';
    case 'caller':
      return t.to === OTHER ? 'SIGNATURE_MISMATCH' : 'SIGNER_UNKNOWN';
    case 'timestamp':
      // The signed timestamps are within a minute of now; the deltas stay clear of the window's edges.
      return Math.abs(t.delta) > WINDOW ? 'SIGNATURE_TIMESTAMP_OUT_OF_WINDOW' : 'SIGNATURE_MISMATCH';
    default:
      return 'SIGNATURE_MISMATCH';
  }
}

describe('a signed request, tampered with', () => {
  // Query keys and values: any text (API Gateway hands the authorizer the decoded query), and the characters that
  // delimit a query string, so that a change could only go unnoticed if the canonical query were ambiguous.
  const text = fc.oneof(
    { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 6 }) },
    { weight: 2, arbitrary: fc.string({ unit: fc.constantFrom('a', 'b', '=', '&', ',', ' ', '+', '%', '%2C', ';', '\u00e9'), maxLength: 4 }) },
  );
  const request = fc.record({
    method: fc.constantFrom(...METHODS),
    segments: fc.array(fc.stringMatching(/^[A-Za-z0-9._~-]{1,8}$/).filter((s) => s !== '.' && s !== '..'), { minLength: 1, maxLength: 3 }),
    query: fc.array(fc.tuple(text.filter((k) => k.length > 0), fc.array(text, { minLength: 1, maxLength: 3 })), { maxLength: 3 }),
    body: fc.string({ maxLength: 40 }),
    timestampOffset: fc.integer({ min: -60, max: 60 }),
  });
  const tamper: fc.Arbitrary<Tamper> = fc.oneof(
    fc.record({ part: fc.constant('method' as const), to: fc.nat() }),
    fc.record({ part: fc.constant('path' as const), how: fc.constantFrom('append', 'segment', 'trailing-slash', 'double-slash', 'encode', 'case', 'no-stage', 'dot-segment') }),
    fc.record({ part: fc.constantFrom('query value' as const, 'query key' as const), at: fc.nat(), suffix: text.filter((s) => s.length > 0) }),
    fc.record({ part: fc.constant('query added' as const), key: text.filter((k) => k.length > 0), value: text }),
    fc.record({ part: fc.constantFrom('query removed' as const, 'query value repeated' as const), at: fc.nat() }),
    fc.record({ part: fc.constant('body hash' as const), how: fc.constantFrom('other body', 'uppercase', 'missing') }),
    fc.record({
      part: fc.constant('timestamp' as const),
      delta: fc.oneof(fc.integer({ min: 1, max: WINDOW - 65 }), fc.integer({ min: WINDOW + 65, max: 10 * WINDOW })).chain((d) => fc.constantFrom(d, -d)),
    }),
    fc.record({ part: fc.constant('nonce' as const), at: fc.nat(), char: fc.constantFrom('A', 'z', '0', '-', '_') }),
    fc.record({ part: fc.constant('caller' as const), to: fc.constantFrom(OTHER, 'nobody', 'stripe-relay2') }),
    fc.record({ part: fc.constant('signature' as const), at: fc.nat(), char: fc.constantFrom(...HEX) }),
  );

  it('is never allowed, whatever part changed (401; on an HTTP API a Deny); the request as signed passes once, then SIGNATURE_REPLAYED', async () => {
    const authorize = fx.authorizer(config());
    const seen = new Set<string>();

    await fc.assert(
      fc.asyncProperty(request, tamper, fc.constantFrom<AnswerFormat>('rest', 'http-2.0'), async (r, t, format) => {
        const query = fromPairs(r.query.flatMap(([k, vs]) => vs.map((v): [string, string] => [k, v])));
        const base = { ...signed({ method: r.method, path: `/v1/hooks/${r.segments.join('/')}`, query, body: r.body, timestamp: nowSeconds() + r.timestampOffset }), format };
        const forged = tampered(base, t);
        const refusedStatus = format === 'rest' ? 401 : 403;
        fc.pre(forged !== undefined);
        // A query change must change the pairs sent (repeating a pair does: a=1&a=1 is not a=1).
        if (t.part.startsWith('query')) fc.pre(!sameMultiset(pairs(forged!.query ?? {}), pairs(query)) || t.part === 'query value repeated');

        const refused = await answer(authorize, forged!);
        seen.add(t.part);
        expect({ tamper: t, format, ...refused }).toEqual({ tamper: t, format, status: refusedStatus, reason: tamperReason(t) });
        // None of that spent the nonce: the genuine request passes, once.
        expect(await answer(authorize, base)).toEqual({ status: 200, reason: 'ALLOWED' });
        expect(await answer(authorize, base)).toEqual({ status: refusedStatus, reason: 'SIGNATURE_REPLAYED' });
      }),
      { numRuns: runs(150) },
    );

    // Every kind of change was tried.
    expect([...seen].sort()).toEqual(
      ['body hash', 'caller', 'method', 'nonce', 'path', 'query added', 'query key', 'query removed', 'query value', 'query value repeated', 'signature', 'timestamp'].sort(),
    );
  }, 120_000);

  // The canonical string holds the timestamp as the verifier re-spells it (String(Number(text))), not as sent: a
  // header that differs from the signed one in its bytes must not verify (TIMESTAMP_PATTERN admits leading zeros).
  it('is refused with the timestamp spelled with a leading zero (one spelling per number: malformed)', async () => {
    const authorize = fx.authorizer(config());
    const base = signed();
    const forged = withAuthorization(base, (a) => a.replace('Timestamp=', 'Timestamp=0'));
    expect(await answer(authorize, forged)).toEqual({ status: 401, reason: 'SIGNATURE_MALFORMED' });
    expect(await answer(authorize, base)).toEqual({ status: 200, reason: 'ALLOWED' });
  });

  it('is refused when the caller signed the path without the stage', async () => {
    const authorize = fx.authorizer(config());
    const stageless = signed({ path: '/v1/hooks/stripe', signedPath: '/v1/hooks/stripe' });
    expect(await answer(authorize, stageless)).toEqual({ status: 401, reason: 'SIGNATURE_MISMATCH' });
    // Nor another stage's path.
    expect(await answer(authorize, signed({ signedPath: '/dev/v1/hooks/stripe' }))).toEqual({ status: 401, reason: 'SIGNATURE_MISMATCH' });
    expect(await answer(authorize, signed())).toEqual({ status: 200, reason: 'ALLOWED' });
  });

  it('signs the query as a multiset of pairs: order does not matter, a=1,2 is not a=1&a=2, and delimiters cannot be smuggled', async () => {
    const authorize = fx.authorizer(config());
    const a12 = signed({ query: { a: ['1', '2'] } });
    expect(await answer(authorize, { ...a12, query: { a: ['2', '1'] } })).toEqual({ status: 200, reason: 'ALLOWED' });
    // Each of these reads as other pairs than were signed.
    const confusions: [Record<string, string[]>, Record<string, string[]>][] = [
      [{ a: ['1', '2'] }, { a: ['1,2'] }],
      [{ a: ['1,2'] }, { a: ['1', '2'] }],
      [{ a: ['1', '2'] }, { a: ['1'] }],
      [{ a: ['1'] }, { a: ['1', '1'] }],
      [{ a: ['1'], b: ['2'] }, { a: ['1&b=2'] }],
      [{ 'a=b': ['c'] }, { a: ['b=c'] }],
      [{ a: [''] }, {}],
      [{ a: ['x y'] }, { a: ['x+y'] }],
      [{ a: ['x y'] }, { a: ['x%20y'] }],
    ];
    // On an HTTP API too: its comma-joined queryStringParameters would read a=1&a=2 as a=1,2; the raw query does not.
    for (const format of ['rest', 'http-2.0'] as const) {
      for (const [signedQuery, sentQuery] of confusions) {
        const r = signed({ query: signedQuery });
        expect({ format, signedQuery, sentQuery, ...(await answer(authorize, { ...r, query: sentQuery, format })) }).toEqual({
          format,
          signedQuery,
          sentQuery,
          status: format === 'rest' ? 401 : 403,
          reason: 'SIGNATURE_MISMATCH',
        });
      }
    }
  });

  it('is refused (401, not a 500) with query text no URL can carry: a lone UTF-16 surrogate', async () => {
    // No caller can have signed it (RFC 3986 encoding is of UTF-8, which has no lone surrogates), so it is a forgery
    // or garbage: a 401 like any other signature that does not match, not an error for the on-call to look at.
    const authorize = fx.authorizer(config());
    for (const query of [{ a: ['\ud800'] }, { '\udc00': ['x'] }] as Record<string, string[]>[]) {
      const r = signed();
      const a = await answer(authorize, { ...r, query });
      expect({ query, status: a.status, reason: a.reason }).toEqual({ query, status: 401, reason: 'SIGNATURE_MISMATCH' });
    }
  });

  it('is refused with the body hash or the Authorization header sent twice (CREDENTIAL_MULTIPLE)', async () => {
    const authorize = fx.authorizer(config());
    const r = signed();
    const hash = r.headers!['X-Content-SHA256']!;
    expect(await answer(authorize, { ...r, multi: { Authorization: [r.headers!.Authorization!], 'X-Content-SHA256': [hash, hash] } })).toEqual({ status: 401, reason: 'CREDENTIAL_MULTIPLE' });
    expect(await answer(authorize, { ...r, multi: { Authorization: [r.headers!.Authorization!, r.headers!.Authorization!], 'X-Content-SHA256': [hash] } })).toEqual({
      status: 401,
      reason: 'CREDENTIAL_MULTIPLE',
    });
    expect(await answer(authorize, r)).toEqual({ status: 200, reason: 'ALLOWED' });
  });
});

/**
 * Replays raced against each other. The nonce is spent by one conditional PutItem (attribute_not_exists), so exactly
 * one of concurrent copies may pass. These run straight against the emulator: moto 5.2.5's put_item checks the
 * condition and then writes with no lock (moto/dynamodb/models/table.py), unlike DynamoDB, but the check and the
 * write run under one hold of the GIL in practice: measured, 400 rounds of 20 concurrent conditional PutItems of one
 * new item never had two succeed (its UpdateItem does race: see serializingProxy in
 * test/lambdas/shared/rate-limit/support.ts). The last test here pins that emulator behaviour down: if it ever
 * fails, the first two fail with it for the emulator's sake; route them through serializingProxy then, rather than
 * loosening what they assert.
 */
describe('a signed request replayed', () => {
  it('20 times at once through one authorizer: exactly one Allow, every other one SIGNATURE_REPLAYED', async () => {
    const authorize = fx.authorizer(config());
    const r = signed();
    const answers = await Promise.all(Array.from({ length: 20 }, () => answer(authorize, r)));
    const count = (s: Status, reason: string) => answers.filter((a) => a.status === s && a.reason === reason).length;
    expect({ allowed: count(200, 'ALLOWED'), replayed: count(401, 'SIGNATURE_REPLAYED') }).toEqual({ allowed: 1, replayed: 19 });
  });

  it('20 times at once, each through its own authorizer (20 containers, 20 clients): exactly one Allow', async () => {
    const clients = Array.from({ length: 20 }, () => new DynamoDBClient({ maxAttempts: 1 }));
    try {
      const r = signed();
      const answers = await Promise.all(clients.map((dynamodb) => answer(fx.authorizer(config(), { dynamodb }), r)));
      const count = (s: Status, reason: string) => answers.filter((a) => a.status === s && a.reason === reason).length;
      expect({ allowed: count(200, 'ALLOWED'), replayed: count(401, 'SIGNATURE_REPLAYED') }).toEqual({ allowed: 1, replayed: 19 });
    } finally {
      for (const c of clients) c.destroy();
    }
  });

  it('(the emulator, directly) lets exactly one of 20 concurrent conditional PutItems of one new item succeed', async () => {
    const clients = Array.from({ length: 20 }, () => new DynamoDBClient({ maxAttempts: 1 }));
    try {
      for (let round = 0; round < 5; round++) {
        const pk = `nonce-race#${randomBytes(8).toString('hex')}`;
        const results = await Promise.allSettled(
          clients.map((c) =>
            c.send(
              new PutItemCommand({
                TableName: fx.tableName,
                Item: { pk: { S: pk }, sk: { S: 'n' }, [TTL_ATTRIBUTE]: { N: String(nowSeconds() + 600) } },
                ConditionExpression: 'attribute_not_exists(pk)',
              }),
            ),
          ),
        );
        const won = results.filter((r) => r.status === 'fulfilled').length;
        const lost = results.filter((r) => r.status === 'rejected' && (r.reason as Error).name === 'ConditionalCheckFailedException').length;
        expect({ round, won, lost }).toEqual({ round, won: 1, lost: 19 });
      }
    } finally {
      for (const c of clients) c.destroy();
    }
  });
});

describe('a signed request on a route that does not take it', () => {
  it('never Allows a user, cookie, service or other signer route, even with a valid signature (403, no Allow there)', async () => {
    const authorize = fx.authorizer(config());
    const targets: Signed[] = [
      { method: 'GET', path: '/v1/me' },
      { method: 'GET', path: '/v1/customers' },
      { method: 'DELETE', path: '/v1/customers/1', resource: '/v1/customers/{id}' },
      { method: 'POST', path: '/internal/jobs' },
      { method: 'GET', path: '/v1/session' },
      { method: 'POST', path: '/v1/session' },
      { method: 'GET', path: '/v1/reports' },
    ];
    for (const target of targets) {
      const a = await decide(authorize, signed({ ...target, body: '' }));
      expect({ target, status: a.status, reason: a.reason }).toEqual({ target, status: 403, reason: 'ROUTE_NOT_PERMITTED' });
      // The policy (reused on every method of the API for a cached authorizer) allows only the signed routes.
      const allowed = ROUTES!.filter((r) => !r.public).filter((r) => {
        const path = r.path.replace(/\{[^}+]+\}/g, '1').replace(/\{[^}]+\+\}/, 'a/b');
        return evaluatePolicy(a.result!.policyDocument as PolicyDocument, `${API_ARN_PREFIX}/${r.method === 'ANY' ? 'PUT' : r.method}${path}`) === 'Allow';
      });
      expect(allowed.map((r) => r.path)).toEqual(['/v1/mixed', '/v1/hooks/{proxy+}']);
    }
  });

  it('is refused outright where no route accepts signed requests, and with a cookie on a route that takes both (CREDENTIAL_AMBIGUOUS)', async () => {
    const token = await fx.userToken();
    expect(await answer(fx.authorizer(), signed({ method: 'GET', path: '/v1/me', body: '' }))).toEqual({ status: 401, reason: 'SIGNED_NOT_ACCEPTED' });
    const authorize = fx.authorizer(config());
    const mixed = signed({ method: 'POST', path: '/v1/mixed' });
    expect(await answer(authorize, { ...mixed, headers: { ...mixed.headers, Cookie: `sb-access-token=${token}` } })).toEqual({ status: 401, reason: 'CREDENTIAL_AMBIGUOUS' });
    expect(await answer(authorize, mixed)).toEqual({ status: 200, reason: 'ALLOWED' });
  });
});

describe('signed requests when a dependency fails', () => {
  const expectNoPolicy = (a: Answer, reason: string) => {
    expect({ status: a.status, reason: a.reason, result: a.result, message: (a.error as Error | undefined)?.message }).toEqual({
      status: 500,
      reason,
      result: undefined,
      message: 'Authorizer dependency failure',
    });
  };

  it('answers 500 with no policy when the nonce cannot be recorded (unreachable, throttled), and does not spend it', async () => {
    const r = signed();
    expectNoPolicy(await decide(fx.authorizer(config(), { dynamodb: new DynamoDBClient({ endpoint: DEAD_ENDPOINT, maxAttempts: 1 }) }), r), 'NONCE_STORE_UNAVAILABLE');
    const throttled = throttlingDynamoDb({ maxAttempts: 2 });
    try {
      expectNoPolicy(await decide(fx.authorizer(config(), { dynamodb: throttled.client }), r), 'NONCE_STORE_UNAVAILABLE');
    } finally {
      throttled.client.destroy();
    }
    // Nothing was recorded: the caller's retry of the same request passes, once.
    const authorize = fx.authorizer(config());
    expect(await answer(authorize, r)).toEqual({ status: 200, reason: 'ALLOWED' });
    expect(await answer(authorize, r)).toEqual({ status: 401, reason: 'SIGNATURE_REPLAYED' });
  });

  it('answers 500 with no policy when the signer secret cannot be read, for a good and a forged signature alike', async () => {
    const authorize = fx.authorizer(config(), { secretsManager: new SecretsManagerClient({ endpoint: DEAD_ENDPOINT, maxAttempts: 1 }) });
    expectNoPolicy(await decide(authorize, signed()), 'SIGNER_SECRET_UNAVAILABLE');
    expectNoPolicy(await decide(authorize, signed({ secret: randomBytes(32).toString('base64url') })), 'SIGNER_SECRET_UNAVAILABLE');
  });

  it('answers 500, never Allow, when the signer secret does not exist', async () => {
    const authorize = fx.authorizer(config({ signers: [{ name: SIGNER, secretId: uniqueName('signer-missing') }, { name: OTHER, secretId: otherSecretId }] }));
    expectNoPolicy(await decide(authorize, signed()), 'SIGNER_SECRET_UNAVAILABLE');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Browser callers
// ---------------------------------------------------------------------------------------------------------------

describe('the access-token cookie', () => {
  const get = (headers: Record<string, string>, path = '/v1/session'): Request => ({ method: 'GET', path, headers });

  it('is read with the whitespace around name and value trimmed, and refused with it quoted or split', async () => {
    const authorize = fx.authorizer(config());
    const token = await fx.userToken();
    for (const cookie of [`sb-access-token=${token}`, ` sb-access-token=${token} `, `theme=dark;sb-access-token=${token}`, `sb-access-token = ${token}`, `theme=dark;\tsb-access-token=${token};`]) {
      expect({ cookie, ...(await answer(authorize, get({ Cookie: cookie }))) }).toEqual({ cookie, status: 200, reason: 'ALLOWED' });
    }
    for (const cookie of [`sb-access-token="${token}"`, `sb-access-token=${token.replace('.', '. ')}`, `sb-access-token=${token}, theme=dark`, `sb-access-token=${token}%3D`]) {
      expect({ cookie, ...(await answer(authorize, get({ Cookie: cookie }))) }).toEqual({ cookie, status: 401, reason: 'COOKIE_MALFORMED' });
    }
    // Two spellings of the name that trim to the same name are the cookie twice.
    expect(await answer(authorize, get({ Cookie: `sb-access-token=${token}; sb-access-token =${token}` }))).toEqual({ status: 401, reason: 'CREDENTIAL_MULTIPLE' });
  });

  it('is not confused with cookies whose names contain its name, nor with another case of it', async () => {
    const authorize = fx.authorizer(config());
    const token = await fx.userToken();
    for (const cookie of [`xsb-access-token=${token}`, `sb-access-token-x=${token}`, `SB-ACCESS-TOKEN=${token}`, `theme=sb-access-token=${token}`, `sb-access-token.${token}`]) {
      expect({ cookie, ...(await answer(authorize, get({ Cookie: cookie }))) }).toEqual({ cookie, status: 401, reason: 'CREDENTIAL_MISSING' });
    }
    // The look-alikes do not make the real one ambiguous either.
    expect(await answer(authorize, get({ Cookie: `xsb-access-token=x.y.z; sb-access-token=${token}; sb-access-token-x=x.y.z` }))).toEqual({ status: 200, reason: 'ALLOWED' });
  });

  it('when empty, is no credential: a header credential next to it is fine; twice (even empty), it is refused', async () => {
    const authorize = fx.authorizer(config());
    const token = await fx.userToken();
    expect(await answer(authorize, get({ Authorization: `Bearer ${token}`, Cookie: 'sb-access-token=; theme=dark' }))).toEqual({ status: 200, reason: 'ALLOWED' });
    expect(await answer(authorize, get({ Authorization: `Bearer ${token}`, Cookie: 'sb-access-token=  ' }))).toEqual({ status: 200, reason: 'ALLOWED' });
    expect(await answer(authorize, get({ Cookie: 'sb-access-token=' }))).toEqual({ status: 401, reason: 'CREDENTIAL_MISSING' });
    expect(await answer(authorize, get({ Authorization: `Bearer ${token}`, Cookie: `sb-access-token=; sb-access-token=${token}` }))).toEqual({ status: 401, reason: 'CREDENTIAL_MULTIPLE' });
    expect(await answer(authorize, get({ Authorization: `Bearer ${token}`, Cookie: `sb-access-token=${token}` }))).toEqual({ status: 401, reason: 'CREDENTIAL_AMBIGUOUS' });
    // A cookie injected from a sibling subdomain next to the user's own: refused, whichever comes first.
    const attacker = await fx.userToken({ sub: 'attacker' });
    for (const multi of [[`sb-access-token=${token}`, `sb-access-token=${attacker}`], [`sb-access-token=${attacker}; sb-access-token=${token}`]]) {
      expect(await answer(authorize, { method: 'GET', path: '/v1/session', multi: { Cookie: multi } })).toEqual({ status: 401, reason: 'CREDENTIAL_MULTIPLE' });
    }
  });

  it('never authenticates on a route without `cookie`, nor on a route that names another cookie', async () => {
    const authorize = fx.authorizer(config());
    const token = await fx.userToken();
    const cookie = { Cookie: cookies({ 'sb-access-token': token, 'widget-token-x': token }) };
    for (const r of [
      { method: 'GET', path: '/v1/me' },
      { method: 'GET', path: '/v1/customers' },
      { method: 'GET', path: '/v1/widgets' },
      { method: 'POST', path: '/v1/hooks/stripe', resource: '/v1/hooks/{proxy+}' },
      { method: 'POST', path: '/internal/jobs' },
    ]) {
      expect({ ...r, ...(await answer(authorize, { ...r, headers: cookie })) }).toEqual({ ...r, status: 401, reason: 'CREDENTIAL_MISSING' });
    }
    expect(await answer(authorize, get({ Cookie: `widget-token=${token}` }, '/v1/widgets'))).toEqual({ status: 200, reason: 'ALLOWED' });
  });
});

describe('the CSRF check', () => {
  const post = async (headers: Record<string, string>, method = 'POST') => answer(fx.authorizer(config()), { method, path: '/v1/session', headers });
  const browser = async (csrfCookie?: string, extra: Record<string, string> = {}) => ({
    Cookie: cookies({ 'sb-access-token': await fx.userToken(), ...(csrfCookie === undefined ? {} : { '__Host-gh-csrf': csrfCookie }) }),
    ...extra,
  });

  it('is not asked on GET, HEAD and OPTIONS; every other method needs it', async () => {
    for (const method of ['GET', 'HEAD', 'OPTIONS']) expect({ method, ...(await post(await browser(), method)) }).toEqual({ method, status: 200, reason: 'ALLOWED' });
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      expect({ method, ...(await post(await browser(), method)) }).toEqual({ method, status: 403, reason: 'CSRF_TOKEN_MISSING' });
      const csrf = csrfToken();
      expect({ method, ...(await post(await browser(csrf, { 'X-CSRF-Token': csrf }), method)) }).toEqual({ method, status: 200, reason: 'ALLOWED' });
    }
  });

  it('needs at least 16 characters: the same 15 in header and cookie are refused, 16 pass', async () => {
    const t15 = csrfToken().slice(0, 15);
    const t16 = csrfToken().slice(0, 16);
    expect(await post(await browser(t15, { 'X-CSRF-Token': t15 }))).toEqual({ status: 403, reason: 'CSRF_TOKEN_MISMATCH' });
    expect(await post(await browser(t16, { 'X-CSRF-Token': t16 }))).toEqual({ status: 200, reason: 'ALLOWED' });
  });

  it('refuses the CSRF cookie or header twice, an empty header, and a look-alike cookie name', async () => {
    const authorize = fx.authorizer(config());
    const token = await fx.userToken();
    const csrf = csrfToken();
    const send = (multi: Record<string, string[]>) => answer(authorize, { method: 'POST', path: '/v1/session', multi });
    expect(await send({ Cookie: [`sb-access-token=${token}; __Host-gh-csrf=${csrf}`, `__Host-gh-csrf=${csrfToken()}`], 'X-CSRF-Token': [csrf] })).toEqual({
      status: 401,
      reason: 'CREDENTIAL_MULTIPLE',
    });
    expect(await send({ Cookie: [`sb-access-token=${token}; __Host-gh-csrf=${csrf}; __Host-gh-csrf=${csrf}`], 'X-CSRF-Token': [csrf] })).toEqual({
      status: 401,
      reason: 'CREDENTIAL_MULTIPLE',
    });
    expect(await send({ Cookie: [`sb-access-token=${token}; __Host-gh-csrf=${csrf}`], 'X-CSRF-Token': [csrf, csrf] })).toEqual({ status: 401, reason: 'CREDENTIAL_MULTIPLE' });
    expect(await send({ Cookie: [`sb-access-token=${token}; __Host-gh-csrf=${csrf}`], 'X-CSRF-Token': [csrf], 'x-csrf-token': [csrf] })).toEqual({ status: 401, reason: 'CREDENTIAL_MULTIPLE' });
    expect(await send({ Cookie: [`sb-access-token=${token}; __Host-gh-csrf=${csrf}`], 'X-CSRF-Token': [''] })).toEqual({ status: 403, reason: 'CSRF_TOKEN_MISSING' });
    // A cookie a sibling subdomain can set (no __Host- prefix as the browser enforces it) is not the CSRF cookie.
    for (const name of ['__host-gh-csrf', 'gh-csrf', '__Host-gh-csrf-x', 'x__Host-gh-csrf']) {
      expect({ name, ...(await send({ Cookie: [`sb-access-token=${token}; ${name}=${csrf}`], 'X-CSRF-Token': [csrf] })) }).toEqual({ name, status: 403, reason: 'CSRF_TOKEN_MISSING' });
    }
    expect(await send({ Cookie: [`sb-access-token=${token}; __Host-gh-csrf=${csrf}`], 'X-CSRF-Token': [` ${csrf}`] })).toEqual({ status: 403, reason: 'CSRF_TOKEN_MISMATCH' });
    expect(await send({ Cookie: [`sb-access-token=${token}; __Host-gh-csrf=${csrf}`], 'X-CSRF-Token': [csrf] })).toEqual({ status: 200, reason: 'ALLOWED' });
  });

  it('with allowed origins, takes only an exact listed Origin or none', async () => {
    const authorize = fx.authorizer(config({ csrf: { allowedOrigins: ['https://app.example.com'] } }));
    const csrf = csrfToken();
    const headers = await browser(csrf, { 'X-CSRF-Token': csrf });
    const from = (origin?: string) => answer(authorize, { method: 'POST', path: '/v1/session', headers: origin === undefined ? headers : { ...headers, Origin: origin } });
    for (const origin of ['null', 'https://APP.example.com', 'https://app.example.com/', 'http://app.example.com', 'https://app.example.com:443', 'https://app.example.com.evil.com', '']) {
      expect({ origin, ...(await from(origin)) }).toEqual({ origin, status: 403, reason: 'CSRF_ORIGIN_NOT_ALLOWED' });
    }
    expect(await from('https://app.example.com')).toEqual({ status: 200, reason: 'ALLOWED' });
    expect(await from()).toEqual({ status: 200, reason: 'ALLOWED' });
    // A listed Origin does not stand in for the token.
    expect(await answer(authorize, { method: 'POST', path: '/v1/session', headers: { ...(await browser()), Origin: 'https://app.example.com' } })).toEqual({ status: 403, reason: 'CSRF_TOKEN_MISSING' });
    expect(await answer(authorize, { method: 'POST', path: '/v1/session', multi: { ...Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])), Origin: ['https://app.example.com', 'https://evil.example.com'] } })).toEqual({
      status: 401,
      reason: 'CREDENTIAL_MULTIPLE',
    });
  });
});

describe('arbitrary Cookie headers', () => {
  const COOKIE = 'sb-access-token';
  /** Cookie strings built from the pieces that matter (the names, separators, quotes, whitespace), and anything. */
  const cookieHeader = (token: string) => {
    const piece = fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(`${COOKIE}=${token}`, `${COOKIE}=`, `${COOKIE}=x.y.z`, ` ${COOKIE} = ${token} `, `${COOKIE}="${token}"`) },
      { weight: 2, arbitrary: fc.constantFrom(`x${COOKIE}=${token}`, `${COOKIE}-x=${token}`, `__Host-gh-csrf=${'c'.repeat(20)}`, 'theme=dark', `${COOKIE}`, '=') },
      { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
    );
    const separator = fc.oneof({ weight: 4, arbitrary: fc.constantFrom('; ', ';') }, { weight: 1, arbitrary: fc.constantFrom(' ', '\t', '"', ',', ', ', '', '%3B', ';;') });
    return fc.oneof(
      { weight: 4, arbitrary: fc.array(fc.tuple(piece, separator), { maxLength: 5 }).map((ps) => ps.flat().join('')) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
    );
  };
  const trimmedNames = (header: string) => header.split(';').flatMap((part) => (part.includes('=') ? [part.slice(0, part.indexOf('=')).trim()] : []));

  it('either classify or throw an AuthError, never another error', async () => {
    const token = await fx.userToken();
    await fc.assert(
      fc.property(fc.array(cookieHeader(token), { minLength: 1, maxLength: 3 }), fc.boolean(), fc.option(fc.constantFrom(`Bearer ${token}`, 'Bearer gh_live_x'), { nil: undefined }), (values, multi, authorization) => {
        const headers: Record<string, string> = { Cookie: values.at(-1)!, ...(authorization ? { Authorization: authorization } : {}) };
        const req = multi ? { headers, multiValueHeaders: { Cookie: values, ...(authorization ? { Authorization: [authorization] } : {}) } } : { headers };
        try {
          const c = classify(req, { maxAuthorizationBytes: 8192, servicesAccepted: true, signedAccepted: true, cookie: COOKIE });
          // A cookie credential is the value of one `sb-access-token` pair as sent: never spans a `;`, never another cookie's.
          if (c.kind === 'jwt' && c.source === 'cookie') {
            const pair = (multi ? values : values.slice(-1)).flatMap((v) => v.split(';')).filter((p) => p.includes('=') && p.slice(0, p.indexOf('=')).trim() === COOKIE);
            expect(pair.map((p) => p.slice(p.indexOf('=') + 1).trim())).toEqual([c.token]);
          }
        } catch (err) {
          if (!(err instanceof AuthError)) throw new Error(`${String(err)} for ${JSON.stringify(values)}`);
        }
      }),
      { numRuns: runs(2000) },
    );
  });

  it('through the authorizer: 401 or Allow, never a 500; Allow only for the one real token; the name twice is always refused', async () => {
    const authorize = fx.authorizer(config());
    const token = await fx.userToken();
    const reasons = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(cookieHeader(token), async (cookie) => {
        const a = await answer(authorize, { method: 'GET', path: '/v1/session', headers: { Cookie: cookie } });
        reasons.set(String(a.reason), (reasons.get(String(a.reason)) ?? 0) + 1);
        expect([200, 401]).toContain(a.status);
        if (a.status === 200) expect(cookie).toContain(token);
        if (trimmedNames(cookie).filter((n) => n === COOKIE).length > 1) expect(a).toEqual({ status: 401, reason: 'CREDENTIAL_MULTIPLE' });
      }),
      { numRuns: runs(300) },
    );
    for (const reason of ['ALLOWED', 'CREDENTIAL_MISSING', 'CREDENTIAL_MULTIPLE', 'COOKIE_MALFORMED']) expect({ reason, seen: reasons.has(reason) }).toEqual({ reason, seen: true });
  }, 60_000);
});

describe('on an HTTP API (payload 2.0)', () => {
  const v2 = (r: Request): Request => ({ ...r, format: 'http-2.0' });

  it("refuses a client's own X-Gatehouse-Context header (lower-cased there) with a Deny, before any credential work", async () => {
    const authorize = fx.authorizer(config());
    const token = await fx.userToken();
    const request = { method: 'GET', path: '/v1/me', headers: { Authorization: `Bearer ${token}`, 'X-Gatehouse-Context': 'eyJ0ZW5hbnRJZCI6Imdsb2JleCJ9' } };

    expect(await answer(authorize, request)).toEqual({ status: 401, reason: 'CONTEXT_HEADER_FROM_CLIENT' });
    expect(await answer(authorize, v2(request))).toEqual({ status: 403, reason: 'CONTEXT_HEADER_FROM_CLIENT' });
  });

  it('refuses a cross-site POST that carries only the cookie (no CSRF token) with a Deny, as on REST', async () => {
    const authorize = fx.authorizer(config());
    const request = { method: 'POST', path: '/v1/session', headers: { Cookie: cookies({ 'sb-access-token': await fx.userToken() }), Origin: 'https://evil.example.com' } };

    expect(await answer(authorize, v2(request))).toEqual({ status: 403, reason: 'CSRF_TOKEN_MISSING' });
    // With the double-submit token the same browser request passes: the cookies reached the check from `cookies`.
    const csrf = csrfToken();
    const good = { ...request, headers: { Cookie: cookies({ 'sb-access-token': await fx.userToken(), '__Host-gh-csrf': csrf }), 'X-CSRF-Token': csrf } };
    expect(await answer(authorize, v2(good))).toEqual({ status: 200, reason: 'ALLOWED' });
  });

  it('refuses an access-token cookie planted a second time (a sibling subdomain), in a second Cookie header too', async () => {
    const authorize = fx.authorizer(config());
    const planted = cookies({ 'sb-access-token': await fx.userToken({ sub: 'attacker' }) });
    const own = cookies({ 'sb-access-token': await fx.userToken() });

    expect(await answer(authorize, v2({ method: 'GET', path: '/v1/session', headers: { Cookie: `${planted}; ${own}` } }))).toEqual({ status: 403, reason: 'CREDENTIAL_MULTIPLE' });
    expect(await answer(authorize, v2({ method: 'GET', path: '/v1/session', multi: { Cookie: [planted, own] } }))).toEqual({ status: 403, reason: 'CREDENTIAL_MULTIPLE' });
  });

  it('refuses a signed request replayed, or signed for another stage, with a Deny', async () => {
    const authorize = fx.authorizer(config());
    const r = v2(signed());

    expect(await answer(authorize, r)).toEqual({ status: 200, reason: 'ALLOWED' });
    expect(await answer(authorize, r)).toEqual({ status: 403, reason: 'SIGNATURE_REPLAYED' });
    expect(await answer(authorize, v2(signed({ signedPath: '/staging/v1/hooks/stripe' })))).toEqual({ status: 403, reason: 'SIGNATURE_MISMATCH' });
  });
});
