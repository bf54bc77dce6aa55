/**
 * Section 2: AWS calls per 1,000 decisions of one warm container under a realistic mix, counted on the wire (an
 * SDK middleware on the clients the authorizer is given; JWKS fetches at the JWKS servers), next to what an
 * authorizer without caches would send for the same requests. Then a few controlled checks of the call targets.
 *
 * The mix: Zipf-distributed (s = 1.1) valid credentials (JWTs of 4 algorithms, API keys of 8 tenants, 3 services)
 * and 10% bad ones (tampered signature, unknown `kid`, never-seen API key, wrong service secret, random garbage).
 * The container's clock is simulated at a steady 100 decisions/s, so cache TTLs (API keys and tenants 60 s,
 * negative 10 s, secrets 300 s, JWKS max age 600 s and refetch cooldown 30 s) play out as in production while the
 * run takes seconds. Decisions are sent one at a time, so every call is charged to the decision that caused it.
 */
import { generateApiKey } from '../contract/api-key';
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { randomBytes } from 'node:crypto';
import { ALGORITHMS, ASYMMETRIC, type Alg, asymmetricKey, garbage, nowSeconds, signJwt, tamper } from './keys';
import type { SectionContext } from './section';
import { int, met, num, ratio, seeded, table, zipf } from './stats';
import { AUDIENCE, type World, bearer, countingClients, createWorld, discardLogger, serviceEvent } from './world';

const KINDS = ['JWT HS256', 'JWT RS256', 'JWT ES256', 'JWT EdDSA', 'API key', 'service secret', 'bad signature', 'unknown kid', 'never-seen API key', 'wrong service secret', 'garbage'] as const;
type Kind = (typeof KINDS)[number];
const BAD: readonly Kind[] = ['bad signature', 'unknown kid', 'never-seen API key', 'wrong service secret', 'garbage'];

interface Request {
  readonly kind: Kind;
  readonly event: APIGatewayRequestAuthorizerEvent;
  /** What a cacheless authorizer would call for it. */
  readonly uncached: { readonly getItem: number; readonly secrets: number; readonly jwks: number };
}

const STEP_MS = 10; // 100 decisions per second of simulated time
const ZIPF_S = 1.1;
const BAD_SHARE = 0.1;

export async function awsCallsSection(ctx: SectionContext): Promise<string> {
  const decisions = ctx.quick ? 6000 : 25_000;
  const world = await createWorld({ extraServices: 0, log: ctx.log });
  try {
    const mix = await mixSection(ctx, world, decisions);
    const checks = await controlledChecks(ctx, world);
    return [mix.text, '', 'Targets, from the mix above and from controlled runs on fresh authorizers (real clock):', '', checks(mix)].join('\n');
  } finally {
    await world.close();
  }
}

interface MixResult {
  readonly text: string;
  readonly neverSeenKeys: number;
  readonly neverSeenKeyGetItems: number;
  readonly warmGoodSecrets: number;
  readonly warmGoodDecisions: number;
  readonly wrongSecretCalls: number;
  readonly simulatedSeconds: number;
  readonly jwksPerIssuer: readonly number[];
}

