/**
 * Section "cost": the price of a million requests of the bench's mix, by component, under API Gateway REST and
 * HTTP API, from what a run in this process counted (bench/cost-mix.ts) and the dated prices in bench/prices.json;
 * then the authorizer's memory size worked out from measured init and decision times (bench/cost-memory.ts).
 *
 * "Gatehouse-added" is what a team pays because Gatehouse stands in front of its handlers: the authorizer's
 * invocations, duration and cold starts, its DynamoDB reads and Secrets Manager calls, the limiter's writes and the
 * handler time spent waiting on them, the authorizer's log lines (its EMF metrics are fields of them) and the
 * stage's access log. The handlers' own invocations are the team's cost and are shown apart.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseStackConfig } from '../contract/stack-config';
import { BAD, BAD_SHARE, STEP_MS, ZIPF_S } from './aws-calls';
import { REST_ACCESS_LOG_FIELDS } from '../contract/access-log';
import { accessLogRenderer, platformLineBytes } from './cost-logs';
import { type MemoryInputs, measureMemoryInputs } from './cost-memory';
import { type MixCounts, runCostMix } from './cost-mix';
import {
  type CostLine,
  type Prices,
  ONE_VCPU_MB,
  billedMs,
  cpuSlowdown,
  durationAt,
  gatehouseAdded,
  gbSecondsUsd,
  loadPrices,
  perMillion,
  requestUnits,
  same,
  validOnly,
} from './cost-model';
import type { SectionContext } from './section';
import { int, median, met, ms, num, table } from './stats';
import { createWorld } from './world';

/** The built-in handlers' memory (lib/gatehouse-function.ts: `memorySize ?? 512`). */
const HANDLER_MEMORY_MB = 512;
/**
 * Cold starts per authorizer invocation. AWS: "INITs (cold starts) typically occur in under 1% of invocations"
 * (https://aws.amazon.com/blogs/compute/aws-lambda-standardizes-billing-for-init-phase/); INIT is billed since
 * 2025-08-01. 1% is the pessimistic end of that.
 */
const COLD_START_SHARE = 0.01;
const MEMORY_SIZES = [128, 256, 512, 1024, ONE_VCPU_MB] as const;
/** The issue's target: what Gatehouse adds at most 5% of API Gateway REST's price per request. */
const TARGET_SHARE = 0.05;
const ACCESS_LOG = 'Stage access log';

/** Writes and reads per request of the limiter, counted on the wire in this run. */
interface LimiterWrites {
  readonly writesPerRequest: number;
  readonly readsPerRequest: number;
  readonly source: string;
}

/** The three largest Gatehouse-added lines. */
function largestAdded(lines: readonly CostLine[], prices: Prices): string {
  const top = lines
    .filter((l) => l.gatehouse)
    .sort((a, b) => b.rest - a.rest)
    .slice(0, 3)
    .map((l) => `${l.component} ${perMillion(l.rest)} (${num((l.rest / prices.rest) * 100, 2)}% of REST)`);
  return `Largest Gatehouse-added components: ${top.join('; ')}.`;
}

export async function costSection(ctx: SectionContext): Promise<string> {
  const prices = loadPrices(ctx.root);
  const example = JSON.parse(readFileSync(path.join(ctx.root, 'config/gatehouse.example.json'), 'utf8')) as Record<string, unknown>;
  const memoryMb = parseStackConfig(example, 'config/gatehouse.example.json').deployment.authorizerMemoryMb;
  const world = await createWorld({ extraServices: 0, log: ctx.log });
  try {
    const counts = await runCostMix(ctx, world, { warmup: ctx.quick ? 3000 : 6000, requests: ctx.quick ? 1000 : 4000 }, accessLogRenderer(REST_ACCESS_LOG_FIELDS));
    const inputs = await measureMemoryInputs(ctx, world);
    const limiter = limiterWrites(counts);
    const lines = (mb: number) => costLines(counts, inputs, prices, mb, limiter);
    const valid = validOnly(counts, BAD);
    const validLines = costLines(valid, inputs, prices, memoryMb, limiterWrites(valid));
    return [
      assumptions(counts, prices, memoryMb, limiter),
      '',
      costTable(lines(memoryMb), prices, memoryMb),
      '',
      largestAdded(lines(memoryMb), prices),
      '',
      byTraffic(counts, valid, lines(memoryMb), validLines, prices),
      '',
      `**Authorizer memory size.** Measured on this machine's one core (taken as one Lambda vCPU, i.e. ${ONE_VCPU_MB} MB); CPU parts scaled by ${ONE_VCPU_MB}/M below that, ` +
        'waits on AWS (moto on loopback here) kept as measured. Init is process start to handler ready (Node itself and the bundle, all CPU-bound here); ' +
        `first-seen decisions: a new token of a cached tenant and JWKS (signature check, all CPU) and a new API key (CPU + one GetItem); warm: a repeated API key. Cost per million authorizer invocations: requests + GB-s of the mix's invocations (1 ms rounding) + ${COLD_START_SHARE * 100}% cold starts.`,
      '',
      memoryTable(inputs, counts, prices, lines),
    ].join('\n');
  } finally {
    await world.close();
  }
}

