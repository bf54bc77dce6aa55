import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import { denyAnswer } from './answer';
import type { DecisionLog } from './decision-log';
import { AuthError } from './errors';
import type { Principal } from './principal';

/** What API Gateway turns into a 401. Any other thrown error becomes a 500. */
export const UNAUTHORIZED = 'Unauthorized';

/**
 * Ends a decision that a step refused (or that failed): logs it, then answers as the reason code's outcome says.
 * A 403 is a Deny policy (returned); a 401 is the error API Gateway knows as 'Unauthorized' (thrown); anything else,
 * an unexpected error included (INTERNAL_ERROR), is thrown as some other error, which API Gateway answers with 500.
 */
export function refuse(err: unknown, log: DecisionLog, event: { readonly methodArn: string }, principal: Principal | undefined): APIGatewayAuthorizerResult {
  const e = err instanceof AuthError ? err : new AuthError('INTERNAL_ERROR', undefined, { cause: err });
  if (e.outcome === 'forbidden') {
    log.refusal('deny', e);
    return denyAnswer(principal, event.methodArn);
  }
  if (e.outcome === 'unauthorized') {
    log.refusal('unauthorized', e);
    throw new Error(UNAUTHORIZED);
  }
  log.refusal('error', e);
  // Anything but 'Unauthorized' makes API Gateway answer 500: the client may retry; nothing is allowed.
  throw new Error('Authorizer dependency failure');
}
