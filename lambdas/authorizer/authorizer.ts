import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { parseConfig } from '../../contract/config';
import { allowAnswer, stagePrefix } from './answer';
import { authenticate } from './authenticate';
import { type AuthorizerDeps, type Collaborators, buildCollaborators } from './collaborators';
import { checkNoContextHeaders } from './context-header-check';
import { checkCsrf } from './csrf-check';
import { DecisionLog } from './decision-log';
import { checkOwner } from './owner-check';
import { type HttpApiAuthorizerEvent, fromPayloadV2, isPayloadV2 } from './payload-v2';
import type { Principal } from './principal';
import { refuse } from './refusal';
import type { AnswerFormat, AuthorizerRequest } from './request';

export type { ApiKeyPrincipal } from './api-keys';
export type { AuthorizerDeps } from './collaborators';
export { MIN_CSRF_TOKEN_LENGTH } from './csrf-check';
export type { HttpApiAuthorizerEvent } from './payload-v2';
export type { Principal } from './principal';
export type { AuthorizerRequest } from './request';
export { UNAUTHORIZED } from './refusal';

/** The events the handler takes: REST REQUEST authorizer events, and HTTP API ones of payload format 2.0. */
export type AuthorizerEvent = APIGatewayRequestAuthorizerEvent | HttpApiAuthorizerEvent;

/** An HTTP API (payload 2.0) IAM-policy answer: principalId, policyDocument and context; HTTP APIs have no usage plans. */
export type HttpApiAuthorizerResult = Omit<APIGatewayAuthorizerResult, 'usageIdentifierKey'> & { readonly usageIdentifierKey?: never };

/**
 * The Lambda handler: one REQUEST authorizer event in, an Allow or Deny policy out in the event's own format (or a
 * thrown 401 on REST, or a thrown 500). One function serves a REST API and an HTTP API alike.
 */
export interface AuthorizerHandler {
  (event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult>;
  (event: HttpApiAuthorizerEvent): Promise<HttpApiAuthorizerResult>;
  (event: AuthorizerEvent): Promise<APIGatewayAuthorizerResult | HttpApiAuthorizerResult>;
}

/**
 * Builds the API Gateway REQUEST authorizer from one configuration document. Validates the document first (throws a
 * ConfigError naming the bad field), builds expensive things once (./collaborators.ts), and returns the handler. A
 * REST event goes to the pipeline as it is; an HTTP API event (payload 2.0, by its `version`) is mapped first
 * (./payload-v2.ts) and answered in its own format.
 */
export function createAuthorizer(configDocument: unknown, deps: AuthorizerDeps = {}): AuthorizerHandler {
  const collaborators = buildCollaborators(parseConfig(configDocument), deps);
  const handler = (event: AuthorizerEvent) => (isPayloadV2(event) ? authorizeHttpApi(collaborators, event) : authorize(collaborators, event));
  return handler as AuthorizerHandler;
}

/** What the decision log names for an HTTP API event too malformed to say its method and route. */
const UNREADABLE_REQUEST = { httpMethod: '-', resource: '-' } as const;

/**
 * One decision on an HTTP API event of payload format 2.0: mapped to the pipeline's request, decided, answered in
 * the 2.0 format. An event that cannot be mapped is INTERNAL_ERROR, logged and thrown (500): never a decision.
 */
export async function authorizeHttpApi(c: Collaborators, event: HttpApiAuthorizerEvent): Promise<HttpApiAuthorizerResult> {
  let request: AuthorizerRequest | undefined;
  let unreadable: unknown;
  try {
    request = fromPayloadV2(event);
  } catch (err) {
    unreadable = err;
  }
  const result = request ? await authorize(c, request, 'http-2.0') : refuseUnreadable(c, unreadable);
  // allowAnswer leaves the usage-plan key out of a 2.0 answer; taking it off here as well makes that the type's promise.
  const { usageIdentifierKey: _, ...answer } = result;
  return answer;
}

/** Logs and throws (500) the INTERNAL_ERROR of an HTTP API event that could not be mapped. */
function refuseUnreadable(c: Collaborators, err: unknown): APIGatewayAuthorizerResult {
  const log = new DecisionLog(c.logger, c.now, UNREADABLE_REQUEST);
  log.format('http-2.0');
  return refuse(err, log, { methodArn: '' }, undefined, 'http-2.0');
}

/**
 * One decision, as a pipeline of steps. The order is part of the security design: checks that need no I/O come
 * before those that do (a CSRF failure reads no key and no secret), the credential is verified before anything is
 * looked up for the principal it names, and the first refusal decides the reason code logged. Each step throws an
 * AuthError to refuse; ./refusal.ts turns that into a 401, a Deny policy (403) or a 500, as `format` allows (an HTTP
 * API authorizer has no 401 of its own: a Deny). A client's own X-Gatehouse-* header is refused first, before any
 * credential work (./context-header-check.ts: defence in depth, the backend mapping is the guarantee). `event` is
 * a REST event as it is, or an HTTP API event mapped by ./payload-v2.ts.
 */
export async function authorize(c: Collaborators, event: AuthorizerRequest, format: AnswerFormat = 'rest'): Promise<APIGatewayAuthorizerResult> {
  const log = new DecisionLog(c.logger, c.now, event);
  if (format !== 'rest') log.format(format);
  let principal: Principal | undefined;
  try {
    checkNoContextHeaders(event);
    const prefix = stagePrefix(event);
    const credential = c.classify(event);
    log.credential(credential);
    if (credential.kind === 'jwt' && credential.source === 'cookie') checkCsrf(c.csrf, event);
    principal = await authenticate(c.verifiers, credential, event);
    log.principal(principal);
    if (principal.kind === 'user') {
      await c.sessions.check(principal);
      checkOwner(c.owner, principal);
    }
    // Membership mode: the tenant header names the tenant (users) or must agree with it (API keys).
    if (c.tenantHeader) principal = c.tenantHeader.requestedTenant(principal, event);
    log.principal(principal);
    const tenant = await c.tenants.tenantOf(principal);
    if (c.members && principal.kind === 'user') principal = await c.members.member(principal);
    const answer = c.policies.answer(prefix, principal, event.methodArn);
    log.answer(answer);
    return allowAnswer(principal, answer.policyDocument, tenant, c.backendContext, format);
  } catch (err) {
    return refuse(err, log, event, principal, format);
  }
}
