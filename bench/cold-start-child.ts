/**
 * The cold-start probe, run in a fresh `node` per measurement: loads a Lambda bundle (CommonJS, as deployed), which
 * builds its handler at load, then sends it one or two events. Times are performance.now(), i.e. milliseconds since
 * this process started. Every `@aws-sdk/*` module request is recorded (a wrapper around Module._load), with the
 * phase it happened in, so a decision that loaded an SDK client shows up. Prints one `BENCH_RESULT <json>` line.
 */
import Module from 'node:module';

const scriptStart = performance.now();
let phase = 'init';
const sdkLoads: string[] = [];
const loader = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
const original = loader._load;
loader._load = function (this: unknown, request: string, ...rest: unknown[]) {
  if (typeof request === 'string' && request.startsWith('@aws-sdk/')) sdkLoads.push(`${phase}:${request}`);
  return original.call(this, request, ...rest);
};

const sdkModulesLoaded = () => Object.keys(require.cache).filter((f) => /[\\/]node_modules[\\/](@aws-sdk|@smithy)[\\/]/.test(f)).length;

async function main(): Promise<void> {
  const requireStart = performance.now();
  const bundle = require(process.env.BENCH_BUNDLE!) as { handler: (event: unknown) => Promise<unknown> };
  const ready = performance.now();
  const modulesAtInit = sdkModulesLoaded();
  const result: Record<string, unknown> = { scriptStart, requireStart, ready, initMs: ready - requireStart, modulesAtInit };
  const events = JSON.parse(process.env.BENCH_EVENTS ?? '[]') as unknown[];
  const decisions: { ms: number; outcome: string }[] = [];
  for (const [i, event] of events.entries()) {
    phase = `decision${i + 1}`;
    const t = performance.now();
    let outcome: string;
    try {
      const r = (await bundle.handler(event)) as { policyDocument?: { Statement?: { Effect?: string }[] } };
      outcome = r.policyDocument?.Statement?.[0]?.Effect ?? 'answered';
    } catch (err) {
      outcome = `threw ${(err as Error).message}`;
    }
    decisions.push({ ms: performance.now() - t, outcome });
  }
  result.decisions = decisions;
  result.modulesAfter = sdkModulesLoaded();
  result.sdkLoads = sdkLoads;
  process.stdout.write(`\nBENCH_RESULT ${JSON.stringify(result)}\n`);
}

main().catch((err: unknown) => {
  process.stdout.write(`\nBENCH_RESULT ${JSON.stringify({ error: String((err as Error)?.stack ?? err) })}\n`);
});
