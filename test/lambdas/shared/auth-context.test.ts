import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import fc from 'fast-check';
import {
  AUTH_CONTEXT_KEY,
  authContext,
  authContextOf,
  parseAuthContext,
  requireKinds,
  requireScopes,
} from '../../../lambdas/shared/auth-context';
import { httpErrors } from '../../../lambdas/shared/http-errors';
import { context } from '../../../lambdas/authorizer/answer';
import { httpHandler } from '../../../lambdas/shared/http-handler';
import { json, toProxyResult } from '../../../lambdas/shared/http-response';
import { type Fixture, authorizerEvent, createFixture } from '../../support/fixture';
import { nowSeconds, signHs256 } from '../../support/jwt';
import { PROVIDER_TENANT_IDS } from '../../support/tenant-ids';
import {
  BEARER_TOKEN,
  apiKeyAuthorizer,
  captureLogger,
  lambdaContext,
  parsed,
  proxyEvent,
  serviceAuthorizer,
  signedAuthorizer,
  userAuthorizer,
} from '../proxy-event';

const withAuthorizer = (authorizer: Record<string, unknown> | null | undefined) => proxyEvent({ resource: '/v1/me', authorizer });

describe('parseAuthContext', () => {
  it('types a user context, splitting scopes and roles and dropping the keys API Gateway adds', () => {
    // Act
    const result = parseAuthContext(withAuthorizer(userAuthorizer()));

    // Assert
    expect(result).toEqual({
      ok: true,
      auth: {
        kind: 'user',
        principalId: '6f1c3b2a-1111-4222-8333-944455556666',
        tenantId: 'acme',
        scopes: ['customers:read', 'customers:write'],
        tier: 'pro',
        issuer: 'supabase',
        subject: '6f1c3b2a-1111-4222-8333-944455556666',
        roles: ['admin', 'member'],
        email: 'ada@example.com',
        sessionId: 'sess-1',
      },
    });
  });

  it('types an API-key context', () => {
    // Act
    const result = parseAuthContext(withAuthorizer(apiKeyAuthorizer()));

    // Assert
    expect(result).toEqual({
      ok: true,
      auth: { kind: 'apiKey', principalId: 'key_0123456789abcdef', tenantId: 'acme', scopes: ['customers:read'], keyId: 'key_0123456789abcdef' },
    });
  });

  it('types a service context with an empty tenant', () => {
    // Act
    const result = parseAuthContext(withAuthorizer(serviceAuthorizer()));

    // Assert
    expect(result).toEqual({
      ok: true,
      auth: { kind: 'service', principalId: 'service:billing', tenantId: '', scopes: ['jobs:run'], service: 'billing' },
    });
  });

  it('types a signed context with an empty tenant, the signer and the signed body hash', () => {
    // Prepare
    const bodySha256 = 'a'.repeat(64);

    // Act
    const result = parseAuthContext(withAuthorizer(signedAuthorizer({ bodySha256 })));

    // Assert
    expect(result).toEqual({
      ok: true,
      auth: { kind: 'signed', principalId: 'signer:stripe-relay', tenantId: '', scopes: ['webhooks:write'], signer: 'stripe-relay', bodySha256 },
    });
  });

  it('reads an empty scope string as no scopes and leaves out optional fields the authorizer did not set', () => {
    // Prepare
    const { email: _e, sessionId: _s, tier: _t, ...minimal } = userAuthorizer({ scopes: '', roles: '' });

    // Act
    const result = parseAuthContext(withAuthorizer(minimal));

    // Assert
    expect(result.ok && result.auth).toEqual({
      kind: 'user',
      principalId: '6f1c3b2a-1111-4222-8333-944455556666',
      tenantId: 'acme',
      scopes: [],
      issuer: 'supabase',
      subject: '6f1c3b2a-1111-4222-8333-944455556666',
      roles: [],
    });
  });

  it("reads the authorizer's empty keys as absent: a user's empty email, session id and tier, and other kinds' keys", () => {
    // Prepare: the context as the authorizer builds it for a user with no email, session or tenant record.
    const c = context({ kind: 'user', issuerId: 'supabase', subject: 'user-1', tenantId: 'acme', tenantRequired: true, scopes: ['a'], roles: [] }, undefined);

    // Act
    const result = parseAuthContext(withAuthorizer({ ...c, integrationLatency: 3 }));

    // Assert
    expect(c).toMatchObject({ email: '', sessionId: '', tier: '', keyId: '', service: '', signer: '', bodySha256: '' });
    expect(result.ok && result.auth).toEqual({ kind: 'user', principalId: 'user-1', tenantId: 'acme', scopes: ['a'], issuer: 'supabase', subject: 'user-1', roles: [] });
  });

  it.each(Object.entries(PROVIDER_TENANT_IDS))("takes a %s organization id (%s) as the tenant exactly, for users and API keys", (_, id) => {
    expect(parseAuthContext(withAuthorizer(userAuthorizer({ tenantId: id })))).toMatchObject({ ok: true, auth: { kind: 'user', tenantId: id } });
    expect(parseAuthContext(withAuthorizer(apiKeyAuthorizer({ tenantId: id })))).toMatchObject({ ok: true, auth: { kind: 'apiKey', tenantId: id } });
  });

  it("reads an HTTP API's context under requestContext.authorizer.lambda, with the same result as REST's flat one", () => {
    const rest = parseAuthContext(withAuthorizer(userAuthorizer()));
    const http = parseAuthContext(withAuthorizer({ lambda: userAuthorizer() }));

    expect(rest.ok).toBe(true);
    expect(http).toEqual(rest);
    expect(parseAuthContext(withAuthorizer({ lambda: apiKeyAuthorizer() }))).toMatchObject({ ok: true, auth: { kind: 'apiKey' } });
  });

  it('refuses an HTTP API authorizer object without a valid lambda context, never reading the keys beside it', () => {
    // An HTTP API route without a Lambda authorizer has { claims: null, scopes: null } (a JWT authorizer's slots).
    expect(parseAuthContext(withAuthorizer({ claims: null, scopes: null }))).toMatchObject({ ok: false, reason: 'AUTH_CONTEXT_INVALID' });
    expect(parseAuthContext(withAuthorizer({ lambda: { kind: 'user' }, ...userAuthorizer() }))).toMatchObject({ ok: false, reason: 'AUTH_CONTEXT_INVALID' });
    // A non-object `lambda` is not an HTTP API context: the flat REST reading applies (and refuses it here).
    expect(parseAuthContext(withAuthorizer({ lambda: 'x' }))).toMatchObject({ ok: false, reason: 'AUTH_CONTEXT_INVALID' });
  });

  it('reports a missing authorizer object as AUTH_CONTEXT_MISSING', () => {
    expect(parseAuthContext(withAuthorizer(undefined))).toEqual({ ok: false, reason: 'AUTH_CONTEXT_MISSING', fields: [] });
    expect(parseAuthContext(withAuthorizer(null))).toEqual({ ok: false, reason: 'AUTH_CONTEXT_MISSING', fields: [] });
  });

  it.each([
    ['an API key without a tenant', apiKeyAuthorizer({ tenantId: '' }), 'tenantId'],
    ['a service with a tenant', serviceAuthorizer({ tenantId: 'acme' }), 'tenantId'],
    ['an unknown kind', userAuthorizer({ kind: 'admin' }), 'kind'],
    ['a user without an issuer', userAuthorizer({ issuer: '' }), 'issuer'],
    ['an API key without a key id', apiKeyAuthorizer({ keyId: '', principalId: 'key_1' }), 'keyId'],
    ['a service without a name', serviceAuthorizer({ service: '' }), 'service'],
    ['a signer with a tenant', signedAuthorizer({ tenantId: 'acme' }), 'tenantId'],
    ['a signer without a name', signedAuthorizer({ signer: '' }), 'signer'],
    ['a signer whose name is not a signer name', signedAuthorizer({ signer: 'Stripe Relay' }), 'signer'],
    ['a signer without a body hash', { ...signedAuthorizer(), bodySha256: undefined }, 'bodySha256'],
    ['a signer with an empty body hash', signedAuthorizer({ bodySha256: '' }), 'bodySha256'],
    ['a signer with an upper-case body hash', signedAuthorizer({ bodySha256: 'A'.repeat(64) }), 'bodySha256'],
    ['a signer with a short body hash', signedAuthorizer({ bodySha256: 'a'.repeat(63) }), 'bodySha256'],
    ['a signer with a padded body hash', signedAuthorizer({ bodySha256: ` ${'a'.repeat(64)}` }), 'bodySha256'],
    ['a context without a principal id', { ...apiKeyAuthorizer(), principalId: undefined }, 'principalId'],
    ['a context without scopes', { ...apiKeyAuthorizer(), scopes: undefined }, 'scopes'],
    ['a Cognito-style claims object', { claims: { sub: 'x', 'custom:tenant': 'acme' } }, 'kind'],
    ['an API key whose tenant is not a tenant id (key separator)', apiKeyAuthorizer({ tenantId: 'acme#CUSTOMERS' }), 'tenantId'],
    ['an API key whose tenant is not a tenant id (dot)', apiKeyAuthorizer({ tenantId: 'acme.corp' }), 'tenantId'],
    ['a user whose tenant is not a tenant id (space)', userAuthorizer({ tenantId: 'acme corp' }), 'tenantId'],
    ['a user whose tenant is not a tenant id (129 characters)', userAuthorizer({ tenantId: 'a'.repeat(129) }), 'tenantId'],
  ])('refuses %s, naming the field but not its value', (_name, authorizer, field) => {
    // Act
    const result = parseAuthContext(withAuthorizer(authorizer));

    // Assert
    expect(result).toEqual({ ok: false, reason: 'AUTH_CONTEXT_INVALID', fields: [field] });
  });

  it('never throws, and whatever it accepts keeps the tenant rule (a tenant for keys, none for services and signers) and a signer’s body hash', () => {
    const value = fc.oneof(
      fc.string(),
      fc.constantFrom('user', 'apiKey', 'service', 'signed', '', 'stripe-relay', 'a'.repeat(64), 'A'.repeat(64)),
      fc.stringMatching(/^[0-9a-fA-F]{62,66}$/),
      fc.integer(),
      fc.constant(null),
    );
    const keys = ['kind', 'principalId', 'tenantId', 'scopes', 'tier', 'issuer', 'subject', 'roles', 'email', 'sessionId', 'keyId', 'service', 'signer', 'bodySha256'];
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...keys, 'integrationLatency', 'other'), value), (raw) => {
        const result = parseAuthContext(withAuthorizer(raw));
        if (!result.ok) return;
        if (result.auth.kind === 'service') expect(result.auth.tenantId).toBe('');
        if (result.auth.kind === 'signed') {
          expect(result.auth.tenantId).toBe('');
          expect(result.auth.bodySha256).toMatch(/^[0-9a-f]{64}$/);
        }
        if (result.auth.kind === 'apiKey') expect(result.auth.tenantId.length).toBeGreaterThan(0);
        expect(result.auth.principalId.length).toBeGreaterThan(0);
      }),
      { numRuns: 500 },
    );
  });
});

