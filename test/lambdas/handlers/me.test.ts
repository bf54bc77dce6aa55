import { createMeHandler } from '../../../lambdas/handlers/me';
import { apiKeyAuthorizer, captureLogger, lambdaContext, parsed, proxyEvent, serviceAuthorizer, userAuthorizer } from '../proxy-event';

function me() {
  const log = captureLogger();
  const handler = createMeHandler({ logger: log.logger });
  return { call: async (authorizer?: Record<string, unknown>) => parsed(await handler(proxyEvent({ resource: '/v1/me', authorizer }), lambdaContext())), log };
}

describe('GET /v1/me', () => {
  it('echoes a user’s typed context, with scopes and roles as arrays', async () => {
    // Act
    const res = await me().call(userAuthorizer());

    // Assert
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
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
    });
  });

  it('echoes an API key’s context without the keys API Gateway added', async () => {
    // Act
    const res = await me().call(apiKeyAuthorizer());

    // Assert
    expect(res.body).toEqual({ kind: 'apiKey', principalId: 'key_0123456789abcdef', tenantId: 'acme', scopes: ['customers:read'], keyId: 'key_0123456789abcdef' });
  });

  it('echoes a service’s context with an empty tenant', async () => {
    expect((await me().call(serviceAuthorizer())).body).toMatchObject({ kind: 'service', service: 'billing', tenantId: '' });
  });

  it('answers 500 with a generic body when the API was deployed without the authorizer', async () => {
    // Prepare
    const { call, log } = me();

    // Act
    const res = await call(undefined);

    // Assert
    expect(res).toMatchObject({ status: 500, body: { error: 'internal_error' } });
    expect(log.lines).toEqual([expect.objectContaining({ reason: 'AUTH_CONTEXT_MISSING' })]);
  });

  it('answers 500 to a malformed context without saying what was wrong with it', async () => {
    // Prepare
    const { call, log } = me();

    // Act
    const res = await call(userAuthorizer({ kind: 'superuser', tenantId: '' }));

    // Assert
    expect(res).toEqual(expect.objectContaining({ status: 500, body: { error: 'internal_error' } }));
    expect(log.lines).toEqual([expect.objectContaining({ reason: 'AUTH_CONTEXT_INVALID', fields: ['kind'] })]);
  });
});
