import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { randomBytes } from 'node:crypto';
import { generateApiKey } from '../../contract/api-key';
import type { AuthorizerConfigInput } from '../../contract/config';
import { type Fixture, createFixture } from '../support/fixture';
import { type Answer, type Handler, decide as decideOn } from '../support/decide';
import { type FaultServer, hangingServer, movableClock, switchableDynamoDb, switchableSecretsManager } from '../support/faults';

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

/** API Gateway's answer for one request, the reason logged for it, and how long the authorizer took. */
const decide = (handler: Handler, headers: Record<string, string>, method?: string, path?: string) => decideOn(fx, handler, headers, method, path);

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

describe('DynamoDB that hangs', () => {
  /** An authorizer on a DynamoDB client that can be switched to the hanging server, its clock, and API keys. */
  async function setup(config: Partial<AuthorizerConfigInput> = {}) {
    const ddb = switchableDynamoDb({ deployed: true, downUrl: hung.url });
    const clock = movableClock();
    const authorize = fx.authorizer(config, { dynamodb: ddb.client, now: clock.now });
    const good = await fx.putApiKey({ tenantId: 'acme' });
    const revoked = await fx.putApiKey({ tenantId: 'acme', status: 'revoked' });
    return { ddb, clock, authorize, good: good.key, revoked: revoked.key };
  }

  it('serves cached keys and tenants stale with one bounded wait: a revoked key and a known miss stay refused', async () => {
    const { ddb, clock, authorize, good, revoked } = await setup();
    const user = await fx.userToken();
    expect(outcome(await decide(authorize, bearer(good)))).toEqual(ALLOWED);
    expect(outcome(await decide(authorize, bearer(revoked)))).toEqual({ status: 401, reason: 'APIKEY_REVOKED' });
    expect(outcome(await decide(authorize, bearer(user)))).toEqual(ALLOWED);
    ddb.setDown(true);
    ddb.reset();
    clock.advance(61_000); // past apiKeys.cacheTtlSeconds and tenants.cacheTtlSeconds (60)

    const answers: Answer[] = [];
    for (let i = 0; i < 30; i++) answers.push(await decide(authorize, bearer([good, revoked, user][i % 3]!)));

    for (let i = 0; i < 30; i++) {
      expect(outcome(answers[i]!)).toEqual(i % 3 === 1 ? { status: 401, reason: 'APIKEY_REVOKED' } : ALLOWED);
    }
    expect(waited(answers)).toBeLessThanOrEqual(1);
    expect(ddb.attempts()).toBeLessThanOrEqual(2);
    // A key never read fails closed at once while the table is known to be down; never Allow.
    const fresh = await decide(authorize, bearer((await fx.putApiKey({ tenantId: 'acme' })).key));
    expect(outcome(fresh)).toEqual({ status: 500, reason: 'APIKEY_STORE_UNAVAILABLE' });
    expect(fresh.ms).toBeLessThan(500);
    ddb.client.destroy();
  }, 30_000);

  it('keeps a cached miss a miss through the outage', async () => {
    const { ddb, clock, authorize } = await setup();
    const missing = generateApiKey('gh', 'live'); // a valid checksum, never stored
    const first = await decide(authorize, bearer(missing));
    ddb.setDown(true);
    clock.advance(11_000); // past apiKeys.negativeCacheTtlSeconds (10)

    const answers = [await decide(authorize, bearer(missing)), await decide(authorize, bearer(missing))];

    for (const a of [first, ...answers]) expect(outcome(a)).toEqual({ status: 401, reason: 'APIKEY_NOT_FOUND' });
    expect(waited(answers)).toBeLessThanOrEqual(1);
    ddb.client.destroy();
  }, 30_000);

  it('fails closed (500) once records are past their TTL plus records.staleIfErrorSeconds, and at once with 0', async () => {
    const dflt = await setup();
    expect(outcome(await decide(dflt.authorize, bearer(dflt.good)))).toEqual(ALLOWED);
    dflt.ddb.setDown(true);
    dflt.clock.advance(361_000); // 60 s TTL + 300 s stale-if-error
    expect(outcome(await decide(dflt.authorize, bearer(dflt.good)))).toEqual({ status: 500, reason: 'APIKEY_STORE_UNAVAILABLE' });
    dflt.ddb.client.destroy();

    const never = await setup({ records: { staleIfErrorSeconds: 0 } });
    expect(outcome(await decide(never.authorize, bearer(never.good)))).toEqual(ALLOWED);
    never.ddb.setDown(true);
    never.clock.advance(61_000);
    const answers = [await decide(never.authorize, bearer(never.good)), await decide(never.authorize, bearer(never.good))];
    for (const a of answers) expect(outcome(a)).toEqual({ status: 500, reason: 'APIKEY_STORE_UNAVAILABLE' });
    expect(waited(answers)).toBeLessThanOrEqual(1);
    never.ddb.client.destroy();
  }, 30_000);

  it('reads the table again once the cooldown has passed, and answers from it when it is back', async () => {
    const { ddb, clock, authorize, good } = await setup();
    expect(outcome(await decide(authorize, bearer(good)))).toEqual(ALLOWED);
    ddb.setDown(true);
    clock.advance(61_000);
    expect(outcome(await decide(authorize, bearer(good)))).toEqual(ALLOWED);
    ddb.setDown(false);
    ddb.reset();

    expect(outcome(await decide(authorize, bearer(good)))).toEqual(ALLOWED);
    expect(ddb.attempts()).toBe(0); // still cooling down: the stale copy, no read
    clock.advance(5_000); // records.failureCooldownSeconds
    expect(outcome(await decide(authorize, bearer(good)))).toEqual(ALLOWED);
    expect(ddb.attempts()).toBeGreaterThan(0);
    ddb.client.destroy();
  }, 30_000);
});

