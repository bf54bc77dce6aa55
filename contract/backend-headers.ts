/**
 * How an HTTP backend behind Gatehouse learns who is calling: the authorizer's context as request headers with one
 * fixed prefix. The gateway writes every one of these headers on every request it forwards to a backend (an empty
 * value where the caller has none, e.g. `X-Gatehouse-Email` for an API key), so a copy a client sent is always
 * overwritten; the local gateway also removes any other client header that starts with the prefix. A backend
 * trusts these headers only on requests that came through the gateway (README, "Put Gatehouse in front of your
 * API": the stage's client certificate).
 */

/** Every header the gateway adds to a backend request starts with this; clients may not send any such header. */
export const CONTEXT_HEADER_PREFIX = 'X-Gatehouse-';

/**
 * The authorizer's context keys a backend receives, each as its header. The authorizer sets every key on every
 * answer (lambdas/authorizer/answer.ts), '' where the caller has none, so that API Gateway's mapping
 * (`context.authorizer.<key>`) always has a value to write.
 */
export const CONTEXT_HEADERS = {
  kind: 'X-Gatehouse-Kind',
  principalId: 'X-Gatehouse-Principal-Id',
  tenantId: 'X-Gatehouse-Tenant-Id',
  scopes: 'X-Gatehouse-Scopes',
  tier: 'X-Gatehouse-Tier',
  issuer: 'X-Gatehouse-Issuer',
  subject: 'X-Gatehouse-Subject',
  roles: 'X-Gatehouse-Roles',
  email: 'X-Gatehouse-Email',
  sessionId: 'X-Gatehouse-Session-Id',
  keyId: 'X-Gatehouse-Key-Id',
  service: 'X-Gatehouse-Service',
  signer: 'X-Gatehouse-Signer',
  bodySha256: 'X-Gatehouse-Body-Sha256',
} as const;

export type ContextHeaderKey = keyof typeof CONTEXT_HEADERS;

/** API Gateway's request id, from `context.requestId` (the same id the client gets in `x-amzn-requestid`). */
export const REQUEST_ID_HEADER = 'X-Gatehouse-Request-Id';

/** Whether `name` (any case) is in the gateway's namespace: such a header from a client never reaches a backend. */
export function isContextHeader(name: string): boolean {
  return name.toLowerCase().startsWith(CONTEXT_HEADER_PREFIX.toLowerCase());
}

/**
 * The headers a backend receives for an authorizer context (`undefined` on a public route: every header empty) and
 * a request id: all of CONTEXT_HEADERS, and REQUEST_ID_HEADER.
 */
export function contextHeaders(context: Readonly<Record<string, unknown>> | undefined, requestId: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [key, header] of Object.entries(CONTEXT_HEADERS)) {
    const value = context?.[key];
    headers[header] = typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value);
  }
  headers[REQUEST_ID_HEADER] = requestId;
  return headers;
}
