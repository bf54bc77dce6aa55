/**
 * The cost section's run: the aws-calls mix (bench/aws-calls.ts: Zipf-drawn valid credentials and 10% bad ones)
 * sent over HTTP, one request at a time, through the local gateway (local/gateway.ts: identity sources, then API
 * Gateway's authorizer result cache with the deployed TTL) in front of the real authorizer and the real handlers
 * with their per-tenant limiter, on moto. The clock of the gateway, the authorizer and the limiter is simulated at
 * 100 requests/s, so cache TTLs play out as in production while the run takes seconds.
 *
 * What each request cost is counted, not assumed: API Gateway requests that reached an integration (the billable
 * ones), authorizer invocations and their duration (with the part spent waiting on AWS), AWS commands on the wire per
 * client (authorizer, limiter, handlers), and the bytes of every log line the authorizer and handlers wrote.
 */
import type { APIGatewayAuthorizerResult, APIGatewayProxyEvent, APIGatewayProxyResult, APIGatewayRequestAuthorizerEvent, Context } from 'aws-lambda';
import { parseConfig } from '../contract/config';
import { jsonLogger } from '../contract/log';
import { createRateLimiter } from '../lambdas/shared/rate-limit/limiter';
import { DEFAULT_AUTHORIZER_RESULT_TTL_SECONDS } from '../contract/stack-config';
import { createLocalGateway } from '../local/gateway';
import { localHandlers } from '../local/handlers';
import { type Kind, type Request, BAD, STEP_MS, goodPopulation, mixRequests } from './aws-calls';
import type { SectionContext } from './section';
import { seeded, zipf } from './stats';
import { type Call, ROUTES, type World, countingClients } from './world';

/** The handler each route of the world's table names (the mix uses GET /v1/me and POST /internal/jobs). */
const ROUTE_HANDLERS: Readonly<Record<string, string>> = { '/health': 'health', '/v1/me': 'me', '/v1/customers': 'customers', '/v1/customers/{id}': 'customers', '/internal/jobs': 'internal-jobs' };
/** As bench/e2e.ts: the default tier (100/min, bursts of 200) would answer 429 to most requests of the busiest tenant. */
const BENCH_TIERS = { tiers: { default: { requestsPerMinute: 100_000, burst: 100_000 } } };

/** One authorizer invocation: its wall time in this process and the part of it spent waiting on AWS (moto). */
export interface Invocation {
  readonly kind: Kind;
  readonly ms: number;
  readonly ioMs: number;
}

/** One handler invocation: its wall time and the part spent waiting on the limiter's DynamoDB calls. */
export interface HandlerRun {
  /** The kind of the request it ran for (only valid credentials reach a handler; kept so nothing has to assume it). */
  readonly kind: Kind;
  readonly ms: number;
  readonly limiterMs: number;
  /** The limiter's DynamoDB commands during the run (0: a handler without a limiter). */
  readonly limiterCalls: number;
}

/**
 * What one counted request wrote, charged to it: requests go one at a time, so every line written while it is in
 * flight is its own (AWS commands are charged the same way, through the clients' tag).
 */
export interface RequestCounts {
  readonly kind: Kind;
  readonly status: number;
  readonly authorizerLogBytes: number;
  readonly authorizerLines: number;
  readonly handlerLogBytes: number;
  readonly handlerLines: number;
  readonly accessLogBytes: number;
}

/** What the mix cost, counted. */
export interface MixCounts {
  /** Requests sent before counting began. */
  readonly warmup: number;
  readonly requests: number;
  readonly badRequests: number;
  readonly simulatedSeconds: number;
  readonly wallSeconds: number;
  readonly ttlSeconds: number;
  readonly statuses: Readonly<Record<string, number>>;
  /** Requests that reached a handler (API Gateway bills those; refused ones are not billed). */
  readonly handlerRuns: readonly HandlerRun[];
  readonly invocations: readonly Invocation[];
  readonly authorizerCalls: readonly Call[];
  readonly limiterCalls: readonly Call[];
  readonly handlerCalls: readonly Call[];
  readonly logBytes: { readonly authorizer: number; readonly handlers: number; readonly authorizerLines: number; readonly handlerLines: number };
  /** One access-log line per request, with the values this request had (the REST stage's format, contract/access-log.ts). */
  readonly accessLogBytes: number;
  readonly jwksFetches: number;
  /** The request kind of each index a call's tag holds (warm-up included). */
  readonly kinds: readonly Kind[];
  /** Each counted request's own lines, in order (their sums are `logBytes` and `accessLogBytes`). */
  readonly perRequest: readonly RequestCounts[];
}

/** The log lines of the request in flight, as the loggers charge them. */
interface LinesOf {
  authorizerLogBytes: number;
  authorizerLines: number;
  handlerLogBytes: number;
  handlerLines: number;
}