/** The assumptions the figures rest on, in one paragraph. */
function assumptions(c: MixCounts, prices: Prices, memoryMb: number, limiter: LimiterWrites): string {
  const hit = 1 - c.invocations.length / c.requests;
  const statuses = Object.entries(c.statuses)
    .map(([s, n]) => `${int(n)}× ${s}`)
    .join(', ');
  return [
    `Prices: ${prices.region} on-demand, checked ${prices.checked} (bench/prices.json: each with its source). The mix: ${int(c.requests)} requests of bench/aws-calls.ts' mix ` +
      `(Zipf s = ${ZIPF_S} over 315 valid credentials: JWTs of 4 algorithms, API keys of 8 tenants, 3 services; ${BAD_SHARE * 100}% bad credentials), GET /v1/me and POST /internal/jobs, ` +
      `one at a time through the local gateway at a simulated ${1000 / STEP_MS} requests/s (${num(c.simulatedSeconds, 0)} s simulated, ${num(c.wallSeconds, 1)} s wall), counted after a warm-up of ${int(c.warmup)} requests of the same mix (caches filled, not counted); answers: ${statuses}.`,
    `API Gateway's authorizer cache: TTL ${c.ttlSeconds} s (the stack's default); **cache hit ratio of this mix ${num(hit * 100, 1)}%** ` +
      `(${int(c.invocations.length)} authorizer invocations, ${int(c.invocations.filter((i) => BAD.includes(i.kind)).length)} of them for bad credentials, which are never cached). ` +
      `One authorizer container (its own caches warm after the first requests). Authorizer memory ${memoryMb} MB (deployment.authorizerMemoryMb), handlers ${HANDLER_MEMORY_MB} MB, arm64; ` +
      `cold starts on ${COLD_START_SHARE * 100}% of invocations. Limiter: ${limiter.source}. Durations are this machine's (CPU part scaled to the memory size, waits on moto as measured); log bytes are the lines as written.`,
  ].join('\n');
}

