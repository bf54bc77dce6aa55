/**
 * Section 1: warm in-process decisions through the real handler (`createAuthorizer` with a real config, on the
 * emulator), per credential kind, for first-seen credentials (a new one every iteration, pre-generated) and a
 * repeated one, next to the node:crypto floor, jose and aws-jwt-verify (JWTs), and the floors of API keys and
 * service secrets (the hashing a cache hit cannot avoid; one GetItem for a key the container has not seen).
 *
 * Every case runs one batch per round, rounds interleave all cases (so a noisy moment hits all of them alike), and
 * a first round warms up and is thrown away. Figures are medians over the recorded batches.
 */
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { createHash, timingSafeEqual } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { hashApiKey } from '../contract/api-key';
import { apiKeyItemKey } from '../contract/table';
import { type AsyncVerify, type SyncVerify, awsJwtVerifier, floorVerifier, joseVerifier } from './floor';
import { ALGORITHMS, ASYMMETRIC, type Alg } from './keys';
import type { SectionContext } from './section';
import { type Batch, type Summary, met, ratio, summarize, table, us } from './stats';
import { AUDIENCE, type Call, type Service, type World, bearer, countingClients, createWorld, discardLogger, pool, serviceEvent } from './world';

interface Plan {
  readonly rounds: number;
  /** Iterations per batch: repeated credentials, first-seen JWTs (and their baselines), first-seen keys and services. */
  readonly repeated: number;
  readonly jwt: number;
  readonly apiKey: number;
  readonly service: number;
}

const FULL: Plan = { rounds: 12, repeated: 2000, jwt: 250, apiKey: 40, service: 25 };
const QUICK: Plan = { rounds: 3, repeated: 500, jwt: 80, apiKey: 15, service: 10 };

interface Case {
  readonly id: string;
  readonly size: number;
  /** One iteration; `i` counts from 0 over the whole run (warm-up included), so first-seen cases index fresh items. */
  readonly step: (i: number) => unknown;
  readonly sync: boolean;
  /** After an iteration: whether it decided what it should (the handler allowed). */
  readonly check?: () => boolean;
  readonly batches: Batch[];
  failures: number;
  done: number;
}

function makeCase(id: string, size: number, step: (i: number) => unknown, opts: { sync?: boolean; check?: () => boolean } = {}): Case {
  return { id, size, step, sync: opts.sync ?? false, ...(opts.check ? { check: opts.check } : {}), batches: [], failures: 0, done: 0 };
}

async function runBatch(c: Case, record: boolean): Promise<void> {
  const samples = new Float64Array(c.size);
  const start = performance.now();
  if (c.sync) {
    for (let i = 0; i < c.size; i++) {
      const t0 = performance.now();
      try {
        c.step(c.done++);
      } catch {
        c.failures++;
      }
      samples[i] = (performance.now() - t0) * 1000;
    }
  } else {
    for (let i = 0; i < c.size; i++) {
      const t0 = performance.now();
      let ok = true;
      try {
        await c.step(c.done++);
      } catch {
        ok = false;
      }
      samples[i] = (performance.now() - t0) * 1000;
      if (!ok || (c.check && !c.check())) c.failures++;
    }
  }
  const elapsedMs = performance.now() - start;
  if (record) c.batches.push({ samplesUs: samples, elapsedMs });
}

const runHandler = (handler: (e: APIGatewayRequestAuthorizerEvent) => Promise<unknown>, events: readonly APIGatewayRequestAuthorizerEvent[]) => (i: number) =>
  handler(events[i % events.length]!);

/** Items a first-seen case uses: one per iteration of every round, the warm-up round included. */
const needed = (plan: Plan, perBatch: number) => (plan.rounds + 1) * perBatch;

type Handler = ReturnType<World['authorizer']>;

