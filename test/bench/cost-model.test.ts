/**
 * The cost section's arithmetic and its readings of the repository (bench/cost-model.ts, bench/cost-logs.ts): how
 * Lambda bills a duration, request units, the dated prices file, and the stage's access-log format read from
 * lib/gatehouse-api.ts. The figures themselves come from `npm run bench -- --only cost`.
 */
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { REST_ACCESS_LOG_FIELDS } from '../../contract/access-log';
import { accessLogRenderer, platformLineBytes, RENDERED_VARIABLES } from '../../bench/cost-logs';
import type { MixCounts, RequestCounts } from '../../bench/cost-mix';
import { ONE_VCPU_MB, billedMs, cpuSlowdown, durationAt, gbSecondsUsd, loadPrices, requestUnits, validOnly } from '../../bench/cost-model';

const ROOT = path.resolve(__dirname, '../..');

describe('bench cost model', () => {
  it('bills a duration rounded up to the next millisecond, at least 1 ms', () => {
    expect([billedMs(0.04), billedMs(1), billedMs(1.0001), billedMs(12.3)]).toEqual([1, 1, 2, 13]);
  });

  it('scales CPU time by 1769/M below one vCPU and not above it', () => {
    expect(cpuSlowdown(ONE_VCPU_MB)).toBe(1);
    expect(cpuSlowdown(4096)).toBe(1);
    expect(cpuSlowdown(128)).toBeCloseTo(1769 / 128, 10);
    // Only the CPU part scales; waiting on AWS does not.
    expect(durationAt(512, 2, 5)).toBeCloseTo(2 * (1769 / 512) + 5, 10);
  });

  it('prices GB-seconds at the configured memory', () => {
    const prices = loadPrices(ROOT);
    expect(gbSecondsUsd(prices, 1024, 1000)).toBeCloseTo(prices.lambdaGbSecond, 15);
    expect(gbSecondsUsd(prices, 512, 2)).toBeCloseTo(0.001 * prices.lambdaGbSecond, 15);
  });

  it('counts half a read unit for an eventually consistent read, one for a consistent read or a write, none for other services', () => {
    const units = requestUnits([
      { service: 'dynamodb', command: 'GetItemCommand' },
      { service: 'dynamodb', command: 'GetItemCommand', consistentRead: true },
      { service: 'dynamodb', command: 'UpdateItemCommand' },
      { service: 'secretsmanager', command: 'GetSecretValueCommand' },
    ]);
    expect(units).toEqual({ reads: 1.5, writes: 1 });
  });
});

