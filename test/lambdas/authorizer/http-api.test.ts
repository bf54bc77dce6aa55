import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import type { AuthorizerConfigInput } from '../../../contract/config';
import type { AuthorizerEvent, AuthorizerHandler } from '../../../lambdas/authorizer/authorizer';
import { type PolicyDocument, evaluatePolicy } from '../../../lambdas/authorizer/policy';
import { secretsClient, uniqueName } from '../../support/aws';
import { API_ARN_PREFIX, type Fixture, TEST_ROUTES, authorizerEvent, createFixture, signedHeaders, withRequestLine } from '../../support/fixture';
import { nowSeconds, signWith } from '../../support/jwt';
import { v2Event, v2EventLike } from '../v2-event';
import { fromPayloadV2, isPayloadV2 } from '../../../lambdas/authorizer/payload-v2';
import { putMember } from './records';
import { unreachableDynamoDb } from './steps';

/**
 * The real handler on HTTP API events (payload format 2.0), side by side with the same request as a REST event: for
 * every credential kind the same policy and context (without the usage-plan key), every refusal a Deny (403) with
 * the reason code REST would log, every dependency failure a 500, and a malformed event never an Allow.
 */
let fx: Fixture;
let sm: SecretsManagerClient;
const SIGNER = 'stripe-relay';
const signerSecret = randomBytes(32).toString('base64url');
const signerSecretId = uniqueName('signer');
const CSRF = `csrf-${randomBytes(16).toString('base64url')}`;

const ROUTES: AuthorizerConfigInput['routes'] = [
  ...TEST_ROUTES,
  { method: 'POST', path: '/v1/session/items', accepts: ['user', 'apiKey'], cookie: 'sb-access-token' },
  { method: 'POST', path: '/v1/webhooks/{source}', accepts: ['signed'] },
];
const config = (extra: Partial<AuthorizerConfigInput> = {}): Partial<AuthorizerConfigInput> => ({
  routes: ROUTES,
  signers: [{ name: SIGNER, secretId: signerSecretId }],
  ...extra,
});

beforeAll(async () => {
  fx = await createFixture();
  await fx.putTenant({ tenantId: 'acme', usageKey: 'usage-key-acme-0123456789' });
  await fx.putTenant({ tenantId: 'frozen', status: 'suspended' });
  await fx.putTenant({ tenantId: 'tenant-a' });
  await putMember(fx.tableName, { tenantId: 'tenant-a', issuer: 'supabase', subject: 'user-1', role: 'admin' });
  sm = secretsClient();
  await sm.send(new CreateSecretCommand({ Name: signerSecretId, SecretString: signerSecret }));
});
afterAll(async () => {
  sm.destroy();
  await fx.close();
});

type Outcome =
  | { status: 200 | 403; reason: string | undefined; decision: string | undefined; result: { principalId: string; policyDocument: unknown; context?: unknown; usageIdentifierKey?: unknown } }
  | { status: 401 | 500; reason: string | undefined; decision: string | undefined; result?: undefined };

/** What API Gateway makes of the handler's answer on `arn`, and the decision line the handler logged. */
async function outcome(authorize: AuthorizerHandler, event: AuthorizerEvent, arn: string): Promise<Outcome> {
  const before = fx.logs.length;
  const line = () => fx.logs.slice(before).filter((l) => l.message === 'decision').at(-1);
  try {
    const result = await authorize(event);
    const status = evaluatePolicy(result.policyDocument as PolicyDocument, arn) === 'Allow' ? 200 : 403;
    return { status, result, reason: line()?.reason as string, decision: line()?.decision as string };
  } catch (err) {
    return { status: (err as Error).message === 'Unauthorized' ? 401 : 500, reason: line()?.reason as string, decision: line()?.decision as string };
  }
}

/**
 * The same request through both formats (`make` builds it afresh each time: a signed request's nonce is spent once).
 * Returns both outcomes after checking what must hold between them: same reason code; REST's 401 is HTTP's 403;
 * an Allow is the same answer but for the usage-plan key, which only REST carries.
 */
