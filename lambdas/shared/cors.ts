import middy, { type MiddlewareObj, type MiddyfiedHandler } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import path from 'node:path';
import { CORS_FILE, type CorsPolicy, corsPolicyFromJson, corsResponseHeaders } from '../../contract/cors';
import { readBundledFile } from './bundled-file';
import type { ProxyRequest } from './http-errors';

/**
 * The handlers' CORS headers (contract/cors.ts): API Gateway's Lambda proxy integration passes a function's answer
 * through as it is, adding no header, so every answer a handler gives a browser on another origin must carry them
 * itself, refusals and 500s included, or the page sees a network error instead of the status.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-cors.html
 *
 * Why not @middy/http-cors (tried, and removed from the dependencies): for a request from an origin that is not
 * allowed it still sends Access-Control-Allow-Credentials and Access-Control-Expose-Headers; with one allowed origin
 * it leaves out `Vary: Origin` whenever the origin does not match (so a cache may hand the header-less answer to the
 * allowed origin); and it matches origins without case, where the deployed preflight (VTL) and the local gateway
 * match exactly. One function, corsResponseHeaders, decides for the handlers and both gateways instead.
 */
export function corsHeaders(policy: CorsPolicy): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  const addHeaders = (request: ProxyRequest): void => {
    if (!request.response) return;
    request.response = withCorsHeaders(request.response, policy, originOf(request.event));
  };
  return { after: addHeaders, onError: addHeaders };
}

/** A Lambda handler for API Gateway REST proxy events (a plain function or a middy handler). */
type ProxyFunction = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/**
 * `handler` with the CORS headers on every answer it gives. The headers are added by a middy chain around the
 * handler's own, not inside it: a `before` middleware that answers early (the rate limiter's 429) skips the inner
 * chain's `after` middlewares, never this one's.
 */
export function withCors(handler: ProxyFunction, policy: CorsPolicy): MiddyfiedHandler<APIGatewayProxyEvent, APIGatewayProxyResult> {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>((event: APIGatewayProxyEvent, context: Context) => handler(event, context)).use(corsHeaders(policy));
}

/**
 * A proxy result with the headers for `origin`: any Access-Control-* header the route set itself dropped (the
 * policy alone decides, so an origin not allowed gets none), the policy's set, `Vary: Origin` added to any Vary.
 */
export function withCorsHeaders(out: APIGatewayProxyResult, policy: CorsPolicy, origin: string | undefined): APIGatewayProxyResult {
  const { Vary: vary, ...cors } = corsResponseHeaders(policy, origin);
  const own = Object.entries(out.headers ?? {}).filter(([k]) => !/^access-control-/i.test(k));
  const headers: Record<string, boolean | number | string> = { ...Object.fromEntries(own), ...cors };
  if (vary) {
    const key = Object.keys(headers).find((k) => k.toLowerCase() === 'vary');
    const have = key === undefined ? [] : String(headers[key]).split(',').map((v) => v.trim()).filter(Boolean);
    if (key !== undefined) delete headers[key];
    headers.Vary = have.some((v) => v.toLowerCase() === 'origin') ? have.join(', ') : [...have, vary].join(', ');
  }
  return { ...out, headers };
}

/** The request's Origin header, whatever its case (HTTP/2 clients send it in lower case). */
function originOf(event: APIGatewayProxyEvent | undefined): string | undefined {
  const headers = event?.headers ?? {};
  const key = Object.keys(headers).find((k) => k.toLowerCase() === 'origin');
  return key === undefined ? undefined : (headers[key] ?? undefined);
}

let bundled: { policy: CorsPolicy | undefined } | undefined;

/**
 * The policy the stack bundled next to this code (lib/handler-functions.ts writes CORS_FILE when the configuration
 * has a `cors` section), read once per execution environment; undefined when there is none (no CORS). As with the
 * rate-limit tiers, `__dirname` is the bundle's directory in the CommonJS Lambda bundle; an ESM bundle has none.
 */
export function bundledCorsPolicy(): CorsPolicy | undefined {
  if (bundled) return bundled.policy;
  const raw = typeof __dirname === 'undefined' ? undefined : readBundledFile(path.join(__dirname, CORS_FILE));
  bundled = { policy: raw === undefined ? undefined : corsPolicyFromJson(raw, CORS_FILE) };
  return bundled.policy;
}
