import { createRequire } from 'node:module';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { type ExistingFunctionHandler, type FileHandler, type UserHandler, isFileHandler } from '../contract/targets';
import type { ProxyLambda } from './handlers';

/**
 * The team's own handlers in local mode (the configuration's `handlers`). A handler with an `entry` is bundled with
 * esbuild as the stack bundles it (platform node, everything bundled) and loaded in process, so the same file runs
 * locally and deployed with no edit under lib/ or lambdas/. An existing function (`functionArn`) lives in an AWS
 * account local mode does not reach: its routes answer 502, and the reason is in the gateway's log line.
 */

/** The error an existing function's route fails with locally: its name is the reason in the gateway's 5xx line. */
export class ExistingFunctionNotLocal extends Error {
  constructor(name: string, arn: string) {
    super(`handler "${name}" is an existing Lambda function (${arn}); local mode cannot run it`);
    this.name = 'ExistingFunctionNotLocal';
  }
}

/** A team handler that does not run locally, and the routes that answer 502 because of it (printed at start). */
export interface UnavailableHandler {
  readonly name: string;
  readonly functionArn: string;
}

export interface UserHandlersOptions {
  /** The folder entries are relative to: the configuration file's. */
  readonly baseDir: string;
  /** Where bundles are written (one folder per run, so that two runs never load each other's). */
  readonly buildDir: string;
  /** The repository (or installed package) root: `gatehouse/toolkit` resolves to its lambdas/toolkit.ts. */
  readonly root: string;
  /** What the stack gives every team handler's environment (TABLE_NAME, RATE_LIMIT_TIERS). */
  readonly environment: Readonly<Record<string, string>>;
  /**
   * Files the stack writes next to every handler's bundle (the CORS policy, contract/cors.ts CORS_FILE), written
   * next to the local bundles so that the toolkit reads them from its `__dirname` exactly as deployed.
   * @default - none
   */
  readonly bundledFiles?: Readonly<Record<string, string>>;
}

/** The team's handlers by name, ready for the gateway, and the ones that cannot run locally. */
export async function loadUserHandlers(
  handlers: Readonly<Record<string, UserHandler>>,
  opts: UserHandlersOptions,
): Promise<{ handlers: Record<string, ProxyLambda>; unavailable: UnavailableHandler[] }> {
  const loaded: Record<string, ProxyLambda> = {};
  const unavailable: UnavailableHandler[] = [];
  for (const [name, h] of Object.entries(handlers)) {
    if (isFileHandler(h)) loaded[name] = await loadFileHandler(name, h, opts);
    else {
      unavailable.push({ name, functionArn: h.functionArn });
      loaded[name] = existingFunction(name, h);
    }
  }
  return { handlers: loaded, unavailable };
}

/** A route's stand-in for an existing function: it fails, so the gateway answers 502 and logs why. */
function existingFunction(name: string, h: ExistingFunctionHandler): ProxyLambda {
  return async () => {
    throw new ExistingFunctionNotLocal(name, h.functionArn);
  };
}

/**
 * Bundles `entry` to CommonJS (loadable by Node's own `require` from an ESM bundle and from jest alike) and returns
 * its `handler` export, called with the handler's environment variables set, as Lambda sets them per function.
 */
async function loadFileHandler(name: string, h: FileHandler, opts: UserHandlersOptions): Promise<ProxyLambda> {
  const entry = path.resolve(opts.baseDir, h.entry);
  const outfile = path.join(opts.buildDir, `${name}.cjs`);
  mkdirSync(opts.buildDir, { recursive: true });
  for (const [file, content] of Object.entries(opts.bundledFiles ?? {})) writeFileSync(path.join(opts.buildDir, file), content);
  // Not `import('esbuild')`: local mode is itself an esbuild bundle, which must load esbuild from node_modules.
  const esbuildName = 'esbuild';
  const { build } = (await import(esbuildName)) as typeof import('esbuild');
  try {
    await build({
      entryPoints: [entry],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      sourcemap: 'inline',
      logLevel: 'silent',
      // The package's published name, wherever the team's file is (tsconfig paths only apply inside this repository).
      alias: { 'gatehouse/toolkit': path.join(opts.root, 'lambdas/toolkit.ts') },
    });
  } catch (err) {
    throw new Error(`handlers.${name}: cannot bundle ${entry}: ${(err as Error).message.split('\n').slice(0, 6).join(' ')}`);
  }
  const requireFrom = createRequire(path.join(opts.buildDir, 'loader.cjs'));
  delete requireFrom.cache[outfile];
  const environment = { ...opts.environment, ...h.environment };
  Object.assign(process.env, environment);
  const mod = requireFrom(outfile) as { handler?: unknown };
  if (typeof mod.handler !== 'function') throw new Error(`handlers.${name}: ${h.entry} exports no function named handler`);
  const handler = mod.handler as (e: APIGatewayProxyEvent, c: Context) => Promise<APIGatewayProxyResult>;
  return async (event, context) => {
    Object.assign(process.env, environment);
    return handler(event, { ...context, functionName: `gatehouse-local-${name}` });
  };
}

/** A route that names a team handler local mode cannot run, and that handler. */
export interface UnavailableRoute extends UnavailableHandler {
  readonly route: string;
}

/** The routes whose handler is an existing function (printed at start: they answer 502 locally). */
export function unavailableRoutes(
  routes: readonly { readonly method: string; readonly path: string; readonly handler?: string | undefined }[],
  unavailable: readonly UnavailableHandler[],
): UnavailableRoute[] {
  return routes.flatMap((r) => unavailable.filter((u) => u.name === r.handler).map((u) => ({ ...u, route: `${r.method} ${r.path}` })));
}