describe('a rotation during a storm of wrong secrets', () => {
  it('picks the new version up within serviceSecrets.versionCheckSeconds, however many wrong secrets arrive', async () => {
    const admin = new SecretsManagerClient({});
    const secretId = `relay-${randomBytes(6).toString('hex')}`;
    const before = randomBytes(32).toString('base64url');
    const after = randomBytes(32).toString('base64url');
    await admin.send(new CreateSecretCommand({ Name: secretId, SecretString: before }));
    const sm = switchableSecretsManager();
    const clock = movableClock();
    const authorize = fx.authorizer({ services: [{ name: 'relay', secretId }] }, { secretsManager: sm.client, now: clock.now });
    const relay = (secret: string) => bearer(secret, { 'X-Service-Name': 'relay' });
    const legit: { second: number; answer: Answer }[] = [];
    let rotatedAt = -1;

    // 40 simulated seconds, 20 wrong secrets and one legitimate request each; the rotation at second 10.
    for (let second = 0; second < 40; second++) {
      if (second === 10) {
        await admin.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: after }));
        rotatedAt = second;
      }
      const wrong = await Promise.all(Array.from({ length: 20 }, () => decide(authorize, relay(randomBytes(32).toString('base64url')), 'POST', '/internal/jobs')));
      for (const a of wrong) expect(outcome(a)).toEqual({ status: 401, reason: 'SERVICE_SECRET_MISMATCH' });
      legit.push({ second, answer: await decide(authorize, relay(rotatedAt >= 0 ? after : before), 'POST', '/internal/jobs') });
      clock.advance(1000);
    }

    const refusedAfterRotation = legit.filter((l) => l.second >= rotatedAt && l.answer.status !== 200);
    for (const l of legit.filter((x) => x.second < rotatedAt)) expect(outcome(l.answer)).toEqual(ALLOWED);
    // Without the version check, the forced re-read's 30 s cooldown (kept busy by the storm) refused it until second 30.
    expect(refusedAfterRotation.length).toBeLessThanOrEqual(5); // versionCheckSeconds (5)
    for (const l of refusedAfterRotation) expect(outcome(l.answer)).toEqual({ status: 401, reason: 'SERVICE_SECRET_MISMATCH' });
    // 840 decisions: about one ListSecretVersionIds per 5 s, not one per wrong secret.
    expect(sm.attempts('ListSecretVersionIdsCommand')).toBeLessThanOrEqual(12);
    sm.client.destroy();
    admin.destroy();
  }, 60_000);
});

describe('a flood of forged API keys with valid checksums', () => {
  it('costs at most apiKeys.unknownKeyLookupsPerSecond reads a second, and never refuses a key found before', async () => {
    const ddb = switchableDynamoDb();
    let now = Date.now(); // a clock that stands still unless moved: the budget refills only as the test says
    const clock = { now: () => now, advance: (ms: number) => void (now += ms) };
    const authorize = fx.authorizer({ apiKeys: { prefix: 'gh', unknownKeyLookupsPerSecond: 10 } }, { dynamodb: ddb.client, now: clock.now });
    const { key: good } = await fx.putApiKey({ tenantId: 'acme' });
    expect(outcome(await decide(authorize, bearer(good)))).toEqual(ALLOWED);
    clock.advance(61_000); // the good key's record is past its cache TTL: its next decision reads the table again
    ddb.reset();

    const forged = await Promise.all(Array.from({ length: 1000 }, () => decide(authorize, bearer(generateApiKey('gh', 'live')))));
    const reads = ddb.attempts('GetItemCommand');
    const goodDuringFlood = await decide(authorize, bearer(good));

    for (const a of forged) expect(a.status).toBe(401);
    expect(new Set(forged.map((a) => a.reason))).toEqual(new Set(['APIKEY_NOT_FOUND', 'APIKEY_LOOKUP_BUDGET_EXCEEDED']));
    expect(reads).toBeLessThanOrEqual(10); // per 1,000 forged keys in one second: the budget, not 1,000
    expect(outcome(goodDuringFlood)).toEqual(ALLOWED);
    // The trade-off: a valid key this container never found, while the budget is spent, waits for it to refill.
    const { key: newcomer } = await fx.putApiKey({ tenantId: 'acme' });
    expect(outcome(await decide(authorize, bearer(newcomer)))).toEqual({ status: 401, reason: 'APIKEY_LOOKUP_BUDGET_EXCEEDED' });
    clock.advance(1000);
    expect(outcome(await decide(authorize, bearer(newcomer)))).toEqual(ALLOWED);
    ddb.client.destroy();
  }, 60_000);
});

