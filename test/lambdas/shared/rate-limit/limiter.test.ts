/**
 * The GCRA limiter against the emulator's DynamoDB wire API: limits, Retry-After, isolation between tenants, real
 * concurrent conditional writes, the monthly quota and the number of round trips.
 */
import { DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { millisNumberToMicros } from '../../../../lambdas/shared/rate-limit/gcra';
import {
  type RateLimitDecision,
  type RateLimitPolicy,
  createRateLimiter,
  monthlyQuotaItemKey,
  rateLimitItemKey,
} from '../../../../lambdas/shared/rate-limit/limiter';
import { TTL_ATTRIBUTE } from '../../../../contract/table';
import { countingClients } from '../../../support/fixture';
import { rateLimitTable, readBucket, serializingProxy, settableClock, tenant } from './support';

const DEFAULT: RateLimitPolicy = { requestsPerMinute: 100, burst: 200 };

let tableName: string;
let client: DynamoDBClient;

beforeAll(async () => {
  ({ tableName, client } = await rateLimitTable());
});
afterAll(() => client.destroy());

const allowedCount = (ds: readonly RateLimitDecision[]) => ds.filter((d) => d.allowed).length;

describe('the emulator', () => {
  it('returns the old item on a failed condition (ReturnValuesOnConditionCheckFailure: ALL_OLD), as DynamoDB does', async () => {
    // Prepare
    const Key = { pk: { S: `PROBE#${tenant()}` }, sk: { S: 'BUCKET' } };
    await client.send(new PutItemCommand({ TableName: tableName, Item: { ...Key, tat: { N: '1700000000000.5' } } }));

    // Act
    const err = await client
      .send(
        new UpdateItemCommand({
          TableName: tableName,
          Key,
          UpdateExpression: 'SET tat = tat + :i',
          ConditionExpression: 'tat < :zero',
          ExpressionAttributeValues: { ':i': { N: '600' }, ':zero': { N: '0' } },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      )
      .catch((e: unknown) => e as { name: string; Item?: unknown });

    // Assert: the limiter's single-round-trip denial depends on this.
    expect(err).toMatchObject({ name: 'ConditionalCheckFailedException', Item: { ...Key, tat: { N: '1700000000000.5' } } });
  });
});

// Hundreds of sequential round trips to the emulator: seconds on a loaded 2-core machine. The tests run on a settable
// clock, so a slow emulator changes no decision, only the wall time.
jest.setTimeout(30_000);

describe('createRateLimiter', () => {
  it('admits at most the burst of 250 requests sent within half a second, denies the rest with a Retry-After, and admits again after it', async () => {
    // Prepare: the default tier (100/min, bursts to 200); 250 requests 2 ms apart.
    const clock = settableClock();
    const limiter = createRateLimiter({ dynamodb: client, tableName, now: clock.now });
    const t = tenant('acme');

    // Act
    const decisions: RateLimitDecision[] = [];
    for (let i = 0; i < 250; i++) {
      clock.set(clock.start + 2 * i);
      decisions.push(await limiter.check(t, DEFAULT));
    }

    // Assert: exactly the burst (500 ms is less than one 600 ms interval, so nothing has dripped back in).
    expect(allowedCount(decisions)).toBe(200);
    expect(decisions.slice(0, 200).every((d) => d.allowed)).toBe(true);
    const denials = decisions.slice(200);
    expect(denials.every((d) => !d.allowed && d.remaining === 0 && Number.isInteger(d.retryAfterSeconds) && d.retryAfterSeconds! >= 1)).toBe(true);
    // The last: tat = start + 120 s; admitted again at tat - 199 * 600 ms = start + 600 ms; it is start + 498 ms.
    expect(denials[denials.length - 1]).toEqual({ allowed: false, limit: 200, remaining: 0, resetSeconds: 120, retryAfterSeconds: 1, window: 'minute' });

    // Act: honour the Retry-After.
    clock.advance(denials[denials.length - 1]!.retryAfterSeconds! * 1000);
    const after = await limiter.check(t, DEFAULT);

    // Assert
    expect(after.allowed).toBe(true);
  });

  it('does not limit a second tenant while the first is at its limit', async () => {
    // Prepare
    const clock = settableClock();
    const limiter = createRateLimiter({ dynamodb: client, tableName, now: clock.now });
    const [busy, other] = [tenant('busy'), tenant('other')];
    for (let i = 0; i < 200; i++) await limiter.check(busy, DEFAULT);

    // Act
    const busyAgain = await limiter.check(busy, DEFAULT);
    const others = await Promise.all(Array.from({ length: 20 }, () => limiter.check(other, DEFAULT)));

    // Assert
    expect(busyAgain.allowed).toBe(false);
    expect(allowedCount(others)).toBe(20);
  });

  it("keeps a bucket per tenant id exactly: a provider's org id at its limit does not limit the same id in another case", async () => {
    // Prepare: org_<ulid>-style ids (capitals and `_`), made unique per run.
    const clock = settableClock();
    const limiter = createRateLimiter({ dynamodb: client, tableName, now: clock.now });
    const busy = `org_${tenant('BUSY').toUpperCase()}`;
    const lower = busy.toLowerCase();
    for (let i = 0; i < 200; i++) await limiter.check(busy, DEFAULT);

    // Act
    const busyAgain = await limiter.check(busy, DEFAULT);
    const others = await Promise.all(Array.from({ length: 20 }, () => limiter.check(lower, DEFAULT)));

    // Assert: two items, keyed RATE#<id> exactly as given.
    expect(busyAgain.allowed).toBe(false);
    expect(allowedCount(others)).toBe(20);
    expect(rateLimitItemKey(busy).pk).toBe(`RATE#${busy}`);
    expect(await readBucket(client, tableName, busy)).toBeDefined();
    expect(await readBucket(client, tableName, lower)).toBeDefined();
  });

  it('admits exactly the burst under 20 concurrent clients on the exact path (leases of 1), and tat advanced once per admission', async () => {
    // Prepare: 20 workers (own client and limiter each, like 20 Lambda instances) x 15 requests, one instant, on a
    // cold bucket (so the first writes race to create it). The emulator applies each call whole (see serializingProxy).
    // maxLease 1: every token is leased by the request that spends it (leases of many: lease.test.ts).
    const clock = settableClock();
    const t = tenant('crowd');
    const proxy = await serializingProxy();
    const workers = Array.from({ length: 20 }, () => {
      const dynamodb = new DynamoDBClient({ maxAttempts: 1, endpoint: proxy.url });
      return { dynamodb, limiter: createRateLimiter({ dynamodb, tableName, now: clock.now, maxLease: 1 }) };
    });

    // Act
    let results: RateLimitDecision[][];
    try {
      results = await Promise.all(
        workers.map(async ({ limiter }) => {
          const mine: RateLimitDecision[] = [];
          for (let i = 0; i < 15; i++) mine.push(await limiter.check(t, DEFAULT));
          return mine;
        }),
      );
    } finally {
      for (const w of workers) w.dynamodb.destroy();
      await proxy.close();
    }

    // Assert: 300 attempts, exactly the burst of 200 admitted, and the bucket moved by exactly 200 intervals of 600 ms.
    const all = results.flat();
    expect(all).toHaveLength(300);
    expect(allowedCount(all)).toBe(200);
    expect(all.filter((d) => !d.allowed)).toHaveLength(100);
    const item = await readBucket(client, tableName, t);
    expect(Number(item?.tat?.N)).toBe(clock.start + 200 * 600);
    // Each admission made 1 to 3 calls; a denial made at most 1 (none once its worker knew the bucket empty).
    expect(proxy.requests()).toBeGreaterThanOrEqual(200);
    expect(proxy.requests()).toBeLessThanOrEqual(900);
  });

  it('stores tat in milliseconds and a TTL (seconds) past the moment the bucket is full again', async () => {
    // Prepare: leases of 1 (two requests at one instant would otherwise lease 1, then 2).
    const clock = settableClock();
    const limiter = createRateLimiter({ dynamodb: client, tableName, now: clock.now, maxLease: 1 });
    const t = tenant();

    // Act
    await limiter.check(t, DEFAULT);
    await limiter.check(t, DEFAULT);

    // Assert
    const item = await readBucket(client, tableName, t);
    expect(item).toMatchObject({ ...keyAttrs(rateLimitItemKey(t)), tat: { N: String(clock.start + 1200) } });
    const ttl = Number(item?.[TTL_ATTRIBUTE]?.N);
    expect(ttl).toBeGreaterThanOrEqual(Math.ceil((clock.start + 1200) / 1000));
    // Not much later either: idle buckets are meant to disappear (here: within the burst window plus the margin).
    expect(ttl).toBeLessThanOrEqual(Math.ceil((clock.start + 120_000) / 1000) + 300);
  });

  it('keeps exact decimal times for a rate that does not divide a minute (interval rounded up to a microsecond)', async () => {
    // Prepare: 7/min -> 8571.429 ms.
    const clock = settableClock();
    const limiter = createRateLimiter({ dynamodb: client, tableName, now: clock.now });
    const t = tenant();
    const policy = { requestsPerMinute: 7, burst: 3 };

    // Act
    const ds = [await limiter.check(t, policy), await limiter.check(t, policy), await limiter.check(t, policy), await limiter.check(t, policy)];

    // Assert
    expect(ds.map((d) => d.allowed)).toEqual([true, true, true, false]);
    expect(ds[3]).toMatchObject({ remaining: 0, resetSeconds: 26, retryAfterSeconds: 9 });
    expect(millisNumberToMicros((await readBucket(client, tableName, t))!.tat!.N!)).toBe((clock.start + 25714) * 1000 + 287);
  });

  it('resets an idle bucket to now + one interval (capacity does not pile up beyond the burst)', async () => {
    // Prepare: one request, then an hour of silence.
    const clock = settableClock();
    const limiter = createRateLimiter({ dynamodb: client, tableName, now: clock.now });
    const t = tenant();
    const policy = { requestsPerMinute: 60, burst: 5 };
    await limiter.check(t, policy);
    clock.advance(3_600_000);

    // Act
    const ds: RateLimitDecision[] = [];
    for (let i = 0; i < 8; i++) ds.push(await limiter.check(t, policy));

    // Assert
    expect(allowedCount(ds)).toBe(5);
    expect((await readBucket(client, tableName, t))?.tat?.N).toBe(String(clock.now() + 5000));
  });

  it('treats a bucket item without tat as empty, and refuses one whose tat is not a time', async () => {
    // Prepare (a string tat would do too on DynamoDB, but moto 5.2.5 answers HTTP 500 to comparing it with a number).
    const clock = settableClock();
    const limiter = createRateLimiter({ dynamodb: client, tableName, now: clock.now });
    const [bare, broken] = [tenant('bare'), tenant('broken')];
    await client.send(new PutItemCommand({ TableName: tableName, Item: { ...keyAttrs(rateLimitItemKey(bare)), note: { S: 'hand-made' } } }));
    await client.send(new PutItemCommand({ TableName: tableName, Item: { ...keyAttrs(rateLimitItemKey(broken)), tat: { N: '-5' } } }));

    // Act / Assert
    await expect(limiter.check(bare, DEFAULT)).resolves.toMatchObject({ allowed: true, remaining: 199 });
    await expect(limiter.check(broken, DEFAULT)).rejects.toThrow('no numeric tat');
  });

  it('rejects when the table does not exist (the middleware turns that into fail open or closed)', async () => {
    const limiter = createRateLimiter({ dynamodb: client, tableName: `${tableName}-missing` });
    await expect(limiter.check(tenant(), DEFAULT)).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  describe('monthly quota', () => {
    it('counts admitted requests per calendar month (UTC) and denies past the quota until the month ends', async () => {
      // Prepare: 3 a month; the clock 10 s before the end of November (UTC).
      const clock = settableClock(Date.UTC(2026, 11, 1) - 10_000);
      const limiter = createRateLimiter({ dynamodb: client, tableName, now: clock.now });
      const t = tenant('quota');
      const policy = { requestsPerMinute: 600, burst: 10, monthlyQuota: 3 };

      // Act
      const ds: RateLimitDecision[] = [];
      for (let i = 0; i < 5; i++) ds.push(await limiter.check(t, policy));
      clock.advance(10_000);
      const december = await limiter.check(t, policy);

      // Assert
      expect(ds.map((d) => d.allowed)).toEqual([true, true, true, false, false]);
      expect(ds[3]).toEqual({ allowed: false, limit: 3, remaining: 0, resetSeconds: 10, retryAfterSeconds: 10, window: 'month' });
      expect(december.allowed).toBe(true);
      const count = async (month: string) => {
        const k = monthlyQuotaItemKey(t, month);
        const out = await client.send(new GetItemCommand({ TableName: tableName, Key: keyAttrs(k), ConsistentRead: true }));
        return { count: out.Item?.count?.N, ttl: Number(out.Item?.[TTL_ATTRIBUTE]?.N) };
      };
      expect(await count('2026-11')).toEqual({ count: '3', ttl: Date.UTC(2026, 11, 1) / 1000 + 35 * 86400 });
      expect((await count('2026-12')).count).toBe('1');
    });
  });

  describe('round trips', () => {
    let clients: ReturnType<typeof countingClients>;
    beforeAll(() => {
      clients = countingClients();
    });
    afterAll(() => clients.dynamodb.destroy());

    it('on the exact path (leases of 1): one UpdateItem per admitted request, none for a denial while the known tat says the bucket is empty', async () => {
      // Prepare: the first request of a cold limiter finds no bucket (busy write fails, then the idle write).
      const clock = settableClock();
      const limiter = createRateLimiter({ dynamodb: clients.dynamodb, tableName, now: clock.now, maxLease: 1 });
      const t = tenant();
      await limiter.check(t, DEFAULT);
      expect(clients.calls).toEqual(['UpdateItemCommand', 'UpdateItemCommand']);
      clients.reset();

      // Act: 199 more admitted (busy bucket), then 30 denied.
      const admitted: RateLimitDecision[] = [];
      for (let i = 0; i < 199; i++) admitted.push(await limiter.check(t, DEFAULT));
      const admittedCalls = [...clients.calls];
      clients.reset();
      const denied: RateLimitDecision[] = [];
      for (let i = 0; i < 30; i++) denied.push(await limiter.check(t, DEFAULT));

      // Assert: the denials are exact (tat = start + 120 s: retry at start + 600 ms), from the tat this instance wrote.
      expect(allowedCount(admitted)).toBe(199);
      expect(admittedCalls).toEqual(Array(199).fill('UpdateItemCommand'));
      expect(denied.every((d) => !d.allowed)).toBe(true);
      expect(denied[29]).toEqual({ allowed: false, limit: 200, remaining: 0, resetSeconds: 120, retryAfterSeconds: 1, window: 'minute' });
      expect(clients.calls).toEqual([]);

      // Act / Assert: once the first token is due, a write again.
      clock.advance(600);
      expect(await limiter.check(t, DEFAULT)).toMatchObject({ allowed: true, remaining: 0 });
      expect(clients.calls).toEqual(['UpdateItemCommand']);
    });

    it('on a busy bucket: one UpdateItem per lease of up to b/8 requests, none for denials', async () => {
      // Prepare: 200 requests at one instant on the default tier (burst 200, so leases of at most 25).
      const clock = settableClock();
      const limiter = createRateLimiter({ dynamodb: clients.dynamodb, tableName, now: clock.now });
      const t = tenant();

      // Act
      const ds: RateLimitDecision[] = [];
      for (let i = 0; i < 230; i++) ds.push(await limiter.check(t, DEFAULT));

      // Assert: exactly the burst admitted, in at least 200/25 leases and far fewer writes than requests.
      expect(allowedCount(ds)).toBe(200);
      expect(ds.slice(200).every((d) => !d.allowed)).toBe(true);
      expect(clients.count('UpdateItemCommand')).toBeGreaterThanOrEqual(8);
      expect(clients.count('UpdateItemCommand')).toBeLessThan(200 / 5);
      expect(Number((await readBucket(client, tableName, t))?.tat?.N)).toBe(clock.start + 200 * 600);
    });

    it('makes one UpdateItem per request on an idle bucket this instance has seen before', async () => {
      // Prepare: requests 5 s apart on a 100/min tier: the bucket is idle (empty) every time.
      const clock = settableClock();
      const limiter = createRateLimiter({ dynamodb: clients.dynamodb, tableName, now: clock.now });
      const t = tenant();
      await limiter.check(t, DEFAULT);
      clients.reset();

      // Act
      const ds: RateLimitDecision[] = [];
      for (let i = 0; i < 10; i++) {
        clock.advance(5000);
        ds.push(await limiter.check(t, DEFAULT));
      }

      // Assert
      expect(ds.every((d) => d.allowed && d.remaining === 199)).toBe(true);
      expect(clients.calls).toEqual(Array(10).fill('UpdateItemCommand'));
    });

    it('recovers from a stale memory (another instance used the bucket meanwhile): one call to deny, two to admit', async () => {
      // Prepare: instance A saw the bucket long ago; instance B has used part of it, then all of it.
      const clock = settableClock();
      const [t1, t2] = [tenant(), tenant()];
      const a = createRateLimiter({ dynamodb: clients.dynamodb, tableName, now: clock.now, maxLease: 1 });
      const b = createRateLimiter({ dynamodb: client, tableName, now: clock.now, maxLease: 1 });
      await a.check(t1, DEFAULT);
      await a.check(t2, DEFAULT);
      clock.advance(600_000);
      for (let i = 0; i < 100; i++) await b.check(t1, DEFAULT);
      for (let i = 0; i < 200; i++) await b.check(t2, DEFAULT);

      // Act / Assert: A tries the idle write; its failure returns the stored tat.
      clients.reset();
      expect(await a.check(t1, DEFAULT)).toMatchObject({ allowed: true, remaining: 99 });
      expect(clients.calls).toEqual(['UpdateItemCommand', 'UpdateItemCommand']);
      clients.reset();
      expect(await a.check(t2, DEFAULT)).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
      expect(clients.calls).toEqual(['UpdateItemCommand']);
    });

    it('makes a second call only for a tier with a monthly quota (a quiet tenant: one more write per request)', async () => {
      // Prepare: requests 5 s apart, so the bucket is idle and the leases are of 1.
      const clock = settableClock();
      const limiter = createRateLimiter({ dynamodb: clients.dynamodb, tableName, now: clock.now });
      const t = tenant();
      const policy = { ...DEFAULT, monthlyQuota: 1000 };
      await limiter.check(t, policy);
      clients.reset();

      // Act
      for (let i = 0; i < 5; i++) {
        clock.advance(5000);
        await limiter.check(t, policy);
      }

      // Assert
      expect(clients.calls).toEqual(Array(10).fill('UpdateItemCommand'));
    });

  });
});

function keyAttrs(k: { pk: string; sk: string }) {
  return { pk: { S: k.pk }, sk: { S: k.sk } };
}
