import type { AuthorizerConfigInput } from '../../contract/config';
import { evaluatePolicy, type PolicyDocument } from '../../lambdas/authorizer/policy';
import { API_ARN_PREFIX, type Fixture, authorizerEvent, createFixture } from '../support/fixture';
import { type FaultServer, hangingServer, movableClock, switchableSecretsManager } from '../support/faults';

/**
 * Bounded waits (issue 18): a dependency that hangs costs one bounded wait, then a cooldown during which decisions
 * answer at once from the last good copy (within its bound) or fail closed. The hangs are real (a loopback server
 * that accepts connections and never answers, behind the deployed clients' 2 attempts of 1 s); the minutes pass
 * on the authorizer's injected clock.
 */
let fx: Fixture;
let hung: FaultServer;
beforeAll(async () => {
  fx = await createFixture();
  await fx.putTenant({ tenantId: 'acme' });
  hung = await hangingServer();
});
afterAll(async () => {
  await hung.close();
  await fx.close();
});

type Handler = ReturnType<Fixture['authorizer']>;
interface Answer {
  readonly status: 200 | 401 | 403 | 500;
  readonly reason: string | undefined;
  readonly ms: number;
}

async function decide(handler: Handler, headers: Record<string, string>, method = 'GET', path = '/v1/me'): Promise<Answer> {
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
  return { status, reason: line ? String(line.reason) : undefined, ms };
}

const bearer = (token: string, extra: Record<string, string> = {}) => ({ Authorization: `Bearer ${token}`, ...extra });
const outcome = (a: Answer) => ({ status: a.status, reason: a.reason });
const ALLOWED = { status: 200, reason: 'ALLOWED' };
/** Decisions that took longer than a cached one can: they waited on a dependency. */
const waited = (answers: readonly Answer[]) => answers.filter((a) => a.ms > 500).length;

describe('Secrets Manager that hangs', () => {
  const service = (secret = fx.serviceSecret) => bearer(secret, { 'X-Service-Name': fx.serviceName });
  const wrong = () => service('w'.repeat(43));
  const JOBS = ['POST', '/internal/jobs'] as const;
  const supabase = (): Partial<AuthorizerConfigInput> => ({ issuers: [{ type: 'supabase', url: fx.supabaseUrl, hs256SecretId: fx.supabaseSecretId, jwks: false }] });

  it('waits once, then serves the stale copy at once for the cooldown and reads again only when it has passed', async () => {
    const sm = switchableSecretsManager({ deployed: true, downUrl: hung.url });
    const clock = movableClock();
    const authorize = fx.authorizer(supabase(), { secretsManager: sm.client, now: clock.now });
    expect(outcome(await decide(authorize, service(), ...JOBS))).toEqual(ALLOWED);
    sm.setDown(true);
    sm.reset();
    clock.advance(301_000); // past serviceSecrets.cacheTtlSeconds

    const answers: Answer[] = [];
    for (let i = 0; i < 20; i++) answers.push(await decide(authorize, service(), ...JOBS));

    for (const a of answers) expect(outcome(a)).toEqual(ALLOWED);
    expect(waited(answers)).toBeLessThanOrEqual(1);
    const attempts = sm.attempts();
    expect(attempts).toBeGreaterThan(0);
    expect(attempts).toBeLessThanOrEqual(2); // one read: the deployed clients' 2 attempts
    clock.advance(10_000); // past serviceSecrets.failureCooldownSeconds: one more read is due
    expect(outcome(await decide(authorize, service(), ...JOBS))).toEqual(ALLOWED);
    expect(sm.attempts()).toBeGreaterThan(attempts);
    sm.client.destroy();
  }, 30_000);

  it('refuses a wrong secret with at most one bounded wait (no forced re-read during the cooldown)', async () => {
    const sm = switchableSecretsManager({ deployed: true, downUrl: hung.url });
    const clock = movableClock();
    const authorize = fx.authorizer({}, { secretsManager: sm.client, now: clock.now });
    expect(outcome(await decide(authorize, service(), ...JOBS))).toEqual(ALLOWED);
    sm.setDown(true);
    clock.advance(301_000);

    const first = await decide(authorize, wrong(), ...JOBS);
    const next = [await decide(authorize, wrong(), ...JOBS), await decide(authorize, service(), ...JOBS)];

    expect(outcome(first)).toEqual({ status: 401, reason: 'SERVICE_SECRET_MISMATCH' });
    expect(first.ms).toBeLessThan(3500); // one read (2 attempts of 1 s), not two
    expect(outcome(next[0]!)).toEqual({ status: 401, reason: 'SERVICE_SECRET_MISMATCH' });
    expect(outcome(next[1]!)).toEqual(ALLOWED);
    expect(waited(next)).toBe(0);
    sm.client.destroy();
  }, 30_000);

  it('fails closed at once during the cooldown once the stale copy is past maxStaleSeconds', async () => {
    const sm = switchableSecretsManager({ deployed: true, downUrl: hung.url });
    const clock = movableClock();
    const authorize = fx.authorizer({}, { secretsManager: sm.client, now: clock.now });
    expect(outcome(await decide(authorize, service(), ...JOBS))).toEqual(ALLOWED);
    sm.setDown(true);
    clock.advance(3_601_000); // past maxStaleSeconds (3600)

    const answers: Answer[] = [];
    for (let i = 0; i < 10; i++) answers.push(await decide(authorize, i % 2 ? wrong() : service(), ...JOBS));

    for (const a of answers) expect(outcome(a)).toEqual({ status: 500, reason: 'SERVICE_SECRET_UNAVAILABLE' });
    expect(waited(answers)).toBeLessThanOrEqual(1);
    sm.client.destroy();
  }, 30_000);
});
