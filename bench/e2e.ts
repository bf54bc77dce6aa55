/**
 * Section 4: end to end through the local gateway (`provisionLocal` on the emulator, as `npm start` runs it, with a
 * quiet logger): requests/s and latency at a fixed concurrency, for a repeated API key and a repeated user JWT on
 * GET /v1/me, next to a bare node:http server on this machine that answers 200. The load comes from a separate
 * process; the gateway, its authorizer and handlers share this one, and moto is a third.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Logger } from '../contract/log';
import { provisionLocal } from '../local/provision';
import type { SectionContext } from './section';
import { int, median, met, ms, ratio, table } from './stats';

const CONCURRENCY = 16;
/** The tier the benchmark serves: the default (100/min, bursts of 200) would answer 429 to nearly every request. */
const BENCH_TIERS = { tiers: { default: { requestsPerMinute: 100_000, burst: 100_000 } } };

interface LoadResult {
  /** Every answered request, warm-up included. */
  readonly total: number;
  readonly requests: number;
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly statuses: Record<string, number>;
  readonly errors: number;
}

interface LoadCase {
  readonly name: string;
  readonly url: string;
  readonly headers: Record<string, string>;
}

interface Timing {
  readonly rounds: number;
  readonly sliceMs: number;
  readonly firstWarmupMs: number;
  readonly warmupMs: number;
}

export async function e2eSection(ctx: SectionContext): Promise<string> {
  const timing: Timing = { rounds: ctx.quick ? 2 : 3, sliceMs: ctx.quick ? 1000 : 2500, firstWarmupMs: 1000, warmupMs: 300 };
  const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const example = JSON.parse(readFileSync(path.join(ctx.root, 'config/gatehouse.example.json'), 'utf8')) as Record<string, unknown>;
  ctx.log('provisioning local mode');
  const env = await provisionLocal({ stackConfig: { ...example, rateLimits: BENCH_TIERS }, port: 0, logger: quiet });
  const bare = await startBare();
  try {
    const { baseUrl, apiKeyRead, userTokenHs256 } = env.credentials;
    const cases: LoadCase[] = [
      { name: 'bare node:http server (baseline)', url: `http://127.0.0.1:${(bare.address() as AddressInfo).port}/v1/me`, headers: {} },
      { name: 'gateway, public GET /health (no authorizer)', url: `${baseUrl}/health`, headers: {} },
      { name: 'gateway, repeated API key', url: `${baseUrl}/v1/me`, headers: { Authorization: `Bearer ${apiKeyRead}` } },
      { name: 'gateway, repeated user JWT (HS256)', url: `${baseUrl}/v1/me`, headers: { Authorization: `Bearer ${userTokenHs256}` } },
    ];
    await expectOk(cases);
    const callsBefore = env.gateway.authorizerCalls();
    const { slices, awsLines } = await runRounds(ctx, cases, timing);
    const results = slices.map((ss) => mergeSlices(ss, timing.sliceMs));
    const awsRequests = results.map((r, i) => (awsLines === undefined ? undefined : awsLines[i]! / r.total));
    const authorizerCalls = env.gateway.authorizerCalls() - callsBefore;
    return e2eText(timing, authorizerCalls, e2eRows(cases, results, awsRequests));
  } finally {
    await new Promise<void>((resolve) => {
      bare.closeAllConnections();
      bare.close(() => resolve());
    });
    await env.close();
  }
}

/** The baseline: a bare node:http server on loopback that answers 200 to everything. */
async function startBare(): Promise<Server> {
  const bare = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
  return bare;
}

/** One request each first: the gateway must answer 200, or the figures would time error paths. */
async function expectOk(cases: readonly LoadCase[]): Promise<void> {
  for (const c of cases) {
    const res = await fetch(c.url, { headers: c.headers });
    const body = await res.text();
    if (res.status !== 200) throw new Error(`${c.name}: GET /v1/me answered ${res.status}: ${body.slice(0, 300)}`);
  }
}

/**
 * Rounds: every row gets one slice per round, so a noisy moment on the shared machine hits all rows alike. Also
 * counts moto's access-log lines per row (undefined when the log cannot be read).
 */
