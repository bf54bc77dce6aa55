/**
 * What the authorizer's memory size is chosen from, measured on this machine's one core: a cold start (a fresh
 * `node` loading the deployed bundle, as bench/cold-start.ts does), a first-seen decision of each costly kind (ES256
 * and RS256 signatures with keys and tenant cached; an API key the container has not seen, one GetItem on moto) and
 * a warm repeated one. Each is split into its CPU part, which scales with the memory size, and its I/O part (waiting
 * on AWS), which does not.
 */
import { bundle, childRunner, deployedConfig } from './cold-start-probe';
import type { SectionContext } from './section';
import { median } from './stats';
import { type World, bearer, countingClients, discardLogger } from './world';

/** One measured operation: median wall time and the median part of it spent waiting on AWS. */
export interface Measured {
  readonly ms: number;
  readonly ioMs: number;
}

export interface MemoryInputs {
  /** Process start to handler ready, the deployed bundle with the example configuration (all CPU and disk), fastest run. */
  readonly init: Measured;
  /** The same for an empty handler: what Node itself costs. */
  readonly emptyInit: Measured;
  readonly es256: Measured;
  readonly rs256: Measured;
  readonly apiKey: Measured;
  readonly warm: Measured;
}

export async function measureMemoryInputs(ctx: SectionContext, world: World): Promise<MemoryInputs> {
  const [init, emptyInit] = await measureInit(ctx);
  return { init, emptyInit, ...(await measureDecisions(ctx, world)) };
}

/** Fresh processes loading the authorizer's and an empty handler's bundles (interleaved): the fastest handler-ready times. */
async function measureInit(ctx: SectionContext): Promise<[Measured, Measured]> {
  const runs = ctx.quick ? 3 : 8;
  ctx.log(`cost: ${runs} cold starts each of the authorizer bundle and an empty handler`);
  const auth = await bundle(ctx, 'lambdas/authorizer/index.ts', 'authorizer');
  const empty = await bundle(ctx, 'bench/cold-start-empty.ts', 'empty');
  // No decision is sent: the issuer's URL is never fetched.
  const child = childRunner(ctx, deployedConfig(ctx.root, 'http://127.0.0.1:9'));
  await child(auth.outfile, []);
  const a: number[] = [];
  const e: number[] = [];
  for (let i = 0; i < runs; i++) {
    e.push((await child(empty.outfile, [])).ready);
    const r = await child(auth.outfile, []);
    if (r.error) throw new Error(`cost: the authorizer bundle failed to load: ${r.error}`);
    a.push(r.ready);
  }
  // The fastest run, not the median: on a shared machine other processes only ever add to a cold start's time.
  return [
    { ms: Math.min(...a), ioMs: 0 },
    { ms: Math.min(...e), ioMs: 0 },
  ];
}

/**
 * Decisions on a fresh authorizer of the world (counting clients, discarded log lines): after one decision of each
 * kind (tenant, JWKS and secrets cached), `n` first-seen ES256 and RS256 tokens, `n` first-seen API keys, and `n`
 * repetitions of one API key. Each must be allowed, or the figure would time an error path.
 */
async function measureDecisions(ctx: SectionContext, world: World): Promise<Omit<MemoryInputs, 'init' | 'emptyInit'>> {
  const n = ctx.quick ? 30 : 120;
  const tenant = world.tenants[0]!;
  const keys = await world.putApiKeys(n + 1, tenant);
  const clients = countingClients();
  const sink = discardLogger();
  const authorize = world.authorizer({ dynamodb: clients.dynamodb, secretsManager: clients.secretsManager, logger: sink.logger });
  const time = async (token: string): Promise<Measured> => {
    const before = clients.calls.length;
    const t = performance.now();
    await authorize(bearer(token));
    const ms = performance.now() - t;
    if (sink.last().decision !== 'allow') throw new Error(`cost: a measured decision was not allowed (${String(sink.last().reason)})`);
    return { ms, ioMs: clients.calls.slice(before).reduce((s, c) => s + (c.ms ?? 0), 0) };
  };
  const medianOf = async (tokens: readonly string[]): Promise<Measured> => {
    const out: Measured[] = [];
    for (const t of tokens) out.push(await time(t));
    return { ms: median(out.map((m) => m.ms)), ioMs: median(out.map((m) => m.ioMs)) };
  };
  try {
    ctx.log(`cost: ${n} first-seen decisions per kind and ${n} warm ones`);
    // Warm-up: the tenant, each issuer's JWKS and the first key's lookups are cached before anything is timed.
    for (const alg of ['ES256', 'RS256'] as const) await time(world.token(alg, `warm-${alg}`, tenant));
    await time(keys[n]!);
    const es256 = await medianOf(Array.from({ length: n }, (_, i) => world.token('ES256', `es-${i}`, tenant)));
    const rs256 = await medianOf(Array.from({ length: n }, (_, i) => world.token('RS256', `rs-${i}`, tenant)));
    const apiKey = await medianOf(keys.slice(0, n));
    const warm = await medianOf(Array.from({ length: n }, () => keys[n]!));
    return { es256, rs256, apiKey, warm };
  } finally {
    clients.destroy();
  }
}
