import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import * as z from 'zod/mini';
import { HttpError, type ProxyRequest } from './http-errors';
import type { LogFields } from '../../contract/log';
import { SHA256_HEX_PATTERN, CALLER_NAME_PATTERN, TENANT_ID_PATTERN } from '../../contract/patterns';

/** Fields every principal has. */
interface AuthContextBase {
  /** The authorizer's principal id: a user's subject, an API key's id, `service:<name>` or `signer:<name>`. */
  readonly principalId: string;
  readonly tenantId: string;
  /** Granted scopes; empty when none. */
  readonly scopes: readonly string[];
  /** The tenant's plan tier, when the authorizer looked the tenant up. */
  readonly tier?: string;
}

/** A signed-in user (JWT from an allowed issuer). */
export interface UserAuthContext extends AuthContextBase {
  readonly kind: 'user';
  /** The authorizer's id of the issuer (e.g. `supabase`), not the raw `iss`. */
  readonly issuer: string;
  readonly subject: string;
  readonly roles: readonly string[];
  readonly email?: string;
  readonly sessionId?: string;
}

/** A customer's server calling with an API key. */
export interface ApiKeyAuthContext extends AuthContextBase {
  readonly kind: 'apiKey';
  readonly keyId: string;
}

/** One of our own services calling with its shared secret: it belongs to no tenant. */
export interface ServiceAuthContext extends AuthContextBase {
  readonly kind: 'service';
  readonly tenantId: '';
  readonly service: string;
}

/**
 * A caller that signed the request with HMAC-SHA256 (contract/signing.ts): it belongs to no tenant. The
 * authorizer checked the signature, which covers `bodySha256` (the X-Content-SHA256 header) but not the body,
 * which authorizers never see: signedBody() (wired by httpHandler) checks that the body received hashes to it.
 */
export interface SignedAuthContext extends AuthContextBase {
  readonly kind: 'signed';
  readonly tenantId: '';
  /** The signer's configured name (the Caller of the Authorization header). */
  readonly signer: string;
  /** The signed SHA-256 of the body: 64 lowercase hex digits. */
  readonly bodySha256: string;
}

/** Who is calling, as the authorizer decided it: a union discriminated on `kind`. */
export type AuthContext = UserAuthContext | ApiKeyAuthContext | ServiceAuthContext | SignedAuthContext;

/** The credential kinds: `user`, `apiKey`, `service`, `signed`. */
export type AuthKind = AuthContext['kind'];

/** Why an authorizer context was refused (log and metric reason codes). */
export type AuthContextReason = 'AUTH_CONTEXT_MISSING' | 'AUTH_CONTEXT_INVALID';

/** The outcome of parseAuthContext: the typed context, or a reason and the names (never values) of the bad fields. */
export type AuthContextResult =
  | { readonly ok: true; readonly auth: AuthContext }
  | { readonly ok: false; readonly reason: AuthContextReason; readonly fields: readonly string[] };

// zod/mini, like contract/config.ts: classic zod would add about 440 KB to every handler bundle through this module.
const text = z.string().check(z.minLength(1));
// A tenant id as the directory stores it (case-sensitive, taken exactly): the handlers build key parts from it.
const tenantId = z.string().check(z.regex(TENANT_ID_PATTERN));
// API Gateway passes context values on as strings; the authorizer joins lists with single spaces.
const list = z.pipe(z.string(), z.transform((s: string) => s.split(' ').filter(Boolean)));
// The authorizer sets every context key on every answer ('' where the principal has none), so an empty tier, email
// or session id is absent: dropped rather than refused. Keys of another kind (a user's empty keyId) are ignored,
// like the keys API Gateway adds and the copy encoded for HTTP backends (gatehouseContext).
const common = { principalId: text, scopes: list, tier: z.optional(z.string()) };