/** The handler under test, what it is given, and the credentials the cases present. */
interface Setup {
  readonly plan: Plan;
  readonly world: World;
  readonly handler: Handler;
  /** Whether the last decision was allow. */
  readonly allowed: () => boolean;
  readonly tenant: string;
  /** First-seen tokens per algorithm, and an event for each. */
  readonly fresh: Record<Alg, string[]>;
  readonly freshEvents: Record<Alg, APIGatewayRequestAuthorizerEvent[]>;
  readonly repeatedToken: Record<Alg, string>;
  /** First-seen API keys (stored); the repeated one. */
  readonly keys: string[];
  readonly repeatedKey: string;
  readonly repeatedService: Service;
}

export async function decisionsSection(ctx: SectionContext): Promise<string> {
  const plan = ctx.quick ? QUICK : FULL;
  const world = await createWorld({ extraServices: needed(plan, plan.service), log: ctx.log });
  const clients = countingClients();
  const plainDb = new DynamoDBClient({ maxAttempts: 2 });
  try {
    const sink = discardLogger();
    const handler = world.authorizer({ dynamodb: clients.dynamodb, secretsManager: clients.secretsManager, logger: sink.logger });
    const allowed = () => sink.last().decision === 'allow';
    const setup = await prepare(ctx, plan, world, handler, allowed);
    await warmUp(setup, () => JSON.stringify(sink.last()));
    const cases = [...(await jwtCases(setup)), ...(await apiKeyCases(setup, plainDb)), ...serviceCases(setup)];
    const jwksDuring = await runRounds(ctx, setup, cases, clients);
    return report(setup, cases, clients.calls, jwksDuring);
  } finally {
    clients.destroy();
    plainDb.destroy();
    await world.close();
  }
}

/** Signs the tokens and stores the API keys the cases present; reads each extra service's secret once. */
async function prepare(ctx: SectionContext, plan: Plan, world: World, handler: Handler, allowed: () => boolean): Promise<Setup> {
  const tenant = world.tenants[0]!;
  ctx.log(`signing ${ALGORITHMS.length} x ${needed(plan, plan.jwt)} tokens`);
  const fresh = Object.fromEntries(ALGORITHMS.map((alg) => [alg, Array.from({ length: needed(plan, plan.jwt) }, (_, i) => world.token(alg, `user-${i}`, tenant))])) as Record<Alg, string[]>;
  const freshEvents = Object.fromEntries(ALGORITHMS.map((alg) => [alg, fresh[alg].map(bearer)])) as Record<Alg, APIGatewayRequestAuthorizerEvent[]>;
  const repeatedToken = Object.fromEntries(ALGORITHMS.map((alg) => [alg, world.token(alg, 'user-repeated', tenant)])) as Record<Alg, string>;

  ctx.log(`storing ${needed(plan, plan.apiKey) + 1} API keys`);
  const keys = await world.putApiKeys(needed(plan, plan.apiKey) + 1, tenant);
  const repeatedKey = keys.pop()!;
  // First-seen service secrets: each extra service's secret is read once beforehand (through a decision with a
  // wrong secret), so the timed decision is the first with this credential but needs no Secrets Manager call.
  ctx.log(`warming ${world.extraServices.length} service secrets`);
  await pool(world.extraServices, 8, (s) => handler(serviceEvent(s.name, 'x'.repeat(43))).catch(() => undefined));
  return { plan, world, handler, allowed, tenant, fresh, freshEvents, repeatedToken, keys, repeatedKey, repeatedService: world.services[0]! };
}

/** Every repeated credential once, untimed: reads the HS256 secret, the JWKS, the tenant, the service secret. */
async function warmUp(setup: Setup, last: () => string): Promise<void> {
  const { handler, repeatedToken, repeatedKey, repeatedService } = setup;
  for (const e of [...ALGORITHMS.map((alg) => bearer(repeatedToken[alg])), bearer(repeatedKey), serviceEvent(repeatedService.name, repeatedService.secret)]) {
    await handler(e).catch(() => undefined);
    if (!setup.allowed()) throw new Error(`the warm-up decision was not allow: ${last()}`);
  }
}