describe('the authorizer contract', () => {
  let fx: Fixture;

  beforeAll(async () => {
    fx = await createFixture();
    await fx.putTenant({ tenantId: 'acme', tier: 'pro' });
  });
  afterAll(() => fx.close());

  /** Runs the real authorizer and delivers its context the way API Gateway does. */
  async function deliveredContext(headers: Record<string, string>, method = 'GET', path = '/v1/me') {
    const result = await fx.authorizer()(authorizerEvent(headers, method, path));
    return { ...result.context, principalId: result.principalId, integrationLatency: 17 };
  }

  it('accepts the context the authorizer builds for a Supabase user', async () => {
    // Prepare
    const now = nowSeconds();
    const token = await signHs256(fx.supabaseSecret, {
      iss: `${fx.supabaseUrl}/auth/v1`,
      sub: '6f1c3b2a-1111-4222-8333-944455556666',
      aud: 'authenticated',
      role: 'authenticated',
      email: 'ada@example.com',
      session_id: 'sess-1',
      iat: now,
      exp: now + 3600,
      app_metadata: { tenant_id: 'acme', roles: ['admin'] },
    });

    // Act
    const result = parseAuthContext(withAuthorizer(await deliveredContext({ Authorization: `Bearer ${token}` })));

    // Assert
    expect(result.ok && result.auth).toMatchObject({
      kind: 'user',
      tenantId: 'acme',
      tier: 'pro',
      issuer: 'supabase',
      subject: '6f1c3b2a-1111-4222-8333-944455556666',
      principalId: '6f1c3b2a-1111-4222-8333-944455556666',
      roles: ['admin'],
      email: 'ada@example.com',
      sessionId: 'sess-1',
    });
  });

  it('accepts the context the authorizer builds for an API key', async () => {
    // Prepare
    const { key, record } = await fx.putApiKey({ tenantId: 'acme', scopes: ['customers:read', 'customers:write'] });

    // Act
    const result = parseAuthContext(withAuthorizer(await deliveredContext({ Authorization: `Bearer ${key}` }, 'GET', '/v1/customers')));

    // Assert
    expect(result.ok && result.auth).toEqual({
      kind: 'apiKey',
      principalId: record.keyId,
      keyId: record.keyId,
      tenantId: 'acme',
      tier: 'pro',
      scopes: ['customers:read', 'customers:write'],
    });
  });

  it('accepts the context the authorizer builds for a service', async () => {
    // Act
    const delivered = await deliveredContext({ Authorization: `Bearer ${fx.serviceSecret}`, 'X-Service-Name': fx.serviceName }, 'POST', '/internal/jobs');
    const result = parseAuthContext(withAuthorizer(delivered));

    // Assert
    expect(result.ok && result.auth).toEqual({ kind: 'service', principalId: 'service:billing', tenantId: '', scopes: ['jobs:run'], service: 'billing' });
  });
});

