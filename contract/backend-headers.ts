/**
 * How an HTTP backend behind Gatehouse learns who is calling: one header, `X-Gatehouse-Context`, holding the
 * authorizer's context as base64url-encoded JSON, and `X-Gatehouse-Request-Id`. Neither is ever empty: API
 * Gateway documents that a request-parameter mapping with a value sets the integration header, but not what it does
 * with a mapping whose value is empty (if it left the header out, a client's own copy would pass through
 * `http_proxy` untouched). So the authorizer computes the encoded context as one more context key on every Allow
 * (GATEWAY_CONTEXT_KEY), and a public route maps the static, non-empty PUBLIC_CONTEXT (`{"kind":"public"}`): a
 * copy a client sent is overwritten on every route, whatever it holds. The authorizer also refuses any request
 * that carries an `X-Gatehouse-*` header (CONTEXT_HEADER_FROM_CLIENT), and the local gateway removes every such
 * header a client sent. A backend trusts these headers only on requests that came through the gateway (README,
 * "Put Gatehouse in front of your API": the stage's client certificate).
 */

/** Every header the gateway adds to a backend request starts with this; clients may not send any such header. */
export const CONTEXT_HEADER_PREFIX = 'X-Gatehouse-';

/** The caller's context: base64url(JSON) of a GatewayContext (encodeGatewayContext, decodeGatewayContext). */
export const CONTEXT_HEADER = 'X-Gatehouse-Context';

/** API Gateway's request id, from `context.requestId` (the same id the client gets in `x-amzn-requestid`). */
export const REQUEST_ID_HEADER = 'X-Gatehouse-Request-Id';

/** Every header the gateway writes on a backend request: nothing else of the prefix reaches a backend. */
export const CONTEXT_HEADERS = [CONTEXT_HEADER, REQUEST_ID_HEADER] as const;

/** The authorizer context key that holds the encoded context, mapped as `context.authorizer.gatehouseContext`. */
export const GATEWAY_CONTEXT_KEY = 'gatehouseContext';

/**
 * The keys of the authorizer's context (lambdas/authorizer/answer.ts), as handlers receive them: flat strings,
 * lists space-separated (`scopes`, `roles`), '' where the caller has none. The encoded context has the same keys,
 * those that are '' left out.
 */
export const CONTEXT_KEYS = [
  'kind',
  'principalId',
  'tenantId',
  'scopes',
  'tier',
  'issuer',
  'subject',
  'roles',
  'email',
  'sessionId',
  'keyId',
  'service',
  'signer',
  'bodySha256',
] as const;

export type ContextKey = (typeof CONTEXT_KEYS)[number];

/** The callers the context describes: the credential kinds, and `public` (a public route: no caller). */
export const GATEWAY_CONTEXT_KINDS = ['user', 'apiKey', 'service', 'signed', 'public'] as const;

export type GatewayContextKind = (typeof GATEWAY_CONTEXT_KINDS)[number];

/**
 * The caller as `X-Gatehouse-Context` describes it. `kind` is always there; the other keys only when the caller has
 * a value (a service has no `tenantId`, an API key no `email`), and none at all for `public`. `scopes` and `roles`
 * are space-separated.
 */
export type GatewayContext = { readonly kind: GatewayContextKind } & { readonly [K in Exclude<ContextKey, 'kind'>]?: string };

/**
 * base64url (no padding) of the context as JSON: the keys of CONTEXT_KEYS whose value is a non-empty string, in
 * that order. Anything else in `context` (GATEWAY_CONTEXT_KEY, keys API Gateway adds) is left out.
 */
export function encodeGatewayContext(context: Readonly<Record<string, unknown>>): string {
  const out: Record<string, string> = {};
  for (const key of CONTEXT_KEYS) {
    const value = context[key];
    if (typeof value === 'string' && value !== '') out[key] = value;
  }
  if (!GATEWAY_CONTEXT_KINDS.includes(out.kind as GatewayContextKind)) throw new Error('encodeGatewayContext: no valid kind');
  return Buffer.from(JSON.stringify(out), 'utf8').toString('base64url');
}

/** X-Gatehouse-Context on a public route (no authorizer, no caller): `{"kind":"public"}`, never empty. */
export const PUBLIC_CONTEXT = encodeGatewayContext({ kind: 'public' });

// base64url without padding, as encodeGatewayContext writes it. The length cap keeps a hostile value cheap.
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const MAX_HEADER_LENGTH = 65_536;

/**
 * The context an `X-Gatehouse-Context` header holds. Throws on anything else: a missing or empty header, a value
 * that is not base64url, JSON that is not an object, a kind that is not one of GATEWAY_CONTEXT_KINDS, a known key
 * that is not a non-empty string, keys other than `kind` on a public context, or a caller without a principal id.
 * Unknown keys are dropped (a newer gateway may add some).
 */
export function decodeGatewayContext(header: string | readonly string[] | undefined | null): GatewayContext {
  if (typeof header !== 'string' || header === '') throw new Error(`${CONTEXT_HEADER}: missing (or sent more than once)`);
  if (header.length > MAX_HEADER_LENGTH || !BASE64URL.test(header)) throw new Error(`${CONTEXT_HEADER}: not base64url`);
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
  } catch {
    throw new Error(`${CONTEXT_HEADER}: not JSON`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error(`${CONTEXT_HEADER}: not a JSON object`);
  const source = raw as Record<string, unknown>;
  const out: Record<string, string> = {};
  for (const key of CONTEXT_KEYS) {
    if (!Object.hasOwn(source, key)) continue;
    const value = source[key];
    if (typeof value !== 'string' || value === '') throw new Error(`${CONTEXT_HEADER}: ${key} is not a non-empty string`);
    out[key] = value;
  }
  const kind = out.kind as GatewayContextKind | undefined;
  if (kind === undefined || !GATEWAY_CONTEXT_KINDS.includes(kind)) throw new Error(`${CONTEXT_HEADER}: kind is not one of ${GATEWAY_CONTEXT_KINDS.join(', ')}`);
  if (kind === 'public') {
    if (Object.keys(out).length !== 1) throw new Error(`${CONTEXT_HEADER}: a public context has no caller`);
  } else if (out.principalId === undefined) {
    throw new Error(`${CONTEXT_HEADER}: principalId is missing`);
  }
  return out as GatewayContext;
}

/** Whether `name` (any case) is in the gateway's namespace: such a header from a client never reaches a backend. */
export function isContextHeader(name: string): boolean {
  return name.length >= CONTEXT_HEADER_PREFIX.length && name.slice(0, CONTEXT_HEADER_PREFIX.length).toLowerCase() === CONTEXT_HEADER_PREFIX.toLowerCase();
}

/**
 * The headers the local gateway adds to a backend request, as the deployed mapping writes them: CONTEXT_HEADER from
 * the authorizer's context (its GATEWAY_CONTEXT_KEY; encoded here from its keys if the key is missing), or
 * PUBLIC_CONTEXT on a public route (`context` undefined), and REQUEST_ID_HEADER.
 */
export function contextHeaders(context: Readonly<Record<string, unknown>> | undefined, requestId: string): Record<string, string> {
  const encoded = context?.[GATEWAY_CONTEXT_KEY];
  return {
    [CONTEXT_HEADER]: context === undefined ? PUBLIC_CONTEXT : typeof encoded === 'string' && encoded !== '' ? encoded : encodeGatewayContext(context),
    [REQUEST_ID_HEADER]: requestId,
  };
}
