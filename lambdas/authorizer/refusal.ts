import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import { denyAnswer } from './answer';
import type { Decision, DecisionLog } from './decision-log';
import { AuthError, type Outcome } from './errors';
import type { Principal } from './principal';
import type { AnswerFormat } from './request';

/** What API Gateway turns into a 401. Any other thrown error becomes a 500. */
export const UNAUTHORIZED = 'Unauthorized';

/**
 * How a refusal of each outcome is answered in each format: the decision the log records is the status the client
 * gets.
 *
 * REST: 'unauthorized' is a thrown 'Unauthorized' (401), 'forbidden' a Deny policy (403), 'error' any other thrown
 * error (500) (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-use-lambda-authorizer.html).
 *
 * HTTP API, payload 2.0: the only 401 HTTP APIs document for a Lambda authorizer is API Gateway's own, when an
 * identity source is missing and the authorizer is not called at all ("If the client's request doesn't include the
 * identity sources, API Gateway doesn't invoke your Lambda authorizer, and the client receives a 401 error"); the
 * authorizer's own answers are an IAM policy (Allow, or Deny: 403) or, when it fails or answers in an invalid format,
 * a 500 ("If API Gateway can't invoke your Lambda authorizer, or your Lambda authorizer returns a response in an
 * invalid format, clients receive a 500 Internal Server Error"), both from
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html. Throwing
 * 'Unauthorized' is a REST convention with no documented meaning there: it would be a failed invocation, a 500 that
 * says "retry" and fires the error alarm for every bad token. So on HTTP APIs every 'unauthorized' refusal is a
 * Deny (403), with its own reason code in the log; 'error' stays a thrown error (500, fail closed).
 */
export function refusalDecision(outcome: Outcome, format: AnswerFormat): Exclude<Decision, 'allow'> {
  if (outcome === 'error') return 'error';
  if (outcome === 'forbidden' || format === 'http-2.0') return 'deny';
  return 'unauthorized';
}

/**
 * Ends a decision that a step refused (or that failed): logs it, then answers as refusalDecision says for the
 * reason code's outcome and the answer's format. A Deny policy is returned; a 401 is the error API Gateway knows as
 * 'Unauthorized' (thrown); anything else, an unexpected error included (INTERNAL_ERROR), is thrown as some other
 * error, which API Gateway answers with 500.
 */
export function refuse(
  err: unknown,
  log: DecisionLog,
  event: { readonly methodArn: string },
  principal: Principal | undefined,
  format: AnswerFormat = 'rest',
): APIGatewayAuthorizerResult {
  const e = err instanceof AuthError ? err : new AuthError('INTERNAL_ERROR', undefined, { cause: err });
  const decision = refusalDecision(e.outcome, format);
  log.refusal(decision, e);
  if (decision === 'deny') return denyAnswer(principal, event.methodArn);
  if (decision === 'unauthorized') throw new Error(UNAUTHORIZED);
  // Anything but 'Unauthorized' makes API Gateway answer 500: the client may retry; nothing is allowed.
  throw new Error('Authorizer dependency failure');
}
