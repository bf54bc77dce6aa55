import { createInternalJobsHandler } from '../../../lambdas/handlers/internal-jobs';
import { apiKeyAuthorizer, captureLogger, lambdaContext, parsed, proxyEvent, serviceAuthorizer, userAuthorizer } from '../proxy-event';

function jobs() {
  const log = captureLogger();
  const handler = createInternalJobsHandler({ logger: log.logger });
  const call = async (authorizer?: Record<string, unknown>) =>
    parsed(await handler(proxyEvent({ method: 'POST', resource: '/internal/jobs', authorizer, body: { job: 'reindex' } }), lambdaContext()));
  return { call, log };
}

describe('POST /internal/jobs', () => {
  it('accepts a service with 202 and names it', async () => {
    // Act
    const res = await jobs().call(serviceAuthorizer({ service: 'billing' }));

    // Assert
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ accepted: true, service: 'billing' });
  });

  it.each([
    ['a user, even one with every scope', userAuthorizer({ scopes: 'jobs:run customers:read customers:write' }), 'user'],
    ['an API key', apiKeyAuthorizer({ scopes: 'jobs:run' }), 'apiKey'],
  ])('refuses %s with 403', async (_name, authorizer, kind) => {
    // Prepare
    const { call, log } = jobs();

    // Act
    const res = await call(authorizer);

    // Assert
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: 'forbidden', message: `credential kind ${kind} is not accepted here` });
    expect(log.lines).toEqual([expect.objectContaining({ reason: 'KIND_NOT_ALLOWED', kind })]);
  });

  it('answers 500, not 202, when there is no authorizer context at all', async () => {
    expect(await jobs().call(undefined)).toMatchObject({ status: 500, body: { error: 'internal_error' } });
  });
});
