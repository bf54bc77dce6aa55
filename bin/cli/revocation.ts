import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RevocationKind } from '../../contract/revocation';
import { flushStageAuthorizersCache } from '../../control/authorizer-cache';
import { UsageError } from '../../control/target';
import type { CommandContext } from './context';

/** When a revocation takes effect, for the JSON result (`effectiveWithinSeconds`, `flushed`) and the text one. */
export interface RevocationEffect {
  readonly effectiveWithinSeconds: number | null;
  readonly flushed: boolean;
  readonly text: string;
}

/**
 * Says when a revocation takes effect and, with --flush, empties the stage's authorizer cache twice: now (ending
 * what API Gateway cached before the change) and again once the authorizer's own cache of the record has expired
 * (ending what was decided from a stale record in between). See contract/revocation.ts.
 */
export async function revoked(c: CommandContext, kind: RevocationKind, what: string, flush: boolean | undefined): Promise<RevocationEffect> {
  const bound = c.t.revocation.bounds[kind];
  if (!bound) {
    c.out.note(`Warning: this configuration does not check ${what} on requests, so this change has no effect on them.`);
    return { effectiveWithinSeconds: null, flushed: false, text: '' };
  }
  if (flush) {
    if (c.t.api === 'http') {
      throw new UsageError(`--flush: this stack deploys an HTTP API (deployment.api "http"), whose authorizer cache the tool cannot flush; the change takes effect within ${bound.seconds} s`);
    }
    const stage = c.t.stage;
    if (!stage) throw new UsageError('--flush: with --table, needs --rest-api-id or GATEHOUSE_REST_API_ID (the stack lookup finds it)');
    const api = c.track(new APIGatewayClient({ ...c.sdk, ...(stage.endpoint ? { endpoint: stage.endpoint } : {}) }));
    await flushStageAuthorizersCache(api, stage.restApiId, stage.stageName);
    if (bound.flushAfterSeconds > 0) {
      c.out.note(`Flushed the stage's authorizer cache; flushing again in ${bound.flushAfterSeconds} s, when the authorizer's own cache has expired...`);
      await sleep(bound.flushAfterSeconds * 1000);
      await flushStageAuthorizersCache(api, stage.restApiId, stage.stageName);
    }
  }
  const within = flush ? bound.withFlushSeconds : bound.seconds;
  const cache = bound.withFlushSeconds;
  return {
    effectiveWithinSeconds: within,
    flushed: flush === true,
    text: flush
      ? `In effect now: the stage's authorizer cache was flushed after the authorizer's own ${cache} s cache expired.`
      : `Takes effect within ${within} s (authorizer cache ${cache} s + API Gateway result cache ${c.t.revocation.resultTtlSeconds} s; --flush waits ${cache} s and makes it take effect then).`,
  };
}
