import * as z from 'zod/mini';
import { int, matching, text } from './config-fields';
import { HANDLER_NAME_PATTERN } from './patterns';

/**
 * Where a route goes (`routes[].handler` or `routes[].backend`): one of the built-in handlers, a handler of the
 * team's own (a source file the stack bundles, or an existing Lambda function), or an HTTP backend (a server the
 * API Gateway proxies to, with the caller's context in headers: contract/backend-headers.ts). Stack-level sections
 * of the configuration: the authorizer never reads them.
 */

/** The handlers Gatehouse ships (lib/handler-functions.ts builds them; local/handlers.ts runs them). */
export const BUILT_IN_HANDLERS = ['health', 'me', 'customers', 'api-keys', 'internal-jobs', 'webhooks'] as const;
export type BuiltInHandler = (typeof BUILT_IN_HANDLERS)[number];

/** A file a team's handler is built from: relative to the configuration file, TypeScript or JavaScript. */
const ENTRY_PATTERN = /^(?!\/)(?!.*(^|\/)\.\.?(\/|$))[A-Za-z0-9._/-]+\.(ts|mts|cts|js|mjs|cjs)$/;

/** A Lambda function's ARN, optionally with a version or alias. */
const FUNCTION_ARN_PATTERN = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]{1,128})?$/;

/** A team's handler built from its source file, like the built-in ones (own role, own log group). */
const fileHandlerSchema = z.strictObject({
  /** The source file, relative to the configuration file; it exports `handler` (API Gateway REST proxy events). */
  entry: matching(ENTRY_PATTERN, 'entry is a relative path to a .ts or .js file (no leading /, no . or .. segments)'),
  description: z.optional(text(1, 256)),
  /** @default 512 */
  memoryMb: z._default(int(128, 10_240), 512),
  /** At most API Gateway's 29 s integration timeout. @default 10 */
  timeoutSeconds: z._default(int(1, 29), 10),
  /** Extra environment variables (names as Lambda allows them; Lambda's 4 KB covers them all). */
  environment: z._default(z.record(matching(/^[A-Za-z][A-Za-z0-9_]{0,127}$/, 'a variable name is a letter then letters, digits and _'), z.string()), {}),
  /**
   * Count the handler's requests with the per-tenant limiter (the stack grants it the limiter's items and bundles
   * the tiers, as for the built-in handlers; the handler uses `sharedRateLimit()` from the toolkit). @default false
   */
  rateLimited: z._default(z.boolean(), false),
});

/** An existing Lambda function (another stack's, another team's): the API invokes it; the stack grants API Gateway that. */
const existingFunctionSchema = z.strictObject({
  functionArn: matching(FUNCTION_ARN_PATTERN, 'functionArn is a Lambda function ARN: arn:aws:lambda:<region>:<account>:function:<name>[:<alias>]'),
});

export const userHandlerSchema = z.union([fileHandlerSchema, existingFunctionSchema]);
export type UserHandler = z.output<typeof userHandlerSchema>;
export type FileHandler = z.output<typeof fileHandlerSchema>;
export type ExistingFunctionHandler = z.output<typeof existingFunctionSchema>;

/** Whether a team's handler is a source file (else an existing function). */
export const isFileHandler = (h: UserHandler): h is FileHandler => 'entry' in h;

const backendUrl = (message: string) =>
  z.url().check(z.refine((u) => /^https?:\/\/[^/?#]+(\/[^?#]*)?$/.test(u) && !u.endsWith('/'), message));

/** An HTTP backend: API Gateway proxies method, path, query and body to `url` + the route's path. */
export const backendSchema = z.strictObject({
  /** The backend's base URL (https; no query, no trailing slash): `GET /v1/orders/{id}` goes to `<url>/v1/orders/<id>`. */
  url: backendUrl('url is https://host[:port][/base-path], with no query and no trailing slash').check(
    z.refine((u) => u.startsWith('https://'), 'url must be https: the caller context travels in its headers'),
  ),
  /** Where local mode sends the same requests (`npm start`), e.g. http://127.0.0.1:8000. @default url */
  localUrl: z.optional(backendUrl('localUrl is http(s)://host[:port][/base-path], with no query and no trailing slash')),
  /** How long API Gateway waits for the backend (50 ms to API Gateway's 29 s). @default 29000 */
  timeoutMs: z._default(int(50, 29_000), 29_000),
});
export type BackendConfig = z.output<typeof backendSchema>;

const targetName = matching(HANDLER_NAME_PATTERN, 'a name is lowercase letters, digits and dashes, starting with a letter');

/** The stack configuration's `handlers` section: the team's handlers by the names routes use. */
export const userHandlersSchema = z._default(z.record(targetName, userHandlerSchema), {});
/** The stack configuration's `backends` section: HTTP backends by the names routes use. */
export const backendsSchema = z._default(z.record(targetName, backendSchema), {});

/** The handler names the routes use, once each, in route-table order (routes to backends name none). */
export function routeHandlers(routes: readonly { readonly handler?: string | undefined }[]): string[] {
  return [...new Set(routes.flatMap((r) => (r.handler !== undefined ? [r.handler] : [])))];
}

/** The backend names the routes use, once each, in route-table order. */
export function routeBackends(routes: readonly { readonly backend?: string | undefined }[]): string[] {
  return [...new Set(routes.flatMap((r) => (r.backend !== undefined ? [r.backend] : [])))];
}

/** What one route needs of its target. */
interface RouteTarget {
  readonly method: string;
  readonly path: string;
  readonly handler?: string | undefined;
  readonly backend?: string | undefined;
}

/**
 * Every route's target, checked against the sections: exactly one of `handler` and `backend`; a handler that is
 * built in or declared in `handlers` (which may not reuse a built-in name); a backend declared in `backends`.
 * Returns one message per problem, each naming the route or the entry.
 */
export function targetProblems(
  routes: readonly RouteTarget[],
  handlers: Readonly<Record<string, UserHandler>>,
  backends: Readonly<Record<string, BackendConfig>>,
): string[] {
  const problems: string[] = [];
  const builtIn = new Set<string>(BUILT_IN_HANDLERS);
  for (const name of Object.keys(handlers)) {
    if (builtIn.has(name)) problems.push(`handlers.${name}: "${name}" is a built-in handler; give yours another name`);
  }
  routes.forEach((r, i) => {
    const where = `routes[${i}] (${r.method} ${r.path})`;
    if (r.handler !== undefined && r.backend !== undefined) problems.push(`${where}: give a handler or a backend, not both`);
    else if (r.handler === undefined && r.backend === undefined) problems.push(`${where}: every route needs a handler or a backend`);
    else if (r.handler !== undefined && !builtIn.has(r.handler) && !Object.hasOwn(handlers, r.handler)) {
      problems.push(`${where}: unknown handler "${r.handler}": use one of ${BUILT_IN_HANDLERS.join(', ')}, or declare it under "handlers"`);
    } else if (r.backend !== undefined && !Object.hasOwn(backends, r.backend)) {
      problems.push(`${where}: unknown backend "${r.backend}": declare it under "backends"`);
    }
  });
  return problems;
}
