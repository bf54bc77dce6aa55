import {
  CONTEXT_HEADER,
  CONTEXT_HEADERS,
  CONTEXT_KEYS,
  GATEWAY_CONTEXT_KEY,
  PUBLIC_CONTEXT,
  REQUEST_ID_HEADER,
  contextHeaders,
  decodeGatewayContext,
  encodeGatewayContext,
  isContextHeader,
} from '../../contract/backend-headers';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseConfig } from '../../contract/config';
import { parseStackConfig, renderAuthorizerConfig } from '../../contract/stack-config';
import { allowAnswer } from '../../lambdas/authorizer/answer';

/** The one header a backend reads the caller from: what it holds, and what it refuses to decode. */
const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v), 'utf8').toString('base64url');
const EMPTY = Object.fromEntries(CONTEXT_KEYS.map((k) => [k, '']));

describe('encodeGatewayContext', () => {
  it("is base64url JSON of the context's keys, those that are '' left out", () => {
    const context = { ...EMPTY, kind: 'apiKey', principalId: 'key_1', tenantId: 'acme', scopes: 'orders:read orders:write', tier: 'pro', keyId: 'key_1' };
    const encoded = encodeGatewayContext(context);

    expect(encoded).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'))).toEqual({
      kind: 'apiKey',
      principalId: 'key_1',
      tenantId: 'acme',
      scopes: 'orders:read orders:write',
      tier: 'pro',
      keyId: 'key_1',
    });
  });

  it('leaves out keys that are not context keys (its own, those API Gateway adds) and values that are not strings', () => {
    const encoded = encodeGatewayContext({ kind: 'service', principalId: 'service:billing', service: 'billing', [GATEWAY_CONTEXT_KEY]: 'x', integrationLatency: 3, roles: 7 });

    expect(decodeGatewayContext(encoded)).toEqual({ kind: 'service', principalId: 'service:billing', service: 'billing' });
  });

  it('round-trips every kind, non-ASCII text included', () => {
    const contexts = [
      { kind: 'user', principalId: 'u-1', tenantId: 'acme', scopes: 'a b', issuer: 'supabase', subject: 'u-1', roles: 'admin', email: 'zoë@example.com', sessionId: 's' },
      { kind: 'apiKey', principalId: 'key_1', tenantId: 'acme', keyId: 'key_1' },
      { kind: 'service', principalId: 'service:billing', scopes: 'jobs:run', service: 'billing' },
      { kind: 'signed', principalId: 'signer:relay', signer: 'relay', bodySha256: 'a'.repeat(64) },
      { kind: 'public' },
    ];
    for (const c of contexts) expect(decodeGatewayContext(encodeGatewayContext(c))).toEqual(c);
  });

  it('refuses a context without a valid kind', () => {
    expect(() => encodeGatewayContext({ principalId: 'x' })).toThrow(/kind/);
    expect(() => encodeGatewayContext({ kind: 'admin', principalId: 'x' })).toThrow(/kind/);
  });
});

describe('PUBLIC_CONTEXT', () => {
  it('is {"kind":"public"}, never empty, and safe inside a single-quoted static mapping value', () => {
    expect(PUBLIC_CONTEXT).toBe(b64({ kind: 'public' }));
    expect(PUBLIC_CONTEXT).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeGatewayContext(PUBLIC_CONTEXT)).toEqual({ kind: 'public' });
  });
});

describe('decodeGatewayContext', () => {
  it.each([
    ['no header', undefined],
    ['an empty header', ''],
    ['the header twice', [b64({ kind: 'public' }), b64({ kind: 'public' })]],
    ['padding or base64 characters', `${b64({ kind: 'public' })}=`],
    ['standard base64', Buffer.from('{"kind":"user","principalId":"???>"}').toString('base64')],
    ['not JSON', b64('kind=user')],
    ['a JSON array', b64([{ kind: 'user' }])],
    ['JSON null', b64('null')],
    ['a JSON string', b64('"user"')],
    ['no kind', b64({ principalId: 'u' })],
    ['an unknown kind', b64({ kind: 'admin', principalId: 'u' })],
    ['a kind that is not a string', b64({ kind: ['user'], principalId: 'u' })],
    ['a caller without a principal id', b64({ kind: 'user', tenantId: 'acme' })],
    ['a list instead of a space-separated string', b64({ kind: 'user', principalId: 'u', scopes: ['a', 'b'] })],
    ['an empty value', b64({ kind: 'apiKey', principalId: 'k', tenantId: '' })],
    ['a public context with a caller', b64({ kind: 'public', tenantId: 'acme' })],
    ['a huge value', 'A'.repeat(70_000)],
  ])('throws on %s', (_name, header) => {
    expect(() => decodeGatewayContext(header as string)).toThrow(new RegExp(CONTEXT_HEADER));
  });

  it('drops keys it does not know (a newer gateway may add some)', () => {
    expect(decodeGatewayContext(b64({ kind: 'apiKey', principalId: 'k', tenantId: 'acme', future: 1 }))).toEqual({ kind: 'apiKey', principalId: 'k', tenantId: 'acme' });
  });
});

