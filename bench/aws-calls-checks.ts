/**
 * Section 2's controlled checks: fresh authorizers on the real clock, each counting its own AWS calls: the API key
 * miss (100 first-seen keys of a cached tenant), single flight (16 concurrent requests with one new key), Secrets
 * Manager once warm (1,000 HS256 and service decisions), a storm of unknown `kid`s, and a flood of 1,000 forged keys
 * with valid checksums (the unknown-key lookup budget, lambdas/authorizer/lookup-budget.ts). Then the targets table,
 * which also checks figures of the mix (aws-calls.ts).
 */
import { generateApiKey } from '../contract/api-key';
import { asymmetricKey, nowSeconds, signJwt } from './keys';
import { int, met, num, table } from './stats';
import { AUDIENCE, type Call, type World, bearer, countingClients, discardLogger, serviceEvent } from './world';

/** What the mix measured that the targets table checks. */
export interface MixResult {
  readonly text: string;
  readonly neverSeenKeys: number;
  readonly neverSeenKeyGetItems: number;
  readonly warmGoodSecrets: number;
  readonly warmGoodDecisions: number;
  readonly wrongSecretCalls: number;
  readonly simulatedSeconds: number;
  readonly jwksPerIssuer: readonly number[];
}

type Handler = ReturnType<World['authorizer']>;
type Clients = ReturnType<typeof countingClients>;

/** What the controlled runs measured. */
interface Controlled {
  readonly firstSeenKeys: number;
  readonly firstSeenKeyReads: number;
  readonly concurrentReads: number;
  readonly warmSecrets: number;
  readonly stormFetches: number;
  readonly forged: { readonly reads: number; readonly seconds: number };
}

/** The default `apiKeys.unknownKeyLookupsPerSecond` (contract/config.ts): the bench's world does not set it. */
const LOOKUP_BUDGET_PER_SECOND = 100;

/** Runs the controlled checks now; the returned function makes the targets table once the mix's figures are in. */
export async function controlledChecks(log: (m: string) => void, world: World): Promise<(mix: MixResult) => string> {
  log('controlled checks');
  const tenant = world.tenants[1]!;
  const keys = await world.putApiKeys(101, tenant);
  const firstSeen = await firstSeenKeyReads(world, keys);
  const [newKey] = await world.putApiKeys(1, tenant);
  const measured: Controlled = {
    firstSeenKeys: firstSeen.value,
    firstSeenKeyReads: firstSeen.calls.filter((c) => c.command === 'GetItemCommand').length,
    concurrentReads: await concurrentKeyReads(world, keys[0]!, newKey!),
    warmSecrets: await warmSecretCalls(world, tenant),
    stormFetches: await kidStormFetches(world, tenant),
    forged: await forgedKeyReads(world),
  };
  return (mix) => checksTable(world, measured, mix);
}

/** `fn` on a fresh authorizer with counting clients; its value and every AWS call it made (minus those it dropped). */
async function onFreshAuthorizer<T>(world: World, fn: (h: Handler, c: Clients) => Promise<T>): Promise<{ value: T; calls: Call[] }> {
  const clients = countingClients();
  const sink = discardLogger();
  const h = world.authorizer({ dynamodb: clients.dynamodb, secretsManager: clients.secretsManager, logger: sink.logger });
  try {
    const value = await fn(h, clients);
    return { value, calls: clients.calls };
  } finally {
    clients.destroy();
  }
}

/** 100 first-seen valid keys of a tenant already cached (by the 101st key): their calls. */
function firstSeenKeyReads(world: World, keys: readonly string[]): Promise<{ value: number; calls: Call[] }> {
  return onFreshAuthorizer(world, async (h, c) => {
    await h(bearer(keys[100]!)); // warms the tenant
    c.calls.splice(0);
    for (const k of keys.slice(0, 100)) await h(bearer(k));
    return 100;
  });
}

/** GetItems for 16 concurrent requests with one new key, the tenant cached (by `known`). */
async function concurrentKeyReads(world: World, known: string, newKey: string): Promise<number> {
  const concurrent = await onFreshAuthorizer(world, async (h, c) => {
    await h(bearer(known));
    c.calls.splice(0);
    await Promise.all(Array.from({ length: 16 }, () => h(bearer(newKey)).catch(() => undefined)));
    return 16;
  });
  return concurrent.calls.filter((c) => c.command === 'GetItemCommand').length;
}

