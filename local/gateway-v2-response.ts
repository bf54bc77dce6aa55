import type { APIGatewayProxyResult } from 'aws-lambda';
import { type OutgoingHttpHeaders, STATUS_CODES, type ServerResponse } from 'node:http';
import type { CorsPolicy } from '../contract/cors';
import { withHttpApiCors } from './cors-v2';
import { type Refusal, type ResponseType } from './gateway-response';

/**
 * An HTTP API's own answers. HTTP APIs have no gateway responses to customize: the body is API Gateway's default,
 * `{"message":"..."}`, e.g. `{"message":"Unauthorized"}` for a missing identity source
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html, "Identity sources")
 * and `{"message":"Internal Server Error"}` for a failed Lambda integration
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-troubleshooting-lambda.html). The request
 * id is in the `apigw-requestid` header, not in the body.
 */

/** The header an HTTP API gives its request id in (REST APIs: x-amzn-RequestId). */
export const HTTP_API_REQUEST_ID_HEADER = 'apigw-requestid';

/** The status of each refusal the http-mode gateway answers with (5xx: the status the refusal carries). */
const STATUS: Partial<Record<ResponseType, number>> = {
  UNAUTHORIZED: 401,
  ACCESS_DENIED: 403,
  MISSING_AUTHENTICATION_TOKEN: 404,
  THROTTLED: 429,
  REQUEST_TOO_LARGE: 413,
};

/** The messages of the statuses the http-mode gateway answers with; any other status: its reason phrase. */
const MESSAGES: Readonly<Record<number, string>> = {
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  413: 'Request Entity Too Large',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** The status an HTTP API answers a refusal with. */
export function httpApiStatus(refusal: Refusal): number {
  return STATUS[refusal.refused] ?? refusal.status ?? 500;
}

/** The body of an HTTP API's own answer with `status`. */
export function httpApiErrorBody(status: number): string {
  return JSON.stringify({ message: MESSAGES[status] ?? STATUS_CODES[status] ?? 'Internal Server Error' });
}

/** Writes an answer with the request id header and, with a CORS policy, the API's CORS headers for `origin`. */
export function sendHttpApi(
  res: ServerResponse,
  requestId: string,
  status: number,
  headers: OutgoingHttpHeaders,
  body: string | Buffer,
  cors: { readonly policy: CorsPolicy | undefined; readonly origin: string | undefined },
): void {
  res.writeHead(status, withHttpApiCors({ [HTTP_API_REQUEST_ID_HEADER]: requestId, ...headers }, cors.policy, cors.origin));
  res.end(body);
}

/** Sends a refusal as an HTTP API answers it: its status and `{"message":"..."}`. */
export function sendHttpApiRefusal(res: ServerResponse, requestId: string, refusal: Refusal, cors: Parameters<typeof sendHttpApi>[5]): void {
  const status = httpApiStatus(refusal);
  // No Retry-After on a 429: that header is the REST stack's own gateway response; an HTTP API has none to set.
  sendHttpApi(res, requestId, status, { 'content-type': 'application/json' }, httpApiErrorBody(status), cors);
}

/** Sends a Lambda integration's payload 1.0 result: multi-value headers joined with commas, a base64 body decoded. */
export function sendHttpApiProxyResult(res: ServerResponse, requestId: string, out: APIGatewayProxyResult, cors: Parameters<typeof sendHttpApi>[5]): void {
  const headers: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(out.headers ?? {})) headers[k] = String(v);
  for (const [k, vs] of Object.entries(out.multiValueHeaders ?? {})) headers[k] = vs.map(String).join(', ');
  const payload = out.isBase64Encoded ? Buffer.from(out.body ?? '', 'base64') : (out.body ?? '');
  sendHttpApi(res, requestId, out.statusCode, headers, payload, cors);
}
