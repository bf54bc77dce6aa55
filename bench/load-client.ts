/**
 * A closed-loop HTTP load generator, run as its own process so it does not share an event loop with the server
 * under test: `concurrency` workers over keep-alive connections, each sending the next request when the last one
 * answered. Requests answered during the warm-up are not counted. Prints one JSON line.
 * Usage: node load-client.mjs '<{"url","headers","concurrency","durationMs","warmupMs"}>'
 */
import { Agent, request } from 'node:http';

interface Options {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly concurrency: number;
  readonly durationMs: number;
  readonly warmupMs: number;
}

const opts = JSON.parse(process.argv[2] ?? '{}') as Options;
const agent = new Agent({ keepAlive: true, maxSockets: opts.concurrency });

function send(): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(opts.url, { agent, headers: opts.headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function main(): Promise<void> {
  const start = performance.now();
  const measureFrom = start + opts.warmupMs;
  const end = measureFrom + opts.durationMs;
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  let total = 0;
  await Promise.all(
    Array.from({ length: opts.concurrency }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        let status: number;
        try {
          status = await send();
        } catch {
          errors++;
          continue;
        }
        const t1 = performance.now();
        total++;
        if (t0 >= measureFrom && t1 <= end) {
          latencies.push(t1 - t0);
          statuses[status] = (statuses[status] ?? 0) + 1;
        }
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? Number.NaN;
  const seconds = opts.durationMs / 1000;
  process.stdout.write(`${JSON.stringify({ total, requests: latencies.length, perSecond: latencies.length / seconds, p50: at(50), p99: at(99), statuses, errors })}\n`);
  agent.destroy();
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
