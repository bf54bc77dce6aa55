import type { AuthorizerConfigInput } from '../../contract/config';
import { type Fixture, createFixture } from '../support/fixture';
import { type Answer, type Handler, decide as decideOn } from '../support/decide';
import {
  DEAD_ENDPOINT,
  countAttempts,
  hangingServer,
  movableClock,
  switchableSecretsManager,
  throttlingDynamoDb,
  throttlingDynamoDbServer,
  withEnv,
} from '../support/faults';
import { makeKey, nowSeconds, signWith } from '../support/jwt';

/**
 * Fault injection: each dependency of the authorizer down, slow, throttled or answering garbage, with the promised
 * answer asserted (status API Gateway would give, reason code in the decision log, and a bounded wait). No fault
 * ever yields Allow unless the promise says the last good key material keeps working.
 */
let fx: Fixture;
beforeAll(async () => {
  fx = await createFixture();
  await fx.putTenant({ tenantId: 'acme' });
});
afterAll(() => fx.close());

/** API Gateway's answer for one request, the reason logged for it, and how long the authorizer took. */
const decide = (handler: Handler, headers: Record<string, string>, method?: string, path?: string) => decideOn(fx, handler, headers, method, path);

const bearer = (token: string, extra: Record<string, string> = {}) => ({ Authorization: `Bearer ${token}`, ...extra });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The answer, or 'no answer' if there is none after `ms`. */
async function within<T>(ms: number, p: Promise<T>): Promise<T | 'no answer'> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'no answer'>((r) => (timer = setTimeout(() => r('no answer'), ms)));
  try {
    return await Promise.race([p, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
const refused = (a: Answer, reason: string) => expect({ status: a.status, reason: a.reason }).toEqual({ status: 500, reason });
const allowed = (a: Answer) => expect({ status: a.status, reason: a.reason }).toEqual({ status: 200, reason: 'ALLOWED' });

describe('JWKS endpoint faults', () => {
  /** The fixture's OIDC issuer (RS256 from a JWKS on loopback), with a 300 ms fetch timeout. */
  const oidc = (overrides: Record<string, unknown> = {}): Partial<AuthorizerConfigInput> => ({
    issuers: [{ ...(fx.config.issuers![1] as object), jwksTimeoutMs: 300, ...overrides } as NonNullable<AuthorizerConfigInput['issuers']>[number]],
  });
  const token = (iat = nowSeconds(), sub = 'u1') =>
    signWith(fx.oidcKey, { iss: fx.oidcIssuer, sub, aud: 'gatehouse-api', org: 'acme', iat, exp: iat + 7200 });
  afterEach(() => fx.oidcJwks.setMode('ok'));

  describe('with no keys cached', () => {
    it.each(['error', 'garbage', 'hang'] as const)('fails closed (500 JWT_KEYS_UNAVAILABLE) when the endpoint is %s, within the timeout', async (mode) => {
      fx.oidcJwks.setMode(mode);
      const before = fx.oidcJwks.fetches();

      const answer = await decide(fx.authorizer(oidc()), bearer(await token()));

      refused(answer, 'JWT_KEYS_UNAVAILABLE');
      expect(answer.ms).toBeLessThan(1500);
      expect(fx.oidcJwks.fetches() - before).toBe(1);
    });

    it('answers 50 concurrent cold requests 500 with one fetch, all within the timeout, while the endpoint hangs', async () => {
      fx.oidcJwks.setMode('hang');
      const authorize = fx.authorizer(oidc());
      const before = fx.oidcJwks.fetches();
      const tokens = await Promise.all(Array.from({ length: 50 }, (_, i) => token(nowSeconds(), `u${i}`)));

      const answers = await Promise.all(tokens.map((t) => decide(authorize, bearer(t))));

      for (const a of answers) refused(a, 'JWT_KEYS_UNAVAILABLE');
      expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(1500);
      expect(fx.oidcJwks.fetches() - before).toBe(1);
    });

    it('tries again on the next request and allows once the endpoint is back', async () => {
      fx.oidcJwks.setMode('error');
      const authorize = fx.authorizer(oidc());
      refused(await decide(authorize, bearer(await token())), 'JWT_KEYS_UNAVAILABLE');

      fx.oidcJwks.setMode('ok');

      allowed(await decide(authorize, bearer(await token())));
    });
  });

  describe('with keys cached and the cache past its max age', () => {
    /** A warm authorizer on a movable clock, its cache then aged past jwksCacheMaxAgeSeconds (600 s). */
    const aged = async (mode: 'error' | 'garbage' | 'hang') => {
      const clock = movableClock();
      const authorize = fx.authorizer(oidc(), { now: clock.now });
      allowed(await decide(authorize, bearer(await token(clock.seconds()))));
      fx.oidcJwks.setMode(mode);
      clock.advance(601_000);
      return { authorize, clock, before: fx.oidcJwks.fetches() };
    };

    it.each(['error', 'garbage', 'hang'] as const)('keeps the cached keys working when the endpoint is %s', async (mode) => {
      const { authorize, clock, before } = await aged(mode);

      const answer = await decide(authorize, bearer(await token(clock.seconds())));

      allowed(answer);
      expect(answer.ms).toBeLessThan(1500);
      expect(fx.oidcJwks.fetches() - before).toBe(1); // it did try to refresh
    });

    it('keeps them working on the real clock too (max age 1 s, a real wait)', async () => {
      const authorize = fx.authorizer(oidc({ jwksCacheMaxAgeSeconds: 1 }));
      allowed(await decide(authorize, bearer(await token())));
      fx.oidcJwks.setMode('hang');
      await sleep(1100);

      const answer = await decide(authorize, bearer(await token()));

      allowed(answer);
      expect(answer.ms).toBeLessThan(1500);
    });

    it('makes only one request per cooldown wait for a hanging endpoint', async () => {
      const { authorize, clock, before } = await aged('hang');
      const tokens = await Promise.all(Array.from({ length: 20 }, (_, i) => token(clock.seconds(), `u${i}`)));

      const first = await Promise.all(tokens.map((t) => decide(authorize, bearer(t))));
      clock.advance(10_000);
      const next = await decide(authorize, bearer(await token(clock.seconds())));

      for (const a of first) allowed(a);
      expect(Math.max(...first.map((a) => a.ms))).toBeLessThan(1500);
      allowed(next);
      expect(next.ms).toBeLessThan(250); // within the 30 s cooldown: the stale set, no second wait
      expect(fx.oidcJwks.fetches() - before).toBe(1);
    });

    it('fails closed once the keys are older than max age plus serviceSecrets.maxStaleSeconds', async () => {
      const clock = movableClock();
      const authorize = fx.authorizer({ ...oidc(), serviceSecrets: { maxStaleSeconds: 600 } }, { now: clock.now });
      allowed(await decide(authorize, bearer(await token(clock.seconds()))));
      fx.oidcJwks.setMode('error');

      clock.advance(1_150_000);
      allowed(await decide(authorize, bearer(await token(clock.seconds()))));
      clock.advance(51_000);
      refused(await decide(authorize, bearer(await token(clock.seconds()))), 'JWT_KEYS_UNAVAILABLE');
    });

    it('refuses (500, not 401) a token whose kid it cannot look up while the endpoint is down', async () => {
      const { authorize, clock } = await aged('error');
      const stranger = await makeKey('RS256');
      const claims = { iss: fx.oidcIssuer, sub: 'u9', aud: 'gatehouse-api', org: 'acme', iat: clock.seconds(), exp: clock.seconds() + 7200 };

      refused(await decide(authorize, bearer(await signWith(stranger, claims))), 'JWT_KEYS_UNAVAILABLE');
      // The cached keys still work for the kid they know.
      allowed(await decide(authorize, bearer(await token(clock.seconds()))));
    });

    it('takes the refreshed set once the endpoint is back', async () => {
      const { authorize, clock } = await aged('error');
      allowed(await decide(authorize, bearer(await token(clock.seconds()))));
      const next = await makeKey('RS256');
      fx.oidcJwks.setMode('ok');
      fx.oidcJwks.setKeys([next.publicJwk]);
      try {
        clock.advance(31_000);
        const claims = { iss: fx.oidcIssuer, sub: 'u2', aud: 'gatehouse-api', org: 'acme', iat: clock.seconds(), exp: clock.seconds() + 7200 };

        allowed(await decide(authorize, bearer(await signWith(next, claims))));
        // The old key left the set: refused as unknown now that the set could be read.
        const old = await decide(authorize, bearer(await token(clock.seconds())));
        expect({ status: old.status, reason: old.reason }).toEqual({ status: 401, reason: 'JWT_KID_UNKNOWN' });
      } finally {
        fx.oidcJwks.setKeys([fx.oidcKey.publicJwk]);
      }
    });
  });
});

describe('Secrets Manager unavailable', () => {
  /** The Supabase issuer with its HS256 secret only. */
  const supabase = (): Partial<AuthorizerConfigInput> => ({ issuers: [{ type: 'supabase', url: fx.supabaseUrl, hs256SecretId: fx.supabaseSecretId, jwks: false }] });
  const user = (iat: number) => fx.userToken({ iat, exp: iat + 7200 });
  const service = (secret = fx.serviceSecret) => bearer(secret, { 'X-Service-Name': fx.serviceName });

  it('keeps the last good HS256 secret working up to maxStaleSeconds, then fails closed (JWT_SECRET_UNAVAILABLE)', async () => {
    const sm = switchableSecretsManager();
    const clock = movableClock();
    const authorize = fx.authorizer(supabase(), { secretsManager: sm.client, now: clock.now });
    allowed(await decide(authorize, bearer(await user(clock.seconds()))));
    sm.setDown(true);
    sm.reset();

    clock.advance(301_000); // past secretCacheTtlSeconds (300): a re-read is due, and fails
    allowed(await decide(authorize, bearer(await user(clock.seconds()))));
    expect(sm.attempts('GetSecretValueCommand')).toBe(1);

    clock.advance(3300_000); // 3601 s after the last good read: past serviceSecrets.maxStaleSeconds (3600)
    refused(await decide(authorize, bearer(await user(clock.seconds()))), 'JWT_SECRET_UNAVAILABLE');

    sm.setDown(false);
    clock.advance(10_000); // past serviceSecrets.failureCooldownSeconds: the next read is due
    allowed(await decide(authorize, bearer(await user(clock.seconds()))));
    sm.client.destroy();
  });

  it('keeps the last good service secret working up to maxStaleSeconds, then fails closed (SERVICE_SECRET_UNAVAILABLE)', async () => {
    const sm = switchableSecretsManager();
    const clock = movableClock();
    const authorize = fx.authorizer({}, { secretsManager: sm.client, now: clock.now });
    allowed(await decide(authorize, service(), 'POST', '/internal/jobs'));
    sm.setDown(true);
    sm.reset();

    clock.advance(301_000);
    allowed(await decide(authorize, service(), 'POST', '/internal/jobs'));
    expect(sm.attempts()).toBeGreaterThan(0);
    // A wrong secret is still refused from the stale copy.
    const wrong = await decide(authorize, service('x'.repeat(43)), 'POST', '/internal/jobs');
    expect({ status: wrong.status, reason: wrong.reason }).toEqual({ status: 401, reason: 'SERVICE_SECRET_MISMATCH' });

    clock.advance(3300_000);
    refused(await decide(authorize, service(), 'POST', '/internal/jobs'), 'SERVICE_SECRET_UNAVAILABLE');
    refused(await decide(authorize, service('x'.repeat(43)), 'POST', '/internal/jobs'), 'SERVICE_SECRET_UNAVAILABLE');

    sm.setDown(false);
    clock.advance(10_000); // past serviceSecrets.failureCooldownSeconds: the next read is due
    allowed(await decide(authorize, service(), 'POST', '/internal/jobs'));
    sm.client.destroy();
  });

  it('fails closed at once when Secrets Manager is down from the first request', async () => {
    const sm = switchableSecretsManager();
    sm.setDown(true);
    const authorize = fx.authorizer(supabase(), { secretsManager: sm.client });

    refused(await decide(authorize, bearer(await user(nowSeconds()))), 'JWT_SECRET_UNAVAILABLE');
    refused(await decide(authorize, service(), 'POST', '/internal/jobs'), 'SERVICE_SECRET_UNAVAILABLE');
    sm.client.destroy();
  });

  // KNOWN DEFECT (reported, not fixed here): the authorizer's default clients set requestTimeout: 1000, but
  // @smithy/node-http-handler 4.x only logs a warning when it passes unless throwOnRequestTimeout is true, so a
  // Secrets Manager or DynamoDB that accepts the connection and never answers holds the request until the Lambda
  // times out (5 s in lib/gatehouse-authorizer.ts; API Gateway then answers 500). Still never Allow, but not the
  // 2-attempt, ~2 s bound the code promises. Remove `.failing` once CLIENT_OPTIONS sets throwOnRequestTimeout: true.
  it('gives up on a Secrets Manager that never answers within the default client bounds (2 attempts, 1 s each)', async () => {
    const outcome = await neverAnswering('AWS_ENDPOINT_URL_SECRETS_MANAGER', async () => bearer(await user(nowSeconds())), { secretsManager: undefined }, supabase());

    expect(outcome.answer).not.toBe('no answer');
    refused(outcome.answer as Answer, 'JWT_SECRET_UNAVAILABLE');
    expect(outcome.hits).toBe(2);
  }, 15_000);
});

/**
 * Sends one request through an authorizer whose default client for one service points at a server that accepts
 * connections and never answers. Waits 3 s (the default clients' bound is 2 attempts of 1 s), then closes the
 * server so a request still waiting ends too, and restores the environment.
 */
async function neverAnswering(
  endpointVariable: string,
  headers: () => Promise<Record<string, string>>,
  deps: Parameters<Fixture['authorizer']>[1],
  config: Partial<AuthorizerConfigInput> = {},
): Promise<{ answer: Answer | 'no answer'; hits: number }> {
  const hung = await hangingServer();
  let pending: Promise<Answer> | undefined;
  try {
    const answer = await withEnv({ [endpointVariable]: hung.url }, async () => {
      pending = decide(fx.authorizer(config, deps), await headers());
      return within(3000, pending);
    });
    return { answer, hits: hung.hits() };
  } finally {
    await hung.close();
    if (pending) await within(5000, pending);
  }
}

describe('DynamoDB throttled or unavailable', () => {
  const user = () => fx.userToken();
  const isTenantKey = (input: unknown) => String((input as { Key?: { pk?: { S?: string } } }).Key?.pk?.S).startsWith('TENANT#');

  it('refuses an API key (500 APIKEY_STORE_UNAVAILABLE) after two throttled attempts', async () => {
    const ddb = throttlingDynamoDb({ maxAttempts: 2 });
    const { key } = await fx.putApiKey({ tenantId: 'acme' });

    const answer = await decide(fx.authorizer({}, { dynamodb: ddb.client }), bearer(key));

    refused(answer, 'APIKEY_STORE_UNAVAILABLE');
    expect(ddb.attempts('GetItemCommand')).toBe(2);
    expect(ddb.throttledAttempts()).toBe(2);
    expect(answer.line).toMatchObject({ causeName: 'ProvisionedThroughputExceededException', causeStatus: 400 });
    ddb.client.destroy();
  });

  it('refuses a user (500 TENANT_STORE_UNAVAILABLE) when the tenant lookup is throttled, and reads again after the cooldown', async () => {
    const ddb = throttlingDynamoDb({ maxAttempts: 2, throttled: (_, input) => isTenantKey(input) });
    const clock = movableClock();
    const authorize = fx.authorizer({}, { dynamodb: ddb.client, now: clock.now });

    refused(await decide(authorize, bearer(await user())), 'TENANT_STORE_UNAVAILABLE');
    expect(ddb.attempts('GetItemCommand')).toBe(2);

    ddb.setActive(false);
    clock.advance(5_000); // records.failureCooldownSeconds: the failure itself is not cached
    allowed(await decide(authorize, bearer(await user())));
    ddb.client.destroy();
  });

  it('allows when a retry succeeds after one throttled attempt', async () => {
    let throttles = 1;
    const ddb = throttlingDynamoDb({ maxAttempts: 2, throttled: () => throttles-- > 0 });
    const { key } = await fx.putApiKey({ tenantId: 'acme' });

    allowed(await decide(fx.authorizer({}, { dynamodb: ddb.client }), bearer(key)));
    expect(ddb.throttledAttempts()).toBe(1);
    ddb.client.destroy();
  });

  it('refuses API keys and users (500) when DynamoDB is unreachable, after a bounded number of attempts', async () => {
    const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
    const down = countAttempts(new DynamoDBClient({ endpoint: DEAD_ENDPOINT, maxAttempts: 2 }));
    const authorize = fx.authorizer({}, { dynamodb: down.client });
    const { key } = await fx.putApiKey({ tenantId: 'acme' });

    const apiKey = await decide(authorize, bearer(key));
    const attempts = down.attempts();
    const tenant = await decide(authorize, bearer(await user()));

    refused(apiKey, 'APIKEY_STORE_UNAVAILABLE');
    refused(tenant, 'TENANT_STORE_UNAVAILABLE');
    expect(attempts).toBe(2);
    // The table is known to be down (records.failureCooldownSeconds): the tenant lookup fails at once, no attempt.
    expect(down.attempts()).toBe(2);
    expect(Math.max(apiKey.ms, tenant.ms)).toBeLessThan(2000);
    down.client.destroy();
  });

  it('the default client makes two attempts against a throttling DynamoDB, then refuses', async () => {
    const server = await throttlingDynamoDbServer();
    try {
      const { key } = await fx.putApiKey({ tenantId: 'acme' });
      const answer = await withEnv({ AWS_ENDPOINT_URL_DYNAMODB: server.url }, () => decide(fx.authorizer({}, { dynamodb: undefined }), bearer(key)));

      refused(answer, 'APIKEY_STORE_UNAVAILABLE');
      expect(server.hits()).toBe(2);
      expect(answer.ms).toBeLessThan(3000);
    } finally {
      await server.close();
    }
  });

  // KNOWN DEFECT: see the Secrets Manager case above (requestTimeout without throwOnRequestTimeout only warns).
  it('the default client gives up on a DynamoDB that never answers (2 attempts, 1 s each)', async () => {
    const outcome = await neverAnswering('AWS_ENDPOINT_URL_DYNAMODB', async () => bearer(await user()), { dynamodb: undefined });

    expect(outcome.answer).not.toBe('no answer');
    refused(outcome.answer as Answer, 'TENANT_STORE_UNAVAILABLE');
    expect(outcome.hits).toBe(2);
  }, 15_000);
});

describe('many concurrent cold invocations', () => {
  const oidcToken = (sub: string) => signWith(fx.oidcKey, { iss: fx.oidcIssuer, sub, aud: 'gatehouse-api', org: 'acme', iat: nowSeconds(), exp: nowSeconds() + 600 });
  const hs256Token = (sub: string) => fx.userToken({ sub });

  it('fetches a JWKS once for 50 concurrent first requests of its issuer (single flight)', async () => {
    const authorize = fx.authorizer();
    const tokens = await Promise.all(Array.from({ length: 50 }, (_, i) => oidcToken(`u${i}`)));
    const before = fx.oidcJwks.fetches();
    fx.clients.reset();

    const answers = await Promise.all(tokens.map((t) => decide(authorize, bearer(t))));

    for (const a of answers) allowed(a);
    expect(fx.oidcJwks.fetches() - before).toBe(1);
    expect(fx.clients.count('GetItemCommand')).toBe(1); // the tenant, single flight too
  });

  it('reads the HS256 secret once for 50 concurrent first requests', async () => {
    const authorize = fx.authorizer();
    const tokens = await Promise.all(Array.from({ length: 50 }, (_, i) => hs256Token(`u${i}`)));
    fx.clients.reset();

    const answers = await Promise.all(tokens.map((t) => decide(authorize, bearer(t))));

    for (const a of answers) allowed(a);
    expect(fx.clients.count('GetSecretValueCommand')).toBe(1);
  });

  it('mixing issuers and kinds, does one read per key source', async () => {
    const authorize = fx.authorizer();
    const supabaseJwt = (sub: string) =>
      signWith(fx.supabaseKey, { iss: `${fx.supabaseUrl}/auth/v1`, sub, aud: 'authenticated', role: 'authenticated', iat: nowSeconds(), exp: nowSeconds() + 600, app_metadata: { tenant_id: 'acme' } });
    const { key } = await fx.putApiKey({ tenantId: 'acme' });
    const requests = await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        switch (i % 5) {
          case 0:
            return { headers: bearer(await oidcToken(`u${i}`)) };
          case 1:
            return { headers: bearer(await hs256Token(`u${i}`)) };
          case 2:
            return { headers: bearer(await supabaseJwt(`u${i}`)) };
          case 3:
            return { headers: bearer(key) };
          default:
            return { headers: bearer(fx.serviceSecret, { 'X-Service-Name': fx.serviceName }), method: 'POST', path: '/internal/jobs' };
        }
      }),
    );
    const before = { oidc: fx.oidcJwks.fetches(), supabase: fx.supabaseJwks.fetches() };
    fx.clients.reset();

    const answers = await Promise.all(requests.map((r) => decide(authorize, r.headers, r.method, r.path)));

    for (const a of answers) allowed(a);
    expect(fx.oidcJwks.fetches() - before.oidc).toBe(1);
    expect(fx.supabaseJwks.fetches() - before.supabase).toBe(1);
    expect(fx.clients.count('GetSecretValueCommand')).toBe(1 + 1); // the HS256 secret, plus one service-secret version
    expect(fx.clients.count('ListSecretVersionIdsCommand')).toBe(1);
    // The API key's record and the one tenant every principal here belongs to.
    expect(fx.clients.count('GetItemCommand')).toBe(2);
  });
});
