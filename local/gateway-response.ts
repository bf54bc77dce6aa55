import type { APIGatewayProxyResult } from 'aws-lambda';
import type { ServerResponse } from 'node:http';
import { GATEWAY_RESPONSES, type GatewayResponseSpec } from '../lib/gateway-responses';

/** API Gateway answering in place of the integration: a gateway response type, and the status when its spec sets none. */
export interface Refusal {
  readonly refused: GatewayResponseSpec['type'];
  readonly status?: number;
}

/** A refusal with the gateway response of `type` (`status` for the DEFAULT_* types, which have none of their own). */
export function refuse(type: GatewayResponseSpec['type'], status?: number): Refusal {
  return status === undefined ? { refused: type } : { refused: type, status };
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
 * with `$context.requestId` and `$context.error.responseType` filled in. An unknown type is answered as DEFAULT_5XX.
 */
export function sendGatewayResponse(res: ServerResponse, requestId: string, refusal: Refusal): void {
  const type = refusal.refused;
  const spec = GATEWAY_RESPONSES.find((r) => r.type === type) ?? GATEWAY_RESPONSES.find((r) => r.type === 'DEFAULT_5XX')!;
  const body = JSON.stringify(spec.body).replaceAll('$context.requestId', requestId).replaceAll('$context.error.responseType', type);
  send(res, requestId, spec.statusCode ?? refusal.status ?? 500, { ...spec.headers }, body);
}

/** Sends a Lambda proxy result as API Gateway does: multi-value headers joined with commas, a base64 body decoded. */
export function sendProxyResult(res: ServerResponse, requestId: string, out: APIGatewayProxyResult): void {
  const responseHeaders: Record<string, string> = {};
  for (const [k, v] of Object.entries(out.headers ?? {})) responseHeaders[k] = String(v);
  for (const [k, vs] of Object.entries(out.multiValueHeaders ?? {})) responseHeaders[k] = vs.map(String).join(', ');
  const payload = out.isBase64Encoded ? Buffer.from(out.body ?? '', 'base64') : (out.body ?? '');
  send(res, requestId, out.statusCode, responseHeaders, payload);
}
