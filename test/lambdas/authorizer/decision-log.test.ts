import { AuthError } from '../../../lambdas/authorizer/errors';
import { DecisionLog } from '../../../lambdas/authorizer/decision-log';
import { type LogFields, jsonLogger } from '../../../contract/log';
import { apiKey, service, signer, user } from './steps';

/** The decision-log step alone: what one decision line holds, written through a recording logger. */
interface Line {
  readonly level: string;
  readonly message: string;
  readonly fields: LogFields;
}
function recorder() {
  const lines: Line[] = [];
  const at = (level: string) => (message: string, fields?: LogFields) => void lines.push({ level, message, fields: JSON.parse(JSON.stringify(fields)) });
  return { lines, logger: { info: at('INFO'), warn: at('WARN'), error: at('ERROR') } };
}
const NOW = Date.UTC(2030, 0, 1);
const EVENT = { requestContext: { requestId: 'req-1' }, httpMethod: 'POST', resource: '/v1/items/{id}' };
const ANSWER = { policyDocument: { Version: '2012-10-17' as const, Statement: [] }, allowsAny: true, here: 'Allow' as const };

function decision(steps: (log: DecisionLog) => void) {
  const r = recorder();
  const log = new DecisionLog(r.logger, () => NOW, EVENT);
  steps(log);
  expect(r.lines).toHaveLength(1);
  return r.lines[0]!;
}

describe('decision log: the line', () => {
  it('writes one line per decision: request, kind, principal, decision, reason, latency and the EMF data point, in that order', () => {
    const line = decision((log) => {
      log.credential({ kind: 'jwt', token: 'x.y.z', source: 'header' });
      log.principal(user({ tenantId: 'acme' }));
      log.answer(ANSWER);
    });

    expect(line.message).toBe('decision');
    expect(line.level).toBe('INFO');
    expect(Object.keys(line.fields)).toEqual([
      'requestId', 'method', 'resource', 'kind', 'issuer', 'principalId', 'tenantId',
      'decision', 'reason', 'latencyMs', '_aws', 'Decisions', 'DecisionLatency',
    ]);
    expect(line.fields).toMatchObject({
      requestId: 'req-1', method: 'POST', resource: '/v1/items/{id}', kind: 'user', issuer: 'supabase', principalId: 'user-1',
      tenantId: 'acme', decision: 'allow', reason: 'ALLOWED', Decisions: 1,
    });
    expect(line.fields.DecisionLatency).toBe(line.fields.latencyMs);
  });

  it('carries the EMF directive for the decision metrics, timestamped by the authorizer clock', () => {
    const line = decision((log) => log.answer(ANSWER));

    expect(line.fields._aws).toEqual({
      Timestamp: NOW,
      CloudWatchMetrics: [
        {
          Namespace: 'Gatehouse',
          Dimensions: [['decision'], ['decision', 'kind'], ['reason']],
          Metrics: [{ Name: 'Decisions', Unit: 'Count' }, { Name: 'DecisionLatency', Unit: 'Milliseconds' }],
        },
      ],
    });
  });

  it('writes the same directive into a JSON line as into a recorded one', () => {
    const written: string[] = [];
    new DecisionLog(jsonLogger('test', (l) => void written.push(l)), () => NOW, EVENT).answer(ANSWER);

    expect(JSON.parse(written[0]!)._aws.Timestamp).toBe(NOW);
  });

  it("logs kind 'none' when the request was refused before its credential was classified", () => {
    const line = decision((log) => log.refusal('unauthorized', new AuthError('CREDENTIAL_MISSING')));

    expect(line.fields).toMatchObject({ kind: 'none', decision: 'unauthorized', reason: 'CREDENTIAL_MISSING' });
  });

});

describe('decision log: what it records', () => {
  it('logs a JWT from a cookie as a user with source cookie', () => {
    const line = decision((log) => {
      log.credential({ kind: 'jwt', token: 'x.y.z', source: 'cookie' });
      log.refusal('deny', new AuthError('CSRF_TOKEN_MISSING', { header: false, cookie: true }));
    });

    expect(line.fields).toMatchObject({ kind: 'user', source: 'cookie', decision: 'deny', reason: 'CSRF_TOKEN_MISSING', header: false, cookie: true });
  });

  it.each([
    ['an API key', apiKey({ keyId: 'key_9', tenantId: 'acme' }), { principalId: 'key_9', keyId: 'key_9', tenantId: 'acme' }],
    ['a service', service(), { principalId: 'service:billing', service: 'billing' }],
    ['a signer', signer(), { principalId: 'signer:stripe-relay', signer: 'stripe-relay' }],
  ])('names %s by its ids only', (_, principal, expected) => {
    const line = decision((log) => {
      log.principal(principal);
      log.answer(ANSWER);
    });

    expect(line.fields).toMatchObject(expected);
    expect(JSON.stringify(line.fields)).not.toContain('scopes');
  });

  it('records the tenant membership mode gave the user, in place of the one the token claimed', () => {
    const line = decision((log) => {
      log.principal(user({ tenantId: 'from-token' }));
      log.principal(user({ tenantId: 'tenant-a' }));
      log.answer(ANSWER);
    });

    expect(line.fields.tenantId).toBe('tenant-a');
  });

  it('logs NO_ROUTE_PERMITTED when the principal may call no route, ROUTE_NOT_PERMITTED when not this one', () => {
    expect(decision((log) => log.answer({ ...ANSWER, allowsAny: false, here: 'Deny' })).fields).toMatchObject({ decision: 'deny', reason: 'NO_ROUTE_PERMITTED' });
    expect(decision((log) => log.answer({ ...ANSWER, here: 'Deny' })).fields).toMatchObject({ decision: 'deny', reason: 'ROUTE_NOT_PERMITTED' });
  });

  it("logs an 'error' decision at ERROR with the dependency error's name and code, never its message", () => {
    const cause = Object.assign(new Error('secret value abc123 leaked in message'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
    const line = decision((log) => log.refusal('error', new AuthError('APIKEY_STORE_UNAVAILABLE', undefined, { cause })));

    expect(line.level).toBe('ERROR');
    expect(line.fields).toMatchObject({ decision: 'error', reason: 'APIKEY_STORE_UNAVAILABLE', causeName: 'ThrottlingException' });
    expect(JSON.stringify(line.fields)).not.toContain('abc123');
  });
});
