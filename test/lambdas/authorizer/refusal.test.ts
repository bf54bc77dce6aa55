import type { LogFields } from '../../../contract/log';
import { DecisionLog } from '../../../lambdas/authorizer/decision-log';
import { AuthError, REASONS, type ReasonCode } from '../../../lambdas/authorizer/errors';
import { UNAUTHORIZED, refusalDecision, refuse } from '../../../lambdas/authorizer/refusal';
import { API_ARN_PREFIX } from '../../support/fixture';
import { user } from './steps';

/** The refusal step alone: how a step's AuthError (or any other error) becomes API Gateway's 401, 403 or 500. */
const EVENT = { requestContext: { requestId: 'req-1' }, httpMethod: 'GET', resource: '/v1/me', methodArn: `${API_ARN_PREFIX}/GET/v1/me` };
function logged() {
  const lines: { level: string; fields: LogFields }[] = [];
  const at = (level: string) => (_: string, fields?: LogFields) => void lines.push({ level, fields: { ...fields } });
  return { lines, log: new DecisionLog({ info: at('INFO'), warn: at('WARN'), error: at('ERROR') }, Date.now, EVENT) };
}
const thrown = (f: () => unknown): Error => {
  try {
    f();
  } catch (err) {
    return err as Error;
  }
  throw new Error('nothing thrown');
};

describe('refusal', () => {
  it('answers a forbidden reason with a Deny policy (403) naming the principal, and logs it as deny', () => {
    const { lines, log } = logged();

    const answer = refuse(new AuthError('TENANT_SUSPENDED', { tenantId: 'frozen' }), log, EVENT, user());

    expect(answer.principalId).toBe('user-1');
    expect(answer.policyDocument.Statement).toEqual([{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: [`${API_ARN_PREFIX}/*`] }]);
    expect(lines).toEqual([{ level: 'INFO', fields: expect.objectContaining({ decision: 'deny', reason: 'TENANT_SUSPENDED', tenantId: 'frozen' }) }]);
  });

  it("answers an unauthorized reason by throwing API Gateway's 'Unauthorized' (401), logged as unauthorized", () => {
    const { lines, log } = logged();

    expect(thrown(() => refuse(new AuthError('JWT_EXPIRED'), log, EVENT, undefined)).message).toBe(UNAUTHORIZED);
    expect(lines[0]!.fields).toMatchObject({ decision: 'unauthorized', reason: 'JWT_EXPIRED' });
  });

  it('answers an error reason by throwing anything but Unauthorized (500), logged at ERROR', () => {
    const { lines, log } = logged();

    expect(thrown(() => refuse(new AuthError('TENANT_STORE_UNAVAILABLE'), log, EVENT, user())).message).not.toBe(UNAUTHORIZED);
    expect(lines[0]).toMatchObject({ level: 'ERROR', fields: { decision: 'error', reason: 'TENANT_STORE_UNAVAILABLE' } });
  });

  it('treats an error that is not an AuthError as INTERNAL_ERROR (500), never as a 401 or an Allow', () => {
    const { lines, log } = logged();

    expect(thrown(() => refuse(new TypeError('boom'), log, EVENT, user())).message).not.toBe(UNAUTHORIZED);
    expect(lines[0]!.fields).toMatchObject({ decision: 'error', reason: 'INTERNAL_ERROR', causeName: 'TypeError' });
  });
});

describe('refusal on an HTTP API (payload 2.0)', () => {
  it('answers an unauthorized reason with a Deny policy (403), not a throw, logged as deny with its own reason code', () => {
    const { lines, log } = logged();

    const answer = refuse(new AuthError('JWT_EXPIRED'), log, EVENT, undefined, 'http-2.0');

    expect(answer).toEqual({
      principalId: 'anonymous',
      policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: [`${API_ARN_PREFIX}/*`] }] },
    });
    expect(lines).toEqual([{ level: 'INFO', fields: expect.objectContaining({ decision: 'deny', reason: 'JWT_EXPIRED' }) }]);
  });

  it('answers a forbidden reason with a Deny policy, as on REST', () => {
    const { lines, log } = logged();

    const answer = refuse(new AuthError('TENANT_SUSPENDED'), log, EVENT, user(), 'http-2.0');

    expect(answer.policyDocument.Statement).toEqual([{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: [`${API_ARN_PREFIX}/*`] }]);
    expect(lines[0]!.fields).toMatchObject({ decision: 'deny', reason: 'TENANT_SUSPENDED' });
  });

  it('still throws on an error reason or an unexpected error (500), never Unauthorized, never a policy', () => {
    for (const err of [new AuthError('TENANT_STORE_UNAVAILABLE'), new TypeError('boom')]) {
      const { lines, log } = logged();

      expect(thrown(() => refuse(err, log, EVENT, user(), 'http-2.0')).message).not.toBe(UNAUTHORIZED);
      expect(lines[0]).toMatchObject({ level: 'ERROR', fields: { decision: 'error' } });
    }
  });

  it('maps every reason code: 401 -> Deny on HTTP APIs only; 403 -> Deny and 500 -> error on both', () => {
    const rest = { unauthorized: 'unauthorized', forbidden: 'deny', error: 'error' } as const;
    const http = { unauthorized: 'deny', forbidden: 'deny', error: 'error' } as const;
    for (const code of Object.keys(REASONS) as ReasonCode[]) {
      const outcome = REASONS[code];
      expect({ code, rest: refusalDecision(outcome, 'rest'), http: refusalDecision(outcome, 'http-2.0') }).toEqual({ code, rest: rest[outcome], http: http[outcome] });
    }
  });
});
