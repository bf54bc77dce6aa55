/**
 * The cold-start section's rows for the built-in handlers: every `lambdas/handlers/*.ts` bundled with the stack's
 * esbuild options (as the authorizer, bench/cold-start.ts), each loaded in fresh `node` processes interleaved with
 * the empty handler: bundle size and process start -> handler ready, against the issue's targets (<= 150 KB, <= 40 ms
 * over the empty handler). "Ready" is the bundle required: the deployed entry points build their handler at load
 * (or, for the rate-limited ones, on the first request: lambdas/shared/runtime.ts lazyHandler), and every module
 * the bundle requires at load, the runtime's AWS SDK included, is loaded by then.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { type Bundle, type Child, type ChildResult, bundle } from './cold-start-probe';
import type { SectionContext } from './section';
import { kb, median, met, ms, msDiff, table } from './stats';

const BUDGET_BYTES = 150 * 1024;
const BUDGET_MS = 40;

interface HandlerFigures {
  readonly name: string;
  readonly bundle: Bundle;
  readonly ready: number;
  readonly sdk: readonly string[];
}

/** The handlers' table: `runs` fresh processes per handler, interleaved with the empty handler's. */
export async function handlerRows(ctx: SectionContext, child: Child, empty: Bundle, runs: number): Promise<string> {
  const files = readdirSync(path.join(ctx.root, 'lambdas/handlers')).filter((f) => f.endsWith('.ts')).sort();
  ctx.log(`bundling ${files.length} handlers; ${runs} fresh processes each, interleaved with the empty handler`);
  const bundles = await Promise.all(files.map((f) => bundle(ctx, `lambdas/handlers/${f}`, `handler-${path.basename(f, '.ts')}`)));
  const emptySdk = await bundle(ctx, 'bench/cold-start-empty-sdk.ts', 'empty-sdk');
  const emptyRuns: ChildResult[] = [];
  const sdkRuns: ChildResult[] = [];
  const handlerRuns: ChildResult[][] = bundles.map(() => []);
  for (const b of [empty, emptySdk, ...bundles]) await child(b.outfile, []); // warms the file system cache
  for (let i = 0; i < runs; i++) {
    emptyRuns.push(await child(empty.outfile, []));
    sdkRuns.push(await child(emptySdk.outfile, []));
    for (const [j, b] of bundles.entries()) handlerRuns[j]!.push(await child(b.outfile, []));
  }
  const broken = [...sdkRuns, ...handlerRuns.flat()].find((r) => r.error);
  if (broken) throw new Error(`a handler bundle failed to load: ${broken.error}`);
  const emptyReady = median(emptyRuns.map((r) => r.ready));
  const sdkReady = median(sdkRuns.map((r) => r.ready));
  const figures: HandlerFigures[] = bundles.map((b, j) => ({
    name: path.basename(files[j]!, '.ts'),
    bundle: b,
    ready: median(handlerRuns[j]!.map((r) => r.ready)),
    sdk: [...new Set(handlerRuns[j]![0]!.sdkLoads.map((l) => l.split(':')[1]!))],
  }));
  const rows = figures.map((f) => [
    f.name,
    kb(f.bundle.bytes),
    met(f.bundle.bytes <= BUDGET_BYTES),
    ms(f.ready),
    msDiff(f.ready - emptyReady),
    met(f.ready - emptyReady <= BUDGET_MS),
    f.sdk.length ? `${f.sdk[0]} (${f.sdk.length} packages)` : 'none',
    f.sdk.length ? msDiff(f.ready - sdkReady) : '—',
  ]);
  return [
    `Built-in handlers (lambdas/handlers/*.ts), each bundled with the same options; ${runs} fresh processes per handler, interleaved with the empty handler (${kb(empty.bytes)}, ready at ${ms(emptyReady)}). ` +
      'Ready: the bundle required (a rate-limited handler builds its limiter on its first request). `@aws-sdk/*` required at load: the runtime provides the SDK on Lambda, but loading it is init time all the same; ' +
      `the last column compares such a handler with an empty one that requires the DynamoDB client (ready at ${ms(sdkReady)}), i.e. what Gatehouse's handler code adds over any handler that uses DynamoDB.`,
    '',
    table(['Handler', 'Bundle', '≤ 150 KB', 'Process start → ready (median)', 'vs empty handler', '≤ +40 ms', '@aws-sdk required at load', 'vs empty + DynamoDB client'], rows),
  ].join('\n');
}
