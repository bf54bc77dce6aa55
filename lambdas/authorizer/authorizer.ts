import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { parseConfig } from '../../contract/config';
import { allowAnswer, stagePrefix } from './answer';
import { authenticate } from './authenticate';
import { type AuthorizerDeps, type Collaborators, buildCollaborators } from './collaborators';
import { checkNoContextHeaders } from './context-header-check';
import { checkCsrf } from './csrf-check';
import { DecisionLog } from './decision-log';
import { checkOwner } from './owner-check';
import type { Principal } from './principal';
import { refuse } from './refusal';

export type { ApiKeyPrincipal } from './api-keys';
export type { AuthorizerDeps } from './collaborators';
export { MIN_CSRF_TOKEN_LENGTH } from './csrf-check';
export type { Principal } from './principal';
export { UNAUTHORIZED } from './refusal';

/** The Lambda handler: one REQUEST authorizer event in, an Allow or Deny policy out (or a thrown 401 or 500). */
export type AuthorizerHandler = (event: APIGatewayRequestAuthorizerEvent) => Promise<APIGatewayAuthorizerResult>;

/**
 * Builds the API Gateway REST REQUEST authorizer from one configuration document. Validates the document first
 * (throws a ConfigError naming the bad field), builds expensive things once (./collaborators.ts), and returns the
 * handler.
 */
export function createAuthorizer(configDocument: unknown, deps: AuthorizerDeps = {}): AuthorizerHandler {
  const collaborators = buildCollaborators(parseConfig(configDocument), deps);
  return (event) => authorize(collaborators, event);
}

/**
 * One decision, as a pipeline of steps. The order is part of the security design: checks that need no I/O come
 * before those that do (a CSRF failure reads no key and no secret), the credential is verified before anything is
 * looked up for the principal it names, and the first refusal decides the reason code logged. Each step throws an
 * AuthError to refuse; ./refusal.ts turns that into a 401, a Deny policy (403) or a 500. A client's own
 * X-Gatehouse-* header is refused first, before any credential work (./context-header-check.ts: defence in depth,
 * the backend mapping is the guarantee).
 */
export async function authorize(c: Collaborators, event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> {
  const log = new DecisionLog(c.logger, c.now, event);
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
    return allowAnswer(principal, answer.policyDocument, tenant, c.backendContext);
  } catch (err) {
    return refuse(err, log, event, principal);
  }
}
