import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { HttpError, httpErrors } from '../../../lambdas/shared/http-errors';
import { BEARER_TOKEN, captureLogger, lambdaContext, parsed, proxyEvent } from '../proxy-event';

/** A handler that throws `err`, behind httpErrors. */
function throwing(err: unknown) {
  const log = captureLogger();
  const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>(async () => {
    throw err;
  }).use(httpErrors({ logger: log.logger }));
  return { handler, log };
}

const event = () => proxyEvent({ method: 'POST', resource: '/v1/customers', body: { name: 'Ada', password: 'hunter2-secret' } });

describe('httpErrors', () => {
  it('turns an HttpError below 500 into its status and public JSON body, details included', async () => {
    // Prepare
    const { handler } = throwing(new HttpError(409, 'conflict', 'customer exists', { details: { field: 'email' } }));

    // Act
    const res = parsed(await handler(event(), lambdaContext()));

    // Assert
    expect(res.status).toBe(409);
    expect(res.body).toEqual({ error: 'conflict', message: 'customer exists', field: 'email' });
    expect(res.headers).toMatchObject({ 'content-type': 'application/json', 'cache-control': 'no-store' });
  });

  it.each([
    ['an unexpected error', Object.assign(new TypeError(`cannot read token ${BEARER_TOKEN}`), { code: 'E_BROKEN' })],
    ['an HttpError of 500 or more', new HttpError(503, 'unavailable', 'table users-prod is throttled', { details: { table: 'users-prod' } })],
    ['a thrown string', 'boom'],
  ])('hides %s behind a generic 500 body', async (_name, err) => {
    // Prepare
    const { handler } = throwing(err);

    // Act
    const res = await handler(event(), lambdaContext());

    // Assert
    expect(res.statusCode).toBe(500);
    expect(JSON.parse(res.body)).toEqual({ error: 'internal_error' });
  });

  it('logs one line with the correlation id, the error name and code, but not the error message', async () => {
    // Prepare
    const e = event();
    const { handler, log } = throwing(Object.assign(new TypeError(`cannot read token ${BEARER_TOKEN}`), { code: 'E_BROKEN' }));

    // Act
    await handler(e, lambdaContext());

    // Assert
    expect(log.lines).toEqual([
      expect.objectContaining({
        level: 'ERROR',
        message: 'request failed',
        requestId: e.requestContext.requestId,
        method: 'POST',
        resource: '/v1/customers',
        status: 500,
        reason: 'UNHANDLED_ERROR',
        errorName: 'TypeError',
        errorCode: 'E_BROKEN',
      }),
    ]);
    expect(log.text()).not.toContain(BEARER_TOKEN);
  });

  it('never logs the Authorization header, other headers or the body', async () => {
    // Prepare
    const { handler, log } = throwing(new HttpError(400, 'bad_request', 'invalid body'));

    // Act
    await handler(event(), lambdaContext());

    // Assert
    expect(log.lines).toHaveLength(1);
    expect(log.text()).not.toContain(BEARER_TOKEN);
    expect(log.text()).not.toMatch(/authorization|hunter2|203\.0\.113\.7/i);
  });

  it('adds an HttpError\'s headers to a 4xx answer, never to a 5xx one', async () => {
    // Prepare
    const headers = { 'WWW-Authenticate': 'GH-HMAC-SHA256' };
    const unauthorized = throwing(new HttpError(401, 'unauthorized', 'the body does not match', { headers })).handler;
    const failed = throwing(new HttpError(503, 'unavailable', 'down', { headers })).handler;

    // Act
    const [four, five] = [parsed(await unauthorized(event(), lambdaContext())), parsed(await failed(event(), lambdaContext()))];

    // Assert
    expect(four).toMatchObject({ status: 401, headers: { 'WWW-Authenticate': 'GH-HMAC-SHA256', 'content-type': 'application/json' } });
    expect(five.status).toBe(500);
    expect(five.headers).not.toHaveProperty('WWW-Authenticate');
  });

  it('refuses to build an HttpError outside 400-599', () => {
    expect(() => new HttpError(200, 'ok', 'fine')).toThrow(RangeError);
    expect(() => new HttpError(302, 'found', 'elsewhere')).toThrow(RangeError);
  });
});