describe('authContext middleware', () => {
  const echo = (logger = captureLogger().logger) => httpHandler(({ auth }) => json(200, auth), { logger });

  it('attaches the typed context for the route', async () => {
    // Act
    const res = parsed(await echo()(withAuthorizer(apiKeyAuthorizer()), lambdaContext()));

    // Assert
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ kind: 'apiKey', tenantId: 'acme', scopes: ['customers:read'] });
  });

  it.each([
    ['missing', undefined, 'AUTH_CONTEXT_MISSING'],
    ['malformed', apiKeyAuthorizer({ tenantId: '' }), 'AUTH_CONTEXT_INVALID'],
    ['signed (bad body hash)', signedAuthorizer({ bodySha256: 'not-a-hash' }), 'AUTH_CONTEXT_INVALID'],
  ])('answers a %s context with a generic 500 and logs the reason code', async (_name, authorizer, reason) => {
    // Prepare
    const log = captureLogger();

    // Act
    const res = await echo(log.logger)(withAuthorizer(authorizer), lambdaContext());

    // Assert
    expect(res.statusCode).toBe(500);
    expect(JSON.parse(res.body)).toEqual({ error: 'internal_error' });
    expect(res.body).not.toMatch(/tenant|auth|context|kind/i);
    expect(log.lines).toEqual([expect.objectContaining({ level: 'ERROR', status: 500, reason })]);
  });

  it('never lets a previous invocation’s caller survive on a reused Lambda context object', async () => {
    // Prepare
    const context = lambdaContext();
    const handler = echo();
    await handler(withAuthorizer(userAuthorizer()), context);

    // Act
    const res = await handler(withAuthorizer(undefined), context);

    // Assert
    expect(res.statusCode).toBe(500);
    expect((context as unknown as Record<string, unknown>)[AUTH_CONTEXT_KEY]).toBeUndefined();
  });

  it('makes authContextOf fail closed when the middleware was never wired', () => {
    expect(() => authContextOf(lambdaContext())).toThrow(expect.objectContaining({ status: 500, reason: 'AUTH_CONTEXT_NOT_ATTACHED' }));
  });
});

