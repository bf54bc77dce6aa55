import { publicHttpHandler, type HttpLambda } from '../shared/http-handler';
import { json } from '../shared/http-response';
import { type Logger, jsonLogger } from '../../contract/log';

export interface HealthDeps {
  readonly logger?: Logger;
}

/**
 * GET /health: a public liveness answer, `200 { "status": "ok" }`. It touches no dependency, so a DynamoDB outage
 * does not take the health check down with it (and cannot be probed through it).
 */
export function createHealthHandler(deps: HealthDeps = {}): HttpLambda {
  return publicHttpHandler(() => json(200, { status: 'ok' }), { logger: deps.logger ?? jsonLogger('gatehouse-health') });
}

/** The deployed entry point. */
export const handler = createHealthHandler();
