import { httpHandler, type HttpLambda } from '../shared/http-handler';
import { json } from '../shared/http-response';
import { type Logger, jsonLogger } from '../shared/log';

export interface MeDeps {
  readonly logger?: Logger;
}

/** GET /v1/me: echoes the caller's validated AuthContext as JSON (what every handler sees about the caller). */
export function createMeHandler(deps: MeDeps = {}): HttpLambda {
  return httpHandler(({ auth }) => json(200, auth), { logger: deps.logger ?? jsonLogger('gatehouse-me') });
}

/** The deployed entry point. */
export const handler = createMeHandler();
