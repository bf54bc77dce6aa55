import { httpHandler, type HttpLambda } from '../shared/http-handler';
import { json } from '../shared/http-response';
import { type Logger, jsonLogger } from '../../contract/log';

export interface InternalJobsDeps {
  readonly logger?: Logger;
}

/**
 * POST /internal/jobs: only our own services may call it (users and API keys get 403, whatever their scopes).
 * Answers `202 { accepted: true, service }`: the work would be queued, not done inline.
 */
export function createInternalJobsHandler(deps: InternalJobsDeps = {}): HttpLambda {
  return httpHandler(
    ({ auth }) => {
      // requireKinds guarantees the kind; the check narrows the type without a cast.
      if (auth.kind !== 'service') throw new Error('unreachable: requireKinds(service) let another kind through');
      return json(202, { accepted: true, service: auth.service });
    },
    { logger: deps.logger ?? jsonLogger('gatehouse-internal-jobs'), kinds: ['service'] },
  );
}

/** The deployed entry point. */
export const handler = createInternalJobsHandler();
