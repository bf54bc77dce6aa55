import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { randomBytes } from 'node:crypto';
import { AUTH_CONTEXT_KEY, type AuthContext, authContext } from '../../../lambdas/shared/auth-context';
import { httpErrors } from '../../../lambdas/shared/http-errors';
import { json, toProxyResult } from '../../../lambdas/shared/http-response';
import { SIGNED_BODY_MISMATCH, signedBody } from '../../../lambdas/shared/signed-body';
import { sha256Hex } from '../../../contract/signing';
import {
  EMPTY_BODY_SHA256,
  apiKeyAuthorizer,
  captureLogger,
  lambdaContext,
  parsed,
  proxyEvent,
  serviceAuthorizer,
  signedAuthorizer,
  userAuthorizer,
} from '../proxy-event';

/** httpErrors, authContext, signedBody and a route spy: the chain httpHandler builds, without the rest. */
function chain() {
  const log = captureLogger();
  const route = jest.fn(async (_e: APIGatewayProxyEvent, _c: Context) => toProxyResult(json(200, { reached: true })));
  const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>(route)
    .use(httpErrors({ logger: log.logger }))
    .use(authContext())
    .use(signedBody());
  return { handler, route, log };
}

const BODY = '{"id":"evt_1","type":"invoice.paid","data":{"amount":4200}}';

const post = (authorizer: Record<string, unknown>, body: string | null, extra: { isBase64Encoded?: boolean } = {}) =>
  proxyEvent({ method: 'POST', resource: '/v1/webhooks/{source}', pathParameters: { source: 'stripe' }, authorizer, ...(body === null ? {} : { body }), ...extra });

