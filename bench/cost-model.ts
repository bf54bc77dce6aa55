/**
 * The cost section's arithmetic: dated prices (bench/prices.json), how Lambda bills a duration at a memory size,
 * the price of a million requests by component, from the counts of one run (bench/cost-mix.ts), and those counts
 * with the bad-credential requests taken out. Pure functions.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { MixCounts, RequestCounts } from './cost-mix';

interface PriceEntry {
  readonly usd: number;
  readonly unit: string;
  readonly status: string;
  readonly sources: readonly string[];
  readonly meteringBytes?: number;
}

export interface Prices {
  readonly region: string;
  readonly checked: string;
  readonly rest: number;
  readonly http: number;
  readonly httpMeteringBytes: number;
  readonly lambdaRequest: number;
  readonly lambdaGbSecond: number;
  readonly ddbWriteUnit: number;
  readonly ddbReadUnit: number;
  readonly secretsCall: number;
  readonly logsPerByte: number;
}

/** bench/prices.json as prices per unit (a request, a GB-second, a request unit, a call, a byte). */
export function loadPrices(root: string): Prices {
  const doc = JSON.parse(readFileSync(path.join(root, 'bench/prices.json'), 'utf8')) as { region: string; checked: string; prices: Record<string, PriceEntry> };
  const p = (name: string) => {
    const e = doc.prices[name];
    if (!e || typeof e.usd !== 'number') throw new Error(`bench/prices.json: ${name}.usd is missing`);
    return e;
  };
  return {
    region: doc.region,
    checked: doc.checked,
    rest: p('apiGatewayRestPerMillion').usd / 1e6,
    http: p('apiGatewayHttpPerMillion').usd / 1e6,
    httpMeteringBytes: p('apiGatewayHttpPerMillion').meteringBytes ?? 512 * 1024,
    lambdaRequest: p('lambdaRequestsPerMillion').usd / 1e6,
    lambdaGbSecond: p('lambdaArmPerGbSecond').usd,
    ddbWriteUnit: p('dynamodbWriteRequestUnitsPerMillion').usd / 1e6,
    ddbReadUnit: p('dynamodbReadRequestUnitsPerMillion').usd / 1e6,
    secretsCall: p('secretsManagerPer10kCalls').usd / 1e4,
    logsPerByte: p('cloudWatchLogsIngestionPerGb').usd / 1024 ** 3,
  };
}

/** At 1,769 MB a function has the equivalent of one vCPU (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html). */
export const ONE_VCPU_MB = 1769;

/**
 * How much longer CPU-bound work takes at `memoryMb` than on one full vCPU: CPU is allocated in proportion to memory,
 * so 1769/M below 1,769 MB; above it more vCPUs do not speed up one Node.js thread. This is the linear model (the
 * pessimistic one: short bursts may run faster than their share within a scheduling period).
 */
export const cpuSlowdown = (memoryMb: number): number => Math.max(1, ONE_VCPU_MB / memoryMb);

/** A duration at `memoryMb`: its CPU part scaled, its I/O part (waiting on AWS) as measured. */
export const durationAt = (memoryMb: number, cpuMs: number, ioMs: number): number => cpuMs * cpuSlowdown(memoryMb) + ioMs;

/** Lambda's billed duration: rounded up to the next millisecond (https://aws.amazon.com/lambda/pricing/). */
export const billedMs = (ms: number): number => Math.max(1, Math.ceil(ms));

/** The duration charge of `billed` milliseconds at `memoryMb`. */
export const gbSecondsUsd = (prices: Prices, memoryMb: number, billed: number): number => (billed / 1000) * (memoryMb / 1024) * prices.lambdaGbSecond;

/** Read request units of a DynamoDB read of an item up to 4 KB: 1 strongly consistent, 0.5 eventually consistent. */
export const readUnits = (consistent: boolean | undefined): number => (consistent ? 1 : 0.5);

const READS = new Set(['GetItemCommand', 'QueryCommand', 'BatchGetItemCommand', 'ScanCommand']);
const WRITES = new Set(['UpdateItemCommand', 'PutItemCommand', 'DeleteItemCommand', 'BatchWriteItemCommand']);

/** DynamoDB request units of `calls` (items under 1 KB / 4 KB: one unit a write, 1 or 0.5 a read). */
export function requestUnits(calls: readonly { service: string; command: string; consistentRead?: boolean }[]): { reads: number; writes: number } {
  let reads = 0;
  let writes = 0;
  for (const c of calls) {
    if (c.service !== 'dynamodb') continue;
    if (READS.has(c.command)) reads += readUnits(c.consistentRead);
    else if (WRITES.has(c.command)) writes += 1;
  }
  return { reads, writes };
}

/** One line of the cost table: dollars per request under REST and HTTP API, who adds it, and how it was counted. */
export interface CostLine {
  readonly component: string;
  readonly gatehouse: boolean;
  readonly rest: number;
  readonly http: number;
  readonly basis: string;
}

/** Lines with the same price under both APIs. */
export const same = (component: string, gatehouse: boolean, usd: number, basis: string): CostLine => ({ component, gatehouse, rest: usd, http: usd, basis });

/** Sum of the Gatehouse-added lines, per request, under REST and HTTP API. */
export function gatehouseAdded(lines: readonly CostLine[]): { rest: number; http: number } {
  const added = lines.filter((l) => l.gatehouse);
  return { rest: added.reduce((n, l) => n + l.rest, 0), http: added.reduce((n, l) => n + l.http, 0) };
}

/** Dollars per million, 4 decimals (a cent per million is a 0.3% of REST's price). */
export const perMillion = (usdPerRequest: number): string => `$${(usdPerRequest * 1e6).toFixed(4)}`;

/**
 * The run's counts with the requests of the `bad` kinds taken out, as if only valid credentials had been sent: each
 * authorizer invocation, handler run and log line carries the kind of the request it ran for, and each AWS command
 * the index of the request in flight (requests go one at a time), so what a bad credential caused -- its invocation,
 * its GetItem, the Secrets Manager re-read a wrong service secret triggers -- is not charged to valid traffic. A
 * command with no request index is kept (charged to valid traffic: the pessimistic side). The simulated time and the
 * JWKS fetches stay the run's (not per request; neither is priced).
 */
export function validOnly(c: MixCounts, bad: readonly string[]): MixCounts {
  const valid = (kind: string | undefined) => kind === undefined || !bad.includes(kind);
  const charged = <T extends { tag: unknown }>(calls: readonly T[]) => calls.filter((x) => typeof x.tag !== 'number' || valid(c.kinds[x.tag]));
  const kept = c.perRequest.filter((r) => valid(r.kind));
  const sum = (f: (r: RequestCounts) => number) => kept.reduce((n, r) => n + f(r), 0);
  const statuses: Record<string, number> = {};
  for (const r of kept) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
  return {
    ...c,
    requests: kept.length,
    badRequests: Math.max(0, c.badRequests - (c.requests - kept.length)),
    statuses,
    handlerRuns: c.handlerRuns.filter((r) => valid(r.kind)),
    invocations: c.invocations.filter((i) => valid(i.kind)),
    authorizerCalls: charged(c.authorizerCalls),
    limiterCalls: charged(c.limiterCalls),
    handlerCalls: charged(c.handlerCalls),
    logBytes: { authorizer: sum((r) => r.authorizerLogBytes), handlers: sum((r) => r.handlerLogBytes), authorizerLines: sum((r) => r.authorizerLines), handlerLines: sum((r) => r.handlerLines) },
    accessLogBytes: sum((r) => r.accessLogBytes),
    perRequest: kept,
  };
}