async function mixSection(ctx: SectionContext, world: World, decisions: number): Promise<MixResult> {
  const random = seeded(20261123);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
  const tenants = world.tenants;

  // The valid population: 40 users per JWT algorithm, 19 API keys per tenant, the 3 services; Zipf over a shuffle.
  type Good = { kind: Kind; token: string; service?: string; alg?: Alg };
  const good: Good[] = [];
  for (const alg of ALGORITHMS) {
    for (let i = 0; i < 40; i++) good.push({ kind: `JWT ${alg}` as Kind, token: world.token(alg, `user-${alg}-${i}`, tenants[i % tenants.length]!), alg });
  }
  ctx.log('storing the API keys of the mix');
  for (const tenant of tenants) for (const key of await world.putApiKeys(19, tenant)) good.push({ kind: 'API key', token: key });
  for (const s of world.services) good.push({ kind: 'service secret', token: s.secret, service: s.name });
  for (let i = good.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [good[i], good[j]] = [good[j]!, good[i]!];
  }
  const rank = zipf(good.length, ZIPF_S, random);

  const jwts = good.filter((g) => g.alg);
  const tampered = Array.from({ length: 50 }, () => {
    const g = pick(jwts);
    return { token: tamper(g.token), alg: g.alg! };
  });
  const strangers = Object.fromEntries(ASYMMETRIC.map((alg) => [alg, asymmetricKey(alg, `retired-${alg.toLowerCase()}`)]));
  const unknownKid = Array.from({ length: 50 }, (_, i) => {
    const alg = ASYMMETRIC[i % ASYMMETRIC.length]!;
    const iat = nowSeconds();
    return signJwt({ ...strangers[alg]!, kid: `retired-${i}` }, { iss: world.issuers[alg], sub: `user-${i}`, aud: AUDIENCE, iat, exp: iat + 7200, org: tenants[0] });
  });

  const requests: Request[] = [];
  for (let i = 0; i < decisions; i++) {
    if (random() >= BAD_SHARE) {
      const g = good[rank()]!;
      const event = g.service ? serviceEvent(g.service, g.token) : bearer(g.token);
      const uncached =
        g.kind === 'API key'
          ? { getItem: 2, secrets: 0, jwks: 0 }
          : g.kind === 'service secret'
            ? { getItem: 0, secrets: 1, jwks: 0 }
            : { getItem: 1, secrets: g.alg === 'HS256' ? 1 : 0, jwks: g.alg === 'HS256' ? 0 : 1 };
      requests.push({ kind: g.kind, event, uncached });
      continue;
    }
    const kind = pick(BAD);
    switch (kind) {
      case 'bad signature': {
        const t = pick(tampered);
        requests.push({ kind, event: bearer(t.token), uncached: { getItem: 0, secrets: t.alg === 'HS256' ? 1 : 0, jwks: t.alg === 'HS256' ? 0 : 1 } });
        break;
      }
      case 'unknown kid':
        requests.push({ kind, event: bearer(pick(unknownKid)), uncached: { getItem: 0, secrets: 0, jwks: 1 } });
        break;
      case 'never-seen API key':
        requests.push({ kind, event: bearer(generateApiKey('gh', 'live')), uncached: { getItem: 1, secrets: 0, jwks: 0 } });
        break;
      case 'wrong service secret':
        requests.push({ kind, event: serviceEvent(pick(world.services).name, randomBytes(32).toString('base64url')), uncached: { getItem: 0, secrets: 1, jwks: 0 } });
        break;
      default:
        requests.push({ kind, event: bearer(garbage()), uncached: { getItem: 0, secrets: 0, jwks: 0 } });
    }
  }

  const clients = countingClients();
  const sink = discardLogger();
  const start = Date.now();
  let clock = start;
  const handler = world.authorizer({ dynamodb: clients.dynamodb, secretsManager: clients.secretsManager, logger: sink.logger, now: () => clock });
  const jwksTotal = () => ASYMMETRIC.reduce((n, alg) => n + world.jwks[alg].fetches(), 0);
  const jwksStart = ASYMMETRIC.map((alg) => world.jwks[alg].fetches());

  type Tally = { decisions: number; allowed: number; getItem: number; secrets: number; jwks: number; uncachedGetItem: number; uncachedSecrets: number; uncachedJwks: number };
  const zero = (): Tally => ({ decisions: 0, allowed: 0, getItem: 0, secrets: 0, jwks: 0, uncachedGetItem: 0, uncachedSecrets: 0, uncachedJwks: 0 });
  const tally = new Map<Kind, Tally>(KINDS.map((k) => [k, zero()]));
  const jwksAt: number[] = new Array(decisions).fill(0);
  ctx.log(`${decisions} decisions of the mix (${(decisions * STEP_MS) / 1000} s simulated)`);
  const wallStart = performance.now();
  for (let i = 0; i < decisions; i++) {
    const r = requests[i]!;
    clock = start + i * STEP_MS;
    clients.state.tag = i;
    const before = jwksTotal();
    await handler(r.event).catch(() => undefined);
    jwksAt[i] = jwksTotal() - before;
    const t = tally.get(r.kind)!;
    t.decisions++;
    if (sink.last().decision === 'allow') t.allowed++;
    t.jwks += jwksAt[i]!;
    t.uncachedGetItem += r.uncached.getItem;
    t.uncachedSecrets += r.uncached.secrets;
    t.uncachedJwks += r.uncached.jwks;
  }
  const wallSeconds = (performance.now() - wallStart) / 1000;
  for (const c of clients.calls) {
    const t = tally.get(requests[c.tag as number]!.kind)!;
    if (c.service === 'secretsmanager') t.secrets++;
    else if (c.command === 'GetItemCommand') t.getItem++;
  }
  const otherDynamo = clients.calls.filter((c) => c.service === 'dynamodb' && c.command !== 'GetItemCommand').length;
  clients.destroy();

  const total = [...tally.values()].reduce((a, t) => {
    for (const k of Object.keys(a) as (keyof Tally)[]) a[k] += t[k];
    return a;
  }, zero());
  const per1000 = (n: number) => num((n * 1000) / decisions, 1);
  const rows = KINDS.map((k) => {
    const t = tally.get(k)!;
    return [k, int(t.decisions), `${int(t.allowed)}`, int(t.getItem), int(t.secrets), int(t.jwks), `${int(t.uncachedGetItem)} / ${int(t.uncachedSecrets)} / ${int(t.uncachedJwks)}`];
  });
  rows.push([
    '**per 1,000 decisions**',
    '1,000',
    per1000(total.allowed),
    per1000(total.getItem),
    per1000(total.secrets),
    per1000(total.jwks),
    `${per1000(total.uncachedGetItem)} / ${per1000(total.uncachedSecrets)} / ${per1000(total.uncachedJwks)}`,
  ]);
  rows.push([
    '**ratio to uncached**',
    '',
    '',
    ratio(total.getItem, total.uncachedGetItem),
    ratio(total.secrets, total.uncachedSecrets),
    ratio(total.jwks, total.uncachedJwks),
    '1×',
  ]);

  const warmFrom = 1000;
  const goodKinds = new Set<Kind>(KINDS.filter((k) => !BAD.includes(k)));
  const warmGood = clients.calls.filter((c) => c.service === 'secretsmanager' && (c.tag as number) >= warmFrom && goodKinds.has(requests[c.tag as number]!.kind));
  const warmGoodDecisions = requests.slice(warmFrom).filter((r) => goodKinds.has(r.kind)).length;
  const neverSeen = tally.get('never-seen API key')!;
  const neverSeenKeyGetItems = clients.calls.filter((c) => c.pk?.startsWith('APIKEY#') && requests[c.tag as number]!.kind === 'never-seen API key').length;
  const text = [
    `One container, ${int(decisions)} decisions at a simulated 100 decisions/s (${(decisions * STEP_MS) / 1000} s of container time, ${num(wallSeconds, 1)} s of wall time), ` +
      `${good.length} distinct valid credentials drawn Zipf(s = ${ZIPF_S}) (${jwts.length} JWTs over 4 algorithms, ${good.length - jwts.length - world.services.length} API keys of ${tenants.length} tenants, ${world.services.length} services) and ${BAD_SHARE * 100}% bad credentials. ` +
      'Counts are commands on the wire (an SDK middleware) and fetches at the JWKS servers; the uncached baseline is what an authorizer without caches would send for the same requests ' +
      '(API key: key + tenant GetItem; JWT: a tenant GetItem and the secret read or JWKS fetch; service: one secret read).',
    '',
    table(['Request kind', 'Decisions', 'Allowed', 'DynamoDB GetItem', 'Secrets Manager', 'JWKS fetches', 'Uncached GetItem / SM / JWKS'], rows),
    ...(otherDynamo ? ['', `Other DynamoDB commands: ${otherDynamo}.`] : []),
  ].join('\n');
  return {
    text,
    neverSeenKeys: neverSeen.decisions,
    neverSeenKeyGetItems,
    warmGoodSecrets: warmGood.length,
    warmGoodDecisions,
    wrongSecretCalls: tally.get('wrong service secret')!.secrets,
    simulatedSeconds: (decisions * STEP_MS) / 1000,
    jwksPerIssuer: ASYMMETRIC.map((alg, i) => world.jwks[alg].fetches() - jwksStart[i]!),
  };
}

