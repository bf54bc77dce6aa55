import * as z from 'zod/mini';
import { int, headerName } from './config-fields';
import { ConfigError } from './config-error';
import { AUTHORIZATION_HEADER, CONTENT_SHA256_HEADER, SERVICE_NAME_HEADER } from './headers';

/**
 * Browsers on other origins (the stack configuration's `cors` section): which origins may read the API's answers,
 * with or without credentials (cookies), and which headers they may send and read. The gateway answers preflights
 * (OPTIONS) itself, without the authorizer; the handlers (lambdas/shared/http-handler.ts) and the gateway's own
 * answers (401, 403, 429, 5xx) carry the headers. Origins match exactly (scheme, host and port); credentials only
 * with a list of origins, never `*` (browsers refuse that combination anyway:
 * https://fetch.spec.whatwg.org/#cors-protocol-and-credentials).
 */

/** An origin as browsers send it: scheme://host[:port], no path, no trailing slash. */
const ORIGIN_PATTERN = /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/;

export const corsSchema = z.strictObject({
  /** Exact origins (`https://app.example.com`, `http://localhost:5173`), or `["*"]` for any origin without credentials. */
  allowOrigins: z
    .array(z.string().check(z.refine((o) => o === '*' || ORIGIN_PATTERN.test(o), 'an origin is scheme://host[:port] (no path, no trailing slash), or *')))
    .check(z.minLength(1)),
  /** Let browsers send cookies (`credentials: 'include'`) and read the answers. Needs exact origins. @default false */
  allowCredentials: z._default(z.boolean(), false),
  /** Request headers a page may send besides the ones Gatehouse reads (CORS_REQUEST_HEADERS, the CSRF and tenant headers). */
  allowHeaders: z._default(z.array(headerName), []),
  /** Response headers a page may read besides CORS_EXPOSED_HEADERS. */
  exposeHeaders: z._default(z.array(headerName), []),
  /** How long a browser may reuse a preflight's answer (Chromium caps it at 2 hours). @default 600 */
  maxAgeSeconds: z._default(int(0, 86_400), 600),
});
export type CorsConfig = z.output<typeof corsSchema>;
export type CorsConfigInput = z.input<typeof corsSchema>;

/** The problems of a `cors` section that its schema cannot see alone (messages name the field). */
export function corsProblems(cors: CorsConfig): string[] {
  const problems: string[] = [];
  const any = cors.allowOrigins.includes('*');
  if (any && cors.allowOrigins.length > 1) problems.push('cors.allowOrigins: "*" stands alone (any origin), not in a list');
  if (any && cors.allowCredentials) problems.push('cors.allowCredentials: credentials need a list of exact origins, never "*"');
  if (new Set(cors.allowOrigins).size !== cors.allowOrigins.length) problems.push('cors.allowOrigins: each origin once');
  return problems;
}

/** Request headers every CORS policy allows: the ones Gatehouse reads, and Content-Type for JSON bodies. */
export const CORS_REQUEST_HEADERS = [AUTHORIZATION_HEADER, 'Content-Type', SERVICE_NAME_HEADER, CONTENT_SHA256_HEADER] as const;