describe('signedBody', () => {
  it('lets a signed request through when the body hashes to the signed value', async () => {
    // Prepare
    const { handler, route } = chain();

    // Act
    const res = parsed(await handler(post(signedAuthorizer({ bodySha256: sha256Hex(BODY) }), BODY), lambdaContext()));

    // Assert
    expect(res).toMatchObject({ status: 200, body: { reached: true } });
    expect(route).toHaveBeenCalledTimes(1);
  });

  it('answers 401 with WWW-Authenticate to a body that differs from the signed one by one byte, before the route', async () => {
    // Prepare
    const { handler, route, log } = chain();
    const tampered = BODY.replace('4200', '4201');

    // Act
    const res = parsed(await handler(post(signedAuthorizer({ bodySha256: sha256Hex(BODY) }), tampered), lambdaContext()));

    // Assert
    expect(tampered).toHaveLength(BODY.length);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'unauthorized', message: 'the body does not match X-Content-SHA256' });
    expect(res.headers).toMatchObject({ 'WWW-Authenticate': 'GH-HMAC-SHA256', 'content-type': 'application/json', 'cache-control': 'no-store' });
    expect(route).not.toHaveBeenCalled();
    expect(log.lines).toEqual([expect.objectContaining({ level: 'WARN', status: 401, reason: SIGNED_BODY_MISMATCH, bodyBytes: tampered.length })]);
  });

  it('hashes a base64-encoded body after decoding it: the bytes as sent, not their encoding', async () => {
    // Prepare: bytes that are not valid UTF-8, as a binary media type delivers them.
    const bytes = Buffer.concat([randomBytes(64), Buffer.from([0xff, 0xfe, 0x80])]);
    const encoded = bytes.toString('base64');
    const { handler, route } = chain();

    // Act
    const ok = await handler(post(signedAuthorizer({ bodySha256: sha256Hex(bytes) }), encoded, { isBase64Encoded: true }), lambdaContext());
    const ofEncoding = await handler(post(signedAuthorizer({ bodySha256: sha256Hex(encoded) }), encoded, { isBase64Encoded: true }), lambdaContext());

    // Assert
    expect(ok.statusCode).toBe(200);
    expect(ofEncoding.statusCode).toBe(401);
    expect(route).toHaveBeenCalledTimes(1);
  });

  it('does not decode a body API Gateway did not mark as base64', async () => {
    // Prepare
    const text = Buffer.from(BODY).toString('base64');
    const { handler } = chain();

    // Act
    const res = await handler(post(signedAuthorizer({ bodySha256: sha256Hex(BODY) }), text), lambdaContext());

    // Assert
    expect(res.statusCode).toBe(401);
  });

  it.each([
    ['no body (null)', null],
    ['an empty body', ''],
  ])('hashes %s as the empty string', async (_name, body) => {
    // Prepare
    const { handler, route } = chain();

    // Act
    const res = await handler(post(signedAuthorizer({ bodySha256: EMPTY_BODY_SHA256 }), body), lambdaContext());

    // Assert
    expect(EMPTY_BODY_SHA256).toBe(sha256Hex(''));
    expect(res.statusCode).toBe(200);
    expect(route).toHaveBeenCalledTimes(1);
  });

  it('refuses a body sent where the signature covered none, and no body where it covered one', async () => {
    // Prepare
    const { handler, route } = chain();

    // Act
    const added = await handler(post(signedAuthorizer({ bodySha256: EMPTY_BODY_SHA256 }), BODY), lambdaContext());
    const dropped = await handler(post(signedAuthorizer({ bodySha256: sha256Hex(BODY) }), null), lambdaContext());

    // Assert
    expect([added.statusCode, dropped.statusCode]).toEqual([401, 401]);
    expect(route).not.toHaveBeenCalled();
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['upper case', sha256Hex(BODY).toUpperCase()],
    ['63 digits', sha256Hex(BODY).slice(1)],
    ['65 digits', `${sha256Hex(BODY)}0`],
    ['not hex', 'z'.repeat(64)],
  ])('fails closed with a generic 500 when the context’s bodySha256 is %s', async (_name, bodySha256) => {
    // Prepare
    const { handler, route, log } = chain();
    const authorizer = { ...signedAuthorizer(), bodySha256 };

    // Act
    const res = parsed(await handler(post(authorizer, BODY), lambdaContext()));

    // Assert
    expect(res).toMatchObject({ status: 500, body: { error: 'internal_error' } });
    expect(res.headers).not.toHaveProperty('WWW-Authenticate');
    expect(route).not.toHaveBeenCalled();
    expect(log.lines).toEqual([expect.objectContaining({ level: 'ERROR', reason: 'AUTH_CONTEXT_INVALID', fields: ['bodySha256'] })]);
  });

  it('fails closed on its own when a signed context reaches it with a malformed bodySha256 (no authContext before it)', async () => {
    // Prepare: a context attached by something other than authContext().
    const log = captureLogger();
    const route = jest.fn(async () => toProxyResult(json(200, {})));
    const attach = {
      before: (request: { context: Context }) => {
        const auth: AuthContext = { kind: 'signed', principalId: 'signer:x', tenantId: '', scopes: [], signer: 'x', bodySha256: 'abc' };
        (request.context as unknown as Record<string, unknown>)[AUTH_CONTEXT_KEY] = auth;
      },
    };
    const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>(route).use(httpErrors({ logger: log.logger })).use(attach).use(signedBody());

    // Act
    const res = await handler(post(signedAuthorizer(), ''), lambdaContext());

    // Assert
    expect(res.statusCode).toBe(500);
    expect(route).not.toHaveBeenCalled();
    expect(log.lines).toEqual([expect.objectContaining({ reason: 'AUTH_CONTEXT_INVALID' })]);
  });

  it('fails closed when no auth context was attached at all', async () => {
    // Prepare
    const log = captureLogger();
    const route = jest.fn(async () => toProxyResult(json(200, {})));
    const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>(route).use(httpErrors({ logger: log.logger })).use(signedBody());

    // Act
    const res = await handler(post(signedAuthorizer(), BODY), lambdaContext());

    // Assert
    expect(res.statusCode).toBe(500);
    expect(route).not.toHaveBeenCalled();
    expect(log.lines).toEqual([expect.objectContaining({ reason: 'AUTH_CONTEXT_NOT_ATTACHED' })]);
  });

  it.each([
    ['a user', userAuthorizer()],
    ['an API key', apiKeyAuthorizer()],
    ['a service', serviceAuthorizer()],
    // A stray key on another kind's context is dropped by authContext: it never turns the check on or off.
    ['a user whose context carries a stray bodySha256', userAuthorizer({ bodySha256: EMPTY_BODY_SHA256 })],
  ])('leaves %s untouched, whatever the body', async (_name, authorizer) => {
    // Prepare
    const { handler, route } = chain();
    const event = post(authorizer, BODY);

    // Act
    const res = await handler(event, lambdaContext());

    // Assert
    expect(res.statusCode).toBe(200);
    expect(route).toHaveBeenCalledTimes(1);
    expect(route.mock.calls[0]?.[0].body).toBe(BODY);
  });
});
