import { httpHandler, publicHttpHandler } from '../../../lambdas/shared/http-handler';
import { json } from '../../../lambdas/shared/http-response';
import { sha256Hex } from '../../../contract/signing';
import { captureLogger, lambdaContext, parsed, proxyEvent, signedAuthorizer, userAuthorizer } from '../proxy-event';

/** A route behind the authorizer that echoes the parsed body. */
function echoBody(options: { scopes?: string[]; maxBodyBytes?: number } = {}) {
  const log = captureLogger();
  const handler = httpHandler(({ body }) => json(200, { body: body ?? null }), { logger: log.logger, ...options });
  return { handler, log };
}

const post = (body: unknown, headers: Record<string, string> = {}, extra = {}) =>
  proxyEvent({ method: 'POST', resource: '/v1/things', body, headers, authorizer: userAuthorizer(), ...extra });

describe('httpHandler', () => {
  it('hands the route the parsed JSON body and serializes its answer as JSON', async () => {
    // Act
    const res = parsed(await echoBody().handler(post({ name: 'Ada', tags: ['a'] }), lambdaContext()));

    // Assert
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ body: { name: 'Ada', tags: ['a'] } });
    expect(res.headers).toMatchObject({ 'content-type': 'application/json', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  });

  it('gives the route no body when the request has none', async () => {
    expect(parsed(await echoBody().handler(post(undefined), lambdaContext())).body).toEqual({ body: null });
  });

  it('answers 400 to a body that is not JSON, without echoing the parser', async () => {
    // Prepare
    const { handler, log } = echoBody();

    // Act
    const res = parsed(await handler(post('{"name": "Ada",'), lambdaContext()));

    // Assert
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'bad_request', message: 'body is not valid JSON' });
    expect(log.lines).toEqual([expect.objectContaining({ status: 400, reason: 'BODY_INVALID_JSON', tenantId: 'acme' })]);
  });

  it('answers 413 to a body over the limit, counting bytes rather than characters', async () => {
    // Prepare: 100 three-byte characters are 300 bytes.
    const { handler } = echoBody({ maxBodyBytes: 256 });

    // Act
    const res = parsed(await handler(post({ name: '€'.repeat(100) }), lambdaContext()));

    // Assert
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ error: 'payload_too_large' });
  });

  it('answers 415 to a body that is not declared as JSON', async () => {
    // Act
    const res = parsed(await echoBody().handler(post('{"name":"Ada"}', { 'Content-Type': 'text/plain' }), lambdaContext()));

    // Assert
    expect(res.status).toBe(415);
    expect(res.body).toMatchObject({ error: 'unsupported_media_type' });
  });

  it('accepts a JSON media type with parameters, in any header case', async () => {
    // Act
    const res = parsed(await echoBody().handler(post('{"a":1}', { 'content-type': 'Application/JSON; charset=utf-8' }), lambdaContext()));

    // Assert
    expect(res.status).toBe(200);
  });

  it('decodes a base64-encoded body (binary media types) before parsing it', async () => {
    // Act
    const event = post(Buffer.from('{"name":"Ada"}').toString('base64'), {}, { isBase64Encoded: true });
    const res = parsed(await echoBody().handler(event, lambdaContext()));

    // Assert
    expect(res.body).toEqual({ body: { name: 'Ada' } });
  });

  it('checks scopes before it reads the body: a caller without the scope learns nothing about body rules', async () => {
    // Act
    const res = parsed(await echoBody({ scopes: ['admin'] }).handler(post('not json'), lambdaContext()));

    // Assert
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: 'forbidden', message: 'missing scope admin' });
  });
});

describe('httpHandler with a signed caller', () => {
  const BODY = '{"id":"evt_1","type":"invoice.paid"}';

  /** A route spy behind httpHandler, and a signed POST whose signature covers BODY. */
  function signed(options: { kinds?: ('user' | 'signed')[]; scopes?: string[] } = {}) {
    const log = captureLogger();
    const route = jest.fn(({ body }: { body: unknown }) => json(200, { body: body ?? null }));
    const handler = httpHandler(route, { logger: log.logger, ...options });
    const event = (body: string | undefined) =>
      proxyEvent({ method: 'POST', resource: '/v1/webhooks/{source}', pathParameters: { source: 'stripe' }, body, authorizer: signedAuthorizer({ bodySha256: sha256Hex(BODY) }) });
    return { handler, route, log, event };
  }

  it('hands the route the parsed body when it is the body that was signed', async () => {
    // Prepare
    const { handler, route, event } = signed({ kinds: ['signed'] });

    // Act
    const res = parsed(await handler(event(BODY), lambdaContext()));

    // Assert
    expect(res).toMatchObject({ status: 200, body: { body: { id: 'evt_1', type: 'invoice.paid' } } });
    expect(route).toHaveBeenCalledTimes(1);
  });

  it('never calls the route when the body is not the one signed: 401, with no opt-in from the handler', async () => {
    // Prepare
    const { handler, route, log, event } = signed();

    // Act
    const res = parsed(await handler(event('{"id":"evt_2","type":"invoice.paid"}'), lambdaContext()));

    // Assert
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'unauthorized', message: 'the body does not match X-Content-SHA256' });
    expect(res.headers).toMatchObject({ 'WWW-Authenticate': 'GH-HMAC-SHA256' });
    expect(route).not.toHaveBeenCalled();
    expect(log.lines).toEqual([expect.objectContaining({ status: 401, reason: 'SIGNED_BODY_MISMATCH', kind: 'signed', principalId: 'signer:stripe-relay' })]);
  });

  it('checks the body before kinds, scopes and JSON parsing: a tampered body is 401, never 403, 400 or 415', async () => {
    // Prepare
    const { handler, route, log } = signed({ kinds: ['user'], scopes: ['admin'] });
    const event = proxyEvent({
      method: 'POST',
      resource: '/v1/webhooks/{source}',
      body: '{"not json',
      headers: { 'Content-Type': 'text/plain' },
      authorizer: signedAuthorizer({ bodySha256: sha256Hex(BODY) }),
    });

    // Act
    const res = await handler(event, lambdaContext());

    // Assert
    expect(res.statusCode).toBe(401);
    expect(route).not.toHaveBeenCalled();
    expect(log.lines).toEqual([expect.objectContaining({ reason: 'SIGNED_BODY_MISMATCH' })]);
  });
});

describe('publicHttpHandler', () => {
  it('serves a request that has no authorizer context', async () => {
    // Prepare
    const handler = publicHttpHandler(() => json(200, { ok: true }), { logger: captureLogger().logger });

    // Act
    const res = parsed(await handler(proxyEvent({ resource: '/health' }), lambdaContext()));

    // Assert
    expect(res).toMatchObject({ status: 200, body: { ok: true } });
  });
});
