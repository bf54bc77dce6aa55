import type { APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { AuthError } from './errors';
import type { AuthorizerRequest } from './request';

/**
 * HTTP API REQUEST authorizer events, payload format 2.0, as the decision pipeline's request (./request.ts).
 *
 * The event (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html):
 * `{ version: '2.0', type: 'REQUEST', routeArn, identitySource, routeKey: 'GET /v1/items/{id}', rawPath,
 * rawQueryString, cookies, headers, queryStringParameters, requestContext: { http: { method, path, ... }, requestId,
 * stage, ... }, pathParameters, stageVariables }`. What differs from REST, and how it is mapped:
 * - `routeArn` is REST's `methodArn` (the request's own method and path under the stage, `$default` included), so
 *   the policy is built and evaluated the same way.
 * - The route template is the path of `routeKey` (`GET /v1/items/{id}` -> `/v1/items/{id}`), REST's `resource`.
 * - Headers come in one map, duplicate values joined with commas, and no multi-value map. A joined credential
 *   header (`Bearer a,Bearer b`) is no valid credential, a joined tenant or service name names none: such requests
 *   are refused by the checks as they stand, never read as one of the values.
 * - The Cookie header is moved to `cookies` ("All cookie headers in the request are combined with commas and added
 *   to the `cookies` field", https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html;
 *   the authorizer's event has the same field). It is put back as one `cookie` header (`a=1; b=2`), so cookie
 *   routes and the CSRF check read it as on REST, including the refusal of a cookie that appears twice. Should an
 *   entry ever hold two cookies joined by a comma, the first one's value reads as `v, b=2`: no JWT and no CSRF token
 *   has that shape (RFC 6265 cookie values exclude commas), so it is refused, never taken for another credential.
 * - The query is `rawQueryString`, decoded into every value of every key (as REST's multiValueQueryStringParameters
 *   and the local gateway do, with URLSearchParams), not the comma-joined `queryStringParameters`: a signed
 *   request's canonical query must see `a=1&a=2` as two values, not as one `1,2`.
 * - The request line's path (signed requests) is `rawPath`: on a named stage it starts with the stage, as REST's
 *   `requestContext.path` does on the default endpoint; on `$default` it has none. Either way it is the path the
 *   client sent, which is what it signed (contract/signing.ts).
 *
 * Strict about shape: an event that is not one of these (no routeArn, headers that are not a map of strings, ...)
 * is INTERNAL_ERROR, a 500, never a decision. API Gateway always sends them.
 */
export type HttpApiAuthorizerEvent = APIGatewayRequestAuthorizerEventV2;

/** The version field of payload format 2.0 events. REST events have none; HTTP API format 1.0 events say '1.0'. */
export const PAYLOAD_V2 = '2.0';

/** Whether an event is an HTTP API REQUEST authorizer event of payload format 2.0 (by its `version`, as documented). */
export function isPayloadV2(event: unknown): event is HttpApiAuthorizerEvent {
  return typeof event === 'object' && event !== null && (event as { version?: unknown }).version === PAYLOAD_V2;
}

/** A route key: a method (`ANY` matches every method) and a path template, or the catch-all `$default`. */
const ROUTE_KEY = /^([A-Z]+) (\/\S*)$/;
const DEFAULT_ROUTE = '$default';

/**
 * The pipeline's request for a payload 2.0 event. Throws AuthError('INTERNAL_ERROR') naming the field (never its
 * value) for an event of any other shape.
 */
export function fromPayloadV2(event: HttpApiAuthorizerEvent): AuthorizerRequest {
  const e = event as unknown as Record<string, unknown>;
  if (e.type !== 'REQUEST') malformed('type');
  const methodArn = str(e.routeArn, 'routeArn');
  const routeKey = str(e.routeKey, 'routeKey');
  const rawPath = str(e.rawPath, 'rawPath');
  if (!rawPath.startsWith('/')) malformed('rawPath');
  const rawQuery = e.rawQueryString ?? '';
  if (typeof rawQuery !== 'string') malformed('rawQueryString');
  const ctx = e.requestContext;
  if (!isRecord(ctx) || !isRecord(ctx.http)) malformed('requestContext.http');
  const httpMethod = str(ctx.http.method, 'requestContext.http.method');
  const requestId = ctx.requestId === undefined ? undefined : str(ctx.requestId, 'requestContext.requestId');
  // `$default` (the catch-all route) has no template: it matches no configured route, as a REST resource outside
  // the table would not.
  const key = ROUTE_KEY.exec(routeKey);
  if (key ? key[1] !== 'ANY' && key[1] !== httpMethod : routeKey !== DEFAULT_ROUTE) malformed('routeKey');
  return {
    methodArn,
    httpMethod,
    resource: key ? key[2]! : routeKey,
    headers: headersOf(e.headers, e.cookies),
    multiValueHeaders: null,
    queryStringParameters: null,
    multiValueQueryStringParameters: queryOf(rawQuery),
    requestContext: { requestId, path: rawPath },
  };
}

/** The header map with the cookies put back as one `cookie` header. Values must be strings. */
function headersOf(headers: unknown, cookies: unknown): Record<string, string> {
  if (!isRecord(headers)) malformed('headers');
  // No prototype: a header named `__proto__` is copied as an own key like any other, never dropped.
  const out = Object.create(null) as Record<string, string>;
  for (const k of Object.keys(headers)) {
    const v = headers[k];
    if (typeof v !== 'string') malformed('headers');
    out[k] = v;
  }
  if (cookies === undefined || cookies === null) return out;
  if (!Array.isArray(cookies) || !cookies.every((c) => typeof c === 'string')) malformed('cookies');
  // `cookies` is the Cookie header as API Gateway split it; a `cookie` left in the map as well would be read twice.
  for (const k of Object.keys(out)) if (k.toLowerCase() === 'cookie') delete out[k];
  if (cookies.length) out.cookie = cookies.join('; ');
  return out;
}

/** Every value of every key of the raw query, decoded (`+` is a space, as URLSearchParams and the local gateway read it). */
function queryOf(raw: string): Record<string, string[]> | null {
  if (raw === '') return null;
  const out: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  for (const [k, v] of new URLSearchParams(raw)) (out[k] ??= []).push(v);
  return out;
}

function str(v: unknown, field: string): string {
  if (typeof v !== 'string' || v === '') malformed(field);
  return v;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function malformed(field: string): never {
  throw new AuthError('INTERNAL_ERROR', { cause: `payload-2.0.${field}` });
}
