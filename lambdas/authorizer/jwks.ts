import { Cooldown } from './cooldown';
import { JwkSet, type JwkSetDocument, KeySetError, type VerificationKey } from './jws';

export interface JwksGetterOptions {
  /** The issuer's JWKS URL. */
  readonly url: string;
  /** Abort one fetch (headers and body) after this long. */
  readonly timeoutMs: number;
  /** At most one refetch per this long for unknown `kid`s; and while a stale set stands in, no retry this long after a failed fetch. */
  readonly cooldownSeconds: number;
  /** Refetch a set older than this before using it. */
  readonly cacheMaxAgeSeconds: number;
  /**
   * When a refetch fails (timeout, network, non-200, not a JWKS), keep using the last good set for this long after
   * it stopped being fresh (`cacheMaxAgeSeconds`), then fail. 0: no stale use at all.
   */
  readonly maxStaleSeconds: number;
  /** Milliseconds since the epoch (default: Date.now). */
  readonly now?: () => number;
  /** The fetch to use (default: the global one). */
  readonly fetch?: typeof fetch;
}

/** What a key getter is asked for: a token's header (`alg` and `kid` as the token gives them). */
export interface KeyQuery {
  readonly alg?: unknown;
  readonly kid?: unknown;
}

/**
 * Hands out the key that verifies a token (jwt.ts), from an issuer's JWKS. Rejects with a KeySetError (jws.ts): its
 * `code` says why (unknown kid, endpoint down, ...).
 */
export interface KeyGetter {
  (header: KeyQuery, token?: unknown): Promise<VerificationKey>;
  /**
   * The key the getter would hand out for this `alg` and `kid` right now without any I/O, or undefined where it would
   * have to fetch first or would refuse. A cache of verified tokens keeps an entry only while this is still the key
   * that verified it: a key withdrawn or replaced by a refetch ends the entry.
   */
  current(alg: unknown, kid: unknown): VerificationKey | undefined;
}

/** A static key set as a KeyGetter (no I/O: what it refuses it always refuses). */
export function staticKeyGetter(doc: JwkSetDocument): KeyGetter {
  const set = JwkSet.parse(doc);
  const get = async (header: KeyQuery) => set.resolve(header.alg, header.kid);
  return Object.assign(get, { current: (alg: unknown, kid: unknown) => set.peek(alg, kid) });
}

/** The remote getter, plus what tests and diagnostics may read. */
export interface JwksGetter extends KeyGetter {
  /** Fetches now (joining a fetch already in flight); rejects if it fails. */
  reload(): Promise<void>;
  /** When the set in use was fetched (ms since epoch), if any fetch ever succeeded. */
  readonly fetchedAt: number | undefined;
}

interface KeySet {
  readonly keys: JwkSet;
  readonly fetchedAt: number;
}

/**
 * A remote JWKS with a cache, single-flight fetches, a cooldown on refetches triggered by unknown `kid`s, and
 * stale-if-error (RFC 5861 sense): jose's `createRemoteJWKSet` throws as soon as a reload fails, even with a set
 * in hand, so an identity provider's JWKS outage would refuse every user once the cache aged past its max age.
 *
 * Errors are KeySetErrors with jose's codes, which `jwt.ts` maps: `ERR_JWKS_NO_MATCHING_KEY` (unknown kid, 401),
 * `ERR_JWKS_TIMEOUT`, `ERR_JWKS_INVALID` and `ERR_JOSE_GENERIC` (keys unavailable, 500). Each fetched set carries
 * over the imported keys of the set it replaces wherever a JWK is unchanged (jws.ts `JwkSet.parse`).
 */
