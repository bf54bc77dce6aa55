import * as z from 'zod/mini';
import { httpHandler, type HttpLambda } from '../shared/http-handler';
import { json } from '../shared/http-response';
import { validate } from '../shared/json-body';
import { type Logger, jsonLogger } from '../../contract/log';

export interface WebhooksDeps {
  readonly logger?: Logger;
}

/** A webhook source, the `{source}` path parameter: lowercase letters, digits and dashes, at most 63. */
export const WEBHOOK_SOURCE_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

const pathParams = z.object({ source: z.string().check(z.regex(WEBHOOK_SOURCE_PATTERN)) });
// strictObject: an unknown top-level field is a 400 (free-form content belongs in `data`).
const webhookBody = z.strictObject({
  id: z.string().check(z.minLength(1), z.maxLength(128)),
  type: z.string().check(z.minLength(1), z.maxLength(128)),
  data: z.optional(z.record(z.string(), z.unknown())),
});

/**
 * POST /v1/webhooks/{source}: only signed callers (HMAC-SHA256, contract/signing.ts) may call it; users, API
 * keys and services get 403, whatever their scopes. httpHandler has already checked that the body is the one the
 * signature covers (401 otherwise) before the source (400 unless it matches WEBHOOK_SOURCE_PATTERN) and the body
 * (`{ id, type, data? }`, 400 naming the fields at fault) are validated here.
 *
 * It only acknowledges: `202 { accepted: true, signer, source, eventId, bodySha256 }`. A real deployment would
 * enqueue the event (keyed by signer, source and id, so a redelivery is recognized) and process it elsewhere.
 * Not rate limited: signers belong to no tenant.
 */
export function createWebhooksHandler(deps: WebhooksDeps = {}): HttpLambda {
  return httpHandler(
    ({ auth, event, body }) => {
      // requireKinds guarantees the kind; the check narrows the type without a cast.
      if (auth.kind !== 'signed') throw new Error('unreachable: requireKinds(signed) let another kind through');
      const { source } = validate(pathParams, event.pathParameters ?? {}, 'path');
      const input = validate(webhookBody, body, 'body');
      return json(202, { accepted: true, signer: auth.signer, source, eventId: input.id, bodySha256: auth.bodySha256 });
    },
    { logger: deps.logger ?? jsonLogger('gatehouse-webhooks'), kinds: ['signed'] },
  );
}

/** The deployed entry point. */
export const handler = createWebhooksHandler();
