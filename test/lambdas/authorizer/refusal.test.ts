import type { LogFields } from '../../../contract/log';
import { DecisionLog } from '../../../lambdas/authorizer/decision-log';
import { AuthError } from '../../../lambdas/authorizer/errors';
import { UNAUTHORIZED, refuse } from '../../../lambdas/authorizer/refusal';
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