async function both(authorize: AuthorizerHandler, make: () => APIGatewayRequestAuthorizerEvent) {
  const restEvent = make();
  const arn = restEvent.methodArn;
  const rest = await outcome(authorize, restEvent, arn);
  const http = await outcome(authorize, v2EventLike(make()), arn);
  expect({ reason: http.reason, status: http.status, decision: http.decision }).toEqual({
    reason: rest.reason,
    status: rest.status === 401 ? 403 : rest.status,
    decision: rest.decision === 'unauthorized' ? 'deny' : rest.decision,
  });
  if (rest.result && http.result) {
    const { usageIdentifierKey: _, ...restAnswer } = rest.result;
    expect(http.result).toEqual(restAnswer);
    expect(http.result).not.toHaveProperty('usageIdentifierKey');
  }
  return { rest, http };
}

const request = (headers: Record<string, string>, method = 'GET', path = '/v1/me', resource = path) => () => authorizerEvent(headers, method, path, resource);
const bearer = (v: string, extra: Record<string, string> = {}) => ({ Authorization: `Bearer ${v}`, ...extra });
const oidcToken = (claims: Record<string, unknown> = {}) =>
  signWith(fx.oidcKey, { iss: fx.oidcIssuer, sub: 'u-corp', aud: 'gatehouse-api', iat: nowSeconds(), exp: nowSeconds() + 600, org: 'acme', scope: 'customers:read', ...claims });

describe('HTTP API (payload 2.0): each credential kind is allowed with the answer REST gives', () => {
  it('a Supabase user (HS256 secret), without the usage-plan key REST adds', async () => {
    const { rest, http } = await both(fx.authorizer(config()), request(bearer(await fx.userToken())));

    expect([rest.status, http.status, http.reason]).toEqual([200, 200, 'ALLOWED']);
    expect(rest.result!.usageIdentifierKey).toBe('usage-key-acme-0123456789');
    expect(http.result!.context).toMatchObject({ kind: 'user', subject: 'user-1', tenantId: 'acme', issuer: 'supabase' });
  });

  it('a Supabase user verified through the JWKS (ES256)', async () => {
    const token = await signWith(fx.supabaseKey, fx.userClaims());
    const { http } = await both(fx.authorizer(config()), request(bearer(token)));

    expect([http.status, http.reason]).toEqual([200, 'ALLOWED']);
  });

  it('an OIDC user verified through the JWKS (RS256), on a scoped route with a path parameter', async () => {
    const { http } = await both(fx.authorizer(config()), request(bearer(await oidcToken()), 'GET', '/v1/customers/42', '/v1/customers/{id}'));

    expect([http.status, http.reason]).toEqual([200, 'ALLOWED']);
    expect(http.result!.context).toMatchObject({ kind: 'user', subject: 'u-corp', scopes: 'customers:read' });
  });

  it('an API key', async () => {
    const { key } = await fx.putApiKey({ tenantId: 'acme', scopes: ['customers:read'] });
    const { http } = await both(fx.authorizer(config()), request(bearer(key), 'GET', '/v1/customers'));

    expect([http.status, http.reason]).toEqual([200, 'ALLOWED']);
    expect(http.result!.context).toMatchObject({ kind: 'apiKey', tenantId: 'acme' });
  });

  it('a service secret with X-Service-Name (lower-cased on HTTP APIs)', async () => {
    const { http } = await both(fx.authorizer(config()), request(bearer(fx.serviceSecret, { 'X-Service-Name': fx.serviceName }), 'POST', '/internal/jobs'));

    expect([http.status, http.reason]).toEqual([200, 'ALLOWED']);
    expect(http.result!.context).toMatchObject({ kind: 'service', service: 'billing' });
  });

  it('a signed request, its query with a repeated key, on the request line with the stage', async () => {
    const query = { b: ['2', '1'], a: ['x y', 'ü'] };
    const make = () => {
      const s = signedHeaders({ secret: signerSecret, caller: SIGNER, method: 'POST', requestPath: '/prod/v1/webhooks/stripe', query, body: '{"x":1}' });
      return withRequestLine(authorizerEvent(s.headers, 'POST', '/v1/webhooks/stripe', '/v1/webhooks/{source}'), { query });
    };
    const { http } = await both(fx.authorizer(config()), make);

    expect([http.status, http.reason]).toEqual([200, 'ALLOWED']);
    expect(http.result!.context).toMatchObject({ kind: 'signed', signer: SIGNER });
  });

  it('a signed request on the $default stage, whose request line has no stage', async () => {
    const s = signedHeaders({ secret: signerSecret, caller: SIGNER, method: 'POST', requestPath: '/v1/webhooks/stripe' });
    const event = v2Event({ method: 'POST', path: '/v1/webhooks/stripe', route: '/v1/webhooks/{source}', headers: s.headers, stage: '$default' });

    const o = await outcome(fx.authorizer(config()), event, event.routeArn);

    expect([o.status, o.reason]).toEqual([200, 'ALLOWED']);
    expect(o.result!.policyDocument).toMatchObject({ Statement: [{ Effect: 'Allow', Resource: [expect.stringContaining('/$default/POST/v1/webhooks/*')] }] });
  });

  it('a user token in a cookie, with the CSRF double-submit token, on a mutating cookie route', async () => {
    const headers = { Cookie: `theme=dark; sb-access-token=${await fx.userToken()}; __Host-gh-csrf=${CSRF}`, 'X-CSRF-Token': CSRF };
    const { http } = await both(fx.authorizer(config()), request(headers, 'POST', '/v1/session/items'));

    expect([http.status, http.reason]).toEqual([200, 'ALLOWED']);
    expect(fx.logs.filter((l) => l.message === 'decision').at(-1)).toMatchObject({ source: 'cookie', payload: '2.0' });
  });

  it('a member of the tenant the tenant header names (membership mode)', async () => {
    const { http } = await both(fx.authorizer(config({ membership: {} })), request(bearer(await fx.userToken(), { 'X-Tenant-Id': 'tenant-a' })));

    expect([http.status, http.reason]).toEqual([200, 'ALLOWED']);
    expect(http.result!.context).toMatchObject({ tenantId: 'tenant-a', roles: 'admin' });
  });
});

