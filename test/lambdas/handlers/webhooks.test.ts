import { createWebhooksHandler } from '../../../lambdas/handlers/webhooks';
import { sha256Hex } from '../../../contract/signing';
import {
  apiKeyAuthorizer,
  captureLogger,
  lambdaContext,
  parsed,
  proxyEvent,
  serviceAuthorizer,
  signedAuthorizer,
  userAuthorizer,
} from '../proxy-event';

interface Call {
  readonly source?: string;
  /** Sent as it is when a string, else as JSON. @default an invoice.paid event */
  readonly body?: unknown;
  /** The authorizer context. @default a signer whose signature covers the body sent */
  readonly authorizer?: Record<string, unknown>;
}

const EVENT = { id: 'evt_1NXa2b', type: 'invoice.paid', data: { invoice: 'in_42', amount: 4200 } };

function webhooks() {
  const log = captureLogger();
  const handler = createWebhooksHandler({ logger: log.logger });
  const call = async (c: Call = {}) => {
    const body = c.body === undefined ? JSON.stringify(EVENT) : typeof c.body === 'string' ? c.body : JSON.stringify(c.body);
    const event = proxyEvent({
      method: 'POST',
      resource: '/v1/webhooks/{source}',
      pathParameters: { source: c.source ?? 'stripe' },
      body,
      authorizer: c.authorizer ?? signedAuthorizer({ bodySha256: sha256Hex(body) }),
    });
    return parsed(await handler(event, lambdaContext()));
  };
  return { call, log };
}

describe('POST /v1/webhooks/{source}', () => {
  it('acknowledges a signed event with 202, naming the signer, the source, the event id and the body hash', async () => {
    // Prepare
    const body = JSON.stringify(EVENT);

    // Act
    const res = await webhooks().call({ body });

    // Assert
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ accepted: true, signer: 'stripe-relay', source: 'stripe', eventId: 'evt_1NXa2b', bodySha256: sha256Hex(body) });
  });

  it('accepts an event without data', async () => {
    expect(await webhooks().call({ body: { id: 'evt_2', type: 'ping' } })).toMatchObject({ status: 202, body: { eventId: 'evt_2' } });
  });

  it.each(['Stripe', '-stripe', 'stripe_relay', 'a'.repeat(64), 'stripe/../x', ''])('answers 400 to the source %j', async (source) => {
    // Prepare
    const { call, log } = webhooks();

    // Act
    const res = await call({ source });

    // Assert
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'bad_request', message: 'invalid path', issues: [expect.objectContaining({ field: 'source' })] });
    expect(log.lines).toEqual([expect.objectContaining({ reason: 'PATH_INVALID' })]);
  });

  it('accepts a source of 63 characters', async () => {
    expect((await webhooks().call({ source: `a${'-'.repeat(61)}9` })).status).toBe(202);
  });

  it.each([
    ['no id', { type: 'invoice.paid' }, ['id']],
    ['an empty type', { id: 'evt_1', type: '' }, ['type']],
    ['an id over 128 characters', { id: 'e'.repeat(129), type: 'invoice.paid' }, ['id']],
    ['a numeric id and no type', { id: 42 }, ['id', 'type']],
    ['data that is not an object', { id: 'evt_1', type: 'invoice.paid', data: ['a'] }, ['data']],
    ['an unknown field', { id: 'evt_1', type: 'invoice.paid', extra: true }, ['extra']],
    ['an array instead of an object', [EVENT], ['(root)']],
  ])('answers 400 to a signed body with %s, naming the fields', async (_name, body, fields) => {
    // Act
    const res = await webhooks().call({ body });

    // Assert
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'bad_request', message: 'invalid body' });
    expect((res.body as { issues: { field: string }[] }).issues.map((i) => i.field)).toEqual(fields);
  });

  it('answers 400 to a signed request with no body at all', async () => {
    // Act
    const res = await webhooks().call({ body: '', authorizer: signedAuthorizer({ bodySha256: sha256Hex('') }) });

    // Assert
    expect(res).toMatchObject({ status: 400, body: { message: 'invalid body', issues: [{ field: '(root)' }] } });
  });

  it.each([
    ['a user, even one with every scope', userAuthorizer({ scopes: 'webhooks:write customers:read' }), 'user'],
    ['an API key', apiKeyAuthorizer({ scopes: 'webhooks:write' }), 'apiKey'],
    ['a service', serviceAuthorizer({ scopes: 'webhooks:write' }), 'service'],
  ])('refuses %s with 403', async (_name, authorizer, kind) => {
    // Prepare
    const { call, log } = webhooks();

    // Act
    const res = await call({ authorizer });

    // Assert
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: 'forbidden', message: `credential kind ${kind} is not accepted here` });
    expect(log.lines).toEqual([expect.objectContaining({ reason: 'KIND_NOT_ALLOWED', kind })]);
  });

  it('answers 401 when the body is not the one signed, before validating anything', async () => {
    // Prepare
    const { call, log } = webhooks();

    // Act: a bad source and a bad body, but the signature covered another body.
    const res = await call({ source: 'NOT VALID', body: { id: 'evt_1', type: 'invoice.refunded' }, authorizer: signedAuthorizer({ bodySha256: sha256Hex(JSON.stringify(EVENT)) }) });

    // Assert
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'unauthorized', message: 'the body does not match X-Content-SHA256' });
    expect(res.headers).toMatchObject({ 'WWW-Authenticate': 'GH-HMAC-SHA256' });
    expect(log.lines).toEqual([expect.objectContaining({ status: 401, reason: 'SIGNED_BODY_MISMATCH', kind: 'signed' })]);
  });

  it('answers 500, not 202, when the signed context has no valid body hash', async () => {
    // Act
    const res = await webhooks().call({ authorizer: { ...signedAuthorizer(), bodySha256: undefined } });

    // Assert
    expect(res).toMatchObject({ status: 500, body: { error: 'internal_error' } });
  });

  it('answers 500, not 202, when there is no authorizer context at all', async () => {
    // Prepare
    const handler = createWebhooksHandler({ logger: captureLogger().logger });

    // Act
    const res = parsed(await handler(proxyEvent({ method: 'POST', resource: '/v1/webhooks/{source}', pathParameters: { source: 'stripe' }, body: EVENT }), lambdaContext()));

    // Assert
    expect(res).toMatchObject({ status: 500, body: { error: 'internal_error' } });
  });
});