/** A new event object per iteration (as API Gateway sends), all with the same credential. */
const repeatedEvents = (plan: Plan, value: () => APIGatewayRequestAuthorizerEvent) => Array.from({ length: plan.repeated }, value);

/** Per algorithm: the node:crypto floor, jose, aws-jwt-verify (not HS256), the handler first-seen and repeated. */
async function jwtCases(setup: Setup): Promise<Case[]> {
  const { plan, world, handler, allowed, fresh } = setup;
  const cases: Case[] = [];
  for (const alg of ALGORITHMS) {
    const key = world.keys[alg];
    const audience = alg === 'HS256' ? 'authenticated' : AUDIENCE;
    const floor: SyncVerify = floorVerifier(key);
    const jose: AsyncVerify = await joseVerifier(key, world.issuers[alg], audience);
    cases.push(makeCase(`${alg}:floor`, plan.jwt, (i) => floor(fresh[alg][i]!), { sync: true }));
    cases.push(makeCase(`${alg}:jose`, plan.jwt, (i) => jose(fresh[alg][i]!)));
    if (alg !== 'HS256') {
      const aws = awsJwtVerifier(key, world.issuers[alg], audience);
      cases.push(makeCase(`${alg}:aws-jwt-verify`, plan.jwt, (i) => aws(fresh[alg][i]!)));
    }
    cases.push(makeCase(`${alg}:first-seen`, plan.jwt, runHandler(handler, setup.freshEvents[alg]), { check: allowed }));
    cases.push(makeCase(`${alg}:repeated`, plan.repeated, runHandler(handler, repeatedEvents(plan, () => bearer(setup.repeatedToken[alg]))), { check: allowed }));
  }
  return cases;
}

/** API keys: the floor of a hit, the repeated key, one GetItem on moto (stores its keys), the first-seen keys. */
async function apiKeyCases(setup: Setup, plainDb: DynamoDBClient): Promise<Case[]> {
  const { plan, world, handler, allowed, repeatedKey, tenant } = setup;
  // The floor of a hit: the checksum, the SHA-256 lookup key and a map lookup, nothing else.
  const keyTable = new Map([[hashApiKey(repeatedKey), { tenantId: tenant }]]);
  const floor = () => {
    const body = repeatedKey.slice(0, -8);
    if ((crc32(body) >>> 0).toString(16).padStart(8, '0') !== repeatedKey.slice(-8)) throw new Error('checksum');
    if (!keyTable.get(createHash('sha256').update(repeatedKey).digest('hex'))) throw new Error('missing');
  };
  const cases = [
    makeCase('apiKey:floor', plan.repeated, floor, { sync: true }),
    makeCase('apiKey:repeated', plan.repeated, runHandler(handler, repeatedEvents(plan, () => bearer(repeatedKey))), { check: allowed }),
  ];
  // A key this container has not seen costs one GetItem; its floor is that GetItem alone, on the same emulator.
  const probeKeys = await world.putApiKeys(needed(plan, plan.apiKey), tenant);
  cases.push(
    makeCase('apiKey:getitem', plan.apiKey, (i) => {
      const k = apiKeyItemKey(hashApiKey(probeKeys[i]!));
      return plainDb.send(new GetItemCommand({ TableName: world.tableName, Key: { pk: { S: k.pk }, sk: { S: k.sk } } }));
    }),
  );
  cases.push(makeCase('apiKey:first-seen', plan.apiKey, runHandler(handler, setup.keys.map(bearer)), { check: allowed }));
  return cases;
}

/** Service secrets: the floor (SHA-256 and a constant-time compare with a cached digest), repeated, first-seen. */
function serviceCases(setup: Setup): Case[] {
  const { plan, world, handler, allowed, repeatedService } = setup;
  const serviceDigest = createHash('sha256').update(repeatedService.secret).digest();
  const floor = () => {
    if (!timingSafeEqual(createHash('sha256').update(repeatedService.secret).digest(), serviceDigest)) throw new Error('mismatch');
  };
  return [
    makeCase('service:floor', plan.repeated, floor, { sync: true }),
    makeCase('service:repeated', plan.repeated, runHandler(handler, repeatedEvents(plan, () => serviceEvent(repeatedService.name, repeatedService.secret))), { check: allowed }),
    makeCase('service:first-seen', plan.service, runHandler(handler, world.extraServices.map((s) => serviceEvent(s.name, s.secret))), { check: allowed }),
  ];
}