const contextShapes = z.discriminatedUnion('kind', [
  z.looseObject({
    ...common,
    kind: z.literal('user'),
    // '' when the issuer does not require a tenant (tenantRequired: false): tenant-scoped handlers refuse it.
    tenantId: z.union([tenantId, z.literal('')]),
    issuer: text,
    subject: text,
    roles: list,
    email: z.optional(z.string()),
    sessionId: z.optional(z.string()),
  }),
  z.looseObject({ ...common, kind: z.literal('apiKey'), tenantId, keyId: text }),
  z.looseObject({ ...common, kind: z.literal('service'), tenantId: z.literal(''), service: text }),
  z.looseObject({
    ...common,
    kind: z.literal('signed'),
    tenantId: z.literal(''),
    signer: z.string().check(z.regex(CALLER_NAME_PATTERN)),
    bodySha256: z.string().check(z.regex(SHA256_HEX_PATTERN)),
  }),
]);

/**
 * Validates the authorizer context of an API Gateway proxy event (authorizerContextOf) into an AuthContext. Requires
 * every key the authorizer always sets and tolerates keys API Gateway adds (`integrationLatency`, ...), which are
 * dropped from the output, as are other kinds' keys; an empty tier, email or session id is absent. API-key contexts need a tenant; service and signed contexts have tenantId '', and so
 * has a user of an issuer that does not require one; a tenant id must be one (contract/patterns.ts). A signed
 * context without a well-formed bodySha256 is refused: without it the body could not be checked.
 */
export const authorizerContextSchema = z.pipe(
  contextShapes,
  z.transform((c: z.output<typeof contextShapes>): AuthContext => {
    const base = { principalId: c.principalId, tenantId: c.tenantId, scopes: c.scopes, ...(c.tier ? { tier: c.tier } : {}) };
    switch (c.kind) {
      case 'user':
        return {
          ...base,
          kind: c.kind,
          issuer: c.issuer,
          subject: c.subject,
          roles: c.roles,
          ...(c.email ? { email: c.email } : {}),
          ...(c.sessionId ? { sessionId: c.sessionId } : {}),
        };
      case 'apiKey':
        return { ...base, kind: c.kind, keyId: c.keyId };
      case 'service':
        return { ...base, kind: c.kind, tenantId: '', service: c.service };
      case 'signed':
        return { ...base, kind: c.kind, tenantId: '', signer: c.signer, bodySha256: c.bodySha256 };
    }
  }),
);

/**
 * Where the authorizer's context is in a proxy event: `requestContext.authorizer` behind a REST API, and
 * `requestContext.authorizer.lambda` behind an HTTP API (its Lambda integrations, payload format 1.0 or 2.0, put a
 * Lambda authorizer's context there:
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html). A REST
 * context is flat (strings, numbers, booleans), so an object under `lambda` can only be an HTTP API's.
 */
export function authorizerContextOf(event: Pick<APIGatewayProxyEvent, 'requestContext'> | undefined): unknown {
  const raw: unknown = event?.requestContext?.authorizer;
  if (typeof raw !== 'object' || raw === null) return raw;
  const lambda: unknown = (raw as { lambda?: unknown }).lambda;
  return typeof lambda === 'object' && lambda !== null ? lambda : raw;
}

/** Validates the authorizer context of `event` (REST or HTTP API: {@link authorizerContextOf}) without throwing. */
export function parseAuthContext(event: Pick<APIGatewayProxyEvent, 'requestContext'> | undefined): AuthContextResult {
  const raw: unknown = authorizerContextOf(event);
  if (raw === undefined || raw === null) return { ok: false, reason: 'AUTH_CONTEXT_MISSING', fields: [] };
  const parsed = authorizerContextSchema.safeParse(raw);
  if (parsed.success) return { ok: true, auth: parsed.data };
  const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(root)'))].slice(0, 10);
  return { ok: false, reason: 'AUTH_CONTEXT_INVALID', fields };
}

/** Where authContext() leaves the validated context: a namespaced key on the Lambda context object. */
export const AUTH_CONTEXT_KEY = 'gatehouseAuth';