const noLines = (): LinesOf => ({ authorizerLogBytes: 0, authorizerLines: 0, handlerLogBytes: 0, handlerLines: 0 });

/** The per-request state the wrappers charge their counts to (requests go one at a time). */
interface Current {
  index: number;
  clock: number;
  /** False during the warm-up. */
  counting: boolean;
  /** The lines the request in flight has written. */
  lines: LinesOf;
}

/**
 * Sends `warmup` requests of the mix, then `requests` more, and counts the latter only: the caches (API Gateway's,
 * the authorizer's) are then as a container that has been serving this traffic finds them. During the warm-up the
 * handlers answer 200 without running (their limiter's writes would only make the warm-up slow).
 */
export async function runCostMix(ctx: SectionContext, world: World, sizes: { warmup: number; requests: number }, accessLogLine: (r: AccessLogValues) => string): Promise<MixCounts> {
  const random = seeded(20261123);
  const good = await goodPopulation(ctx, world, random);
  const all = mixRequests(world, good, zipf(good.length, 1.1, random), random, sizes.warmup + sizes.requests);
  const cur: Current = { index: -1, clock: Date.now(), counting: false, lines: noLines() };
  const start = cur.clock;
  const s = serving(world, cur, all);
  const baseUrl = await s.gateway.listen(0, '127.0.0.1');
  const jwksFetches = () => Object.values(world.jwks).reduce((n, j) => n + j.fetches(), 0);
  let jwksBefore = 0;
  const statuses: Record<string, number> = {};
  const perRequest: RequestCounts[] = [];
  ctx.log(`cost: ${sizes.warmup} + ${sizes.requests} requests of the mix through the local gateway (${(all.length * STEP_MS) / 1000} s simulated)`);
  let wallStart = performance.now();
  try {
    for (const [i, r] of all.entries()) {
      if (i === sizes.warmup) {
        // The warm-up is over: from here on, everything is counted.
        s.reset();
        jwksBefore = jwksFetches();
        cur.counting = true;
        wallStart = performance.now();
      }
      cur.index = i;
      cur.clock = start + i * STEP_MS;
      cur.lines = noLines();
      for (const c of s.clients) c.state.tag = i;
      const invokedBefore = s.invocations.length;
      const t = performance.now();
      const answer = await send(baseUrl, r);
      if (!cur.counting) continue;
      statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
      const authorizerLatency = s.invocations.length > invokedBefore ? s.invocations.at(-1)!.ms : undefined;
      const accessLogBytes = Buffer.byteLength(accessLogLine({ request: r, status: answer.status, latencyMs: performance.now() - t, authorizerLatency, body: answer.body }));
      perRequest.push({ kind: r.kind, status: answer.status, ...cur.lines, accessLogBytes });
    }
  } finally {
    await s.gateway.close();
    for (const c of s.clients) c.destroy();
  }
  const mix = all.slice(sizes.warmup);
  allCharged(s.logs, perRequest);
  return {
    warmup: sizes.warmup,
    requests: mix.length,
    badRequests: mix.filter((r) => BAD.includes(r.kind)).length,
    simulatedSeconds: (mix.length * STEP_MS) / 1000,
    wallSeconds: (performance.now() - wallStart) / 1000,
    ttlSeconds: TTL_SECONDS,
    statuses,
    handlerRuns: s.handlerRuns,
    invocations: s.invocations,
    authorizerCalls: s.clients[0].calls,
    limiterCalls: s.clients[1].calls,
    handlerCalls: s.clients[2].calls,
    logBytes: s.logs,
    accessLogBytes: perRequest.reduce((n, x) => n + x.accessLogBytes, 0),
    jwksFetches: jwksFetches() - jwksBefore,
    kinds: all.map((r) => r.kind),
    perRequest,
  };
}

const TTL_SECONDS = DEFAULT_AUTHORIZER_RESULT_TTL_SECONDS;

/**
 * The local gateway over the world's authorizer and the built-in handlers with their limiter, each on its own
 * counting clients (authorizer, limiter, handlers) and logger, wrapped so that every invocation is timed and
 * recorded; `reset` forgets what the warm-up did.
 */