/** Response headers every CORS policy exposes: the rate limit's fields, Retry-After and API Gateway's request id. */
export const CORS_EXPOSED_HEADERS = ['RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'Retry-After', 'x-amzn-RequestId'] as const;

/** The file the stack bundles with every handler (lambdas/shared/http-handler.ts reads it at cold start). */
export const CORS_FILE = 'gatehouse-cors.json';

/** A CORS section resolved for answering: the full header lists. */
export interface CorsPolicy {
  /** Exact origins, or '*'. */
  readonly origins: readonly string[] | '*';
  readonly credentials: boolean;
  readonly allowHeaders: readonly string[];
  readonly exposeHeaders: readonly string[];
  readonly maxAgeSeconds: number;
}

/** The policy of a `cors` section, with the deployment's CSRF header and (membership mode) tenant header allowed too. */
export function corsPolicy(cors: CorsConfig, extraRequestHeaders: readonly string[] = []): CorsPolicy {
  return {
    origins: cors.allowOrigins.includes('*') ? '*' : [...cors.allowOrigins],
    credentials: cors.allowCredentials,
    allowHeaders: unique([...CORS_REQUEST_HEADERS, ...extraRequestHeaders, ...cors.allowHeaders]),
    exposeHeaders: unique([...CORS_EXPOSED_HEADERS, ...cors.exposeHeaders]),
    maxAgeSeconds: cors.maxAgeSeconds,
  };
}

/** Header names once each, compared without case, in first-seen order. */
function unique(names: readonly string[]): string[] {
  const seen = new Set<string>();
  return names.filter((n) => !seen.has(n.toLowerCase()) && seen.add(n.toLowerCase()));
}

/** The Access-Control-Allow-Origin value for a request's Origin, or undefined when that origin may not read. */
export function allowedOrigin(policy: CorsPolicy, origin: string | undefined): string | undefined {
  if (policy.origins === '*') return '*';
  return origin !== undefined && policy.origins.includes(origin) ? origin : undefined;
}

/**
 * The headers every CORS answer to `origin` starts with, and `extra` for an allowed origin: Allow-Origin and
 * Allow-Credentials; none of them for an origin that may not read it. `Vary: Origin` whenever the answer depends on
 * the origin, so a cache never serves one origin's headers to another.
 */
function answerTo(policy: CorsPolicy, origin: string | undefined, extra: () => Record<string, string>): Record<string, string> {
  const allow = allowedOrigin(policy, origin);
  const vary: Record<string, string> = policy.origins === '*' ? {} : { Vary: 'Origin' };
  if (!allow) return vary;
  return { 'Access-Control-Allow-Origin': allow, ...vary, ...(policy.credentials ? { 'Access-Control-Allow-Credentials': 'true' } : {}), ...extra() };
}

/** The headers an answer carries for a request from `origin` (handlers' answers, the gateway's own). */
export function corsResponseHeaders(policy: CorsPolicy, origin: string | undefined): Record<string, string> {
  return answerTo(policy, origin, () => ({ 'Access-Control-Expose-Headers': policy.exposeHeaders.join(', ') }));
}

/** The answer to a preflight from `origin` for a path whose routes take `methods`: headers for an allowed origin, none otherwise. */
export function preflightHeaders(policy: CorsPolicy, origin: string | undefined, methods: readonly string[]): Record<string, string> {
  return answerTo(policy, origin, () => ({
    'Access-Control-Allow-Methods': methods.join(', '),
    'Access-Control-Allow-Headers': policy.allowHeaders.join(', '),
    'Access-Control-Max-Age': String(policy.maxAgeSeconds),
  }));
}

/** The methods a preflight for `path` allows: those of its routes (ANY: every method), with OPTIONS. */
export function preflightMethods(routes: readonly { readonly method: string; readonly path: string }[], path: string): string[] {
  const methods = routes.filter((r) => r.path === path).map((r) => r.method);
  if (methods.includes('ANY')) return ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];
  return [...new Set([...methods, 'OPTIONS'])];
}

/** A policy as the stack writes it to CORS_FILE (JSON of {@link CorsPolicy}). */
const corsPolicySchema = z.strictObject({
  origins: z.union([z.literal('*'), z.array(z.string()).check(z.minLength(1))]),
  credentials: z.boolean(),
  allowHeaders: z.array(z.string()),
  exposeHeaders: z.array(z.string()),
  maxAgeSeconds: z.number(),
});

/**
 * The policy in JSON text found at `origin` (the bundled CORS_FILE). Invalid JSON or an invalid policy throws,
 * naming `origin`, never quoting the text: a handler must fail its cold start rather than answer with a policy
 * nobody configured.
 */
export function corsPolicyFromJson(raw: string, origin: string): CorsPolicy {
  let doc: unknown;
  try {
    doc = JSON.parse(raw);
  } catch {
    throw new ConfigError(`${origin}: not valid JSON`);
  }
  const parsed = corsPolicySchema.safeParse(doc);
  if (!parsed.success) throw new ConfigError(`${origin}: not a CORS policy (${parsed.error.issues.map((i) => i.path.join('.') || '(root)').join(', ')})`);
  return parsed.data;
}
