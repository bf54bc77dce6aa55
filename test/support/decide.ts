import { evaluatePolicy, type PolicyDocument } from '../../lambdas/authorizer/policy';
import { API_ARN_PREFIX, type Fixture, authorizerEvent } from './fixture';

export type Handler = ReturnType<Fixture['authorizer']>;

/** What API Gateway would answer for one request, the reason the decision log gives, and the authorizer's time. */
export interface Answer {
  readonly status: 200 | 401 | 403 | 500;
  readonly reason: string | undefined;
  readonly ms: number;
  /** The decision log line. */
  readonly line: Record<string, unknown> | undefined;
}

/** Runs `handler` on one request to `method path` with `headers`, and reads its decision line from `fx.logs`. */
export async function decide(fx: Fixture, handler: Handler, headers: Record<string, string>, method = 'GET', path = '/v1/me'): Promise<Answer> {
  const event = authorizerEvent(headers, method, path);
  const started = performance.now();
  let status: Answer['status'];
  try {
    const result = await handler(event);
    status = evaluatePolicy(result.policyDocument as PolicyDocument, `${API_ARN_PREFIX}/${method}${path}`) === 'Allow' ? 200 : 403;
  } catch (err) {
    status = (err as Error).message === 'Unauthorized' ? 401 : 500;
  }
  const ms = performance.now() - started;
  const line = [...fx.logs].reverse().find((l) => l.message === 'decision' && l.requestId === event.requestContext.requestId);
  return { status, reason: line ? String(line.reason) : undefined, ms, line };
}