const jwksFetches = (world: World) => ASYMMETRIC.reduce((n, alg) => n + world.jwks[alg].fetches(), 0);

/** The warm-up round and the recorded ones, every case one batch per round; returns the JWKS fetches meanwhile. */
async function runRounds(ctx: SectionContext, setup: Setup, cases: readonly Case[], clients: ReturnType<typeof countingClients>): Promise<number> {
  const { plan, world } = setup;
  const jwksBefore = jwksFetches(world);
  clients.calls.splice(0);
  ctx.log(`${plan.rounds} rounds of ${cases.length} cases (plus one warm-up round)`);
  for (let round = 0; round <= plan.rounds; round++) {
    (globalThis as { gc?: () => void }).gc?.();
    for (const c of cases) {
      clients.state.tag = round === 0 ? 'warm-up' : c.id;
      await runBatch(c, round > 0);
    }
  }
  return jwksFetches(world) - jwksBefore;
}

/** The section's Markdown: the decisions table, the JWT baselines table and the AWS calls of the timed batches. */
function report(setup: Setup, cases: readonly Case[], calls: readonly Call[], jwksDuring: number): string {
  const { plan, world } = setup;
  const byId = new Map(cases.map((c) => [c.id, c]));
  const s = (id: string): Summary => summarize(byId.get(id)!.batches);
  const timed = calls.filter((c) => c.tag !== 'warm-up');
  const getItemsOf = (id: string) => timed.filter((c) => c.tag === id && c.command === 'GetItemCommand').length;
  const failures = cases.filter((c) => c.failures > 0).map((c) => `${c.id}: ${c.failures} of ${c.done}`);
  return [
    `Handler: \`createAuthorizer\` with a real config (1 HS256 Supabase issuer with its secret in Secrets Manager, 3 OIDC issuers with JWKS on loopback, API keys and tenants in a DynamoDB table, ${world.services.length + world.extraServices.length} services), AWS on moto over loopback. ` +
      'The decision logger formats each line (JSON.stringify, as the default logger) and discards it instead of writing to stdout. ' +
      `Medians over ${plan.rounds} interleaved batches (after a warm-up batch) of ${plan.repeated} (repeated, floors of keys and secrets), ${plan.jwt} (JWTs first-seen and their baselines), ${plan.apiKey} (API keys first-seen) and ${plan.service} (services first-seen) iterations; one decision at a time; decisions/s = 1 / mean latency.`,
    '',
    table(['Credential', 'Case', 'p50', 'p99', 'decisions/s', 'Baseline', 'Baseline p50', 'Ratio', 'Target', 'Met'], decisionRows(s, getItemsOf)),
    '',
    'JWT verification, first-seen tokens, p50 / p99 (ratios of p50s):',
    '',
    table(['Algorithm', 'node:crypto floor', 'jose jwtVerify', '×floor', 'aws-jwt-verify', '×floor', 'Gatehouse handler', '×floor'], baselineRows(s)),
    '',
    awsCallsLine(timed, getItemsOf, s('apiKey:first-seen').iterations, jwksDuring),
    ...(failures.length ? ['', `**Iterations that did not decide as expected** (denied, refused or thrown): ${failures.join('; ')}.`] : []),
  ].join('\n');
}

type Summaries = (id: string) => Summary;

