/**
 * Section 2: AWS calls per 1,000 decisions of one warm container under a realistic mix, counted on the wire (an
 * SDK middleware on the clients the authorizer is given; JWKS fetches at the JWKS servers), next to what an
 * authorizer without caches would send for the same requests. Then a few controlled checks of the call targets
 * (aws-calls-checks.ts).
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
import { type MixResult, controlledChecks } from './aws-calls-checks';
import { ALGORITHMS, ASYMMETRIC, type Alg, asymmetricKey, garbage, nowSeconds, signJwt, tamper } from './keys';
import type { SectionContext } from './section';
import { int, num, ratio, seeded, table, zipf } from './stats';
import { AUDIENCE, type Call, type World, bearer, countingClients, createWorld, discardLogger, serviceEvent } from './world';

export const KINDS = ['JWT HS256', 'JWT RS256', 'JWT ES256', 'JWT EdDSA', 'API key', 'service secret', 'bad signature', 'unknown kid', 'never-seen API key', 'wrong service secret', 'garbage'] as const;
export type Kind = (typeof KINDS)[number];
export const BAD: readonly Kind[] = ['bad signature', 'unknown kid', 'never-seen API key', 'wrong service secret', 'garbage'];

/** One request of the mix: its kind, the authorizer event API Gateway would send, what a cacheless authorizer would call. */
export interface Request {
  readonly kind: Kind;
  readonly event: APIGatewayRequestAuthorizerEvent;
  /** What a cacheless authorizer would call for it. */
  readonly uncached: { readonly getItem: number; readonly secrets: number; readonly jwks: number };
}

export const STEP_MS = 10; // 100 decisions per second of simulated time
export const ZIPF_S = 1.1;
export const BAD_SHARE = 0.1;

export async function awsCallsSection(ctx: SectionContext): Promise<string> {
  const decisions = ctx.quick ? 6000 : 25_000;
  const world = await createWorld({ extraServices: 0, log: ctx.log });
  try {
    const mix = await mixSection(ctx, world, decisions);
    const checks = await controlledChecks(ctx.log, world);
    return [mix.text, '', 'Targets, from the mix above and from controlled runs on fresh authorizers (real clock):', '', checks(mix)].join('\n');
  } finally {
    await world.close();
  }
}

/** A valid credential of the mix: a JWT (its algorithm), an API key, or a service's secret (its name). */
export interface Good {
  readonly kind: Kind;
  readonly token: string;
  readonly service?: string;
  readonly alg?: Alg;
}

async function mixSection(ctx: SectionContext, world: World, decisions: number): Promise<MixResult> {
  const random = seeded(20261123);
  const good = await goodPopulation(ctx, world, random);
  const rank = zipf(good.length, ZIPF_S, random);
  const requests = mixRequests(world, good, rank, random, decisions);
  const run = await runMix(ctx, world, requests);
  return mixResult(world, good, requests, run);
}

/** The valid population: 40 users per JWT algorithm, 19 API keys per tenant (stored), the 3 services; shuffled. */
export async function goodPopulation(ctx: SectionContext, world: World, random: () => number): Promise<Good[]> {
  const tenants = world.tenants;
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
  return good;
}

/** The requests in order: a valid credential drawn Zipf (`rank`), or with probability BAD_SHARE a bad one. */
export function mixRequests(world: World, good: readonly Good[], rank: () => number, random: () => number, decisions: number): Request[] {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
  const jwts = good.filter((g) => g.alg);
  const tampered = Array.from({ length: 50 }, () => {
    const g = pick(jwts);
    return { token: tamper(g.token), alg: g.alg! };
  });
  const strangers = Object.fromEntries(ASYMMETRIC.map((alg) => [alg, asymmetricKey(alg, `retired-${alg.toLowerCase()}`)]));
  const unknownKid = Array.from({ length: 50 }, (_, i) => {
    const alg = ASYMMETRIC[i % ASYMMETRIC.length]!;
    const iat = nowSeconds();
    return signJwt({ ...strangers[alg]!, kid: `retired-${i}` }, { iss: world.issuers[alg], sub: `user-${i}`, aud: AUDIENCE, iat, exp: iat + 7200, org: world.tenants[0] });
  });
  const requests: Request[] = [];
  for (let i = 0; i < decisions; i++) {
    if (random() >= BAD_SHARE) requests.push(goodRequest(good[rank()]!));
    else requests.push(badRequest(world, pick(BAD), pick, tampered, unknownKid));
  }
  return requests;
}

function goodRequest(g: Good): Request {
  const event = g.service ? serviceEvent(g.service, g.token) : bearer(g.token);
  const uncached =
    g.kind === 'API key'
      ? { getItem: 2, secrets: 0, jwks: 0 }
      : g.kind === 'service secret'
        ? { getItem: 0, secrets: 1, jwks: 0 }
        : { getItem: 1, secrets: g.alg === 'HS256' ? 1 : 0, jwks: g.alg === 'HS256' ? 0 : 1 };
  return { kind: g.kind, event, uncached };
}

