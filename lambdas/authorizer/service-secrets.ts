import { createHash, timingSafeEqual } from 'node:crypto';
import type { AuthorizerConfig, ServiceConfig } from './config';
import { AuthError } from './errors';
import { type SecretStore, type SecretVersions, isWeakSecret } from './secrets';

/** A calling service that proved possession of its secret. */
export interface ServicePrincipal {
  readonly kind: 'service';
  readonly service: string;
  readonly scopes: readonly string[];
}

/** Secrets shorter than this never match: an empty, blank or truncated value must not become a password. */
export const MIN_SERVICE_SECRET_BYTES = 32;

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
    const read = { ttlSeconds: this.opts.cacheTtlSeconds, maxStaleSeconds: this.opts.maxStaleSeconds, stages: 'rotation' as const };
    const digest = sha256(presented);
    let versions: SecretVersions | undefined;
    try {
      versions = await this.store.get(service.secretId, read);
      if (!this.matches(versions, digest)) {
        // Perhaps the secret rotated since we read it: read again, at most once per cooldown.
        versions = await this.store.refresh(service.secretId, read, this.opts.refetchCooldownSeconds);
        if (!versions || !this.matches(versions, digest)) throw new AuthError('SERVICE_SECRET_MISMATCH', { service: service.name });
      }
    } catch (err) {
      if (err instanceof AuthError) throw err;
      throw new AuthError('SERVICE_SECRET_UNAVAILABLE', { service: service.name }, { cause: err });
    }
    return { kind: 'service', service: service.name, scopes: service.scopes };
  }

  private matches(v: SecretVersions, presented: Buffer): boolean {
    const previousValid =
      v.previous !== undefined && v.currentCreatedAt !== undefined && this.now() - v.currentCreatedAt < this.opts.previousGraceSeconds * 1000;
    const candidates = [v.current, v.pending, previousValid ? v.previous : undefined];
    // Compare against every candidate, without an early exit, so timing does not reveal which version matched.
    let ok = false;
    for (const c of candidates) {
      if (c !== undefined && !isWeakSecret(c, MIN_SERVICE_SECRET_BYTES)) {
        ok = timingSafeEqual(sha256(c), presented) || ok;
      }
    }
    return ok;
  }
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
