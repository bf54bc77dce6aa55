import type { APIGatewayProxyResult } from 'aws-lambda';
import type { ServerResponse } from 'node:http';
import type { CorsPolicy } from '../contract/cors';
import { GATEWAY_RESPONSES, type GatewayResponseSpec, gatewayResponseHeaders } from '../lib/gateway-responses';

/**
 * API Gateway's response types the local gateway answers with: the ones the stack customizes, and the ones it
 * leaves to DEFAULT_4XX/DEFAULT_5XX (whose body still names the type, through `$context.error.responseType`).
 */
export type ResponseType = GatewayResponseSpec['type'] | 'REQUEST_TOO_LARGE';

/**
 * API Gateway answering in place of the integration: a gateway response type, the status when its spec sets none,
 * and for a 5xx the reason the gateway logs (the caller sees only the generic body and the request id).
 */
export interface Refusal {
  readonly refused: ResponseType;
  readonly status?: number;
  readonly reason?: string;
}

/**
 * A refusal with the gateway response of `type` (`status` for the types the stack has no response of its own for,
 * `reason` for the log line of a 5xx).
 */
export function refuse(type: ResponseType, status?: number, reason?: string): Refusal {
  return { refused: type, ...(status === undefined ? {} : { status }), ...(reason === undefined ? {} : { reason }) };
}

/** The status a refusal is answered with: its gateway response's own, else the one it carries, else 500. */
export function refusalStatus(refusal: Refusal): number {
  return specOf(refusal.refused)?.statusCode ?? refusal.status ?? 500;
}

function specOf(type: ResponseType): GatewayResponseSpec | undefined {
  return GATEWAY_RESPONSES.find((r) => r.type === type);
}

/** Whether a step's outcome is a refusal rather than its result. */
export function isRefusal<T extends object>(outcome: T | Refusal): outcome is Refusal {
  return 'refused' in outcome;
}

/** Writes a response with API Gateway's request id header. */
export function send(res: ServerResponse, requestId: string, status: number, headers: Record<string, string>, body: string | Buffer): void {
  res.writeHead(status, { 'x-amzn-requestid': requestId, ...headers });
  res.end(body);
}

/**
 * Sends a gateway response as the stack defines it (lib/gateway-responses.ts): its status, headers and JSON body,
 * with `$context.requestId` and `$context.error.responseType` filled in. A type the stack has no response for is
 * answered, as on API Gateway, by DEFAULT_4XX or DEFAULT_5XX according to its status. With a CORS policy, the CORS
 * headers the stack gives its gateway responses (the same whatever the request's Origin).
 */
export function sendGatewayResponse(res: ServerResponse, requestId: string, refusal: Refusal, cors?: CorsPolicy): void {
  const type = refusal.refused;
  const status = refusalStatus(refusal);
  const spec = specOf(type) ?? specOf(status >= 500 ? 'DEFAULT_5XX' : 'DEFAULT_4XX')!;
  const body = JSON.stringify(spec.body).replaceAll('$context.requestId', requestId).replaceAll('$context.error.responseType', type);
  send(res, requestId, status, gatewayResponseHeaders(spec, cors), body);
}

/** Sends a Lambda proxy result as API Gateway does: multi-value headers joined with commas, a base64 body decoded. */
export function sendProxyResult(res: ServerResponse, requestId: string, out: APIGatewayProxyResult): void {
  const responseHeaders: Record<string, string> = {};
  for (const [k, v] of Object.entries(out.headers ?? {})) responseHeaders[k] = String(v);
  for (const [k, vs] of Object.entries(out.multiValueHeaders ?? {})) responseHeaders[k] = vs.map(String).join(', ');
  const payload = out.isBase64Encoded ? Buffer.from(out.body ?? '', 'base64') : (out.body ?? '');
  send(res, requestId, out.statusCode, responseHeaders, payload);
}
