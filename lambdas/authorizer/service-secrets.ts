import { createHash, timingSafeEqual } from 'node:crypto';
import type { AuthorizerConfig, ServiceConfig } from '../../contract/config';
import { AuthError } from './errors';
import { MIN_SERVICE_SECRET_BYTES, isWeakSecret } from '../../contract/secret-strength';
import type { SecretStore, SecretVersions } from './secrets';

/** A calling service that proved possession of its secret. */
export interface ServicePrincipal {
  readonly kind: 'service';
  readonly service: string;
  readonly scopes: readonly string[];
}

/**
 * Checks `X-Service-Name` + bearer secret against the service's secret in Secrets Manager. Every version that is
 * valid right now is accepted (AWSCURRENT; AWSPENDING while a rotation is in flight; AWSPREVIOUS for a grace
 * period after the current version was created), so a rotation never fails a request.
 */
export class ServiceSecretVerifier {
  private readonly services: ReadonlyMap<string, ServiceConfig>;

  constructor(
    services: readonly ServiceConfig[],
    private readonly opts: AuthorizerConfig['serviceSecrets'],
    private readonly store: SecretStore,
    private readonly now: () => number,
  ) {
    this.services = new Map(services.map((s) => [s.name, s]));
  }

  async verify(serviceName: string, presented: string): Promise<ServicePrincipal> {
    // A Map lookup by exact name: `../x`, an ARN or a NUL byte is simply not a configured service.
    const service = this.services.get(serviceName);
    if (!service) throw new AuthError('SERVICE_UNKNOWN');
    const digest = sha256(presented);
    // Compare against every candidate, without an early exit, so timing does not reveal which version matched.
    const matches = (candidates: readonly Buffer[]) => candidates.reduce((ok, c) => timingSafeEqual(sha256(c), digest) || ok, false);
    let ok: boolean;
    try {
      ok = await matchSecret(this.store, service.secretId, this.opts, this.now, matches);
    } catch (err) {
      throw new AuthError('SERVICE_SECRET_UNAVAILABLE', { service: service.name }, { cause: err });
    }
    if (!ok) throw new AuthError('SERVICE_SECRET_MISMATCH', { service: service.name });
    return { kind: 'service', service: service.name, scopes: service.scopes };
  }
}

/**
 * Whether a presented credential matches a rotated secret: `matches` is asked with every version valid right now
 * (AWSCURRENT; AWSPENDING while a rotation is in flight; AWSPREVIOUS for `previousGraceSeconds` after the current
 * version was created), each at least MIN_SERVICE_SECRET_BYTES and not blank. On no match the secret is read
 * again (a rotation may just have finished), at most once per `refetchCooldownSeconds`; between those, its versions
 * are checked at most once per `versionCheckSeconds` and read when they changed, so bad requests cannot hold a
 * rotation back. Rejects when Secrets
 * Manager cannot be read (and no copy within `maxStaleSeconds` is left). Shared by service secrets and signers.
 */
export async function matchSecret(
  store: SecretStore,
  secretId: string,
  opts: AuthorizerConfig['serviceSecrets'],
  now: () => number,
  matches: (candidates: readonly Buffer[]) => boolean,
): Promise<boolean> {
  const read = { ttlSeconds: opts.cacheTtlSeconds, maxStaleSeconds: opts.maxStaleSeconds, stages: 'rotation' as const };
  const valid = (v: SecretVersions) => {
    const previousValid = v.previous !== undefined && v.currentCreatedAt !== undefined && now() - v.currentCreatedAt < opts.previousGraceSeconds * 1000;
    const candidates = [v.current, v.pending, previousValid ? v.previous : undefined];
    return candidates.filter((c): c is Buffer => c !== undefined && !isWeakSecret(c, MIN_SERVICE_SECRET_BYTES));
  };
  let versions: SecretVersions | undefined = await store.get(secretId, read);
  if (matches(valid(versions))) return true;
  versions = await store.refresh(secretId, read, opts.refetchCooldownSeconds, opts.versionCheckSeconds);
  return versions !== undefined && matches(valid(versions));
}

// Hashing both sides first gives equal-length inputs to timingSafeEqual whatever the lengths presented. A stored
// version's digest is computed once per Buffer the secret cache holds (a re-read brings new Buffers), so a warm
// decision hashes only the presented value.
const digests = new WeakMap<Buffer, Buffer>();
function sha256(v: string | Buffer): Buffer {
  if (!Buffer.isBuffer(v)) return createHash('sha256').update(v).digest();
  let d = digests.get(v);
  if (!d) digests.set(v, (d = createHash('sha256').update(v).digest()));
  return d;
}