/** Per credential kind and case: the figures, the baseline's p50, the ratio and the target. */
function decisionRows(s: Summaries, getItemsOf: (id: string) => number): string[][] {
  const rows: string[][] = [];
  const row = (credential: string, kase: string, id: string, baseline: string, baseId: string, target: string, ok: boolean | undefined) => {
    const m = s(id);
    const b = s(baseId);
    rows.push([credential, kase, us(m.p50), us(m.p99), Math.round(m.perSecond).toLocaleString('en-US'), baseline, us(b.p50), ratio(m.p50, b.p50), target, met(ok)]);
  };
  for (const alg of ALGORITHMS) {
    const floor = s(`${alg}:floor`).p50;
    const limit = alg === 'HS256' ? 2 : 1.5;
    row(`${alg} JWT`, 'first-seen', `${alg}:first-seen`, 'node:crypto floor', `${alg}:floor`, `≤ ${limit}× floor`, s(`${alg}:first-seen`).p50 <= limit * floor);
    row(`${alg} JWT`, 'repeated', `${alg}:repeated`, 'node:crypto floor', `${alg}:floor`, '≤ 10 µs', s(`${alg}:repeated`).p50 <= 10);
  }
  row('API key', 'first-seen', 'apiKey:first-seen', 'one GetItem (moto)', 'apiKey:getitem', '1 GetItem', getItemsOf('apiKey:first-seen') === s('apiKey:first-seen').iterations);
  row('API key', 'repeated (cache hit)', 'apiKey:repeated', 'crc32+sha256+map', 'apiKey:floor', '≤ 10 µs', s('apiKey:repeated').p50 <= 10);
  row('service secret', 'first-seen (secret cached)', 'service:first-seen', 'sha256+compare', 'service:floor', '—', undefined);
  row('service secret', 'repeated', 'service:repeated', 'sha256+compare', 'service:floor', '≤ 10 µs', s('service:repeated').p50 <= 10);
  return rows;
}

/** Per algorithm, first-seen tokens: the floor, jose, aws-jwt-verify and the handler, p50 / p99 and ×floor. */
function baselineRows(s: Summaries): string[][] {
  return ALGORITHMS.map((alg) => {
    const f = s(`${alg}:floor`);
    const j = s(`${alg}:jose`);
    const a = alg === 'HS256' ? undefined : s(`${alg}:aws-jwt-verify`);
    const g = s(`${alg}:first-seen`);
    const pair = (x: Summary) => `${us(x.p50)} / ${us(x.p99)}`;
    return [alg, pair(f), pair(j), ratio(j.p50, f.p50), a ? pair(a) : 'n/a (no HS256)', a ? ratio(a.p50, f.p50) : '—', pair(g), ratio(g.p50, f.p50)];
  });
}

/** The AWS calls of the timed batches: GetItems (the first-seen API keys' and the others, by item kind), the rest. */
function awsCallsLine(timed: readonly Call[], getItemsOf: (id: string) => number, keyIters: number, jwksDuring: number): string {
  const getItems = timed.filter((c) => c.command === 'GetItemCommand');
  const dynamoOther = timed.filter((c) => c.service === 'dynamodb' && c.command !== 'GetItemCommand');
  const smCalls = timed.filter((c) => c.service === 'secretsmanager');
  // Which items the other reads were for (tenants are cached for 60 s, so a long run re-reads them now and then).
  const elsewhere = (calls: readonly { pk?: string }[]) => {
    const byKind = new Map<string, number>();
    for (const c of calls) byKind.set(c.pk?.split('#')[0] ?? '?', (byKind.get(c.pk?.split('#')[0] ?? '?') ?? 0) + 1);
    return byKind.size ? `: ${[...byKind].map(([k, n]) => `${n} of ${k} items`).join(', ')}` : '';
  };
  return (
    `AWS calls during the timed batches: DynamoDB GetItem ${getItems.length} (${getItemsOf('apiKey:first-seen')} in the ${keyIters} first-seen API key decisions, ${getItems.length - getItemsOf('apiKey:first-seen')} elsewhere${elsewhere(getItems.filter((c) => c.tag !== 'apiKey:first-seen'))}), other DynamoDB ${dynamoOther.length}, ` +
    `Secrets Manager ${smCalls.length}, JWKS fetches ${jwksDuring}.`
  );
}