describe('the headers a backend gets', () => {
  it('are X-Gatehouse-Context and X-Gatehouse-Request-Id only', () => {
    expect(CONTEXT_HEADERS).toEqual(['X-Gatehouse-Context', 'X-Gatehouse-Request-Id']);
    expect(CONTEXT_HEADER).toBe('X-Gatehouse-Context');
    expect(REQUEST_ID_HEADER).toBe('X-Gatehouse-Request-Id');
  });

  it("locally: the authorizer's encoded context, or the public one, and the request id", () => {
    const c = { ...EMPTY, kind: 'user', principalId: 'u', issuer: 'supabase', subject: 'u' };
    const encoded = encodeGatewayContext(c);

    expect(contextHeaders({ ...c, [GATEWAY_CONTEXT_KEY]: encoded }, 'r-1')).toEqual({ [CONTEXT_HEADER]: encoded, [REQUEST_ID_HEADER]: 'r-1' });
    expect(contextHeaders(c, 'r-2')).toEqual({ [CONTEXT_HEADER]: encoded, [REQUEST_ID_HEADER]: 'r-2' });
    expect(contextHeaders(undefined, 'r-3')).toEqual({ [CONTEXT_HEADER]: PUBLIC_CONTEXT, [REQUEST_ID_HEADER]: 'r-3' });
  });

  it('are in a namespace a client may not use, in any case', () => {
    for (const name of ['X-Gatehouse-Context', 'x-gatehouse-scopes', 'X-GATEHOUSE-', 'x-Gatehouse-anything']) expect(isContextHeader(name)).toBe(true);
    for (const name of ['X-Gatehouse', 'Gatehouse-Context', 'X-Gatehousecontext', 'X-Forwarded-For', '']) expect(isContextHeader(name)).toBe(false);
  });
});

describe('backendContext: the encoded context only where a route has a backend', () => {
  const render = (extra: Record<string, unknown>) => {
    const doc = JSON.parse(readFileSync(path.join(__dirname, '../../config/gatehouse.example.json'), 'utf8')) as Record<string, unknown>;
    const config = parseStackConfig({ ...doc, ...extra }, 'test');
    return renderAuthorizerConfig(config, 'tbl', { services: { reporting: 'svc' }, signers: { 'payments-relay': 'relay' } });
  };

  it('is off for a stack whose routes all go to Lambda handlers (no decision pays for the encoding)', () => {
    const rendered = render({});
    expect(rendered.backendContext).toBeUndefined();
    expect(parseConfig(rendered).backendContext).toBe(false);
  });

  it('is on as soon as one route goes to an HTTP backend', () => {
    const doc = JSON.parse(readFileSync(path.join(__dirname, '../../config/gatehouse.example.json'), 'utf8')) as { routes: unknown[] };
    const rendered = render({
      routes: [...doc.routes, { method: 'GET', path: '/v1/orders', accepts: ['apiKey'], backend: 'orders' }],
      backends: { orders: { url: 'https://orders.example.com' } },
    });
    expect(rendered.backendContext).toBe(true);
  });

  it('decides whether an Allow carries gatehouseContext', () => {
    const principal = { kind: 'apiKey', keyId: 'key_1', tenantId: 'acme', scopes: [], name: 'k', environment: 'live' } as unknown as Parameters<typeof allowAnswer>[0];
    const policy = { Version: '2012-10-17', Statement: [] } as unknown as Parameters<typeof allowAnswer>[1];
    expect(allowAnswer(principal, policy, undefined).context).not.toHaveProperty(GATEWAY_CONTEXT_KEY);
    const encoded = allowAnswer(principal, policy, undefined, true).context![GATEWAY_CONTEXT_KEY] as string;
    expect(decodeGatewayContext(encoded)).toMatchObject({ kind: 'apiKey', principalId: 'key_1', tenantId: 'acme' });
  });
});
