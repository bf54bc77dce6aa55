import { DeleteItemCommand, DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateSecretCommand, DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { generateApiKey, hashApiKey } from '../../contract/api-key';
import type { AuthorizerConfigInput } from '../../contract/config';
import { AuthError } from '../../lambdas/authorizer/errors';
import { type PolicyDocument, evaluatePolicy } from '../../lambdas/authorizer/policy';
import { SecretStore } from '../../lambdas/authorizer/secrets';
import { ServiceSecretVerifier } from '../../lambdas/authorizer/service-secrets';
import { apiKeyItemKey } from '../../contract/table';
import { uniqueName } from '../support/aws';
import { API_ARN_PREFIX, type Fixture, TEST_ROUTES, authorizerEvent, createFixture } from '../support/fixture';
import { nowSeconds, signWith } from '../support/jwt';
import type { AnswerFormat } from '../../lambdas/authorizer/request';
import { v2EventLike } from '../lambdas/v2-event';

/**
 * Attacks on API keys and service secrets, and the gateway semantics of the answer, each through the real
 * handler with DynamoDB and Secrets Manager on the emulator. Every refusal asserts the status API Gateway would
 * answer (401/403/500) and the reason code in the decision log; none may ever be an Allow.
 */
let fx: Fixture;
let ddb: DynamoDBClient;
let sm: SecretsManagerClient;
let reporting: { secretId: string; secret: string };
let blankSecretId: string;
let shortSecretId: string;
let emptySecretId: string | undefined;
let billingArn: string;

const MISSING_SECRET_ID = `gatehouse/does-not-exist-${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  fx = await createFixture();
  ddb = new DynamoDBClient({});
  sm = new SecretsManagerClient({});
  await fx.putTenant({ tenantId: 'acme', usageKey: 'usage-key-acme-0123456789' });
  await fx.putTenant({ tenantId: 'globex', usageKey: 'usage-key-globex-0123456789' });
  await fx.putTenant({ tenantId: 'other' });

  reporting = { secretId: uniqueName('svc-reporting'), secret: randomBytes(32).toString('base64url') };
  await sm.send(new CreateSecretCommand({ Name: reporting.secretId, SecretString: reporting.secret }));
  blankSecretId = uniqueName('svc-blank');
  await sm.send(new CreateSecretCommand({ Name: blankSecretId, SecretString: ' '.repeat(40) }));
  shortSecretId = uniqueName('svc-short');
  await sm.send(new CreateSecretCommand({ Name: shortSecretId, SecretString: 'abcdefghijklmnopqrstuvwxyz01234' })); // 31 bytes
  try {
    const id = uniqueName('svc-empty');
    await sm.send(new CreateSecretCommand({ Name: id, SecretString: '' }));
    emptySecretId = id;
  } catch {
    emptySecretId = undefined; // the emulator (like AWS) may refuse an empty SecretString
  }
  ({ ARN: billingArn } = (await sm.send(new DescribeSecretCommand({ SecretId: fx.serviceSecretId }))) as { ARN: string });
});

afterAll(async () => {
  ddb.destroy();
  sm.destroy();
  await fx.close();
});

type Status = 200 | 401 | 403 | 500;
interface Answer {
  readonly status: Status;
  readonly reason: string | undefined;
  readonly result?: APIGatewayAuthorizerResult;
  readonly error?: unknown;
}
type Handler = ReturnType<Fixture['authorizer']>;

/** API Gateway's answer to one request, and the reason code the authorizer logged for it. */
async function decide(
  handler: Handler,
  headers: Record<string, string>,
  opts: { method?: string; path?: string; multi?: Record<string, string[]>; format?: AnswerFormat } = {},
): Promise<Answer> {
  const method = opts.method ?? 'GET';
  const path = opts.path ?? '/v1/me';
  const before = fx.logs.length;
  let answer: Omit<Answer, 'reason'>;
  try {
    const rest = authorizerEvent(headers, method, path, path, opts.multi);
    // The same request as an HTTP API sends it (payload 2.0, stage `prod`: the same route ARNs as REST's).
    const result = await handler(opts.format === 'http-2.0' ? v2EventLike(rest) : rest);
    const verdict = evaluatePolicy(result.policyDocument as PolicyDocument, `${API_ARN_PREFIX}/${method}${path}`);
    answer = { status: verdict === 'Allow' ? 200 : 403, result };
  } catch (error) {
    answer = { status: error instanceof Error && error.message === 'Unauthorized' ? 401 : 500, error };
  }
  const decisions = fx.logs.slice(before).filter((l) => l.message === 'decision');
  return { ...answer, reason: decisions.length ? String(decisions[decisions.length - 1]!.reason) : undefined };
}

const bearer = (v: string, extra: Record<string, string> = {}) => ({ Authorization: `Bearer ${v}`, ...extra });
const refusal = (a: Answer) => ({ status: a.status, reason: a.reason });
const tick = () => new Promise((r) => setTimeout(r, 5));

/** The CRC-32 checksum as the README specifies it, computed independently of api-key.ts. */
const checksum = (head: string) => (crc32(head) >>> 0).toString(16).padStart(8, '0');
const withChecksum = (head: string) => head + checksum(head);
const hex = (bytes: number) => randomBytes(bytes).toString('hex');

const supabaseUser = (claims: Record<string, unknown> = {}) => fx.userToken(claims);

describe('API keys', () => {
  it('refuses a key with another prefix without a lookup', async () => {
    const authorize = fx.authorizer();
    fx.clients.reset();

    for (const key of [generateApiKey('sk', 'live'), generateApiKey('ghx', 'live'), generateApiKey('hg', 'live')]) {
      expect(refusal(await decide(authorize, bearer(key)))).toEqual({ status: 401, reason: 'APIKEY_PREFIX_UNKNOWN' });
    }
    expect(fx.clients.count('GetItemCommand')).toBe(0);
  });

  it('refuses a stored key one character short or one character long', async () => {
    const { key } = await fx.putApiKey({ tenantId: 'acme' });
    const authorize = fx.authorizer();
    expect((await decide(authorize, bearer(key))).status).toBe(200);
    const body = key.slice('gh_live_'.length, -8);
    fx.clients.reset();

    const cases = [
      key.slice(0, -1),
      `${key}0`,
      // Body one short or one long with a checksum that is right for it: still not a key.
      withChecksum(`gh_live_${body.slice(0, -1)}`),
      withChecksum(`gh_live_${body}a`),
      `${key.slice(0, -8)}${key.slice(-7)}`,
    ];
    for (const value of cases) {
      expect(refusal(await decide(authorize, bearer(value)))).toEqual({ status: 401, reason: 'CREDENTIAL_UNRECOGNIZED' });
    }
    expect(fx.clients.count('GetItemCommand')).toBe(0);
  });

  it('refuses a stored key written in another alphabet (uppercase hex, base64 characters)', async () => {
    const { key } = await fx.putApiKey({ tenantId: 'acme' });
    const head = key.slice(0, -8);
    const body = head.slice('gh_live_'.length);
    const authorize = fx.authorizer();
    fx.clients.reset();

    const cases = [
      `gh_live_${body.toUpperCase()}${key.slice(-8)}`,
      withChecksum(`gh_live_${body.toUpperCase()}`),
      `${head}${key.slice(-8).toUpperCase()}`,
      withChecksum(`gh_live_${Buffer.from(body, 'hex').toString('base64').replace(/=+$/, '').padEnd(64, 'A').slice(0, 64)}`),
      withChecksum(`gh_live_${'+/'.repeat(32)}`),
      withChecksum(`gh_live_${'-_'.repeat(32)}`),
      withChecksum(`gh_live_${body.slice(0, 63)}g`),
      `gh_live_${Buffer.from(body, 'hex').toString('base64url')}${key.slice(-8)}`,
      // A checksum of digits only has no case to change: such a spelling is the key itself, not a case.
    ].filter((value) => value !== key);
    for (const value of cases) {
      expect(refusal(await decide(authorize, bearer(value)))).toEqual({ status: 401, reason: 'CREDENTIAL_UNRECOGNIZED' });
    }
    expect(fx.clients.count('GetItemCommand')).toBe(0);
  });

  it('refuses a stored key with its case changed anywhere', async () => {
    const { key } = await fx.putApiKey({ tenantId: 'acme' });
    const authorize = fx.authorizer();
    fx.clients.reset();

    const cases = [key.toUpperCase(), key.replace('gh_', 'GH_'), key.replace('gh_', 'Gh_'), key.replace('_live_', '_LIVE_'), key.replace('_live_', '_Live_')];
    for (const value of cases) {
      expect(refusal(await decide(authorize, bearer(value)))).toEqual({ status: 401, reason: 'CREDENTIAL_UNRECOGNIZED' });
    }
    expect(fx.clients.count('GetItemCommand')).toBe(0);
  });

  it('refuses a stored test key on a live deployment, without a lookup', async () => {
    const { key } = await fx.putApiKey({ tenantId: 'acme', environment: 'test' });
    const authorize = fx.authorizer({ environment: 'live' });
    fx.clients.reset();

    expect(refusal(await decide(authorize, bearer(key)))).toEqual({ status: 401, reason: 'APIKEY_ENVIRONMENT_MISMATCH' });
    expect(fx.clients.count('GetItemCommand')).toBe(0);
    // Control: the same key works where it belongs.
    expect((await decide(fx.authorizer({ environment: 'test' }), bearer(key))).status).toBe(200);
  });

  it('refuses a stored live key on a test deployment, without a lookup', async () => {
    const { key } = await fx.putApiKey({ tenantId: 'acme', environment: 'live' });
    const authorize = fx.authorizer({ environment: 'test' });
    fx.clients.reset();

    expect(refusal(await decide(authorize, bearer(key)))).toEqual({ status: 401, reason: 'APIKEY_ENVIRONMENT_MISMATCH' });
    expect(fx.clients.count('GetItemCommand')).toBe(0);
    expect((await decide(fx.authorizer({ environment: 'live' }), bearer(key))).status).toBe(200);
  });

  it('refuses a live-shaped key whose stored record says test (and the reverse)', async () => {
    const live = await fx.putApiKey({ tenantId: 'acme', environment: 'test' }, generateApiKey('gh', 'live'));
    const test = await fx.putApiKey({ tenantId: 'acme', environment: 'live' }, generateApiKey('gh', 'test'));

    expect(refusal(await decide(fx.authorizer({ environment: 'live' }), bearer(live.key)))).toEqual({ status: 401, reason: 'APIKEY_ENVIRONMENT_MISMATCH' });
    expect(refusal(await decide(fx.authorizer({ environment: 'test' }), bearer(test.key)))).toEqual({ status: 401, reason: 'APIKEY_ENVIRONMENT_MISMATCH' });
  });

  it('refuses a revoked key', async () => {
    const { key } = await fx.putApiKey({ tenantId: 'acme', status: 'revoked' });

    expect(refusal(await decide(fx.authorizer(), bearer(key)))).toEqual({ status: 401, reason: 'APIKEY_REVOKED' });
  });

  it('refuses a key that expires exactly now or a second ago, and accepts one that expires a second from now', async () => {
    const t = nowSeconds();
    const authorize = fx.authorizer({}, { now: () => t * 1000 });
    const atNow = await fx.putApiKey({ tenantId: 'acme', expiresAt: t });
    const secondAgo = await fx.putApiKey({ tenantId: 'acme', expiresAt: t - 1 });
    const secondAhead = await fx.putApiKey({ tenantId: 'acme', expiresAt: t + 1 });

    expect(refusal(await decide(authorize, bearer(atNow.key)))).toEqual({ status: 401, reason: 'APIKEY_EXPIRED' });
    expect(refusal(await decide(authorize, bearer(secondAgo.key)))).toEqual({ status: 401, reason: 'APIKEY_EXPIRED' });
    expect((await decide(authorize, bearer(secondAhead.key))).status).toBe(200);
  });

  it('refuses a cached key once its expiry passes, with no new lookup needed', async () => {
    const t0 = nowSeconds();
    let t = t0 * 1000;
    const authorize = fx.authorizer({}, { now: () => t });
    const { key } = await fx.putApiKey({ tenantId: 'acme', expiresAt: t0 + 5 });

    expect((await decide(authorize, bearer(key))).status).toBe(200);
    t += 5_000;
    await tick();
    expect(refusal(await decide(authorize, bearer(key)))).toEqual({ status: 401, reason: 'APIKEY_EXPIRED' });
  });

  it('stops accepting a deleted key once the key cache TTL has passed', async () => {
    let t = Date.now();
    const authorize = fx.authorizer({}, { now: () => t });
    const { key } = await fx.putApiKey({ tenantId: 'acme' });
    expect((await decide(authorize, bearer(key))).status).toBe(200);

    await ddb.send(new DeleteItemCommand({ TableName: fx.tableName, Key: toKey(apiKeyItemKey(hashApiKey(key))) }));
    // Within the 60 s cache TTL the cached record still answers: revocation is bounded, not instant (README).
    t += 59_000;
    await tick();
    expect((await decide(authorize, bearer(key))).status).toBe(200);
    t += 2_000;
    await tick();

    expect(refusal(await decide(authorize, bearer(key)))).toEqual({ status: 401, reason: 'APIKEY_NOT_FOUND' });
  });

  it('stops accepting a key revoked after first use once the key cache TTL has passed', async () => {
    let t = Date.now();
    const authorize = fx.authorizer({}, { now: () => t });
    const { key } = await fx.putApiKey({ tenantId: 'acme' });
    expect((await decide(authorize, bearer(key))).status).toBe(200);

    await ddb.send(
      new UpdateItemCommand({
        TableName: fx.tableName,
        Key: toKey(apiKeyItemKey(hashApiKey(key))),
        UpdateExpression: 'SET #s = :r',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':r': { S: 'revoked' } },
      }),
    );
    t += 61_000;
    await tick();

    expect(refusal(await decide(authorize, bearer(key)))).toEqual({ status: 401, reason: 'APIKEY_REVOKED' });
  });

  it("puts the key's own tenant in the context, never a tenant named in a request header", async () => {
    const { key, record } = await fx.putApiKey({ tenantId: 'globex', scopes: ['customers:read'] });
    const authorize = fx.authorizer();

    for (const headers of [
      bearer(key, { 'X-Tenant-Id': 'other' }),
      bearer(key, { 'X-Tenant-Id': 'acme' }),
      bearer(key, { 'x-tenant-id': 'acme', 'X-Tenant': 'acme', 'X-Company-Id': 'acme' }),
    ]) {
      const { status, result } = await decide(authorize, headers, { path: '/v1/customers' });

      expect(status).toBe(200);
      expect(result!.context).toMatchObject({ tenantId: 'globex', keyId: record.keyId });
      expect(result!.usageIdentifierKey).toBe('usage-key-globex-0123456789');
      expect(JSON.stringify(result)).not.toMatch(/acme|"other"/);
    }
  });

  it('refuses 1,000 random well-formed keys with bad checksums without a single DynamoDB call', async () => {
    const authorize = fx.authorizer();
    fx.clients.reset();
    const reasons = new Map<string, number>();
    let allowed = 0;

    for (let i = 0; i < 1000; i++) {
      const head = `gh_${i % 2 ? 'live' : 'test'}_${hex(32)}`;
      let bad = hex(4);
      if (bad === checksum(head)) bad = bad.replace(/.$/, (c) => (c === '0' ? '1' : '0'));
      const answer = await decide(authorize, bearer(head + bad));
      if (answer.status !== 401) allowed++;
      reasons.set(`${answer.status} ${answer.reason}`, (reasons.get(`${answer.status} ${answer.reason}`) ?? 0) + 1);
    }

    expect(allowed).toBe(0);
    expect(Object.fromEntries(reasons)).toEqual({ '401 APIKEY_CHECKSUM_INVALID': 1000 });
    expect(fx.clients.count('GetItemCommand')).toBe(0);
  });

  it('looks up each unknown key with a valid checksum once, then answers from the negative cache', async () => {
    let t = Date.now();
    const authorize = fx.authorizer({}, { now: () => t });
    const keys = Array.from({ length: 50 }, () => generateApiKey('gh', 'live'));
    fx.clients.reset();

    for (const key of keys) expect(refusal(await decide(authorize, bearer(key)))).toEqual({ status: 401, reason: 'APIKEY_NOT_FOUND' });
    expect(fx.clients.count('GetItemCommand')).toBe(50);

    for (const key of keys) expect(refusal(await decide(authorize, bearer(key)))).toEqual({ status: 401, reason: 'APIKEY_NOT_FOUND' });
    expect(fx.clients.count('GetItemCommand')).toBe(50);

    // After the negative TTL (10 s) each is looked up again, once.
    t += 11_000;
    await tick();
    for (const key of keys) expect((await decide(authorize, bearer(key))).status).toBe(401);
    expect(fx.clients.count('GetItemCommand')).toBe(100);
  });

  it('looks up one unknown key once however many requests for it arrive together', async () => {
    const authorize = fx.authorizer();
    const key = generateApiKey('gh', 'live');
    fx.clients.reset();

    const answers = await Promise.all(Array.from({ length: 20 }, () => decide(authorize, bearer(key))));

    expect(answers.every((a) => a.status === 401)).toBe(true);
    expect(fx.clients.count('GetItemCommand')).toBe(1);
  });

  describe('the Authorization header', () => {
    let acmeKey: string;
    let globexKey: string;
    beforeAll(async () => {
      acmeKey = (await fx.putApiKey({ tenantId: 'acme' })).key;
      globexKey = (await fx.putApiKey({ tenantId: 'globex' })).key;
    });

    it('refuses two Authorization headers, in either map, whether their values agree or not', async () => {
      const authorize = fx.authorizer();
      const a = `Bearer ${acmeKey}`;
      const g = `Bearer ${globexKey}`;
      const cases: [Record<string, string>, Record<string, string[]> | undefined][] = [
        // Two casings of the name, each a single header.
        [{ Authorization: a, authorization: g }, undefined],
        [{ Authorization: a, authorization: a }, undefined],
        [{ Authorization: a, AUTHORIZATION: g }, { Authorization: [a], AUTHORIZATION: [g] }],
        // A repeated header: API Gateway puts the last value in headers and every value in multiValueHeaders.
        [{ Authorization: g }, { Authorization: [a, g] }],
        [{ Authorization: a }, { Authorization: [a, a] }],
        [{}, { Authorization: [a, g] }],
        // The two maps disagree.
        [{ Authorization: a }, { Authorization: [g] }],
        [{ Authorization: a }, { authorization: [g] }],
        [{ Authorization: a }, { Authorization: [a], authorization: [g] }],
      ];
      for (const [headers, multi] of cases) {
        expect(refusal(await decide(authorize, headers, { multi }))).toEqual({ status: 401, reason: 'CREDENTIAL_MULTIPLE' });
      }
    });

    it('accepts one Authorization header given in either or both maps', async () => {
      const authorize = fx.authorizer();
      const a = `Bearer ${acmeKey}`;

      for (const [headers, multi] of [
        [{ Authorization: a }, { Authorization: [a] }],
        [{ authorization: a }, { Authorization: [a] }],
        [{}, { Authorization: [a] }],
        [{ Authorization: a }, {}],
      ] as [Record<string, string>, Record<string, string[]>][]) {
        const { status, result } = await decide(authorize, headers, { multi });
        expect(status).toBe(200);
        expect(result!.context).toMatchObject({ tenantId: 'acme' });
      }
    });

    it.each(['bearer', 'BEARER', 'Bearer', 'bEARER'])('accepts the scheme spelled %s', async (scheme) => {
      expect((await decide(fx.authorizer(), { Authorization: `${scheme} ${acmeKey}` })).status).toBe(200);
    });

    it.each([
      ['a double space', (k: string) => `Bearer  ${k}`],
      ['a tab', (k: string) => `Bearer\t${k}`],
      ['a newline', (k: string) => `Bearer\n${k}`],
      ['a non-breaking space', (k: string) => `Bearer\u00a0${k}`],
      ['the Token scheme', (k: string) => `Token ${k}`],
      ['the Basic scheme with the key as user', (k: string) => `Basic ${Buffer.from(`${k}:`).toString('base64')}`],
      ['the Basic scheme with the key as password', (k: string) => `Basic ${Buffer.from(`api:${k}`).toString('base64')}`],
      ['the Basic scheme with the raw key', (k: string) => `Basic ${k}`],
      ['no scheme', (k: string) => k],
      ['a scheme with no space', (k: string) => `Bearer${k}`],
      ['a leading space', (k: string) => ` Bearer ${k}`],
      ['a trailing space', (k: string) => `Bearer ${k} `],
      ['a trailing newline', (k: string) => `Bearer ${k}\n`],
      ['a trailing NUL', (k: string) => `Bearer ${k}\u0000`],
      ['a repeated scheme', (k: string) => `Bearer Bearer ${k}`],
    ])('refuses a stored key sent with %s', async (_name, header) => {
      expect(refusal(await decide(fx.authorizer(), { Authorization: header(acmeKey) }))).toEqual({ status: 401, reason: 'AUTHORIZATION_MALFORMED' });
    });

    it('refuses a JWT and a key together in one header, however they are joined', async () => {
      const authorize = fx.authorizer();
      const jwt = await supabaseUser();
      // Controls: each alone is good.
      expect((await decide(authorize, bearer(jwt))).status).toBe(200);
      expect((await decide(authorize, bearer(acmeKey))).status).toBe(200);

      const malformed = [`${jwt} ${acmeKey}`, `${acmeKey} ${jwt}`, `${jwt},${acmeKey}`, `${jwt}, Bearer ${acmeKey}`, `${acmeKey};${jwt}`, `${jwt}\t${acmeKey}`];
      for (const value of malformed) {
        expect(refusal(await decide(authorize, bearer(value)))).toEqual({ status: 401, reason: 'AUTHORIZATION_MALFORMED' });
      }
      // Glued with characters a b64token allows: neither a JWT nor a key.
      const glued = [`${jwt}.${acmeKey}`, `${acmeKey}.${jwt}`, `${jwt}${acmeKey}`, `${acmeKey}~${jwt}`, `${acmeKey}/${jwt}`];
      for (const value of glued) {
        const answer = await decide(authorize, bearer(value));
        expect(answer.status).toBe(401);
        expect(['CREDENTIAL_UNRECOGNIZED', 'JWT_MALFORMED', 'JWT_SIGNATURE_INVALID']).toContain(answer.reason);
      }
    });
  });
});

describe('service secrets', () => {
  const services = (): AuthorizerConfigInput['services'] => [
    ...fx.config.services!,
    { name: 'reporting', secretId: reporting.secretId, scopes: ['reports:run'] },
    { name: 'blank', secretId: blankSecretId },
    { name: 'short', secretId: shortSecretId },
    ...(emptySecretId ? [{ name: 'empty', secretId: emptySecretId }] : []),
    { name: 'ghost', secretId: MISSING_SECRET_ID },
  ];
  const authorizer = () => fx.authorizer({ services: services() });
  const service = (secret: string, name: string) => bearer(secret, { 'X-Service-Name': name });
  const jobs = { method: 'POST', path: '/internal/jobs' } as const;

  it("refuses one service's secret presented under another service's name", async () => {
    const authorize = authorizer();
    // Controls: each service with its own secret.
    expect((await decide(authorize, service(fx.serviceSecret, 'billing'), jobs)).result!.context).toMatchObject({ service: 'billing' });
    expect((await decide(authorize, service(reporting.secret, 'reporting'), jobs)).result!.context).toMatchObject({ service: 'reporting' });

    expect(refusal(await decide(authorize, service(reporting.secret, 'billing'), jobs))).toEqual({ status: 401, reason: 'SERVICE_SECRET_MISMATCH' });
    expect(refusal(await decide(authorize, service(fx.serviceSecret, 'reporting'), jobs))).toEqual({ status: 401, reason: 'SERVICE_SECRET_MISMATCH' });
  });

  it('refuses names that only resemble a configured service', async () => {
    const authorize = authorizer();
    const names = [
      '../billing',
      'billing/../billing',
      'billing\u0000',
      '\u0000billing',
      'BILLING',
      'Billing',
      'billing ',
      ' billing',
      'billing\t',
      'billing,billing',
      'billing.',
      'bіlling', // Cyrillic i
      billingArn,
      fx.serviceSecretId,
      `arn:aws:secretsmanager:us-east-1:123456789012:secret:${fx.serviceSecretId}`,
      '__proto__',
      'constructor',
      'hasOwnProperty',
      '',
    ];
    for (const name of names) {
      expect({ name, ...refusal(await decide(authorize, service(fx.serviceSecret, name), jobs)) }).toEqual({ name, status: 401, reason: 'SERVICE_UNKNOWN' });
    }
  });

  it('refuses two X-Service-Name headers', async () => {
    const headers = service(fx.serviceSecret, 'billing');
    const answer = await decide(authorizer(), headers, {
      ...jobs,
      multi: { Authorization: [headers.Authorization], 'X-Service-Name': ['reporting', 'billing'] },
    });

    expect(refusal(answer)).toEqual({ status: 401, reason: 'CREDENTIAL_MULTIPLE' });
  });

  it('never matches a stored secret of 40 spaces', async () => {
    const authorize = authorizer();

    // Through the handler the value cannot even be presented: a bearer token has no whitespace.
    expect(refusal(await decide(authorize, service(' '.repeat(40), 'blank'), jobs))).toEqual({ status: 401, reason: 'AUTHORIZATION_MALFORMED' });
    expect(refusal(await decide(authorize, { Authorization: 'Bearer', 'X-Service-Name': 'blank' }, jobs))).toEqual({ status: 401, reason: 'AUTHORIZATION_MALFORMED' });
    expect(refusal(await decide(authorize, service('A', 'blank'), jobs))).toEqual({ status: 401, reason: 'SERVICE_SECRET_MISMATCH' });
    // Behind the classifier, the verifier itself refuses the exact stored value (defence in depth).
    expect(await rejectionCode(verifier({ name: 'blank', secretId: blankSecretId }).verify('blank', ' '.repeat(40)))).toBe('SERVICE_SECRET_MISMATCH');
  });

  it('never matches a stored empty secret', async () => {
    if (!emptySecretId) {
      // The emulator refused to store an empty SecretString (as AWS does): nothing to present.
      return;
    }
    const authorize = authorizer();

    expect(refusal(await decide(authorize, { Authorization: 'Bearer ', 'X-Service-Name': 'empty' }, jobs))).toEqual({ status: 401, reason: 'AUTHORIZATION_MALFORMED' });
    expect(await rejectionCode(verifier({ name: 'empty', secretId: emptySecretId }).verify('empty', ''))).toBe('SERVICE_SECRET_MISMATCH');
  });

  it('never matches a stored secret shorter than 32 bytes, even when presented exactly', async () => {
    const answer = await decide(authorizer(), service('abcdefghijklmnopqrstuvwxyz01234', 'short'), jobs);

    expect(refusal(answer)).toEqual({ status: 401, reason: 'SERVICE_SECRET_MISMATCH' });
  });

  it('fails closed (500, never Allow) for a service whose secret cannot be loaded, and keeps serving the others', async () => {
    const authorize = authorizer();

    for (const secret of [fx.serviceSecret, randomBytes(32).toString('base64url')]) {
      const answer = await decide(authorize, service(secret, 'ghost'), jobs);
      expect(refusal(answer)).toEqual({ status: 500, reason: 'SERVICE_SECRET_UNAVAILABLE' });
      expect(answer.result).toBeUndefined();
      expect((answer.error as Error).message).not.toBe('Unauthorized');
    }
    expect((await decide(authorize, service(fx.serviceSecret, 'billing'), jobs)).status).toBe(200);
  });

  it('refuses prefixes, suffixes and case changes of the real secret', async () => {
    const authorize = authorizer();
    const s = fx.serviceSecret;
    const swapCase = [...s].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join('');
    const variants = [
      s.slice(0, -1),
      s.slice(1),
      s.slice(0, 32),
      s.slice(0, s.length / 2),
      `${s}A`,
      `A${s}`,
      `${s}=`,
      `${s}${s}`,
      s.toUpperCase(),
      s.toLowerCase(),
      swapCase,
      s.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')),
    ].filter((v) => v !== s);
    expect(variants.length).toBeGreaterThanOrEqual(10);

    for (const v of variants) {
      expect(refusal(await decide(authorize, service(v, 'billing'), jobs))).toEqual({ status: 401, reason: 'SERVICE_SECRET_MISMATCH' });
    }
    expect((await decide(authorize, service(s, 'billing'), jobs)).status).toBe(200);
  });

  it('compares secrets in constant time: service-secrets.ts uses timingSafeEqual and never ==/=== on secret material', () => {
    // A timing leak cannot be seen by a functional test; this pins the implementation instead.
    const source = readFileSync(path.resolve(__dirname, '../../lambdas/authorizer/service-secrets.ts'), 'utf8');
    const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');

    expect(code).toMatch(/\btimingSafeEqual\(\s*sha256\(/);
    // Every equality comparison in the file must be a presence check against undefined or null.
    const comparisons = [...code.matchAll(/([^\s=!<>]+)\s*(===|!==|==|!=)\s*([^\s;)&|]+)/g)];
    for (const [text, left, , right] of comparisons) {
      expect({ text, presenceCheck: [left, right].some((o) => o === 'undefined' || o === 'null') }).toEqual({ text, presenceCheck: true });
    }
    // No other comparison primitives that short-circuit on the first differing byte.
    expect(code).not.toMatch(/\.equals\(|\.compare\(|localeCompare|\bincludes\(|\bindexOf\(|\bstartsWith\(|\bendsWith\(/);
  });
});

describe('gateway semantics', () => {
  /** Concrete requests API Gateway would route to each non-public route of the table. */
  const requests = TEST_ROUTES!.filter((r) => !r.public).flatMap((r) =>
    ['42', 'cus_7Hq'].map((v) => ({ route: r, method: r.method, path: r.path.replace(/\{[^}]+\}/g, v) })),
  );

  async function principals(): Promise<{ name: string; kind: 'user' | 'apiKey' | 'service'; scopes: string[]; headers: Record<string, string> }[]> {
    const oidc = (scope: string) =>
      signWith(fx.oidcKey, { iss: fx.oidcIssuer, sub: 'u-corp', aud: 'gatehouse-api', iat: nowSeconds(), exp: nowSeconds() + 600, org: 'acme', scope });
    const key = async (scopes: string[]) => (await fx.putApiKey({ tenantId: 'acme', scopes })).key;
    return [
      { name: 'supabase user, no scopes', kind: 'user', scopes: [], headers: bearer(await supabaseUser()) },
      { name: 'oidc user, read', kind: 'user', scopes: ['customers:read'], headers: bearer(await oidc('customers:read')) },
      {
        name: 'oidc user, admin',
        kind: 'user',
        scopes: ['customers:read', 'customers:write', 'customers:admin'],
        headers: bearer(await oidc('customers:read customers:write customers:admin')),
      },
      { name: 'api key, no scopes', kind: 'apiKey', scopes: [], headers: bearer(await key([])) },
      { name: 'api key, read', kind: 'apiKey', scopes: ['customers:read'], headers: bearer(await key(['customers:read'])) },
      {
        name: 'api key, every scope',
        kind: 'apiKey',
        scopes: ['customers:read', 'customers:write', 'customers:admin'],
        headers: bearer(await key(['customers:read', 'customers:write', 'customers:admin'])),
      },
      { name: 'service billing', kind: 'service', scopes: ['jobs:run'], headers: bearer(fx.serviceSecret, { 'X-Service-Name': 'billing' }) },
    ];
  }

  // On both payload formats: an HTTP API reuses a cached answer on every route of the authorizer as REST does
  // (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html#http-api-lambda-authorizer.caching).
  it.each<AnswerFormat>(['rest', 'http-2.0'])('gives each principal a policy that, on every route, says what a fresh decision on that route says (%s)', async (format) => {
    const authorize = fx.authorizer();
    const mismatches: string[] = [];
    expect(requests).toHaveLength(12);

    for (const p of await principals()) {
      for (const first of requests) {
        const answer = await decide(authorize, p.headers, { ...first, format });
        const cached = answer.result;
        expect({ principal: p.name, reason: answer.reason, answered: cached !== undefined }).toEqual({ principal: p.name, reason: answer.reason, answered: true });
        for (const r of requests) {
          const arn = `${API_ARN_PREFIX}/${r.method}${r.path}`;
          const reused = evaluatePolicy(cached!.policyDocument as PolicyDocument, arn);
          const fresh = (await decide(authorize, p.headers, { ...r, format })).status === 200 ? 'Allow' : 'Deny';
          // An independent model of the route table: the kind is accepted and every scope is held.
          const model = r.route.accepts!.includes(p.kind) && (r.route.scopes ?? []).every((s) => p.scopes.includes(s)) ? 'Allow' : 'Deny';
          if (reused !== fresh || fresh !== model) mismatches.push(`${p.name}: policy from ${first.method} ${first.path} says ${reused} on ${r.method} ${r.path}; fresh ${fresh}; model ${model}`);
        }
      }
    }

    expect(mismatches).toEqual([]);
    // The decisions were made on the format under test (an HTTP API's decision lines say payload 2.0).
    expect(fx.logs.filter((l) => l.message === 'decision').at(-1)?.payload).toBe(format === 'http-2.0' ? '2.0' : undefined);
  });

  it('puts only strings, numbers and booleans in the context, for every kind of principal', async () => {
    const authorize = fx.authorizer();
    const seen = new Set<string>();

    for (const p of await principals()) {
      const { result, status, reason } = await decide(authorize, p.headers, p.kind === 'service' ? { method: 'POST', path: '/internal/jobs' } : {});
      expect({ principal: p.name, status, reason }).toEqual({ principal: p.name, status: 200, reason: 'ALLOWED' });
      expect(typeof result!.principalId).toBe('string');
      if (result!.usageIdentifierKey !== undefined) expect(typeof result!.usageIdentifierKey).toBe('string');
      for (const [k, v] of Object.entries(result!.context ?? {})) {
        expect({ k, type: typeof v }).toEqual({ k, type: expect.stringMatching(/^(string|number|boolean)$/) });
      }
      seen.add(String(result!.context!.kind));
    }
    expect([...seen].sort()).toEqual(['apiKey', 'service', 'user']);
  });
});

function verifier(s: { name: string; secretId: string }): ServiceSecretVerifier {
  const store = new SecretStore(() => fx.clients.secretsManager, Date.now);
  const opts = { cacheTtlSeconds: 300, refetchCooldownSeconds: 30, previousGraceSeconds: 86_400, maxStaleSeconds: 3600, failureCooldownSeconds: 10, versionCheckSeconds: 5 };
  return new ServiceSecretVerifier([{ ...s, scopes: [] }], opts, store, Date.now);
}

function toKey(k: { pk: string; sk: string }) {
  return { pk: { S: k.pk }, sk: { S: k.sk } };
}

/** The reason code a promise rejects with; fails unless it rejects with an AuthError. */
async function rejectionCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(AuthError);
    return (err as AuthError).code;
  }
  throw new Error('expected a rejection, got a principal');
}
