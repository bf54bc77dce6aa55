import type { APIGatewayProxyEvent, APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import type { IncomingMessage } from 'node:http';
import type { RequestArrival, RequestLine } from './gateway-request';
import type { RouteMatch } from './route-match';

/**
 * The events of an HTTP API (API Gateway v2) for a request on a matched route, as the stack configures it: the
 * Lambda authorizer's event in payload format 2.0, and the Lambda integrations' event in payload format 1.0 (so the
 * handlers get REST-like proxy events), with the authorizer's context under `requestContext.authorizer.lambda`.
 * Shapes: https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html and
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
 */

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';

/** A request on a matched route of the HTTP API, with what both of its events are built from. */
export interface HttpApiRequest {
  readonly requestId: string;
  /** The ARN the authorizer's policy is evaluated against: REST's method ARN (the request's own method and path). */
  readonly routeArn: string;
  /** `GET /v1/customers/{id}`: the route's method and path template. */
  readonly routeKey: string;
  readonly method: string;
  readonly rawPath: string;
  readonly rawQueryString: string;
  /** Header names in lower case, repeated headers' values joined with commas, Cookie left out (it is in `cookies`). */
  readonly headers: Readonly<Record<string, string>>;
  readonly cookies: readonly string[];
  readonly query: ReadonlyMap<string, string[]>;
  readonly pathParameters: Readonly<Record<string, string>> | null;
  /** Every header, names in lower case, each value apart (the 1.0 event's multiValueHeaders; Cookie included). */
  readonly multiValueHeaders: ReadonlyMap<string, string[]>;
  readonly route: RouteMatch['route'];
  readonly stage: string;
  readonly apiId: string;
  readonly sourceIp: string;
  readonly timeEpoch: number;
}

/** The request's fields, once its route is matched. */
export function parseHttpApiRequest(req: IncomingMessage, line: RequestLine, match: RouteMatch, at: RequestArrival): HttpApiRequest {
  const multiValueHeaders = new Map<string, string[]>();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    // Header names are case-insensitive; the HTTP API hands them on in lower case.
    const name = req.rawHeaders[i]!.toLowerCase();
    const values = multiValueHeaders.get(name);
    if (values) values.push(req.rawHeaders[i + 1]!);
    else multiValueHeaders.set(name, [req.rawHeaders[i + 1]!]);
  }
  const headers = Object.fromEntries([...multiValueHeaders].filter(([k]) => k !== 'cookie').map(([k, vs]) => [k, vs.join(',')]));
  const cookies = (multiValueHeaders.get('cookie') ?? []).flatMap((v) => v.split(';')).map((c) => c.trim()).filter(Boolean);
  const query = new Map<string, string[]>();
  for (const [k, v] of line.url.searchParams) {
    const values = query.get(k);
    if (values) values.push(v);
    else query.set(k, [v]);
  }
  return {
    requestId: at.requestId,
    routeArn: `arn:aws:execute-api:${REGION}:${ACCOUNT}:${at.apiId}/${at.stage}/${line.method}${line.path}`,
    routeKey: `${match.route.method} ${match.route.path}`,
    method: line.method,
    rawPath: line.path,
    rawQueryString: line.url.search.replace(/^\?/, ''),
    headers,
    cookies,
    query,
    pathParameters: match.pathParameters,
    multiValueHeaders,
    route: match.route,
    stage: at.stage,
    apiId: at.apiId,
    sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
    timeEpoch: at.requestTimeEpoch,
  };
}

/** A header's value (comma-joined when repeated) by its name in any case. */
export function httpApiHeader(request: HttpApiRequest, name: string): string | undefined {
  const lower = name.toLowerCase();
  return Object.hasOwn(request.headers, lower) ? request.headers[lower] : undefined;
}

/**
 * The Lambda authorizer's event, payload format 2.0, for an authorizer whose identity sources are `identityHeaders`
 * (their values in `identitySource`, in order). Optional fields are left out when empty (`cookies`,
 * `queryStringParameters`, `pathParameters`), as the documented example leaves out what a request has none of.
 */
export function authorizerEventV2(request: HttpApiRequest, identityHeaders: readonly string[]): APIGatewayRequestAuthorizerEventV2 {
  const query = Object.fromEntries([...request.query].map(([k, vs]) => [k, vs.join(',')]));
  return {
    version: '2.0',
    type: 'REQUEST',
    routeArn: request.routeArn,
    identitySource: identityHeaders.map((h) => httpApiHeader(request, h) ?? ''),
    routeKey: request.routeKey,
    rawPath: request.rawPath,
    rawQueryString: request.rawQueryString,
    ...(request.cookies.length ? { cookies: [...request.cookies] } : {}),
    headers: { ...request.headers },
    ...(request.query.size ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: ACCOUNT,
      apiId: request.apiId,
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: { method: request.method, path: request.rawPath, protocol: 'HTTP/1.1', sourceIp: request.sourceIp, userAgent: request.headers['user-agent'] ?? '' },
      requestId: request.requestId,
      routeKey: request.routeKey,
      stage: request.stage,
      time: clfTime(request.timeEpoch),
      timeEpoch: request.timeEpoch,
    },
    ...(request.pathParameters ? { pathParameters: { ...request.pathParameters } } : {}),
  } as APIGatewayRequestAuthorizerEventV2;
}

/**
 * The Lambda integration's event, payload format 1.0 as an HTTP API sends it: REST's proxy event fields (header
 * names in lower case), `version: '1.0'`, and the authorizer's context under `requestContext.authorizer.lambda`
 * (no authorizer object on a public route).
 */
export function handlerEventV1(request: HttpApiRequest, body: Buffer, context: Readonly<Record<string, unknown>> | undefined): APIGatewayProxyEvent {
  const multiQuery = Object.fromEntries(request.query);
  const hasQuery = request.query.size > 0;
  return {
    version: '1.0',
    resource: request.route.path,
    path: request.rawPath,
    httpMethod: request.method,
    // The single-value maps keep the last value, as REST's do.
    headers: Object.fromEntries([...request.multiValueHeaders].map(([k, vs]) => [k, vs.at(-1)!])),
    multiValueHeaders: Object.fromEntries(request.multiValueHeaders),
    queryStringParameters: hasQuery ? Object.fromEntries([...request.query].map(([k, vs]) => [k, vs.at(-1)!])) : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    pathParameters: request.pathParameters,
    stageVariables: null,
    body: body.length ? body.toString('utf8') : null,
    isBase64Encoded: false,
    requestContext: {
      accountId: ACCOUNT,
      apiId: request.apiId,
      ...(context ? { authorizer: { lambda: { ...context } } } : {}),
      domainName: 'localhost',
      domainPrefix: 'localhost',
      extendedRequestId: request.requestId,
      httpMethod: request.method,
      identity: { sourceIp: request.sourceIp, userAgent: request.headers['user-agent'] ?? null },
      path: request.rawPath,
      protocol: 'HTTP/1.1',
      requestId: request.requestId,
      requestTime: clfTime(request.timeEpoch),
      requestTimeEpoch: request.timeEpoch,
      resourceId: null,
      resourcePath: request.route.path,
      stage: request.stage,
    },
  } as unknown as APIGatewayProxyEvent;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** A time as the events' `time` and `requestTime` give it: `12/Mar/2020:19:03:58 +0000` (UTC). */
export function clfTime(epochMs: number): string {
  const d = new Date(epochMs);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
}
