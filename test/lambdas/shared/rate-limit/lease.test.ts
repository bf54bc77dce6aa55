/**
 * The leasing limiter against the emulator: the bound under many concurrent containers, lease expiry, writes per
 * admitted request for a busy tenant, and the monthly quota leased in batches. Every clock here is injected.
 */
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { millisNumberToMicros } from '../../../../lambdas/shared/rate-limit/gcra';
import { type RateLimitDecision, createRateLimiter, monthlyQuotaItemKey } from '../../../../lambdas/shared/rate-limit/limiter';
import { throttlingDynamoDbServer } from '../../../support/faults';
import { countingClients } from '../../../support/fixture';
import { rateLimitTable, readBucket, serializingProxy, settableClock, tenant } from './support';

let tableName: string;
let client: DynamoDBClient;
let clients: ReturnType<typeof countingClients>;
beforeAll(async () => {
  ({ tableName, client } = await rateLimitTable());
  clients = countingClients();
});
afterAll(() => {
  client.destroy();
  clients.dynamodb.destroy();
});
beforeEach(() => clients.reset());

jest.setTimeout(60_000);

const allowedCount = (ds: readonly RateLimitDecision[]) => ds.filter((d) => d.allowed).length;
/** Tokens the bucket has handed out since `startMs`, from its stored tat (busy the whole time: no idle reset). */
const leasedSince = async (t: string, startMs: number, intervalMs: number) =>
  Math.round((millisNumberToMicros((await readBucket(client, tableName, t))!.tat!.N!)! / 1000 - startMs) / intervalMs);