function serving(world: World, cur: Current, all: readonly Request[]) {
  const clients = [countingClients(), countingClients(), countingClients()] as const;
  const [auth, lim, hand] = clients;
  const logs = { authorizer: 0, handlers: 0, authorizerLines: 0, handlerLines: 0 };
  const routes = ROUTES.map((r) => ({ ...r, ...(ROUTE_HANDLERS[r.path] ? { handler: ROUTE_HANDLERS[r.path] } : {}) }));
  const config = parseConfig({ ...world.config, routes, rateLimits: BENCH_TIERS });
  const authorize = world.authorizer(
    {
      dynamodb: auth.dynamodb,
      secretsManager: auth.secretsManager,
      logger: jsonLogger('gatehouse-authorizer', (line) => {
        const bytes = Buffer.byteLength(line);
        logs.authorizer += bytes;
        logs.authorizerLines++;
        cur.lines.authorizerLogBytes += bytes;
        cur.lines.authorizerLines++;
      }),
      now: () => cur.clock,
    },
    { routes, rateLimits: BENCH_TIERS },
  );
  const invocations: Invocation[] = [];
  const handlerRuns: HandlerRun[] = [];
  const timedAuthorizer = async (event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
    const before = auth.calls.length;
    const t = performance.now();
    try {
      return await authorize(event);
    } finally {
      invocations.push({ kind: all[cur.index]!.kind, ms: performance.now() - t, ioMs: waited(auth.calls.slice(before)) });
    }
  };
  const handlers = localHandlers({
    dynamodb: hand.dynamodb,
    tableName: world.tableName,
    apiKeyPrefix: 'gh',
    environment: 'live',
    rateLimit: { limiter: createRateLimiter({ dynamodb: lim.dynamodb, tableName: world.tableName, now: () => cur.clock }), tiers: config.rateLimits.tiers },
    logger: jsonLogger('gatehouse-handler', (line) => {
      const bytes = Buffer.byteLength(line);
      logs.handlers += bytes;
      logs.handlerLines++;
      cur.lines.handlerLogBytes += bytes;
      cur.lines.handlerLines++;
    }),
  });
  const timed = (h: (e: APIGatewayProxyEvent, c: Context) => Promise<APIGatewayProxyResult>) => async (event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> => {
    if (!cur.counting) return { statusCode: 200, body: '{}' };
    const before = lim.calls.length;
    const t = performance.now();
    try {
      return await h(event, context);
    } finally {
      handlerRuns.push({ kind: all[cur.index]!.kind, ms: performance.now() - t, limiterMs: waited(lim.calls.slice(before)), limiterCalls: lim.calls.length - before });
    }
  };
  const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const timedHandlers = Object.fromEntries(Object.entries(handlers).map(([name, h]) => [name, timed(h)]));
  const gateway = createLocalGateway({ routes: config.routes, authorizer: timedAuthorizer, handlers: timedHandlers, resultTtlSeconds: TTL_SECONDS, now: () => cur.clock, logger: quiet });
  const reset = () => {
    for (const c of clients) c.calls.length = 0;
    invocations.length = 0;
    Object.assign(logs, { authorizer: 0, handlers: 0, authorizerLines: 0, handlerLines: 0 });
  };
  return { gateway, clients, logs, invocations, handlerRuns, reset };
}

/** Throws when a counted log line was not charged to a request: the valid-only split would then miss it. */
function allCharged(logs: { authorizer: number; handlers: number }, perRequest: readonly RequestCounts[]): void {
  const charged = perRequest.reduce((n, r) => ({ authorizer: n.authorizer + r.authorizerLogBytes, handlers: n.handlers + r.handlerLogBytes }), { authorizer: 0, handlers: 0 });
  if (charged.authorizer !== logs.authorizer || charged.handlers !== logs.handlers) {
    throw new Error(`cost: log bytes charged to requests (${charged.authorizer} + ${charged.handlers}) differ from those written (${logs.authorizer} + ${logs.handlers})`);
  }
}

/** Milliseconds waited on `calls` (each call's time, retries included). */
function waited(calls: readonly Call[]): number {
  return calls.reduce((n, c) => n + (c.ms ?? 0), 0);
}

/** The request as a client sends it: the authorizer event's method, path and headers. */
async function send(baseUrl: string, r: Request): Promise<{ status: number; body: Record<string, unknown> | undefined }> {
  const post = r.event.httpMethod === 'POST';
  const headers = { ...(r.event.headers as Record<string, string>), ...(post ? { 'content-type': 'application/json' } : {}) };
  const res = await fetch(`${baseUrl}${r.event.path}`, { method: r.event.httpMethod, headers, ...(post ? { body: '{}' } : {}) });
  const text = await res.text();
  let body: Record<string, unknown> | undefined;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = undefined;
  }
  return { status: res.status, body };
}

/** What an access-log line of one request is rendered from. */
export interface AccessLogValues {
  readonly request: Request;
  readonly status: number;
  readonly latencyMs: number;
  /** The authorizer's time when it ran for this request; undefined on a cache hit. */
  readonly authorizerLatency: number | undefined;
  /** The answer's JSON body: /v1/me echoes the caller's context (principalId, tenantId, kind). */
  readonly body: Record<string, unknown> | undefined;
}