describe('requireScopes and requireKinds', () => {
  /** A bare middy chain, to test each middleware on its own. */
  function chain(...middlewares: ReturnType<typeof requireScopes>[]) {
    const log = captureLogger();
    const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>(async (_e: APIGatewayProxyEvent, context: Context) =>
      toProxyResult(json(200, { kind: authContextOf(context).kind })),
    )
      .use(httpErrors({ logger: log.logger }))
      .use(authContext());
    for (const m of middlewares) handler.use(m);
    return { handler, log };
  }

  it('lets a caller holding every required scope through', async () => {
    // Prepare
    const { handler } = chain(requireScopes('customers:read', 'customers:write'));

    // Act
    const res = await handler(withAuthorizer(userAuthorizer()), lambdaContext());

    // Assert
    expect(res.statusCode).toBe(200);
  });

  it('answers 403 naming the missing scope when any one is missing', async () => {
    // Prepare
    const { handler, log } = chain(requireScopes('customers:read', 'customers:write'));

    // Act
    const res = parsed(await handler(withAuthorizer(apiKeyAuthorizer()), lambdaContext()));

    // Assert
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: 'forbidden', message: 'missing scope customers:write' });
    expect(res.headers['content-type']).toBe('application/json');
    expect(log.lines).toEqual([expect.objectContaining({ level: 'WARN', status: 403, reason: 'SCOPE_MISSING', missing: ['customers:write'] })]);
  });

  it('does not treat a scope that merely contains the required one as a match', async () => {
    // Prepare
    const { handler } = chain(requireScopes('customers:read'));

    // Act
    const res = await handler(withAuthorizer(apiKeyAuthorizer({ scopes: 'customers:read:own xcustomers:read' })), lambdaContext());

    // Assert
    expect(res.statusCode).toBe(403);
  });

  it('answers 403 to a signed caller on a route that does not accept signed', async () => {
    // Prepare
    const { handler } = chain(requireKinds('user', 'apiKey', 'service'));

    // Act
    const res = parsed(await handler(withAuthorizer(signedAuthorizer()), lambdaContext()));

    // Assert
    expect(res).toMatchObject({ status: 403, body: { message: 'credential kind signed is not accepted here' } });
  });

  it('answers 403 to a credential kind that is not accepted', async () => {
    // Prepare
    const { handler, log } = chain(requireKinds('user', 'apiKey'));

    // Act
    const res = parsed(await handler(withAuthorizer(serviceAuthorizer()), lambdaContext()));

    // Assert
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: 'forbidden', message: 'credential kind service is not accepted here' });
    expect(log.lines).toEqual([expect.objectContaining({ reason: 'KIND_NOT_ALLOWED' })]);
  });

  it('refuses to build with no scope, a scope with whitespace, or no kind', () => {
    expect(() => requireScopes()).toThrow(/at least one scope/);
    expect(() => requireScopes('customers:read customers:write')).toThrow(/invalid scope/);
    expect(() => requireKinds()).toThrow(/at least one kind/);
  });

  it('keeps the bearer token out of every log line', async () => {
    // Prepare
    const { handler, log } = chain(requireScopes('admin'));

    // Act
    await handler(withAuthorizer(userAuthorizer()), lambdaContext());
    await handler(withAuthorizer(undefined), lambdaContext());

    // Assert
    expect(log.lines).toHaveLength(2);
    expect(log.text()).not.toContain(BEARER_TOKEN);
    expect(log.text()).not.toContain(BEARER_TOKEN.split('.')[2]);
  });
});