describe('HTTP API (payload 2.0): refusals', () => {
  it.each([
    ['no credential', async () => request({})],
    ['an expired token', async () => request(bearer(await fx.userToken({ iat: nowSeconds() - 1000, exp: nowSeconds() - 100 })))],
    ['an unknown API key', async () => request(bearer((await fx.putApiKey({ tenantId: 'acme' })).key.replace(/.{8}$/, '00000000')))],
    ['a wrong service secret', async () => request(bearer('wrong-secret-wrong-secret', { 'X-Service-Name': 'billing' }), 'POST', '/internal/jobs')],
    ['a client X-Gatehouse-Context header', async () => request(bearer(await fx.userToken(), { 'x-gatehouse-context': 'e30' }))],
    ['a cookie and a header credential together', async () => request({ ...bearer(await fx.userToken()), Cookie: `sb-access-token=${await fx.userToken()}` }, 'POST', '/v1/session/items')],
  ])('refuses %s with a Deny (403) and the reason code REST answers 401 with', async (_name, make) => {
    const { rest, http } = await both(fx.authorizer(config()), await make());

    expect([rest.status, rest.decision, http.status, http.decision]).toEqual([401, 'unauthorized', 403, 'deny']);
    expect(http.result!.policyDocument).toEqual({ Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: [`${API_ARN_PREFIX}/*`] }] });
  });

  it('refuses two Authorization headers (joined with a comma on HTTP APIs) with a Deny: AUTHORIZATION_MALFORMED', async () => {
    const token = await fx.userToken();
    const make = () => authorizerEvent({}, 'GET', '/v1/me', '/v1/me', { Authorization: [`Bearer ${token}`, `Bearer ${token}`] });
    const authorize = fx.authorizer(config());
    const rest = await outcome(authorize, make(), make().methodArn);
    const http = await outcome(authorize, v2EventLike(make()), make().methodArn);

    expect([rest.status, rest.reason]).toEqual([401, 'CREDENTIAL_MULTIPLE']);
    // `Bearer t,Bearer t` is one header value that is no bearer token: refused, never read as one of the two.
    expect([http.status, http.reason, http.decision]).toEqual([403, 'AUTHORIZATION_MALFORMED', 'deny']);
  });

  it('answers a reused signature with a Deny (SIGNATURE_REPLAYED)', async () => {
    const s = signedHeaders({ secret: signerSecret, caller: SIGNER, method: 'POST', requestPath: '/prod/v1/webhooks/stripe' });
    const event = () => v2Event({ method: 'POST', path: '/v1/webhooks/stripe', route: '/v1/webhooks/{source}', headers: s.headers });
    const authorize = fx.authorizer(config());

    expect((await outcome(authorize, event(), event().routeArn)).status).toBe(200);
    const again = await outcome(authorize, event(), event().routeArn);

    expect([again.status, again.reason, again.decision]).toEqual([403, 'SIGNATURE_REPLAYED', 'deny']);
  });

  it.each([
    ['a CSRF token that does not match', async () => request({ Cookie: `sb-access-token=${await fx.userToken()}; __Host-gh-csrf=${CSRF}`, 'X-CSRF-Token': `${CSRF}x` }, 'POST', '/v1/session/items'), 'CSRF_TOKEN_MISMATCH'],
    ['a suspended tenant', async () => request(bearer(await fx.userToken({ app_metadata: { tenant_id: 'frozen' } }))), 'TENANT_SUSPENDED'],
    ['a route the principal may not call', async () => request(bearer(await oidcToken({ scope: '' })), 'GET', '/v1/customers'), 'ROUTE_NOT_PERMITTED'],
    ['a tenant the user is no member of', async () => request(bearer(await fx.userToken(), { 'X-Tenant-Id': 'acme' })), 'MEMBERSHIP_NOT_FOUND'],
  ])('refuses %s with a Deny (403), as REST does', async (_name, make, reason) => {
    const authorize = fx.authorizer(config(reason === 'MEMBERSHIP_NOT_FOUND' ? { membership: {} } : {}));
    const { rest, http } = await both(authorize, await make());

    expect([rest.status, http.status, http.reason]).toEqual([403, 403, reason]);
  });

  it('answers a dependency failure with a 500 (a thrown error that is not Unauthorized), never a Deny or an Allow', async () => {
    const { key } = await fx.putApiKey({ tenantId: 'acme' });
    const authorize = fx.authorizer(config(), { dynamodb: unreachableDynamoDb() });
    const { http } = await both(authorize, request(bearer(key)));

    expect([http.status, http.decision, http.reason]).toEqual([500, 'error', 'APIKEY_STORE_UNAVAILABLE']);
  });
});