/** Fresh authorizers, real clock: the API key miss, single flight, Secrets Manager once warm, a kid storm. */
async function controlledChecks(ctx: SectionContext, world: World): Promise<(mix: MixResult) => string> {
  ctx.log('controlled checks');
  const tenant = world.tenants[1]!;
  const run = async <T>(fn: (h: ReturnType<World['authorizer']>, c: ReturnType<typeof countingClients>) => Promise<T>): Promise<{ value: T; calls: ReturnType<typeof countingClients>['calls'] }> => {
    const clients = countingClients();
    const sink = discardLogger();
    const h = world.authorizer({ dynamodb: clients.dynamodb, secretsManager: clients.secretsManager, logger: sink.logger });
    try {
      const value = await fn(h, clients);
      return { value, calls: clients.calls };
    } finally {
      clients.destroy();
    }
  };
  const keys = await world.putApiKeys(101, tenant);
  const firstSeen = await run(async (h, c) => {
    await h(bearer(keys[100]!)); // warms the tenant
    c.calls.splice(0);
    for (const k of keys.slice(0, 100)) await h(bearer(k));
    return 100;
  });
  const firstSeenKeyReads = firstSeen.calls.filter((c) => c.command === 'GetItemCommand').length;
  const [newKey] = await world.putApiKeys(1, tenant);
  const concurrent = await run(async (h, c) => {
    await h(bearer(keys[0]!));
    c.calls.splice(0);
    await Promise.all(Array.from({ length: 16 }, () => h(bearer(newKey!)).catch(() => undefined)));
    return 16;
  });
  const concurrentReads = concurrent.calls.filter((c) => c.command === 'GetItemCommand').length;
  // Secrets Manager once warm: first-seen and repeated HS256 tokens and service secrets, after one of each.
  const warm = await run(async (h, c) => {
    const s = world.services[0]!;
    await h(bearer(world.token('HS256', 'warm', tenant)));
    for (const each of world.services) await h(serviceEvent(each.name, each.secret));
    c.calls.splice(0);
    const repeated = world.token('HS256', 'repeated', tenant);
    for (let i = 0; i < 250; i++) {
      await h(bearer(world.token('HS256', `u${i}`, tenant)));
      await h(bearer(repeated));
      await h(serviceEvent(s.name, s.secret));
      await h(serviceEvent(world.services[i % world.services.length]!.name, world.services[i % world.services.length]!.secret));
    }
    return 1000;
  });
  const warmSecrets = warm.calls.filter((c) => c.service === 'secretsmanager').length;
  // A storm of 100 tokens with unknown kids on one issuer, all at once and then one after another.
  const stranger = asymmetricKey('ES256', 'stranger');
  const before = world.jwks.ES256.fetches();
  await run(async (h) => {
    const iat = nowSeconds();
    const tokens = Array.from({ length: 100 }, (_, i) => signJwt({ ...stranger, kid: `made-up-${i}` }, { iss: world.issuers.ES256, sub: 'x', aud: AUDIENCE, iat, exp: iat + 600, org: tenant }));
    await Promise.all(tokens.slice(0, 50).map((t) => h(bearer(t)).catch(() => undefined)));
    for (const t of tokens.slice(50)) await h(bearer(t)).catch(() => undefined);
    return 100;
  });
  const stormFetches = world.jwks.ES256.fetches() - before;

  return (mix) => {
    const windows = Math.floor(mix.simulatedSeconds / 30) + 1;
    const jwksBound = windows + Math.floor(mix.simulatedSeconds / 600);
    // Per service: the first read, then at most one forced re-read per cooldown; a read is two calls (list + get).
    const secretBound = 2 * world.services.length * (windows + 1);
    const rows = [
      ['GetItem per never-seen API key (mix)', `${num(mix.neverSeenKeyGetItems / Math.max(1, mix.neverSeenKeys))} (${mix.neverSeenKeyGetItems} for ${mix.neverSeenKeys})`, 'exactly 1', met(mix.neverSeenKeyGetItems === mix.neverSeenKeys)],
      ['GetItem per first-seen valid API key, tenant cached (100 keys)', `${num(firstSeenKeyReads / firstSeen.value)} (${firstSeenKeyReads} for ${firstSeen.value})`, 'exactly 1', met(firstSeenKeyReads === firstSeen.value)],
      ['GetItem for 16 concurrent requests with one new key', `${concurrentReads}`, '1 (single flight)', met(concurrentReads === 1)],
      [
        'Secrets Manager calls per decision once warm, valid credentials (mix, after the first 1,000)',
        `${num(mix.warmGoodSecrets / Math.max(1, mix.warmGoodDecisions), 4)} (${mix.warmGoodSecrets} in ${int(mix.warmGoodDecisions)})`,
        '0',
        met(mix.warmGoodSecrets === 0),
      ],
      ['Secrets Manager calls in 1,000 warm HS256 (new and repeated) and service decisions', `${warmSecrets}`, '0', met(warmSecrets === 0)],
      [
        'Secrets Manager calls caused by wrong service secrets (mix)',
        `${mix.wrongSecretCalls}`,
        `first read + ≤ 1 re-read (list + get) per service per 30 s cooldown: ≤ ${secretBound}`,
        met(mix.wrongSecretCalls <= secretBound),
      ],
      [
        `JWKS fetches per issuer over ${mix.simulatedSeconds} s (mix; RS256 / ES256 / EdDSA)`,
        mix.jwksPerIssuer.join(' / '),
        `1 per container + ≤ 1 per 30 s cooldown (+ max-age refresh): ≤ ${jwksBound}`,
        met(mix.jwksPerIssuer.every((n) => n <= jwksBound)),
      ],
      ['JWKS fetches for 100 unknown-kid tokens (50 at once, then 50 in turn), warm-up included', `${stormFetches}`, '≤ 2 (first load + one refetch)', met(stormFetches <= 2)],
    ];
    return table(['Check', 'Measured', 'Target', 'Met'], rows);
  };
}
