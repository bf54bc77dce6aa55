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
import { AUDIENCE, bearer, countingClients, createWorld, discardLogger, pool, serviceEvent } from './world';

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

export async function decisionsSection(ctx: SectionContext): Promise<string> {
  const plan = ctx.quick ? QUICK : FULL;
  const needed = (perBatch: number) => (plan.rounds + 1) * perBatch;
  const world = await createWorld({ extraServices: needed(plan.service), log: ctx.log });
  const clients = countingClients();
  const plainDb = new DynamoDBClient({ maxAttempts: 2 });
  try {
    const sink = discardLogger();
    const handler = world.authorizer({ dynamodb: clients.dynamodb, secretsManager: clients.secretsManager, logger: sink.logger });
    const allowed = () => sink.last().decision === 'allow';
    const tenant = world.tenants[0]!;

    ctx.log(`signing ${ALGORITHMS.length} x ${needed(plan.jwt)} tokens`);
    const fresh = Object.fromEntries(ALGORITHMS.map((alg) => [alg, Array.from({ length: needed(plan.jwt) }, (_, i) => world.token(alg, `user-${i}`, tenant))])) as Record<Alg, string[]>;
    const freshEvents = Object.fromEntries(ALGORITHMS.map((alg) => [alg, fresh[alg].map(bearer)])) as Record<Alg, APIGatewayRequestAuthorizerEvent[]>;
    // A new event object per iteration (as API Gateway sends), all with the same credential.
    const repeatedEvents = (value: () => APIGatewayRequestAuthorizerEvent) => Array.from({ length: plan.repeated }, value);
    const repeatedToken = Object.fromEntries(ALGORITHMS.map((alg) => [alg, world.token(alg, 'user-repeated', tenant)])) as Record<Alg, string>;

    ctx.log(`storing ${needed(plan.apiKey) + 1} API keys`);
    const keys = await world.putApiKeys(needed(plan.apiKey) + 1, tenant);
    const repeatedKey = keys.pop()!;
    const repeatedService = world.services[0]!;
    // First-seen service secrets: each extra service's secret is read once beforehand (through a decision with a
    // wrong secret), so the timed decision is the first with this credential but needs no Secrets Manager call.
    ctx.log(`warming ${world.extraServices.length} service secrets`);
    await pool(world.extraServices, 8, (s) => handler(serviceEvent(s.name, 'x'.repeat(43))).catch(() => undefined));

    // Every credential once, untimed: reads the HS256 secret, the JWKS, the tenant, the service secret.
    for (const e of [...ALGORITHMS.map((alg) => bearer(repeatedToken[alg])), bearer(repeatedKey), serviceEvent(repeatedService.name, repeatedService.secret)]) {
      await handler(e).catch(() => undefined);
      if (!allowed()) throw new Error(`the warm-up decision was not allow: ${JSON.stringify(sink.last())}`);
    }

    const cases: Case[] = [];
    const byId = new Map<string, Case>();
    const add = (c: Case) => {
      cases.push(c);
      byId.set(c.id, c);
    };
    for (const alg of ALGORITHMS) {
      const key = world.keys[alg];
      const audience = alg === 'HS256' ? 'authenticated' : AUDIENCE;
      const floor: SyncVerify = floorVerifier(key);
      const jose: AsyncVerify = await joseVerifier(key, world.issuers[alg], audience);
      add(makeCase(`${alg}:floor`, plan.jwt, (i) => floor(fresh[alg][i]!), { sync: true }));
      add(makeCase(`${alg}:jose`, plan.jwt, (i) => jose(fresh[alg][i]!)));
      if (alg !== 'HS256') {
        const aws = awsJwtVerifier(key, world.issuers[alg], audience);
        add(makeCase(`${alg}:aws-jwt-verify`, plan.jwt, (i) => aws(fresh[alg][i]!)));
      }
      add(makeCase(`${alg}:first-seen`, plan.jwt, runHandler(handler, freshEvents[alg]), { check: allowed }));
      add(makeCase(`${alg}:repeated`, plan.repeated, runHandler(handler, repeatedEvents(() => bearer(repeatedToken[alg]))), { check: allowed }));
    }

    // API keys. The floor of a hit: the checksum, the SHA-256 lookup key and a map lookup, nothing else.
    const keyTable = new Map([[hashApiKey(repeatedKey), { tenantId: tenant }]]);
    add(
      makeCase(
        'apiKey:floor',
        plan.repeated,
        () => {
          const body = repeatedKey.slice(0, -8);
          if ((crc32(body) >>> 0).toString(16).padStart(8, '0') !== repeatedKey.slice(-8)) throw new Error('checksum');
          if (!keyTable.get(createHash('sha256').update(repeatedKey).digest('hex'))) throw new Error('missing');
        },
        { sync: true },
      ),
    );
    add(makeCase('apiKey:repeated', plan.repeated, runHandler(handler, repeatedEvents(() => bearer(repeatedKey))), { check: allowed }));
    // A key this container has not seen costs one GetItem; its floor is that GetItem alone, on the same emulator.
    const probeKeys = await world.putApiKeys(needed(plan.apiKey), tenant);
    add(
      makeCase('apiKey:getitem', plan.apiKey, (i) => {
        const k = apiKeyItemKey(hashApiKey(probeKeys[i]!));
        return plainDb.send(new GetItemCommand({ TableName: world.tableName, Key: { pk: { S: k.pk }, sk: { S: k.sk } } }));
      }),
    );
    add(makeCase('apiKey:first-seen', plan.apiKey, runHandler(handler, keys.map(bearer)), { check: allowed }));

    // Service secrets. The floor: SHA-256 of the presented secret and a constant-time compare with a cached digest.
    const serviceDigest = createHash('sha256').update(repeatedService.secret).digest();
    add(
      makeCase(
        'service:floor',
        plan.repeated,
        () => {
          if (!timingSafeEqual(createHash('sha256').update(repeatedService.secret).digest(), serviceDigest)) throw new Error('mismatch');
        },
        { sync: true },
      ),
    );
    add(makeCase('service:repeated', plan.repeated, runHandler(handler, repeatedEvents(() => serviceEvent(repeatedService.name, repeatedService.secret))), { check: allowed }));
    add(makeCase('service:first-seen', plan.service, runHandler(handler, world.extraServices.map((s) => serviceEvent(s.name, s.secret))), { check: allowed }));

    const jwksBefore = ASYMMETRIC.reduce((n, alg) => n + world.jwks[alg].fetches(), 0);
    clients.calls.splice(0);
    ctx.log(`${plan.rounds} rounds of ${cases.length} cases (plus one warm-up round)`);
    for (let round = 0; round <= plan.rounds; round++) {
      (globalThis as { gc?: () => void }).gc?.();
      for (const c of cases) {
        clients.state.tag = round === 0 ? 'warm-up' : c.id;
        await runBatch(c, round > 0);
      }
    }
    const jwksDuring = ASYMMETRIC.reduce((n, alg) => n + world.jwks[alg].fetches(), 0) - jwksBefore;
    const timed = clients.calls.filter((c) => c.tag !== 'warm-up');
    const getItemsOf = (id: string) => timed.filter((c) => c.tag === id && c.command === 'GetItemCommand').length;

    const s = (id: string): Summary => summarize(byId.get(id)!.batches);
    const failures = cases.filter((c) => c.failures > 0).map((c) => `${c.id}: ${c.failures} of ${c.done}`);

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

    const baseRows = ALGORITHMS.map((alg) => {
      const f = s(`${alg}:floor`);
      const j = s(`${alg}:jose`);
      const a = alg === 'HS256' ? undefined : s(`${alg}:aws-jwt-verify`);
      const g = s(`${alg}:first-seen`);
      const pair = (x: Summary) => `${us(x.p50)} / ${us(x.p99)}`;
      return [
        alg,
        pair(f),
        pair(j),
        ratio(j.p50, f.p50),
        a ? pair(a) : 'n/a (no HS256)',
        a ? ratio(a.p50, f.p50) : '—',
        pair(g),
        ratio(g.p50, f.p50),
      ];
    });

    const getItems = timed.filter((c) => c.command === 'GetItemCommand');
    const dynamoOther = timed.filter((c) => c.service === 'dynamodb' && c.command !== 'GetItemCommand');
    const smCalls = timed.filter((c) => c.service === 'secretsmanager');
    const keyIters = s('apiKey:first-seen').iterations;
    // Which items the other reads were for (tenants are cached for 60 s, so a long run re-reads them now and then).
    const elsewhere = (calls: readonly { pk?: string }[]) => {
      const byKind = new Map<string, number>();
      for (const c of calls) byKind.set(c.pk?.split('#')[0] ?? '?', (byKind.get(c.pk?.split('#')[0] ?? '?') ?? 0) + 1);
      return byKind.size ? `: ${[...byKind].map(([k, n]) => `${n} of ${k} items`).join(', ')}` : '';
    };
    return [
      `Handler: \`createAuthorizer\` with a real config (1 HS256 Supabase issuer with its secret in Secrets Manager, 3 OIDC issuers with JWKS on loopback, API keys and tenants in a DynamoDB table, ${world.services.length + world.extraServices.length} services), AWS on moto over loopback. ` +
        'The decision logger formats each line (JSON.stringify, as the default logger) and discards it instead of writing to stdout. ' +
        `Medians over ${plan.rounds} interleaved batches (after a warm-up batch) of ${plan.repeated} (repeated, floors of keys and secrets), ${plan.jwt} (JWTs first-seen and their baselines), ${plan.apiKey} (API keys first-seen) and ${plan.service} (services first-seen) iterations; one decision at a time; decisions/s = 1 / mean latency.`,
      '',
      table(['Credential', 'Case', 'p50', 'p99', 'decisions/s', 'Baseline', 'Baseline p50', 'Ratio', 'Target', 'Met'], rows),
      '',
      'JWT verification, first-seen tokens, p50 / p99 (ratios of p50s):',
      '',
      table(['Algorithm', 'node:crypto floor', 'jose jwtVerify', '×floor', 'aws-jwt-verify', '×floor', 'Gatehouse handler', '×floor'], baseRows),
      '',
      `AWS calls during the timed batches: DynamoDB GetItem ${getItems.length} (${getItemsOf('apiKey:first-seen')} in the ${keyIters} first-seen API key decisions, ${getItems.length - getItemsOf('apiKey:first-seen')} elsewhere${elsewhere(getItems.filter((c) => c.tag !== 'apiKey:first-seen'))}), other DynamoDB ${dynamoOther.length}, ` +
        `Secrets Manager ${smCalls.length}, JWKS fetches ${jwksDuring}.`,
      ...(failures.length ? ['', `**Iterations that did not decide as expected** (denied, refused or thrown): ${failures.join('; ')}.`] : []),
    ].join('\n');
  } finally {
    clients.destroy();
    plainDb.destroy();
    await world.close();
  }
}