describe("the issue's fault run: Secrets Manager hangs for a minute, then DynamoDB does", () => {
  it('answers 2,000 decisions in milliseconds after each first timeout, never allows a bad credential, and a wrong secret waits once at most', async () => {
    const sm = switchableSecretsManager({ deployed: true, downUrl: hung.url });
    const ddb = switchableDynamoDb({ deployed: true, downUrl: hung.url });
    let now = Date.now();
    const authorize = fx.authorizer(
      { issuers: [{ type: 'supabase', url: fx.supabaseUrl, hs256SecretId: fx.supabaseSecretId, jwks: false }] },
      { secretsManager: sm.client, dynamodb: ddb.client, now: () => now },
    );
    const iat = Math.floor(now / 1000);
    const user = await fx.userToken({ iat, exp: iat + 7200 });
    const { key } = await fx.putApiKey({ tenantId: 'acme' });
    type Kind = 'service' | 'wrong secret' | 'user' | 'API key' | 'forged key' | 'garbage';
    const requests: Record<Kind, () => [Record<string, string>, string, string]> = {
      service: () => [bearer(fx.serviceSecret, { 'X-Service-Name': fx.serviceName }), 'POST', '/internal/jobs'],
      'wrong secret': () => [bearer(randomBytes(32).toString('base64url'), { 'X-Service-Name': fx.serviceName }), 'POST', '/internal/jobs'],
      user: () => [bearer(user), 'GET', '/v1/me'],
      'API key': () => [bearer(key), 'GET', '/v1/me'],
      'forged key': () => [bearer(generateApiKey('gh', 'live')), 'GET', '/v1/me'],
      garbage: () => [bearer(randomBytes(24).toString('base64url')), 'GET', '/v1/me'],
    };
    const kinds = Object.keys(requests) as Kind[];
    const good = new Set<Kind>(['service', 'user', 'API key']);
    for (const k of good) expect(outcome(await decide(authorize, ...requests[k]()))).toEqual(ALLOWED);

    /** 1,000 decisions, one every 60 ms of the authorizer's clock: a minute. */
    const minute = async () => {
      const answers: { kind: Kind; answer: Answer }[] = [];
      for (let i = 0; i < 1000; i++) {
        const kind = kinds[i % kinds.length]!;
        answers.push({ kind, answer: await decide(authorize, ...requests[kind]()) });
        now += 60;
      }
      return answers;
    };

    now += 301_000; // past every cache TTL (secrets 300 s, records 60 s): the next decisions read again
    sm.setDown(true);
    const hitsBefore = hung.hits();
    const smMinute = await minute();
    const smHits = hung.hits() - hitsBefore;
    sm.setDown(false);
    ddb.setDown(true);
    const ddbMinute = await minute();
    const ddbHits = hung.hits() - hitsBefore - smHits;
    ddb.setDown(false);

    for (const [phase, answers] of [['Secrets Manager', smMinute], ['DynamoDB', ddbMinute]] as const) {
      // Never Allow without a valid credential; the valid ones keep working from the last good copies.
      for (const { kind, answer } of answers) {
        if (good.has(kind)) expect({ phase, kind, ...outcome(answer) }).toEqual({ phase, kind, ...ALLOWED });
        else expect({ phase, kind, allowed: answer.status === 200 }).toEqual({ phase, kind, allowed: false });
      }
      // A wrong secret costs at most one bounded wait (one read: 2 attempts of 1 s), never a read and a re-read.
      for (const { kind, answer } of answers) if (kind === 'wrong secret') expect(answer.ms).toBeLessThan(3500);
    }
    // At most one decision per cooldown window and per source waits for the hang; all the others answer at once.
    // Secrets Manager: 2 secrets (HS256, service), a read due every 10 s (failureCooldownSeconds) for 60 s.
    expect(waited(smMinute.map((a) => a.answer))).toBeLessThanOrEqual(2 * 7);
    expect(smHits).toBeLessThanOrEqual(2 * 7 * 2); // each read: 2 attempts, one connection each
    // DynamoDB: one table, a read due every 5 s (records.failureCooldownSeconds).
    expect(waited(ddbMinute.map((a) => a.answer))).toBeLessThanOrEqual(13);
    expect(ddbHits).toBeLessThanOrEqual(13 * 2);
    sm.client.destroy();
    ddb.client.destroy();
  }, 180_000);
});
