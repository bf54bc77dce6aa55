import type { Context } from 'aws-lambda';
import type { IncomingMessage } from 'node:http';
import type { RouteMatch } from './route-match';

/** A Lambda handler as API Gateway invokes it. */
export type LambdaHandler<E, R> = (event: E, context: Context) => Promise<R>;

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const MAX_BODY_BYTES = 10 * 1024 * 1024; // API Gateway's payload limit

/** The method and path of a request, as the local gateway routes it. */
export interface RequestLine {
  readonly url: URL;
  readonly method: string;
  readonly path: string;
}

/** What API Gateway puts in both the authorizer's REQUEST event and the handler's proxy event. */
export interface RequestFields {
  readonly resource: string;
  readonly path: string;
  readonly httpMethod: string;
  readonly headers: Record<string, string>;
  readonly multiValueHeaders: Record<string, string[]>;
  readonly queryStringParameters: Record<string, string> | null;
  readonly multiValueQueryStringParameters: Record<string, string[]> | null;
  readonly pathParameters: Record<string, string> | null;
  readonly stageVariables: null;
}

/** A request whose route is matched, as API Gateway hands it to the authorizer and then to the integration. */
export interface GatewayRequest {
  readonly requestId: string;
  /** The ARN the authorizer's policy is evaluated against. */
  readonly methodArn: string;
  readonly fields: RequestFields;
  /** `requestContext` of both events (the handler's gets the authorizer's context added). */
  readonly requestContext: Readonly<Record<string, unknown>>;
}

/** Where a request arrived: the REST API, its stage, API Gateway's request id and the time it came in. */
export interface RequestArrival {
  readonly apiId: string;
  readonly stage: string;
  readonly requestId: string;
  readonly requestTimeEpoch: number;
}

/** The method (upper case) and path of a request. */
export function requestLine(req: IncomingMessage): RequestLine {
  const url = new URL(req.url ?? '/', 'http://local');
  return { url, method: (req.method ?? 'GET').toUpperCase(), path: url.pathname };
}

/** The events' shared fields, request context and method ARN for a request on a matched route. */
export function parseRequest(req: IncomingMessage, line: RequestLine, match: RouteMatch, at: RequestArrival): GatewayRequest {
  const { method, path } = line;
  const { headers, multiValueHeaders } = headerMaps(req);
  const { query, multiQuery } = queryMaps(line.url);
  const fields: RequestFields = {
    resource: match.route.path,
    path,
    httpMethod: method,
    headers,
    multiValueHeaders,
    queryStringParameters: query,
    multiValueQueryStringParameters: multiQuery,
    pathParameters: match.pathParameters,
    stageVariables: null,
  };
  const requestContext = {
    accountId: ACCOUNT,
    apiId: at.apiId,
    stage: at.stage,
    requestId: at.requestId,
    httpMethod: method,
    // The path of the request line, as API Gateway reports it (with the stage on the default endpoint; the local
    // gateway's URLs have none, like a custom domain). Signed requests sign it.
    path,
    resourcePath: match.route.path,
    resourceId: match.route.path,
    protocol: 'HTTP/1.1',
    requestTimeEpoch: at.requestTimeEpoch,
    identity: { sourceIp: req.socket.remoteAddress ?? '127.0.0.1', userAgent: headers['User-Agent'] ?? null },
  };
  const methodArn = `arn:aws:execute-api:${REGION}:${ACCOUNT}:${at.apiId}/${at.stage}/${method}${path}`;
  return { requestId: at.requestId, methodArn, fields, requestContext };
}

/**
 * The values of each name, in a Map rather than an object literal: a client picks the names, and one named
 * `constructor`, `toString` or `__proto__` must be a name like any other, not a member of Object.prototype.
 */
function collect(pairs: Iterable<readonly [string, string]>): Map<string, string[]> {
  const all = new Map<string, string[]>();
  for (const [name, value] of pairs) {
    const values = all.get(name);
    if (values) values.push(value);
    else all.set(name, [value]);
  }
  return all;
}

/**
 * The maps as the events hold them: plain objects whose every name is an own property (Object.fromEntries defines
 * `__proto__` as one), like the JSON a deployed function parses. The single-value map keeps the last value.
 */
function eventMaps(all: Map<string, string[]>) {
  return { single: Object.fromEntries([...all].map(([k, vs]) => [k, vs.at(-1)!])), multi: Object.fromEntries(all) };
}

function headerMaps(req: IncomingMessage) {
  // rawHeaders keeps the client's spelling, as API Gateway does; repeated headers keep every value.
  const pairs: [string, string][] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) pairs.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
  const { single, multi } = eventMaps(collect(pairs));
  return { headers: single, multiValueHeaders: multi };
}

/** A header's value by its name in any case (headers keep the client's spelling). */
export function headerValue(headers: Record<string, string>, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

function queryMaps(url: URL) {
  const all = collect(url.searchParams);
  if (!all.size) return { query: null, multiQuery: null };
  const { single, multi } = eventMaps(all);
  return { query: single, multiQuery: multi };
}

/** Whether the request declares (Content-Length) a body over API Gateway's payload limit: refused unread. */
export function declaresTooLarge(req: IncomingMessage): boolean {
  const length = Number(req.headers['content-length'] ?? 0);
  return Number.isFinite(length) && length > MAX_BODY_BYTES;
}

/** The request body; undefined when it is over API Gateway's payload limit (a chunked body, with no length). */
export async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The Lambda context a function named `name` gets for a request (29 seconds left, as API Gateway's timeout). */
export function lambdaContext(name: string, requestId: string): Context {
  const deadline = Date.now() + 29_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `gatehouse-local-${name}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:gatehouse-local-${name}`,
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/gatehouse-local-${name}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
