import type { OutgoingHttpHeaders } from 'node:http';
import { type CorsPolicy, corsResponseHeaders, preflightHeaders } from '../contract/cors';

/**
 * An HTTP API's own CORS (its `corsConfiguration`), as the local gateway emulates it in `http` mode: "API Gateway
 * automatically sends a response to preflight OPTIONS requests, even if there isn't an OPTIONS route configured",
 * "adds the configured CORS headers to the response from an integration", and "ignores CORS headers returned from
 * your backend integration". https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-cors.html
 *
 * The configuration is one for the whole API, not per path: its methods are the stack's (contract/openapi-http.ts
 * httpApiCors: every method of the route table and OPTIONS; `*` when a route takes ANY). The headers per origin
 * are the same decision the REST mode and the handlers use (contract/cors.ts): Allow-Origin only for an allowed
 * origin (`*` for any), Allow-Credentials with it, `Vary: Origin` when the answer depends on the origin.
 */

/**
 * The headers of the gateway's answer to a CORS preflight (OPTIONS with Origin and Access-Control-Request-Method),
 * whatever the path: 204 with the Access-Control headers for an allowed origin, none for another. Undefined when the
 * request is not a preflight or there is no policy: it is then routed as any other request.
 */
export function httpApiPreflight(
  cors: CorsPolicy | undefined,
  methods: readonly string[],
  method: string,
  headers: Readonly<Record<string, string | string[] | undefined>>,
): Record<string, string> | undefined {
  if (!cors || method !== 'OPTIONS') return undefined;
  const origin = headers.origin;
  if (typeof origin !== 'string' || headers['access-control-request-method'] === undefined) return undefined;
  return preflightHeaders(cors, origin, methods);
}

/**
 * An answer's headers with the API's CORS headers for `origin` in place of any Access-Control-* header its
 * integration (handler or backend) or the gateway set, and `Origin` added to its Vary (once).
 */
export function withHttpApiCors(headers: OutgoingHttpHeaders, cors: CorsPolicy | undefined, origin: string | undefined): OutgoingHttpHeaders {
  if (!cors) return headers;
  const { Vary: vary, ...added } = corsResponseHeaders(cors, origin);
  const out: OutgoingHttpHeaders = {};
  let have: string[] = [];
  for (const [k, v] of Object.entries(headers)) {
    if (/^access-control-/i.test(k) || v === undefined) continue;
    if (k.toLowerCase() === 'vary') have = String(v).split(',').map((s) => s.trim()).filter(Boolean);
    else out[k] = v;
  }
  Object.assign(out, added);
  if (vary && !have.some((v) => v.toLowerCase() === 'origin')) have.push(vary);
  if (have.length) out.Vary = have.join(', ');
  return out;
}