function badRequest(world: World, kind: Kind, pick: <T>(xs: readonly T[]) => T, tampered: readonly { token: string; alg: Alg }[], unknownKid: readonly string[]): Request {
  switch (kind) {
    case 'bad signature': {
      const t = pick(tampered);
      return { kind, event: bearer(t.token), uncached: { getItem: 0, secrets: t.alg === 'HS256' ? 1 : 0, jwks: t.alg === 'HS256' ? 0 : 1 } };
    }
    case 'unknown kid':
      return { kind, event: bearer(pick(unknownKid)), uncached: { getItem: 0, secrets: 0, jwks: 1 } };
    case 'never-seen API key':
      return { kind, event: bearer(generateApiKey('gh', 'live')), uncached: { getItem: 1, secrets: 0, jwks: 0 } };
    case 'wrong service secret':
      return { kind, event: serviceEvent(pick(world.services).name, randomBytes(32).toString('base64url')), uncached: { getItem: 0, secrets: 1, jwks: 0 } };
    default:
      return { kind, event: bearer(garbage()), uncached: { getItem: 0, secrets: 0, jwks: 0 } };
  }
}

interface Tally {
  decisions: number;
  allowed: number;
  getItem: number;
  secrets: number;
  jwks: number;
  uncachedGetItem: number;
  uncachedSecrets: number;
  uncachedJwks: number;
}
const zero = (): Tally => ({ decisions: 0, allowed: 0, getItem: 0, secrets: 0, jwks: 0, uncachedGetItem: 0, uncachedSecrets: 0, uncachedJwks: 0 });

interface MixRun {
  readonly tally: ReadonlyMap<Kind, Tally>;
  /** Every AWS command, tagged with the index of the request that caused it. */
  readonly calls: readonly Call[];
  readonly wallSeconds: number;
  readonly jwksPerIssuer: readonly number[];
}

/** One authorizer decides the requests one at a time on a clock that advances STEP_MS per decision; tallies per kind. */
async function runMix(ctx: SectionContext, world: World, requests: readonly Request[]): Promise<MixRun> {
  const clients = countingClients();
  const sink = discardLogger();
  const start = Date.now();
  let clock = start;
  const handler = world.authorizer({ dynamodb: clients.dynamodb, secretsManager: clients.secretsManager, logger: sink.logger, now: () => clock });
  const jwksTotal = () => ASYMMETRIC.reduce((n, alg) => n + world.jwks[alg].fetches(), 0);
  const jwksStart = ASYMMETRIC.map((alg) => world.jwks[alg].fetches());
  const tally = new Map<Kind, Tally>(KINDS.map((k) => [k, zero()]));
  ctx.log(`${requests.length} decisions of the mix (${(requests.length * STEP_MS) / 1000} s simulated)`);
  const wallStart = performance.now();
  for (const [i, r] of requests.entries()) {
    clock = start + i * STEP_MS;
    clients.state.tag = i;
    const before = jwksTotal();
    await handler(r.event).catch(() => undefined);
    const t = tally.get(r.kind)!;
    t.decisions++;
    if (sink.last().decision === 'allow') t.allowed++;
    t.jwks += jwksTotal() - before;
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
  clients.destroy();
  return { tally, calls: clients.calls, wallSeconds, jwksPerIssuer: ASYMMETRIC.map((alg, i) => world.jwks[alg].fetches() - jwksStart[i]!) };
}

/** The mix's table and text, and the figures the controlled checks' table compares with its targets. */
function mixResult(world: World, good: readonly Good[], requests: readonly Request[], run: MixRun): MixResult {
  const decisions = requests.length;
  const { tally, calls } = run;
  const otherDynamo = calls.filter((c) => c.service === 'dynamodb' && c.command !== 'GetItemCommand').length;
  const warmFrom = 1000;
  const goodKinds = new Set<Kind>(KINDS.filter((k) => !BAD.includes(k)));
  const warmGood = calls.filter((c) => c.service === 'secretsmanager' && (c.tag as number) >= warmFrom && goodKinds.has(requests[c.tag as number]!.kind));
  const warmGoodDecisions = requests.slice(warmFrom).filter((r) => goodKinds.has(r.kind)).length;
  const neverSeen = tally.get('never-seen API key')!;
  const neverSeenKeyGetItems = calls.filter((c) => c.pk?.startsWith('APIKEY#') && requests[c.tag as number]!.kind === 'never-seen API key').length;
  const jwts = good.filter((g) => g.alg).length;
  const services = world.services.length;
  const text = [
    `One container, ${int(decisions)} decisions at a simulated 100 decisions/s (${(decisions * STEP_MS) / 1000} s of container time, ${num(run.wallSeconds, 1)} s of wall time), ` +
      `${good.length} distinct valid credentials drawn Zipf(s = ${ZIPF_S}) (${jwts} JWTs over 4 algorithms, ${good.length - jwts - services} API keys of ${world.tenants.length} tenants, ${services} services) and ${BAD_SHARE * 100}% bad credentials. ` +
      'Counts are commands on the wire (an SDK middleware) and fetches at the JWKS servers; the uncached baseline is what an authorizer without caches would send for the same requests ' +
      '(API key: key + tenant GetItem; JWT: a tenant GetItem and the secret read or JWKS fetch; service: one secret read).',
    '',
    table(['Request kind', 'Decisions', 'Allowed', 'DynamoDB GetItem', 'Secrets Manager', 'JWKS fetches', 'Uncached GetItem / SM / JWKS'], mixRows(tally, decisions)),
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
    jwksPerIssuer: run.jwksPerIssuer,
  };
}

/** A row per request kind, then the totals per 1,000 decisions and their ratio to the uncached baseline. */
function mixRows(tally: ReadonlyMap<Kind, Tally>, decisions: number): string[][] {
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
  rows.push(['**ratio to uncached**', '', '', ratio(total.getItem, total.uncachedGetItem), ratio(total.secrets, total.uncachedSecrets), ratio(total.jwks, total.uncachedJwks), '1×']);
  return rows;
}