describe('leases', () => {
  it('keeps 8 concurrent containers within b + elapsed * r + L * r, and never admits a token the table did not hand out', async () => {
    // Prepare: 600/min (I = 100 ms), bursts of 40 (leases of at most 5); 8 containers (own client and limiter each)
    // x 80 requests through the serializing proxy; a shared clock that every check moves 4 ms on.
    const policy = { requestsPerMinute: 600, burst: 40 };
    const clock = settableClock();
    const t = tenant('crowd');
    const proxy = await serializingProxy();
    const workers = Array.from({ length: 8 }, (_, w) => {
      const dynamodb = new DynamoDBClient({ maxAttempts: 1, endpoint: proxy.url });
      return { dynamodb, limiter: createRateLimiter({ dynamodb, tableName, now: clock.now, random: () => (w + 0.5) / 8 }) };
    });

    // Act
    let results: RateLimitDecision[][];
    try {
      results = await Promise.all(
        workers.map(async ({ limiter }) => {
          const mine: RateLimitDecision[] = [];
          for (let i = 0; i < 80; i++) {
            clock.advance(4);
            mine.push(await limiter.check(t, policy));
          }
          return mine;
        }),
      );
    } finally {
      for (const w of workers) w.dynamodb.destroy();
      await proxy.close();
    }

    // Assert: 640 checks in 2.56 s of clock: at most 40 + 25.6 + 10 admitted; every admission spent a leased token;
    // the table handed out no more than GCRA allows; far fewer writes than requests.
    const elapsedS = (clock.now() - clock.start) / 1000;
    const admitted = allowedCount(results.flat());
    const leased = await leasedSince(t, clock.start, 100);
    expect(results.flat()).toHaveLength(640);
    expect(admitted).toBeLessThanOrEqual(40 + Math.floor(elapsedS * 10) + 1 * 10);
    expect(admitted).toBeLessThanOrEqual(leased);
    expect(leased).toBeLessThanOrEqual(40 + Math.ceil(elapsedS * 10));
    // Unspent leases: at most one lease (b/8 = 5) per container, so the tenant got nearly all it was due.
    expect(admitted).toBeGreaterThanOrEqual(leased - 8 * 5);
    expect(proxy.requests()).toBeLessThan(640 / 2);
  });

  it('drops a lease after L: a container that disappears holding tokens delays the others by at most those tokens, and cannot spend them later', async () => {
    // Prepare: 600/min (I = 100 ms), bursts of 80 (leases of at most 10). Container A sends 30 requests at one instant
    // (its leases grow 1, 2, 5, 10, ...), then goes quiet holding what it did not spend.
    const policy = { requestsPerMinute: 600, burst: 80 };
    const clock = settableClock();
    const t = tenant('expiry');
    const a = createRateLimiter({ dynamodb: clients.dynamodb, tableName, now: clock.now });
    const b = createRateLimiter({ dynamodb: client, tableName, now: clock.now });
    const fromA: RateLimitDecision[] = [];
    for (let i = 0; i < 30; i++) fromA.push(await a.check(t, policy));
    const unspent = (await leasedSince(t, clock.start, 100)) - 30;

    // Act: container B drains the bucket at that instant, then sends one request every 100 ms for 2 s.
    const fromB: RateLimitDecision[] = [];
    let d: RateLimitDecision;
    while ((d = await b.check(t, policy)).allowed) fromB.push(d);
    const drainedBy = fromB.length;
    const later: RateLimitDecision[] = [];
    for (let i = 0; i < 20; i++) {
      clock.advance(100);
      later.push(await b.check(t, policy));
    }

    // Assert: A holds 1 to 10 tokens; B got the rest of the burst and then one request per interval, with the
    // Retry-After of an empty bucket; A's unspent tokens are the whole delay.
    expect(allowedCount(fromA)).toBe(30);
    expect(unspent).toBeGreaterThanOrEqual(1);
    expect(unspent).toBeLessThanOrEqual(10);
    expect(drainedBy).toBe(80 - 30 - unspent);
    expect(d).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
    expect(allowedCount(later)).toBe(20);
    // Admitted in [start, start + 2 s]: b + 2 s * r minus A's unspent tokens, within the bound b + (2 s + L) * r.
    expect(30 + drainedBy + allowedCount(later)).toBe(80 + 20 - unspent);

    // Act / Assert: A comes back 2 s later (past L = 1 s). Its tokens are gone: it must write, and the bucket is
    // empty, so it is denied although it still "held" tokens.
    clients.reset();
    expect(await a.check(t, policy)).toMatchObject({ allowed: false, window: 'minute' });
    expect(clients.calls).toEqual(['UpdateItemCommand']);
  });

  it('spends a lease without a write within L', async () => {
    // Prepare: as above, A holds unspent tokens after 30 requests at one instant.
    const policy = { requestsPerMinute: 600, burst: 80 };
    const clock = settableClock();
    const t = tenant('within');
    const a = createRateLimiter({ dynamodb: clients.dynamodb, tableName, now: clock.now });
    for (let i = 0; i < 30; i++) await a.check(t, policy);
    const unspent = (await leasedSince(t, clock.start, 100)) - 30;
    clients.reset();

    // Act: half a lease TTL later, as many requests as A holds tokens.
    clock.advance(500);
    const ds: RateLimitDecision[] = [];
    for (let i = 0; i < unspent; i++) ds.push(await a.check(t, policy));

    // Assert
    expect(unspent).toBeGreaterThanOrEqual(1);
    expect(allowedCount(ds)).toBe(unspent);
    expect(clients.calls).toEqual([]);
  });

  it('makes at most 0.05 writes per admitted request for a busy tenant at steady state (4 containers, 800 requests/s)', async () => {
    // Prepare: 60,000/min, bursts of 1,000; 4 containers each get a request every 5 ms. One second of warm-up.
    const policy = { requestsPerMinute: 60_000, burst: 1000 };
    const clock = settableClock();
    const t = tenant('busy');
    const containers = Array.from({ length: 4 }, () => createRateLimiter({ dynamodb: clients.dynamodb, tableName, now: clock.now }));
    const round = async () => {
      clock.advance(5);
      const ds: RateLimitDecision[] = [];
      for (const c of containers) ds.push(await c.check(t, policy));
      return ds;
    };
    for (let i = 0; i < 200; i++) await round();
    clients.reset();

    // Act: two more seconds.
    const ds: RateLimitDecision[] = [];
    for (let i = 0; i < 400; i++) ds.push(...(await round()));

    // Assert: every request admitted (800/s under a tier of 1,000/s), writes counted on the wire.
    expect(allowedCount(ds)).toBe(1600);
    expect(clients.calls.every((c) => c === 'UpdateItemCommand')).toBe(true);
    expect(clients.calls.length / 1600).toBeLessThanOrEqual(0.05);
    expect(clients.calls.length).toBeGreaterThanOrEqual(4); // each container leased at least once in 2 s (L = 1 s)
  });

  it('after a throttled lease, fails the tenant\'s checks with the same error and no write for 200 ms, then writes again', async () => {
    // Prepare: a DynamoDB that throttles every request.
    const server = await throttlingDynamoDbServer();
    const dynamodb = new DynamoDBClient({ endpoint: server.url, maxAttempts: 1 });
    const clock = settableClock();
    const limiter = createRateLimiter({ dynamodb, tableName, now: clock.now });
    const t = tenant('throttled');
    const policy = { requestsPerMinute: 600, burst: 80 };

    // Act
    const errors: unknown[] = [];
    const attempt = async () => limiter.check(t, policy).catch((err: unknown) => void errors.push(err));
    try {
      await attempt();
      const first = server.hits();
      for (let i = 0; i < 5; i++) {
        clock.advance(30);
        await attempt();
      }
      const during = server.hits() - first;
      clock.advance(100);
      await attempt();
      const after = server.hits() - first - during;

      // Assert: seven rejections with the table's own error; one write, then none for 200 ms, then a write again.
      expect(errors).toHaveLength(7);
      expect(errors.every((e) => (e as Error).name === 'ProvisionedThroughputExceededException')).toBe(true);
      expect(first).toBe(1);
      expect(during).toBe(0);
      expect(after).toBe(1);
    } finally {
      dynamodb.destroy();
      await server.close();
    }
  });

  it('leases the monthly quota in batches too for a busy tenant, and never counts past the quota', async () => {
    // Prepare: 150 requests at one instant; quota 120 a month.
    const clock = settableClock();
    const limiter = createRateLimiter({ dynamodb: clients.dynamodb, tableName, now: clock.now });
    const t = tenant();
    const policy = { requestsPerMinute: 100, burst: 200, monthlyQuota: 120 };

    // Act
    const ds: RateLimitDecision[] = [];
    for (let i = 0; i < 150; i++) ds.push(await limiter.check(t, policy));

    // Assert: exactly the quota admitted (one container spends all it leased), the month's denial after, and
    // fewer than a third of a write per request for both windows together.
    expect(allowedCount(ds)).toBe(120);
    expect(ds[149]).toMatchObject({ allowed: false, window: 'month', limit: 120 });
    expect(clients.count('UpdateItemCommand')).toBeLessThan(50);
    const k = monthlyQuotaItemKey(t, '2026-11');
    const out = await client.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: k.pk }, sk: { S: k.sk } }, ConsistentRead: true }));
    expect(out.Item?.count?.N).toBe('120');
  });
});