describe('bench cost split by credential', () => {
  // Counts of a run of three requests: 0 (warm-up, not counted), 1 a valid API key, 2 a wrong service secret whose
  // invocation re-read the secret; an untagged command too.
  const request = (kind: RequestCounts['kind'], status: number, authorizerLogBytes: number, handlerLogBytes: number): RequestCounts => ({
    kind,
    status,
    authorizerLogBytes,
    authorizerLines: authorizerLogBytes ? 1 : 0,
    handlerLogBytes,
    handlerLines: handlerLogBytes ? 1 : 0,
    accessLogBytes: 250 + status,
  });
  const counts: MixCounts = {
    warmup: 1,
    requests: 2,
    badRequests: 1,
    simulatedSeconds: 0.02,
    wallSeconds: 1,
    ttlSeconds: 300,
    statuses: { 200: 1, 401: 1 },
    handlerRuns: [{ kind: 'API key', ms: 3, limiterMs: 2, limiterCalls: 1 }],
    invocations: [
      { kind: 'API key', ms: 9, ioMs: 7 },
      { kind: 'wrong service secret', ms: 12, ioMs: 10 },
    ],
    authorizerCalls: [
      { service: 'dynamodb', command: 'GetItemCommand', tag: 0 },
      { service: 'dynamodb', command: 'GetItemCommand', tag: 1 },
      { service: 'secretsmanager', command: 'GetSecretValueCommand', tag: 2 },
      { service: 'secretsmanager', command: 'GetSecretValueCommand', tag: undefined },
    ],
    limiterCalls: [{ service: 'dynamodb', command: 'UpdateItemCommand', tag: 1 }],
    handlerCalls: [],
    logBytes: { authorizer: 700, handlers: 240, authorizerLines: 2, handlerLines: 1 },
    accessLogBytes: 450 + 651,
    jwksFetches: 0,
    kinds: ['JWT ES256', 'API key', 'wrong service secret'],
    perRequest: [request('API key', 200, 300, 240), request('wrong service secret', 401, 400, 0)],
  };

  it("charges nothing a bad credential caused to valid traffic: its invocation, its Secrets Manager re-read, its lines", () => {
    const valid = validOnly(counts, ['wrong service secret', 'garbage']);
    expect({ requests: valid.requests, badRequests: valid.badRequests, statuses: valid.statuses }).toEqual({ requests: 1, badRequests: 0, statuses: { 200: 1 } });
    expect(valid.invocations.map((i) => i.kind)).toEqual(['API key']);
    // The warm-up's GetItem (tag 0, a valid kind) stays, as does a command no request is known for.
    expect(valid.authorizerCalls.map((c) => c.tag)).toEqual([0, 1, undefined]);
    expect(valid.limiterCalls).toHaveLength(1);
    expect(valid.handlerRuns).toHaveLength(1);
    expect(valid.logBytes).toEqual({ authorizer: 300, handlers: 240, authorizerLines: 1, handlerLines: 1 });
    expect(valid.accessLogBytes).toBe(450);
  });

  it('keeps every count when no kind is bad', () => {
    const all = validOnly(counts, []);
    expect({ ...all, perRequest: counts.perRequest }).toEqual(counts);
  });
});

describe('bench prices file', () => {
  const doc = JSON.parse(readFileSync(path.join(ROOT, 'bench/prices.json'), 'utf8')) as { checked: string; prices: Record<string, { usd: number; status: string; sources: string[] }> };

  it('dates the prices and gives every one a status and an https source', () => {
    expect(doc.checked).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    for (const [name, p] of Object.entries(doc.prices)) {
      expect({ name, usd: typeof p.usd, status: p.status.length > 0 }).toEqual({ name, usd: 'number', status: true });
      expect(p.sources.length).toBeGreaterThan(0);
      for (const url of p.sources) expect(url).toMatch(/^https:\/\//);
    }
  });

  it('reads the per-unit prices the cost section uses', () => {
    const prices = loadPrices(ROOT);
    expect(prices.rest * 1e6).toBeCloseTo(doc.prices.apiGatewayRestPerMillion!.usd, 10);
    expect(prices.secretsCall * 1e4).toBeCloseTo(doc.prices.secretsManagerPer10kCalls!.usd, 10);
    expect(prices.logsPerByte * 1024 ** 3).toBeCloseTo(doc.prices.cloudWatchLogsIngestionPerGb!.usd, 10);
  });
});

describe('bench log lines', () => {
  it('knows every variable of the access-log format the REST stage is deployed with', () => {
    const fields: Record<string, string> = REST_ACCESS_LOG_FIELDS;
    expect(Object.keys(fields)).toEqual(expect.arrayContaining(['requestId', 'status']));
    expect(Object.values(fields).filter((v) => !RENDERED_VARIABLES.includes(v))).toEqual([]);
  });

  it('renders one JSON line per request with the request values', () => {
    const render = accessLogRenderer({ status: '$context.status', method: '$context.httpMethod', tenantId: '$context.authorizer.tenantId' });
    const request = { kind: 'API key', event: { httpMethod: 'GET', resource: '/v1/me' } } as unknown as Parameters<typeof render>[0]['request'];
    const line = render({ request, status: 200, latencyMs: 3, authorizerLatency: undefined, body: { tenantId: 'tenant-1' } });
    expect(line.endsWith('\n')).toBe(true);
    expect(JSON.parse(line)).toEqual({ status: '200', method: 'GET', tenantId: 'tenant-1' });
  });

  it('counts the Init Duration field only on a cold start', () => {
    expect(platformLineBytes(1.5, 1024, 120)).toBeGreaterThan(platformLineBytes(1.5, 1024));
  });
});
