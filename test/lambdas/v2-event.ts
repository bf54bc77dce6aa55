/**
 * API Gateway HTTP API REQUEST authorizer events, payload format 2.0, shaped as the developer guide documents them
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html, "Payload format
 * version", 2.0): `version`, `type`, `routeArn`, `identitySource`, `routeKey`, `rawPath`, `rawQueryString`,
 * `cookies`, `headers`, `queryStringParameters`, `requestContext` (with `http`), `pathParameters`, `stageVariables`.
 *
 * As HTTP APIs deliver them: header names lower-cased, repeated headers joined with commas
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html: "Format
 * 2.0 doesn't have multiValueHeaders or multiValueQueryStringParameters fields. Duplicate headers are combined with
 * commas and included in the headers field"), the Cookie headers moved to `cookies` ("All cookie headers in the
 * request are combined with commas and added to the cookies field"; the documented example has one entry per
 * cookie, as here), and the route ARN with the request's own method and path under the stage (as REST's methodArn).
 * Header names are lower-cased here, as HTTP APIs are commonly reported to deliver them (the documented example
 * writes `Header1`): the adapter reads names case-insensitively, so either shape decides alike.
 */
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { randomBytes } from 'node:crypto';
import type { HttpApiAuthorizerEvent } from '../../lambdas/authorizer/authorizer';

export const HTTP_API_ID = 'abcdef1234';
export const HTTP_API_ACCOUNT = '123456789012';
export const HTTP_API_REGION = 'us-east-1';

export interface V2EventSpec {
  readonly method?: string;
  /** The request's path under the stage, e.g. `/v1/customers/42`. @default `/v1/me` */
  readonly path?: string;
  /** The route template API Gateway matched (`/v1/customers/{id}`). @default - `path` */
  readonly route?: string;
  /** The method of the route key (`ANY` for an ANY route). @default - `method` */
  readonly routeMethod?: string;
  /** Headers as the client sent them: names in any case, a name may repeat. */
  readonly headers?: Record<string, string> | readonly (readonly [string, string])[];
  /** The raw query string, without `?`. @default '' */
  readonly rawQueryString?: string;
  /** The stage: `prod` (as the REST fixtures' API_ARN_PREFIX), or `$default` (no stage in the request's path). @default 'prod' */
  readonly stage?: string;
  /** The request line's path, as the client sent it. @default - `/<stage><path>`, or `path` on `$default` */
  readonly rawPath?: string;
}

/** The route ARN prefix (`arn:...:apiId/stage`) of a stage of the test HTTP API. */
export const httpApiArnPrefix = (stage = 'prod') => `arn:aws:execute-api:${HTTP_API_REGION}:${HTTP_API_ACCOUNT}:${HTTP_API_ID}/${stage}`;

/** An HTTP API REQUEST authorizer event of payload format 2.0 for `spec`, as API Gateway sends it. */
export function v2Event(spec: V2EventSpec = {}): HttpApiAuthorizerEvent {
  const method = spec.method ?? 'GET';
  const path = spec.path ?? '/v1/me';
  const route = spec.route ?? path;
  const stage = spec.stage ?? 'prod';
  const rawPath = spec.rawPath ?? (stage === '$default' ? path : `/${stage}${path}`);
  const rawQueryString = spec.rawQueryString ?? '';
  const { headers, cookies } = deliveredHeaders(spec.headers ?? {});
  const requestId = `req-${randomBytes(4).toString('hex')}`;
  const routeKey = `${spec.routeMethod ?? method} ${route}`;
  return {
    version: '2.0',
    type: 'REQUEST',
    routeArn: `${httpApiArnPrefix(stage)}/${method}${path}`,
    identitySource: headers.authorization !== undefined ? [headers.authorization] : [],
    routeKey,
    rawPath,
    rawQueryString,
    cookies,
    headers,
    queryStringParameters: queryParameters(rawQueryString),
    requestContext: {
      accountId: HTTP_API_ACCOUNT,
      apiId: HTTP_API_ID,
      domainName: `${HTTP_API_ID}.execute-api.${HTTP_API_REGION}.amazonaws.com`,
      domainPrefix: HTTP_API_ID,
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'gatehouse-tests' },
      requestId,
      routeKey,
      stage,
      time: '06/Dec/2026:22:00:00 +0000',
      timeEpoch: Date.now(),
    },
    pathParameters: pathParameters(route, path),
    stageVariables: {},
  };
}

/**
 * The v2 event of the same request as a REST authorizer event from test/support/fixture.ts (`authorizerEvent`,
 * `withRequestLine`): its headers (both maps' values, in order), method, path under the stage, route template and
 * query. For tests that run the same request through both payload formats.
 */
export function v2EventLike(e: APIGatewayRequestAuthorizerEvent, stage = 'prod'): HttpApiAuthorizerEvent {
  const entries: [string, string][] = [];
  if (e.multiValueHeaders) for (const [k, vs] of Object.entries(e.multiValueHeaders)) for (const v of vs ?? []) entries.push([k, v]);
  else if (e.headers) for (const [k, v] of Object.entries(e.headers)) if (v !== undefined) entries.push([k, v]);
  const query = e.multiValueQueryStringParameters ?? {};
  const rawQueryString = Object.entries(query)
    .flatMap(([k, vs]) => (vs ?? []).map((v) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`))
    .join('&');
  const requestPath = (e.requestContext as { path?: string } | null)?.path;
  return v2Event({ method: e.httpMethod, path: e.path, route: e.resource, headers: entries, rawQueryString, stage, ...(requestPath ? { rawPath: requestPath } : {}) });
}

/** Header names lower-cased, repeats joined with commas; Cookie headers taken out into `cookies`, one per cookie. */
function deliveredHeaders(input: V2EventSpec['headers']): { headers: Record<string, string>; cookies: string[] } {
  const entries = Array.isArray(input) ? (input as readonly (readonly [string, string])[]) : Object.entries(input as Record<string, string>);
  // A Map, then own properties: a header named `__proto__` is a header like any other.
  const headers = new Map<string, string>();
  const cookies: string[] = [];
  for (const [name, value] of entries) {
    const k = name.toLowerCase();
    if (k === 'cookie') {
      cookies.push(...value.split(';').map((c) => c.trim()).filter((c) => c !== ''));
      continue;
    }
    const before = headers.get(k);
    headers.set(k, before === undefined ? value : `${before},${value}`);
  }
  return { headers: Object.fromEntries(headers), cookies };
}

/** `queryStringParameters`: decoded, repeated keys' values joined with commas (as documented). */
function queryParameters(raw: string): Record<string, string> | undefined {
  if (!raw) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(raw)) out[k] = out[k] === undefined ? v : `${out[k]},${v}`;
  return out;
}

function pathParameters(route: string, path: string): Record<string, string> | undefined {
  const names = route.split('/');
  const values = path.split('/');
  const out: Record<string, string> = {};
  names.forEach((n, i) => {
    const m = /^\{([^}+]+)(\+?)\}$/.exec(n);
    if (m) out[m[1]!] = m[2] ? values.slice(i).join('/') : values[i]!;
  });
  return Object.keys(out).length ? out : undefined;
}
