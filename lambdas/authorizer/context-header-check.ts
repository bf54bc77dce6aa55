import { CONTEXT_HEADER_PREFIX, isContextHeader } from '../../contract/backend-headers';
import type { RequestHeaders } from './classify';
import { AuthError } from './errors';

/**
 * Refuses (CONTEXT_HEADER_FROM_CLIENT, a 401: an authorizer cannot answer 400) a request that carries any header
 * whose name starts with `X-Gatehouse-`, in any case, in either of API Gateway's header maps. Those names are the
 * gateway's own: it writes X-Gatehouse-Context and X-Gatehouse-Request-Id on every request to an HTTP backend
 * (contract/backend-headers.ts), and a client sending one is forging or confused.
 *
 * Defence in depth only: API Gateway's authorizer result cache may answer a later request with the same credential
 * from an earlier Allow without calling this function, so such a request can still reach the integration. What
 * keeps a client's copy from reaching a backend is the mapping itself, which always writes a non-empty
 * X-Gatehouse-Context (contract/openapi.ts, backendRequestParameters). No I/O, no allocation: runs first, before any
 * credential work.
 */
export function checkNoContextHeaders(req: RequestHeaders): void {
  const found = contextHeaderIn(req.multiValueHeaders) ?? contextHeaderIn(req.headers);
  // The name only, never the value (it may be anything a client sent).
  if (found !== undefined) throw new AuthError('CONTEXT_HEADER_FROM_CLIENT', { header: found.slice(0, 64) });
}

function contextHeaderIn(map: Record<string, unknown> | null | undefined): string | undefined {
  if (!map) return undefined;
  for (const k in map) {
    if (k.length >= CONTEXT_HEADER_PREFIX.length && Object.hasOwn(map, k) && isContextHeader(k)) return k;
  }
  return undefined;
}