/** Every component of the price, per request, under REST and HTTP API at authorizer memory `mb`. */
function costLines(c: MixCounts, inputs: MemoryInputs, prices: Prices, mb: number, limiter: LimiterWrites): CostLine[] {
  const n = c.requests;
  const billable = c.handlerRuns.length;
  const inv = c.invocations.length;
  const durations = c.invocations.map((i) => billedMs(durationAt(mb, i.ms - i.ioMs, i.ioMs)));
  const duration = durations.reduce((s, d) => s + gbSecondsUsd(prices, mb, d), 0) / n;
  const initBilled = billedMs(durationAt(mb, inputs.init.ms, 0));
  const meanDuration = durations.reduce((s, d) => s + d, 0) / Math.max(1, inv);
  const ddb = requestUnits(c.authorizerCalls);
  const secretCalls = c.authorizerCalls.filter((x) => x.service === 'secretsmanager');
  const secrets = secretCalls.length;
  const perKind = new Map<string, number>();
  for (const x of secretCalls) perKind.set(c.kinds[x.tag as number]!, (perKind.get(c.kinds[x.tag as number]!) ?? 0) + 1);
  const byKind = [...perKind].map(([k, count]) => `${count} for ${k}`);
  const limiterCalls = c.limiterCalls.length;
  // The median call, not the mean: a loaded machine's stalls are not DynamoDB's latency.
  const limiterWait = limiterCalls ? median(c.limiterCalls.map((x) => x.ms ?? 0)) : 0;
  const waitPerRequest = limiterWait * (limiter.writesPerRequest + limiter.readsPerRequest);
  const platform = platformLineBytes(meanDuration, mb);
  const initField = platformLineBytes(meanDuration, mb, durationAt(mb, inputs.init.ms, 0)) - platform;
  const authLogBytes = (c.logBytes.authorizer + inv * (platform + COLD_START_SHARE * initField)) / n;
  const handlerMs = c.handlerRuns.reduce((s, r) => s + billedMs(r.ms - r.limiterMs), 0);
  const handlerLogBytes = (c.logBytes.handlers + billable * platformLineBytes(1, HANDLER_MEMORY_MB)) / n;
  const api = billable / n;
  return [
    { component: 'API Gateway requests', gatehouse: false, rest: api * prices.rest, http: api * prices.http, basis: `${int(billable)} of ${int(n)} requests reached a handler; refused ones are not billed; each under 512 KB (1 HTTP API unit)` },
    same('Authorizer invocations', true, (inv / n) * prices.lambdaRequest, `${num(inv / n, 4)} per request`),
    same('Authorizer duration', true, duration, `mean ${num(meanDuration, 2)} ms billed per invocation at ${mb} MB`),
    same('Authorizer cold starts (INIT billed)', true, (inv / n) * COLD_START_SHARE * gbSecondsUsd(prices, mb, initBilled), `${initBilled} ms at ${mb} MB on ${COLD_START_SHARE * 100}% of invocations`),
    same('Authorizer DynamoDB reads', true, (ddb.reads * prices.ddbReadUnit + ddb.writes * prices.ddbWriteUnit) / n, `${num(ddb.reads / n, 4)} RRU per request (GetItem, eventually consistent)`),
    same('Authorizer Secrets Manager calls', true, (secrets / n) * prices.secretsCall, `${num(secrets / n, 5)} calls per request${byKind.length ? ` (${byKind.join(', ')})` : ''}`),
    same('Limiter DynamoDB writes', true, limiter.writesPerRequest * prices.ddbWriteUnit + limiter.readsPerRequest * prices.ddbReadUnit, `${num(limiter.writesPerRequest, 3)} WRU + ${num(limiter.readsPerRequest, 3)} RRU per request`),
    same('Limiter wait in the handler', true, gbSecondsUsd(prices, HANDLER_MEMORY_MB, waitPerRequest), `${num(waitPerRequest, 2)} ms per request at ${HANDLER_MEMORY_MB} MB (median limiter call on moto: ${ms(limiterWait)})`),
    same('Authorizer logs (decision lines with EMF metrics, Lambda START/END/REPORT)', true, authLogBytes * prices.logsPerByte, `${int(authLogBytes)} B per request (${int(c.logBytes.authorizer / Math.max(1, inv))} + ${platform} B per invocation)`),
    same(ACCESS_LOG, false, (c.accessLogBytes / n) * prices.logsPerByte, `${int(c.accessLogBytes / n)} B per request (the REST stage's format, contract/access-log.ts); the stage's own log, as any API stage has (AwsSolutions-APIG1), with Gatehouse's fields in it`),
    same('CloudWatch metrics (EMF)', true, 0, 'fields of the decision lines above; $0.30 per metric-month is not per request'),
    same('Handler invocations (the team’s own)', false, (billable / n) * prices.lambdaRequest, `${num(billable / n, 3)} per request`),
    same('Handler duration (the team’s own)', false, handlerMs / n / 1000 * (HANDLER_MEMORY_MB / 1024) * prices.lambdaGbSecond, `mean ${num(handlerMs / Math.max(1, billable), 2)} ms billed at ${HANDLER_MEMORY_MB} MB, limiter wait excluded`),
    same('Handler logs (the team’s own)', false, handlerLogBytes * prices.logsPerByte, `${int(handlerLogBytes)} B per request`),
  ];
}

