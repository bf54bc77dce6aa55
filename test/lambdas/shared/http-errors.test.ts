import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { HttpError, httpErrors, pathFreeFrame } from '../../../lambdas/shared/http-errors';
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

  it.each([
    ['an HttpError', new HttpError(404, 'not_found', 'no key key_0123456789abcdef in tenant acme', { reason: 'KEY_NOT_FOUND' })],
    ['an HttpError with a cause', new HttpError(400, 'bad_request', 'the body is not JSON', { reason: 'BODY_NOT_JSON', cause: new SyntaxError('Unexpected token') })],
  ])('logs %s answered 4xx with its reason code and public message only: no stack frame, no file path', async (_name, err) => {
    // Prepare
    const { handler, log } = throwing(err);

    // Act
    await handler(event(), lambdaContext());

    // Assert
    const line = log.lines[0]!;
    expect(line).toMatchObject({ level: 'WARN', reason: (err as HttpError).reason, publicMessage: (err as HttpError).message });
    expect(line).not.toHaveProperty('at');
    expect(line).not.toHaveProperty('stack');
    expect(log.text()).not.toMatch(/\bat |\.ts:|\.js:|\/var\/task|node_modules|\/work\//);
  });

  it('logs a 5xx with a path-free stack frame: the function and the file\'s base name, no directory', async () => {
    // Prepare
    const { handler, log } = throwing(new TypeError('x is undefined'));

    // Act
    await handler(event(), lambdaContext());

    // Assert
    const at = log.lines[0]!.at as string;
    expect(at).toMatch(/^at .*http-errors\.test\.ts:\d+:\d+/);
    expect(at).not.toMatch(/[\\/]/);
  });

  it.each([
    ['at list (/var/task/index.js:12:7)', 'at list (index.js:12:7)'],
    ['at file:///var/task/index.mjs:1:2345', 'at index.mjs:1:2345'],
    ['at Object.<anonymous> (C:\\work\\gatehouse\\lambdas\\handlers\\api-keys.ts:55:13)', 'at Object.<anonymous> (api-keys.ts:55:13)'],
    ['at async Promise.all (index 0)', 'at async Promise.all (index 0)'],
  ])('drops the directories of the frame %s', (frame, expected) => {
    expect(pathFreeFrame(frame)).toBe(expected);
  });

  it('refuses to build an HttpError outside 400-599', () => {
    expect(() => new HttpError(200, 'ok', 'fine')).toThrow(RangeError);
    expect(() => new HttpError(302, 'found', 'elsewhere')).toThrow(RangeError);
  });
});