describe('HTTP API (payload 2.0): malformed events', () => {
  it('answers an event without a routeArn, or with headers that are not a map, with a 500 logged as INTERNAL_ERROR', async () => {
    const authorize = fx.authorizer(config());
    const good = v2Event({ headers: bearer(await fx.userToken()) });

    for (const event of [{ ...good, routeArn: undefined }, { ...good, headers: 'authorization' }, { ...good, headers: null }]) {
      const o = await outcome(authorize, event as never, good.routeArn);
      expect([o.status, o.decision, o.reason]).toEqual([500, 'error', 'INTERNAL_ERROR']);
    }
  });

  it('never allows a malformed event: any field of a valid one replaced by anything is a 500, or still a well-formed event', async () => {
    const authorize = fx.authorizer(config());
    const good = v2Event({ headers: bearer(await fx.userToken()) });
    const fields = ['version', 'type', 'routeArn', 'routeKey', 'rawPath', 'rawQueryString', 'cookies', 'headers', 'requestContext'] as const;
    const seen = { malformed: 0, allowed: 0 };

    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...fields), fc.oneof(fc.jsonValue(), fc.constant(undefined)), async (field, value) => {
        const event = { ...good, [field]: value };
        const o = await outcome(authorize, event as never, good.routeArn);
        let mapped: ReturnType<typeof fromPayloadV2> | undefined;
        try {
          mapped = isPayloadV2(event) ? fromPayloadV2(event as never) : undefined;
        } catch {
          mapped = undefined;
        }
        if (!mapped) {
          seen.malformed++;
          expect({ field, status: o.status }).toEqual({ field, status: 500 });
          return;
        }
        // Well-formed: an Allow only for the request the credential was presented on.
        if (o.status === 200) {
          seen.allowed++;
          expect({ field, arn: mapped.methodArn, authorization: mapped.headers?.authorization }).toEqual({ field, arn: good.routeArn, authorization: good.headers!.authorization });
        }
        expect({ field, status: o.status }).not.toEqual({ field, status: 401 });
      }),
      { numRuns: 200 },
    );
    expect(seen.malformed).toBeGreaterThan(50);
  });
});