/**
 * The Gatehouse-added lines of the mix beside the same lines of its valid-credential requests alone (same run), then
 * the subtotal of each as a share of REST's and HTTP API's price.
 */
function byTraffic(mix: MixCounts, valid: MixCounts, mixLines: readonly CostLine[], validLines: readonly CostLine[], prices: Prices): string {
  const shown = (l: CostLine) => l.gatehouse || l.component === ACCESS_LOG;
  const components = validLines.filter(shown).map((v) => [v.component, perMillion(mixLines.find((m) => m.component === v.component)?.rest ?? 0), perMillion(v.rest), v.basis]);
  const bad = mix.requests - valid.requests;
  const row = (name: string, c: MixCounts, lines: readonly CostLine[]) => {
    const added = gatehouseAdded(lines);
    const withLog = added.rest + (lines.find((l) => l.component === ACCESS_LOG)?.rest ?? 0);
    return [
      name,
      int(c.requests),
      int(c.invocations.length),
      perMillion(added.rest),
      `${num((added.rest / prices.rest) * 100, 2)}%`,
      perMillion(added.http),
      `${num((added.http / prices.http) * 100, 2)}%`,
      `target ≤ ${TARGET_SHARE * 100}% (REST): ${met(added.rest / prices.rest <= TARGET_SHARE)}`,
      `${num((withLog / prices.rest) * 100, 2)}%`,
    ];
  };
  return [
    `**Valid credentials only.** The same run's counts without its ${int(bad)} bad-credential requests (bench/cost-model.ts \`validOnly\`): every authorizer invocation, AWS command and log line is charged to ` +
      `the request in flight (one at a time), so a bad credential's invocation, GetItem and Secrets Manager re-read are not charged to valid traffic. Per million valid requests:`,
    '',
    table(['Component', 'Mix $/M', 'Valid only $/M', 'Valid only: counted in this run'], components),
    '',
    'Gatehouse-added by traffic (per million requests of each):',
    '',
    table(
      ['Traffic', 'Requests counted', 'Authorizer invocations', 'REST $/M', `% of REST ($${(prices.rest * 1e6).toFixed(2)})`, 'HTTP API $/M', `% of HTTP API ($${(prices.http * 1e6).toFixed(2)})`, 'Target', 'With the stage access log: % of REST'],
      [row(`mix (${num((bad / Math.max(1, mix.requests)) * 100, 1)}% bad credentials)`, mix, mixLines), row('valid credentials only', valid, validLines)],
    ),
  ].join('\n');
}

function costTable(lines: readonly CostLine[], prices: Prices, mb: number): string {
  const added = gatehouseAdded(lines);
  const restShare = added.rest / prices.rest;
  const httpShare = added.http / prices.http;
  const rows = lines.map((l) => [l.component, l.gatehouse ? 'yes' : 'no', perMillion(l.rest), perMillion(l.http), l.basis]);
  rows.push(['**Gatehouse-added**', 'yes', `**${perMillion(added.rest)}**`, `**${perMillion(added.http)}**`, `at ${mb} MB`]);
  rows.push([
    '**as % of API Gateway\'s price per million**',
    '',
    `**${num(restShare * 100, 2)}%** of $${(prices.rest * 1e6).toFixed(2)}`,
    `**${num(httpShare * 100, 2)}%** of $${(prices.http * 1e6).toFixed(2)}`,
    `target ≤ ${TARGET_SHARE * 100}% (REST): ${met(restShare <= TARGET_SHARE)}; HTTP API: ${met(httpShare <= TARGET_SHARE)}`,
  ]);
  // The issue's "everything Gatehouse adds" is the authorizer, its calls, the limiter and their logs and metrics; the
  // stage's access log is the API's own, but shown counted in too, so the figure either way is in the table.
  const accessLog = lines.find((l) => l.component === ACCESS_LOG);
  if (accessLog) {
    const withLog = { rest: added.rest + accessLog.rest, http: added.http + accessLog.http };
    rows.push([
      'with the stage\'s access log counted as Gatehouse\'s',
      '',
      `${perMillion(withLog.rest)} = ${num((withLog.rest / prices.rest) * 100, 2)}%`,
      `${perMillion(withLog.http)} = ${num((withLog.http / prices.http) * 100, 2)}%`,
      `REST ≤ ${TARGET_SHARE * 100}%: ${met(withLog.rest / prices.rest <= TARGET_SHARE)}`,
    ]);
  }
  return ['Price of a million requests of the mix, by component:', '', table(['Component', 'Gatehouse-added', 'REST $/M', 'HTTP API $/M', 'Counted in this run'], rows)].join('\n');
}

