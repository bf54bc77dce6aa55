import { rmSync } from 'node:fs';
import path from 'node:path';
import type { AuthorizerConfig } from '../contract/config';
import type { BackendConfig } from '../contract/targets';
import { deploymentCorsPolicy, parseServingSections } from '../contract/stack-config';
import type { ProxyLambda } from './handlers';
import { CORS_FILE, type CorsPolicy } from '../contract/cors';
import type { LocalSetup } from './local-setup';
import { type UnavailableRoute, loadUserHandlers, unavailableRoutes } from './user-handlers';

/**
 * Where local mode sends each route besides the built-in handlers: the team's handler files (bundled and loaded:
 * local/user-handlers.ts) and the HTTP backends (proxied: local/http-backend.ts), read from the configuration's
 * `handlers` and `backends` sections, and the CORS policy (`cors`) the gateway and every handler answer with.
 */
export interface LocalTargets {
  readonly handlers: Readonly<Record<string, ProxyLambda>>;
  readonly backends: Readonly<Record<string, BackendConfig>>;
  /** The stack's policy (contract/stack-config.ts deploymentCorsPolicy); undefined without a `cors` section. */
  readonly cors: CorsPolicy | undefined;
  readonly unavailableRoutes: readonly UnavailableRoute[];
  /** Removes the bundles when the run chose their folder itself (a given `buildDir` is its caller's to remove). */
  cleanup(): void;
}

/** The sections of the configuration local mode reads for targets, and where the run builds and finds things. */
interface TargetInputs {
  readonly stackConfig: Record<string, unknown>;
  readonly configDir?: string;
  readonly buildDir?: string;
}

/** Loads the configuration's own handlers and reads its backends (sections validated as the stack validates them). */
export async function localTargets(opts: TargetInputs, setup: LocalSetup, shape: AuthorizerConfig): Promise<LocalTargets> {
  const sections = parseServingSections(opts.stackConfig);
  const cors = deploymentCorsPolicy(sections.cors, shape);
  const { handlers, backends } = sections;
  // GATEHOUSE_ROOT: set by scripts/run.mjs, whose bundle's own folder is not the repository.
  const root = process.env.GATEHOUSE_ROOT ?? (typeof __dirname === 'string' ? path.resolve(__dirname, '..') : process.cwd());
  const buildDir = opts.buildDir ?? path.join(root, '.local', 'build', `handlers-${setup.suffix}`);
  const loaded = await loadUserHandlers(handlers, {
    baseDir: opts.configDir ?? process.cwd(),
    buildDir,
    root,
    environment: { TABLE_NAME: setup.tableName, RATE_LIMIT_TIERS: JSON.stringify(shape.rateLimits.tiers) },
    // As the stack bundles it with every handler: a team handler built with the toolkit answers CORS as deployed.
    ...(cors ? { bundledFiles: { [CORS_FILE]: JSON.stringify(cors) } } : {}),
  });
  return {
    handlers: loaded.handlers,
    backends,
    cors,
    unavailableRoutes: unavailableRoutes(shape.routes, loaded.unavailable),
    cleanup: () => {
      if (opts.buildDir === undefined) rmSync(buildDir, { recursive: true, force: true });
    },
  };
}

/** The built-in handlers and the team's, by the names routes use (a team's may not reuse a built-in name). */
export function withUserHandlers(targets: LocalTargets, builtIn: Record<string, ProxyLambda>): Record<string, ProxyLambda> {
  return { ...builtIn, ...targets.handlers };
}
