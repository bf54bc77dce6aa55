import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import type { TenantRecord } from '../../contract/table';
import { type ContextKey, GATEWAY_CONTEXT_KEY, encodeGatewayContext } from '../../contract/backend-headers';
import { AuthError } from './errors';
import { type PolicyDocument, arnPrefix } from './policy';
import { type Principal, principalId } from './principal';
import type { AnswerFormat } from './request';

/**
 * The stage's ARN prefix (`arn:aws:execute-api:region:account:apiId/stage`) of the request's method ARN: the policy
 * covers every route of the stage. A method ARN that is not one is INTERNAL_ERROR (500): API Gateway always sends one.
 */
export function stagePrefix(event: { readonly methodArn?: string }): string {
  const prefix = arnPrefix(event.methodArn ?? '');
  if (!prefix) throw new AuthError('INTERNAL_ERROR', { cause: 'methodArn' });
  return prefix;
}

/**
 * The answer to a principal that passed every check: the policy for every route (API Gateway may cache it and reuse
 * it on other methods), the context handed to handlers, with `backendContext` the same context encoded for HTTP
 * backends (`gatehouseContext`: API Gateway maps it to X-Gatehouse-Context, contract/backend-headers.ts), and the
 * tenant's usage-plan key when it has one (REST only: `format`).
 */
export function allowAnswer(
  principal: Principal,
  policyDocument: PolicyDocument,
  tenant: TenantRecord | undefined,
  backendContext = false,
  format: AnswerFormat = 'rest',
): APIGatewayAuthorizerResult {
  const c = context(principal, tenant);
  return {
    principalId: principalId(principal),
    policyDocument,
    // Never empty (it always holds a kind and a principal id): a mapped value that is empty might leave a client's
    // own X-Gatehouse-Context in place, a non-empty one always replaces it.
    context: backendContext ? { ...c, [GATEWAY_CONTEXT_KEY]: encodeGatewayContext(c) } : c,
    // HTTP APIs have no usage plans: their IAM-policy answer is principalId, policyDocument and context only
    // (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html#http-api-lambda-authorizer.v2).
    ...(tenant?.usageKey && format === 'rest' ? { usageIdentifierKey: tenant.usageKey } : {}),
  };
}

/** The answer to a refusal that is a 403: Deny on the whole stage (or on everything, without a usable method ARN). */
export function denyAnswer(principal: Principal | undefined, methodArn: string): APIGatewayAuthorizerResult {
  return { principalId: principal ? principalId(principal) : 'anonymous', policyDocument: denyAll(methodArn) };
}

/**
 * The context handed to handlers and, encoded as X-Gatehouse-Context (allowAnswer), to HTTP backends: flat strings
 * only (API Gateway refuses objects and arrays). Every key of CONTEXT_KEYS is always present, '' where the principal
 * has none (an API key has no email, a service no tenant); handlers read '' as absent
 * (lambdas/shared/auth-context.ts), and the encoded context leaves such keys out.
 */
export function context(p: Principal, tenant: TenantRecord | undefined): Record<ContextKey, string> {
  // One object literal of a fixed shape, filled in place: this runs on every decision.
  const c: Record<ContextKey, string> = {
    kind: p.kind,
    principalId: principalId(p),
    tenantId: p.kind === 'service' || p.kind === 'signed' ? '' : (p.tenantId ?? ''),
    scopes: p.scopes.join(' '),
    tier: tenant ? tenant.tier : '',
    issuer: '',
    subject: '',
    roles: '',
    email: '',
    sessionId: '',
    keyId: '',
    service: '',
    signer: '',
    bodySha256: '',
  };
  switch (p.kind) {
    case 'user':
      c.issuer = p.issuerId;
      c.subject = p.subject;
      c.roles = p.roles.join(' ');
      if (p.email) c.email = p.email;
      if (p.sessionId) c.sessionId = p.sessionId;
      break;
    case 'apiKey':
      c.keyId = p.keyId;
      break;
    case 'service':
      c.service = p.service;
      break;
    case 'signed':
      c.signer = p.signer;
      c.bodySha256 = p.bodySha256;
      break;
  }
  return c;
}

function denyAll(methodArn: string): PolicyDocument {
  const prefix = arnPrefix(methodArn ?? '');
  return {
    Version: '2012-10-17',
    Statement: [{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: [prefix ? `${prefix}/*` : '*'] }],
  };
}
