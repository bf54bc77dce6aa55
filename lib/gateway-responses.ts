import type { CorsPolicy } from '../contract/cors';

/**
 * The API's error answers, as data: the stack turns them into API Gateway gateway responses, and the local gateway
 * answers with the same status, headers and body. `$context.requestId` and `$context.error.responseType` are
 * API Gateway's template variables; the local gateway fills them in the same way.
 */
export interface GatewayResponseSpec {
  /** API Gateway's response type. */
  readonly type: 'UNAUTHORIZED' | 'ACCESS_DENIED' | 'INVALID_API_KEY' | 'THROTTLED' | 'QUOTA_EXCEEDED' | 'MISSING_AUTHENTICATION_TOKEN' | 'DEFAULT_4XX' | 'DEFAULT_5XX';
  /** Construct id in the stack (a contract: changing it replaces the resource). */
  readonly id: string;
  /** Omitted for the DEFAULT_* types, which keep the status of the error they stand for. */
  readonly statusCode?: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Readonly<Record<string, string>>;
}

const JSON_TYPE = { 'Content-Type': 'application/json' };

export const GATEWAY_RESPONSES: readonly GatewayResponseSpec[] = [
  {
    type: 'UNAUTHORIZED',
    id: 'Unauthorized',
    statusCode: 401,
    headers: { ...JSON_TYPE, 'WWW-Authenticate': 'Bearer realm="gatehouse"' },
    body: { error: 'unauthorized', message: 'A valid credential is required.', requestId: '$context.requestId' },
  },
  {
    type: 'ACCESS_DENIED',
    id: 'AccessDenied',
    statusCode: 403,
    headers: JSON_TYPE,
    body: { error: 'forbidden', message: 'This credential may not perform this request.', requestId: '$context.requestId' },
  },
  {
    // A method that requires a usage-plan key, and the tenant's key is in no usage plan of the stage.
    type: 'INVALID_API_KEY',
    id: 'NoUsagePlan',
    statusCode: 403,
    headers: JSON_TYPE,
    body: { error: 'forbidden', message: "The tenant has no usage plan on this API.", requestId: '$context.requestId' },
  },
  {
    type: 'THROTTLED',
    id: 'Throttled',
    statusCode: 429,
    // API Gateway throttles per second: one second is an honest wait.
    headers: { ...JSON_TYPE, 'Retry-After': '1' },
    body: { error: 'too_many_requests', message: 'Rate limit exceeded; retry after the Retry-After delay.', requestId: '$context.requestId' },
  },
  {
    type: 'QUOTA_EXCEEDED',
    id: 'QuotaExceeded',
    statusCode: 429,
    headers: JSON_TYPE,
    body: { error: 'quota_exceeded', message: 'The usage quota for this period is used up.', requestId: '$context.requestId' },
  },
  {
    // What API Gateway answers for a route (path or method) that does not exist.
    type: 'MISSING_AUTHENTICATION_TOKEN',
    id: 'NotFound',
    statusCode: 404,
    headers: JSON_TYPE,
    body: { error: 'not_found', message: 'No such route.', requestId: '$context.requestId' },
  },
  { type: 'DEFAULT_4XX', id: 'Default4xx', headers: JSON_TYPE, body: { error: '$context.error.responseType', requestId: '$context.requestId' } },
  {
    type: 'DEFAULT_5XX',
    id: 'Default5xx',
    headers: JSON_TYPE,
    body: { error: 'internal_error', message: 'Something went wrong on our side.', requestId: '$context.requestId' },
  },
];

/**
 * The CORS headers of the gateway's own answers (these responses), the same whatever the request's Origin: a
 * gateway response's parameters are literal strings or request values mapped as they are, and its template is not
 * run through VTL, so it cannot choose among origins the way the preflight's mock integration does.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-gateway-responses.responseParameters.html
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-gateway-responses.responseTemplates.html
 *
 * Any origin (`*`) or one origin: that value. Several origins: the FIRST one listed, not the request's Origin echoed
 * back (`method.request.header.Origin`). Echoing would let every origin read these answers, with credentials when
 * the policy allows them: any page a signed-in user visits could then tell a 401 from a 403 from a 429 on the
 * user's cookie, and a reflected origin with Allow-Credentials is exactly what CORS scanners rightly report. The
 * cost: a page on another listed origin sees the gateway's own refusals as network errors (the handlers' answers,
 * 4xx included, still carry its origin: lambdas/shared/cors.ts). List the origin whose pages must read them first.
 * No `Vary: Origin`: the answer does not depend on the Origin.
 */
export function gatewayCorsHeaders(cors: CorsPolicy | undefined): Record<string, string> {
  if (!cors) return {};
  return {
    'Access-Control-Allow-Origin': cors.origins === '*' ? '*' : cors.origins[0]!,
    ...(cors.credentials ? { 'Access-Control-Allow-Credentials': 'true' } : {}),
    'Access-Control-Expose-Headers': cors.exposeHeaders.join(', '),
  };
}

/** A gateway response's headers: its own and, with a CORS policy, {@link gatewayCorsHeaders}. */
export function gatewayResponseHeaders(spec: GatewayResponseSpec, cors?: CorsPolicy): Record<string, string> {
  return { ...spec.headers, ...gatewayCorsHeaders(cors) };
}

/**
 * The responses as API Gateway's OpenAPI extension `x-amazon-apigateway-gateway-responses`: part of the API's
 * definition, so they are deployed with it (and an import that replaces the definition keeps them).
 */
export function gatewayResponsesExtension(cors?: CorsPolicy): Record<string, unknown> {
  return Object.fromEntries(
    GATEWAY_RESPONSES.map((r) => [
      r.type,
      {
        ...(r.statusCode ? { statusCode: String(r.statusCode) } : {}),
        responseParameters: Object.fromEntries(Object.entries(gatewayResponseHeaders(r, cors)).map(([k, v]) => [`gatewayresponse.header.${k}`, `'${v}'`])),
        responseTemplates: { 'application/json': JSON.stringify(r.body) },
      },
    ]),
  );
}
