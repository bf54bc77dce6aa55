import { type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { contextHeaders, isContextHeader } from '../contract/backend-headers';
import type { BackendConfig } from '../contract/targets';
import { type Refusal, refuse } from './gateway-response';

/**
 * API Gateway's HTTP proxy integration (`http_proxy`) for a route whose target is an HTTP backend: the method, path,
 * query and body go to `localUrl ?? url` + the request's path, with the caller's context in X-Gatehouse-Context
 * (the authorizer's encoded context, or the "public" context on a public route) and X-Gatehouse-Request-Id
 * (contract/backend-headers.ts), and the backend's answer comes back as it is. Every client header that starts with
 * X-Gatehouse- is removed first (on an authorized route the authorizer refuses such a request, unless the result
 * cache answers for it): a backend trusts these headers, so only the gateway may write them.
 */

/** Headers of one connection, not of the message (RFC 9110 7.6.1): never forwarded either way. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** A request on a backend route, once authorized and its body read. */
export interface BackendRequest {
  readonly req: IncomingMessage;
  /** The request line's path and query, as sent (`/v1/orders?status=open`). */
  readonly pathAndQuery: string;
  readonly requestId: string;
  readonly body: Buffer;
  /** The authorizer's context (undefined on a public route: X-Gatehouse-Context says `{"kind":"public"}`). */
  readonly authorizer: Readonly<Record<string, unknown>> | undefined;
}

/**
 * Proxies the request to the backend and writes its answer to `res`; a refusal when the backend cannot answer: 504
 * past `timeoutMs`, 502 when it is unreachable or its answer breaks off (the reason goes to the gateway's log line).
 */
export async function proxyToBackend(
  name: string,
  backend: BackendConfig,
  r: BackendRequest,
  res: ServerResponse,
  /** The answer's headers as the gateway sends them (an HTTP API's request id header and CORS). @default - as they are */
  finish: (headers: OutgoingHttpHeaders) => OutgoingHttpHeaders = (h) => h,
): Promise<Refusal | undefined> {
  const target = new URL(`${backend.localUrl ?? backend.url}${r.pathAndQuery}`);
  const headers = forwardedHeaders(r.req, target, r.body.length);
  Object.assign(headers, contextHeaders(r.authorizer, r.requestId));
  const outcome = await send(target, r.req.method ?? 'GET', headers, r.body, backend.timeoutMs);
  if ('failure' in outcome) {
    return outcome.failure === 'timeout'
      ? refuse('DEFAULT_5XX', 504, `backend_timeout: ${name} did not answer within ${backend.timeoutMs} ms`)
      : refuse('DEFAULT_5XX', 502, `backend_unreachable: ${name} (${target.origin}): ${outcome.detail}`);
  }
  const out: OutgoingHttpHeaders = { 'x-amzn-requestid': r.requestId };
  for (const [k, v] of Object.entries(outcome.headers)) if (v !== undefined && !hopByHop(k, outcome.headers)) out[k] = v;
  out['content-length'] = String(outcome.body.length);
  res.writeHead(outcome.status, finish(out));
  res.end(outcome.body);
  return undefined;
}

/** Whether a header belongs to the connection: a hop-by-hop header, or one the Connection header names. */
function hopByHop(name: string, headers: IncomingHttpHeaders): boolean {
  const lower = name.toLowerCase();
  if (HOP_BY_HOP.has(lower)) return true;
  const listed = String(headers.connection ?? '').toLowerCase().split(',').map((s) => s.trim());
  return listed.includes(lower);
}

/** The client's headers as the backend gets them: no hop-by-hop headers, no X-Gatehouse-*, the backend's Host. */
function forwardedHeaders(req: IncomingMessage, target: URL, bodyLength: number): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = Object.create(null);
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || hopByHop(name, req.headers) || isContextHeader(name)) continue;
    if (name === 'host' || name === 'content-length') continue;
    headers[name] = value;
  }
  headers.host = target.host;
  if (bodyLength || !['GET', 'HEAD'].includes(req.method ?? 'GET')) headers['content-length'] = String(bodyLength);
  return headers;
}

type Outcome = { status: number; headers: IncomingHttpHeaders; body: Buffer } | { failure: 'timeout' | 'unreachable'; detail: string };

/** One request to the backend, its whole answer read, within `timeoutMs` overall (API Gateway's integration timeout). */
function send(target: URL, method: string, headers: Record<string, string | string[]>, body: Buffer, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const request = (target.protocol === 'https:' ? httpsRequest : httpRequest)(target, { method, headers, agent: false });
    const timer = setTimeout(() => {
      resolve({ failure: 'timeout', detail: `${timeoutMs} ms` });
      request.destroy();
    }, timeoutMs);
    const done = (o: Outcome) => {
      clearTimeout(timer);
      resolve(o);
    };
    request.on('error', (err: NodeJS.ErrnoException) => done({ failure: 'unreachable', detail: err.code ?? err.message }));
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (c: Buffer) => chunks.push(c));
      response.on('error', (err: NodeJS.ErrnoException) => done({ failure: 'unreachable', detail: err.code ?? err.message }));
      response.on('end', () => done({ status: response.statusCode ?? 502, headers: response.headers, body: Buffer.concat(chunks) }));
    });
    request.end(body);
  });
}
