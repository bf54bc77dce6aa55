import { createHealthHandler, handler } from '../../../lambdas/handlers/health';
import { captureLogger, lambdaContext, parsed, proxyEvent } from '../proxy-event';

describe('GET /health', () => {
  it('answers 200 {"status":"ok"} as JSON without any authorizer context', async () => {
    // Act
    const res = parsed(await createHealthHandler({ logger: captureLogger().logger })(proxyEvent({ resource: '/health' }), lambdaContext()));

    // Assert
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
    expect(res.headers['content-type']).toBe('application/json');
  });

  it('is what the deployed entry point serves', async () => {
    expect(parsed(await handler(proxyEvent({ resource: '/health' }), lambdaContext()))).toMatchObject({ status: 200, body: { status: 'ok' } });
  });
});