/** A Lambda context after authContext() has run. */
export type AuthedLambdaContext = Context & { readonly [AUTH_CONTEXT_KEY]: AuthContext };

/**
 * The AuthContext that authContext() attached to this invocation. Throws a 500 HttpError if there is none: a
 * handler wired without authContext() is a deployment bug, never a reason to guess.
 */
export function authContextOf(context: Context): AuthContext {
  const auth = (context as Partial<AuthedLambdaContext> | undefined)?.[AUTH_CONTEXT_KEY];
  if (!auth) throw new HttpError(500, 'internal_error', 'internal error', { reason: 'AUTH_CONTEXT_NOT_ATTACHED' });
  return auth;
}

/** Who was calling, for log lines: kind, principal and tenant (identifiers only, never credential material). */
export function authLogFields(request: ProxyRequest): LogFields {
  const auth = (request.context as Partial<AuthedLambdaContext> | undefined)?.[AUTH_CONTEXT_KEY];
  return auth ? { kind: auth.kind, principalId: auth.principalId, tenantId: auth.tenantId } : {};
}

type HttpMiddleware = MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult>;

/**
 * Validates the authorizer context and attaches it to the Lambda context (read it with authContextOf). A missing
 * or malformed context means the API was deployed without the authorizer in front: it is never trusted and
 * becomes a generic 500, logged (by httpErrors) with reason AUTH_CONTEXT_MISSING or AUTH_CONTEXT_INVALID.
 */
export function authContext(): HttpMiddleware {
  const authContextBefore = (request: ProxyRequest): void => {
    const context = request.context as Context & { [AUTH_CONTEXT_KEY]?: AuthContext };
    // A caller may reuse a context object across invocations: never let a previous request's identity survive.
    delete context[AUTH_CONTEXT_KEY];
    const result = parseAuthContext(request.event);
    if (!result.ok) {
      throw new HttpError(500, 'internal_error', 'internal error', { reason: result.reason, log: { fields: result.fields } });
    }
    context[AUTH_CONTEXT_KEY] = result.auth;
  };
  return { before: authContextBefore };
}

/**
 * Answers 403 `{ error: 'forbidden', message: 'missing scope ...' }` unless the caller holds every one of
 * `scopes`. Use after authContext(). The authorizer checks scopes per route too; this is defence in depth for a
 * cached policy or a mis-wired route.
 */
export function requireScopes(...scopes: string[]): HttpMiddleware {
  if (!scopes.length) throw new Error('requireScopes: name at least one scope');
  for (const s of scopes) {
    // A scope with a space could never match: the authorizer's scopes are split on spaces.
    if (!/^\S+$/.test(s)) throw new Error(`requireScopes: invalid scope ${JSON.stringify(s)}`);
  }
  const requireScopesBefore = (request: ProxyRequest): void => {
    const granted = new Set(authContextOf(request.context).scopes);
    const missing = scopes.filter((s) => !granted.has(s));
    if (missing.length) {
      throw new HttpError(403, 'forbidden', `missing scope ${missing.join(' ')}`, { reason: 'SCOPE_MISSING', log: { missing } });
    }
  };
  return { before: requireScopesBefore };
}

/** Answers 403 unless the caller's credential kind is one of `kinds`. Use after authContext(). */
export function requireKinds(...kinds: AuthKind[]): HttpMiddleware {
  if (!kinds.length) throw new Error('requireKinds: name at least one kind');
  const allowed = new Set<AuthKind>(kinds);
  const requireKindsBefore = (request: ProxyRequest): void => {
    const { kind } = authContextOf(request.context);
    if (!allowed.has(kind)) {
      throw new HttpError(403, 'forbidden', `credential kind ${kind} is not accepted here`, { reason: 'KIND_NOT_ALLOWED' });
    }
  };
  return { before: requireKindsBefore };
}