async function runRounds(ctx: SectionContext, cases: readonly LoadCase[], timing: Timing): Promise<{ slices: LoadResult[][]; awsLines: number[] | undefined }> {
  const slices: LoadResult[][] = cases.map(() => []);
  const awsLines: number[] = cases.map(() => 0);
  let awsKnown = ctx.awsLog !== undefined;
  for (let round = 0; round < timing.rounds; round++) {
    ctx.log(`load round ${round + 1} of ${timing.rounds}: ${cases.length} rows, ${CONCURRENCY} concurrent, ${timing.sliceMs / 1000} s each`);
    for (const [i, c] of cases.entries()) {
      const before = awsLogLines(ctx.awsLog);
      const warm = round === 0 ? timing.firstWarmupMs : timing.warmupMs;
      slices[i]!.push(await load(path.join(ctx.dir, 'load-client.mjs'), { url: c.url, headers: c.headers, concurrency: CONCURRENCY, durationMs: timing.sliceMs, warmupMs: warm }));
      await new Promise((resolve) => setTimeout(resolve, 100)); // moto's log is written as it answers
      const after = awsLogLines(ctx.awsLog);
      if (before === undefined || after === undefined) awsKnown = false;
      else awsLines[i]! += after - before;
    }
  }
  return { slices, awsLines: awsKnown ? awsLines : undefined };
}

/** One row's slices as one result: counts summed, requests/s over the measured time, p50/p99 medians of the slices. */
function mergeSlices(ss: readonly LoadResult[], sliceMs: number): LoadResult {
  const statuses: Record<string, number> = {};
  for (const r of ss) for (const [k, n] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + n;
  const requests = ss.reduce((n, r) => n + r.requests, 0);
  return {
    total: ss.reduce((n, r) => n + r.total, 0),
    requests,
    perSecond: requests / ((ss.length * sliceMs) / 1000),
    p50: median(ss.map((r) => r.p50)),
    p99: median(ss.map((r) => r.p99)),
    statuses,
    errors: ss.reduce((n, r) => n + r.errors, 0),
  };
}

function e2eRows(cases: readonly LoadCase[], results: readonly LoadResult[], awsRequests: readonly (number | undefined)[]): string[][] {
  const base = results[0]!;
  return cases.map((c, i) => {
    const r = results[i]!;
    const other = Object.entries(r.statuses)
      .filter(([s]) => s !== '200')
      .map(([s, n]) => `${n}× ${s}`);
    return [
      c.name,
      int(r.perSecond),
      i ? ratio(r.perSecond, base.perSecond) : '1×',
      ms(r.p50),
      ms(r.p99),
      i ? ratio(r.p99, base.p99) : '1×',
      awsRequests[i] === undefined ? 'n/a' : awsRequests[i]!.toFixed(2),
      [...other, ...(r.errors ? [`${r.errors} errors`] : [])].join(', ') || 'none',
      met(i ? other.length === 0 && r.errors === 0 : undefined),
    ];
  });
}

function e2eText(timing: Timing, authorizerCalls: number, rows: string[][]): string {
  const { rounds, sliceMs, warmupMs } = timing;
  return [
    `Local mode as \`npm start\` builds it (provisionLocal on moto: gateway, authorizer, handlers in this process; quiet logger), config/gatehouse.example.json with the default rate-limit tier raised to 100,000/min, burst 100,000 ` +
      `(the default 100/min, burst 200 would answer 429 to most of one tenant's requests). ${CONCURRENCY} concurrent keep-alive connections from a separate load process, ` +
      `${(rounds * sliceMs) / 1000} s measured per row in ${rounds} rounds that interleave the rows (slices of ${sliceMs / 1000} s after ${warmupMs / 1000} s of warm-up, 1 s the first time); p50/p99 are medians over the slices. The gateway caches authorizer answers by identity source (TTL 300 s, as deployed), so repeated ` +
      `credentials reach the authorizer rarely (the one request per row sent before the runs was its only call: ${authorizerCalls} authorizer invocations during the runs); every /v1/me request still runs the handler and its per-tenant limiter, which leases tokens in batches (one conditional UpdateItem on moto per lease, not per request).`,
    '',
    table(['Target of the load', 'requests/s', 'vs bare', 'p50', 'p99', 'p99 vs bare', 'AWS requests per request', 'non-200 answers', 'all 200'], rows),
    '',
    'AWS requests per request: lines in moto\'s access log during the row, divided by the requests answered (warm-up included). moto (Python) is by far the slowest part of ' +
      'this path on this machine, so the /v1/me rows mostly measure it; sections 1 and 2 show the authorizer alone, and the /health row the gateway alone.',
  ].join('\n');
}

/** Requests moto has answered so far: its access log has one line per request. */
function awsLogLines(file: string | undefined): number | undefined {
  if (!file) return undefined;
  try {
    return readFileSync(file, 'utf8').split('\n').filter((l) => / "(GET|POST|PUT|DELETE|HEAD|PATCH) /.test(l)).length;
  } catch {
    return undefined;
  }
}

function load(script: string, options: Record<string, unknown>): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`load client exited with ${code}: ${err.slice(0, 1000)}`));
      resolve(JSON.parse(out.trim().split('\n').pop()!) as LoadResult);
    });
  });
}