function memoryTable(m: MemoryInputs, c: MixCounts, prices: Prices, lines: (mb: number) => CostLine[]): string {
  const at = (mb: number, x: { ms: number; ioMs: number }) => durationAt(mb, x.ms - x.ioMs, x.ioMs);
  const perInvocation = (mb: number) => {
    const gbs = c.invocations.reduce((s, i) => s + gbSecondsUsd(prices, mb, billedMs(durationAt(mb, i.ms - i.ioMs, i.ioMs))), 0) / Math.max(1, c.invocations.length);
    return prices.lambdaRequest + gbs + COLD_START_SHARE * gbSecondsUsd(prices, mb, billedMs(at(mb, m.init)));
  };
  const rows = MEMORY_SIZES.map((mb) => {
    const added = gatehouseAdded(lines(mb)).rest;
    return [
      `${mb} MB`,
      `${num(100 / cpuSlowdown(mb), 0)}%`,
      ms(at(mb, m.init)),
      ms(at(mb, m.es256)),
      ms(at(mb, m.rs256)),
      `${ms(at(mb, m.apiKey))} (${ms(m.apiKey.ioMs)} I/O)`,
      ms(at(mb, m.warm)),
      perMillion(perInvocation(mb)),
      `${perMillion(added)} (${num((added / prices.rest) * 100, 2)}%)`,
    ];
  });
  const steps = MEMORY_SIZES.slice(1).map((mb, i) => {
    const from = MEMORY_SIZES[i]!;
    const dearer = perInvocation(mb) / perInvocation(from) - 1;
    return `${from} → ${mb} MB: ${dearer >= 0 ? '+' : ''}${num(dearer * 100, 0)}% per invocation for −${ms(at(from, m.init) - at(mb, m.init))} of cold start and −${ms(at(from, m.es256) - at(mb, m.es256))} per first-seen ES256`;
  });
  return [
    table(['Memory', 'vCPU share', 'Init (cold start)', 'First-seen ES256', 'First-seen RS256', 'First-seen API key', 'Warm repeated', '$ per million invocations', 'Gatehouse-added $/M requests (% of REST)'], rows),
    '',
    `Measured here (one core): init ${ms(m.init.ms)} (an empty handler: ${ms(m.emptyInit.ms)}), ES256 ${ms(m.es256.ms)}, RS256 ${ms(m.rs256.ms)}, API key ${ms(m.apiKey.ms)} of which ${ms(m.apiKey.ioMs)} waiting on moto, warm ${ms(m.warm.ms)}. ` +
      'Only the API key\'s GetItem is I/O and does not scale; JWKS fetches (one per issuer per 10 minutes) and Secrets Manager reads (one per secret per 5 minutes) are rare and are in the mix\'s durations as measured.',
    '',
    `Each step up: ${steps.join('; ')}.`,
  ].join('\n');
}

/**
 * The limiter's writes and reads per request, counted on the wire in this run: the leased limiter in the tree, at
 * the mix's rate per tenant (section 6 gives a busy tenant's steady state, where leases are larger).
 */
function limiterWrites(c: MixCounts): LimiterWrites {
  const counted = requestUnits(c.limiterCalls);
  const limited = c.handlerRuns.filter((r) => r.limiterCalls > 0).length;
  return {
    writesPerRequest: counted.writes / c.requests,
    readsPerRequest: counted.reads / c.requests,
    source: `counted in this run: ${num(counted.writes / Math.max(1, c.handlerRuns.length), 3)} conditional writes per handler run (${int(limited)} of ${int(c.handlerRuns.length)} runs wrote)`,
  };
}
