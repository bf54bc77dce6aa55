import { type HttpHandlerOptions, httpHandler, type HttpLambda } from '../shared/http-handler';
import { json } from '../shared/http-response';
import type { ProxyHandler } from '../shared/http-router';
import { type Logger, jsonLogger } from '../../contract/log';
import { lazyHandler, sharedRateLimit } from '../shared/runtime';

export interface MeDeps {
  readonly logger?: Logger;
  /** The per-tenant limiter. @default - none */
  readonly rateLimit?: HttpHandlerOptions['rateLimit'];
}

/** GET /v1/me: echoes the caller's validated AuthContext as JSON (what every handler sees about the caller). */
export function createMeHandler(deps: MeDeps = {}): HttpLambda {
  return httpHandler(({ auth }) => json(200, auth), {
    logger: deps.logger ?? jsonLogger('gatehouse-me'),
    ...(deps.rateLimit ? { rateLimit: deps.rateLimit } : {}),
  });
}

/** The deployed entry point (the limiter from TABLE_NAME and the bundled rate-limit tiers, built on the first request). */
export const handler: ProxyHandler = lazyHandler(() => createMeHandler({ rateLimit: sharedRateLimit() }));