/** Secrets Manager once warm: first-seen and repeated HS256 tokens and service secrets, after one of each. */
async function warmSecretCalls(world: World, tenant: string): Promise<number> {
  const warm = await onFreshAuthorizer(world, async (h, c) => {
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
  return warm.calls.filter((c) => c.service === 'secretsmanager').length;
}

/** JWKS fetches for a storm of 100 tokens with unknown kids on one issuer, all at once and then one after another. */
async function kidStormFetches(world: World, tenant: string): Promise<number> {
  const stranger = asymmetricKey('ES256', 'stranger');
  const before = world.jwks.ES256.fetches();
  await onFreshAuthorizer(world, async (h) => {
    const iat = nowSeconds();
    const tokens = Array.from({ length: 100 }, (_, i) => signJwt({ ...stranger, kid: `made-up-${i}` }, { iss: world.issuers.ES256, sub: 'x', aud: AUDIENCE, iat, exp: iat + 600, org: tenant }));
    await Promise.all(tokens.slice(0, 50).map((t) => h(bearer(t)).catch(() => undefined)));
    for (const t of tokens.slice(50)) await h(bearer(t)).catch(() => undefined);
    return 100;
  });
  return world.jwks.ES256.fetches() - before;
}

/** GetItems for a flood of 1,000 distinct forged keys with valid checksums, all at once on a fresh authorizer. */
async function forgedKeyReads(world: World): Promise<{ reads: number; seconds: number }> {
  const forged = Array.from({ length: 1000 }, () => generateApiKey('gh', 'live'));
  const started = performance.now();
  const run = await onFreshAuthorizer(world, async (h) => {
    await Promise.all(forged.map((k) => h(bearer(k)).catch(() => undefined)));
    return 1000;
  });
  return { reads: run.calls.filter((c) => c.command === 'GetItemCommand').length, seconds: (performance.now() - started) / 1000 };
}

function checksTable(world: World, m: Controlled, mix: MixResult): string {
  const windows = Math.floor(mix.simulatedSeconds / 30) + 1;
  const jwksBound = windows + Math.floor(mix.simulatedSeconds / 600);
  // Per service: the first read, then at most one forced re-read per cooldown; a read is two calls (list + get).
  // Plus, between re-reads, one version check (a list) per service per 5 s (serviceSecrets.versionCheckSeconds).
  const secretBound = 2 * world.services.length * (windows + 1) + world.services.length * (Math.floor(mix.simulatedSeconds / 5) + 1);
  const forgedBound = Math.ceil(LOOKUP_BUDGET_PER_SECOND * (1 + m.forged.seconds));
  const rows = [
    ['GetItem per never-seen API key (mix)', `${num(mix.neverSeenKeyGetItems / Math.max(1, mix.neverSeenKeys))} (${mix.neverSeenKeyGetItems} for ${mix.neverSeenKeys})`, 'exactly 1', met(mix.neverSeenKeyGetItems === mix.neverSeenKeys)],
    ['GetItem per first-seen valid API key, tenant cached (100 keys)', `${num(m.firstSeenKeyReads / m.firstSeenKeys)} (${m.firstSeenKeyReads} for ${m.firstSeenKeys})`, 'exactly 1', met(m.firstSeenKeyReads === m.firstSeenKeys)],
    ['GetItem for 16 concurrent requests with one new key', `${m.concurrentReads}`, '1 (single flight)', met(m.concurrentReads === 1)],
    [
      'Secrets Manager calls per decision once warm, valid credentials (mix, after the first 1,000)',
      `${num(mix.warmGoodSecrets / Math.max(1, mix.warmGoodDecisions), 4)} (${mix.warmGoodSecrets} in ${int(mix.warmGoodDecisions)})`,
      '0',
      met(mix.warmGoodSecrets === 0),
    ],
    ['Secrets Manager calls in 1,000 warm HS256 (new and repeated) and service decisions', `${m.warmSecrets}`, '0', met(m.warmSecrets === 0)],
    [
      'Secrets Manager calls caused by wrong service secrets (mix)',
      `${mix.wrongSecretCalls}`,
      `first read + ≤ 1 re-read (list + get) per service per 30 s cooldown + ≤ 1 version check per 5 s: ≤ ${secretBound}`,
      met(mix.wrongSecretCalls <= secretBound),
    ],
    [
      `JWKS fetches per issuer over ${mix.simulatedSeconds} s (mix; RS256 / ES256 / EdDSA)`,
      mix.jwksPerIssuer.join(' / '),
      `1 per container + ≤ 1 per 30 s cooldown (+ max-age refresh): ≤ ${jwksBound}`,
      met(mix.jwksPerIssuer.every((n) => n <= jwksBound)),
    ],
    [
      'DynamoDB reads per 1,000 forged-checksum API keys (distinct, all at once)',
      `${m.forged.reads} (in ${num(m.forged.seconds, 2)} s)`,
      `≤ the lookup budget, ${LOOKUP_BUDGET_PER_SECOND}/s (+ ${LOOKUP_BUDGET_PER_SECOND} saved up): ≤ ${forgedBound}`,
      met(m.forged.reads <= forgedBound),
    ],
    ['JWKS fetches for 100 unknown-kid tokens (50 at once, then 50 in turn), warm-up included', `${m.stormFetches}`, '≤ 2 (first load + one refetch)', met(m.stormFetches <= 2)],
  ];
  return table(['Check', 'Measured', 'Target', 'Met'], rows);
}