export function createJwksGetter(opts: JwksGetterOptions): JwksGetter {
  const now = opts.now ?? Date.now;
  const fetchImpl = opts.fetch ?? fetch;
  const maxAgeMs = opts.cacheMaxAgeSeconds * 1000;
  const cooldownMs = opts.cooldownSeconds * 1000;
  // The stale window starts when the set stops being fresh, so a long max age never leaves it empty.
  const usableMs = maxAgeMs + opts.maxStaleSeconds * 1000;

  let good: KeySet | undefined;
  let inflight: Promise<void> | undefined;
  const cooldown = new Cooldown(cooldownMs, now);

  const fresh = (s: KeySet) => now() - s.fetchedAt < maxAgeMs;
  const usable = (s: KeySet) => now() - s.fetchedAt < usableMs;

  const load = (): Promise<void> => {
    if (!inflight) {
      cooldown.attempt();
      inflight = fetchJwks(opts.url, opts.timeoutMs, fetchImpl)
        .then((json) => {
          good = { keys: JwkSet.parse(json, good?.keys), fetchedAt: now() };
          cooldown.succeeded();
        })
        .catch((err: unknown) => {
          cooldown.failed(err);
          throw err;
        })
        .finally(() => {
          inflight = undefined;
        });
    }
    return inflight;
  };

  /** Whether the set in hand may be used now without a fetch (fresh, or standing in for a failing endpoint). */
  const usableNow = (s: KeySet) => fresh(s) || (cooldown.blocked() && usable(s));

  const getKey = async (header: KeyQuery): Promise<VerificationKey> => {
    if (!good || !fresh(good)) {
      // A stale set stands in without another attempt while a failed fetch is cooling down: during an outage
      // that hangs, only one request per cooldown waits for the timeout.
      const standIn = good && usableNow(good);
      if (!standIn) {
        try {
          await load();
        } catch (err) {
          if (!good || !usable(good)) throw err;
        }
      }
    }
    const set = good!;
    try {
      return set.keys.resolve(header.alg, header.kid);
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'ERR_JWKS_NO_MATCHING_KEY') throw err;
      // The kid may be a key the issuer has just rotated in: refetch, but at most once per cooldown, so a storm
      // of made-up kids costs one fetch.
      if (inflight) await inflight.catch(() => undefined);
      else if (!cooldown.coolingDown()) await load().catch(() => undefined);
      // The last fetch failed: whether the kid is real is unknown, and that is a dependency failure (500), not a
      // bad credential (401, which would tell a client to drop a token that may be good).
      if (cooldown.failing) throw cooldown.failure;
      if (good === set) throw err;
      return good!.keys.resolve(header.alg, header.kid);
    }
  };

  // The same decision as getKey's, minus anything that would wait: a set that needs a fetch answers nothing.
  const current = (alg: unknown, kid: unknown) => (good && usableNow(good) ? good.keys.peek(alg, kid) : undefined);

  return Object.defineProperties(getKey as JwksGetter, {
    current: { value: current },
    reload: { value: load },
    fetchedAt: { get: () => good?.fetchedAt },
  });
}

/** Accept header and no redirects, as jose sends: the JWKS URL is configuration, a redirect is not. */
async function fetchJwks(url: string, timeoutMs: number, fetchImpl: typeof fetch): Promise<unknown> {
  const signal = AbortSignal.timeout(timeoutMs);
  let response: Response;
  try {
    response = await fetchImpl(url, { method: 'GET', redirect: 'manual', signal, headers: { accept: 'application/json, application/jwk-set+json' } });
  } catch (cause) {
    if (signal.aborted) throw new KeySetError('ERR_JWKS_TIMEOUT', 'request timed out', { cause });
    // fetch's TypeError may come from another realm (jest's vm), so `instanceof TypeError` is not a safe test later.
    throw new KeySetError('ERR_JOSE_GENERIC', 'JWKS request failed', { cause });
  }
  if (response.status !== 200) {
    await response.body?.cancel().catch(() => undefined);
    throw new KeySetError('ERR_JOSE_GENERIC', `JWKS endpoint answered HTTP ${response.status}`);
  }
  let text: string;
  try {
    text = await response.text();
  } catch (cause) {
    if (signal.aborted) throw new KeySetError('ERR_JWKS_TIMEOUT', 'request timed out', { cause });
    throw new KeySetError('ERR_JOSE_GENERIC', 'JWKS response could not be read', { cause });
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new KeySetError('ERR_JWKS_INVALID', 'JWKS response is not JSON');
  }
}
