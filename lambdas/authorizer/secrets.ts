import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { secretsManagerSdk } from './aws';
import { Cooldown } from './cooldown';

/** The versions of one secret that may be valid right now, read from Secrets Manager. */
export interface SecretVersions {
  readonly current?: Buffer;
  /** Present while a rotation is in flight (between createSecret and finishSecret). */
  readonly pending?: Buffer;
  readonly previous?: Buffer;
  /** When the AWSCURRENT version was created (ms since epoch): AWSPREVIOUS is trusted for a grace period after it. */
  readonly currentCreatedAt?: number;
  /** When this copy was read (ms since epoch). */
  readonly loadedAt: number;
  /** Which versions carried which labels when read: a different key means the secret was rotated (a step ran). */
  readonly versionKey?: string;
}

export interface SecretReadOptions {
  /** Re-read after this many seconds. */
  readonly ttlSeconds: number;
  /** If a re-read fails, keep using the last good copy this long after it was read, then fail. */
  readonly maxStaleSeconds: number;
  /** `current`: one GetSecretValue. `rotation`: every staged version (AWSCURRENT, AWSPENDING, AWSPREVIOUS). */
  readonly stages: 'current' | 'rotation';
}

interface Entry {
  value?: SecretVersions;
  /** A failed read holds the next one back this long (the store's `failureCooldownSeconds`). */
  readonly cooldown: Cooldown;
  inflight?: Promise<SecretVersions>;
  lastForcedAt?: number;
  /** When the last version check (ListSecretVersionIds) started, and the one in flight. */
  lastCheckedAt?: number;
  checking?: Promise<SecretVersions | undefined>;
}

/**
 * Reads secrets from Secrets Manager with a per-secret cache, single-flight loads, stale-if-error up to a bound,
 * and rate-limited forced refreshes. Values stay in memory as Buffers and are never logged.
 *
 * A failed or timed-out read starts a cooldown (cooldown.ts, as an issuer's JWKS has): until it ends, no request
 * reads that secret again, each uses the last good copy (within `maxStaleSeconds`) or fails at once. Without it, a
 * Secrets Manager that accepts connections and never answers would make every decision past the cache TTL wait for
 * the client's timeouts (2 attempts of 1 s), request after request.
 */
export class SecretStore {
  private readonly entries = new Map<string, Entry>();
  private readonly failureCooldownMs: number;

  constructor(
    private readonly client: () => SecretsManagerClient,
    private readonly now: () => number,
    /** After a failed read, no other read of that secret for this long (`serviceSecrets.failureCooldownSeconds`). */
    failureCooldownSeconds = 10,
  ) {
    this.failureCooldownMs = failureCooldownSeconds * 1000;
  }

  /** The cached versions if fresh, otherwise a (single-flight) read; a failed read falls back to a copy within maxStale. */
  async get(secretId: string, opts: SecretReadOptions): Promise<SecretVersions> {
    const entry = this.entry(secretId, opts.stages);
    const cached = entry.value;
    if (cached && this.now() - cached.loadedAt < opts.ttlSeconds * 1000) return cached;
    return this.load(secretId, entry, opts);
  }

  /**
   * Reads again if the last forced read was more than `cooldownSeconds` ago (a rotation may just have finished);
   * otherwise returns undefined. A mismatch storm therefore costs at most one read per cooldown per secret.
   * Only a read that found the same versions as before starts the cooldown: one that found a rotation step was not
   * spent on a wrong secret, and holding the next read back would fail the new value of a second rotation (or of a
   * step that raced the read) until the cooldown ended. Rotations, not callers, bound those extra reads.
   */
  async refresh(secretId: string, opts: SecretReadOptions, cooldownSeconds: number, versionCheckSeconds = 0): Promise<SecretVersions | undefined> {
    const entry = this.entry(secretId, opts.stages);
    const t = this.now();
    if (entry.inflight) return entry.inflight;
    // Secrets Manager is known to be failing: nothing new can be learnt, and waiting again is what the cooldown saves.
    if (entry.cooldown.blocked()) return undefined;
    if (entry.lastForcedAt !== undefined && t - entry.lastForcedAt < cooldownSeconds * 1000) {
      return this.checkVersions(secretId, entry, opts, versionCheckSeconds);
    }
    entry.lastForcedAt = t;
    const before = entry.value?.versionKey;
    const value = await this.load(secretId, entry, opts);
    if (value.versionKey !== before && entry.lastForcedAt === t) entry.lastForcedAt = undefined;
    return value;
  }

  /**
   * While forced re-reads are cooling down, a cheap check that bad requests cannot starve: one ListSecretVersionIds
   * per `everySeconds` per secret (single-flight, whoever asks), and a full read only when the versions' labels
   * changed. A storm of wrong secrets keeps the forced re-read's cooldown busy, but no longer holds a rotation back:
   * the new version is read within `everySeconds` of the rotation step. `rotation` reads only (services, signers).
   */
  private checkVersions(secretId: string, entry: Entry, opts: SecretReadOptions, everySeconds: number): Promise<SecretVersions | undefined> {
    if (entry.checking) return entry.checking;
    const t = this.now();
    if (opts.stages !== 'rotation' || !(everySeconds > 0)) return Promise.resolve(undefined);
    if (entry.lastCheckedAt !== undefined && t - entry.lastCheckedAt < everySeconds * 1000) return Promise.resolve(undefined);
    entry.lastCheckedAt = t;
    entry.cooldown.attempt();
    const p = this.listVersions(secretId)
      .then(
        (byStage) => {
          entry.cooldown.succeeded();
          return versionKey(byStage) === entry.value?.versionKey ? undefined : this.load(secretId, entry, opts);
        },
        (err: unknown) => {
          entry.cooldown.failed(err);
          return undefined;
        },
      )
      .finally(() => {
        entry.checking = undefined;
      });
    entry.checking = p;
    return p;
  }

  private entry(secretId: string, stages: SecretReadOptions['stages']): Entry {
    const key = `${stages}\u0000${secretId}`;
    let entry = this.entries.get(key);
    if (!entry) this.entries.set(key, (entry = { cooldown: new Cooldown(this.failureCooldownMs, this.now) }));
    return entry;
  }

  private load(secretId: string, entry: Entry, opts: SecretReadOptions): Promise<SecretVersions> {
    if (entry.inflight) return entry.inflight;
    const staleOr = (err: unknown) => {
      const stale = entry.value;
      if (stale && this.now() - stale.loadedAt < opts.maxStaleSeconds * 1000) return stale;
      throw err;
    };
    if (entry.cooldown.blocked()) return Promise.resolve(entry.cooldown.failure).then(staleOr);
    entry.cooldown.attempt();
    // A full read lists the versions too: the next version check is due `versionCheckSeconds` after it.
    entry.lastCheckedAt = this.now();
    const read = opts.stages === 'current' ? this.readCurrent(secretId) : this.readRotation(secretId);
    const p = read
      .then((value) => {
        entry.value = value;
        entry.cooldown.succeeded();
        return value;
      })
      .catch((err: unknown) => {
        entry.cooldown.failed(err);
        return staleOr(err);
      })
      .finally(() => {
        entry.inflight = undefined;
      });
    entry.inflight = p;
    return p;
  }

  private async readCurrent(secretId: string): Promise<SecretVersions> {
    const { GetSecretValueCommand } = secretsManagerSdk();
    const out = await this.client().send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT' }));
    return { current: secretBytes(out), ...createdAt(out.CreatedDate), loadedAt: this.now(), ...(out.VersionId ? { versionKey: out.VersionId } : {}) };
  }

  private async readRotation(secretId: string): Promise<SecretVersions> {
    const loadedAt = this.now();
    const { GetSecretValueCommand } = secretsManagerSdk();
    const client = this.client();
    const byStage = await this.listVersions(secretId);
    const read = async (stage: string) => {
      const v = byStage.get(stage);
      if (!v) return undefined;
      try {
        return await client.send(new GetSecretValueCommand({ SecretId: secretId, VersionId: v.id }));
      } catch (err) {
        // RotateSecret stages AWSPENDING on a version with no value until createSecret puts one, and a failed rotation
        // can leave it so: GetSecretValue answers ResourceNotFoundException. Nothing to accept yet, not an outage.
        if (stage === 'AWSPENDING' && (err as { name?: string }).name === 'ResourceNotFoundException') return undefined;
        throw err;
      }
    };
    const [currentOut, pendingOut, previousOut] = await Promise.all([read('AWSCURRENT'), read('AWSPENDING'), read('AWSPREVIOUS')]);
    const [current, pending, previous] = [currentOut, pendingOut, previousOut].map((out) => (out ? secretBytes(out) : undefined));
    // AWSPENDING can sit on the AWSCURRENT version itself (after finishSecret, before cleanup): not a new value.
    return {
      ...(current ? { current } : {}),
      ...(pending && byStage.get('AWSPENDING')?.id !== byStage.get('AWSCURRENT')?.id ? { pending } : {}),
      ...(previous ? { previous } : {}),
      // The version's own CreatedDate from GetSecretValue: the grace period of AWSPREVIOUS counts from it. (Moto's
      // ListSecretVersionIds reports the time of the call instead, which would restart the grace on every read.)
      ...createdAt(currentOut?.CreatedDate ?? byStage.get('AWSCURRENT')?.created),
      loadedAt,
      versionKey: versionKey(byStage),
    };
  }

  /** Which version carries each staging label. */
  private async listVersions(secretId: string): Promise<VersionsByStage> {
    const { ListSecretVersionIdsCommand } = secretsManagerSdk();
    const listed = await this.client().send(new ListSecretVersionIdsCommand({ SecretId: secretId, IncludeDeprecated: false }));
    const byStage: VersionsByStage = new Map();
    for (const v of listed.Versions ?? []) {
      for (const stage of v.VersionStages ?? []) {
        if (v.VersionId) byStage.set(stage, { id: v.VersionId, ...(v.CreatedDate ? { created: v.CreatedDate } : {}) });
      }
    }
    return byStage;
  }
}

type VersionsByStage = Map<string, { id: string; created?: Date }>;

/** The versions the three labels point at: a different key means a rotation step ran. */
function versionKey(byStage: VersionsByStage): string {
  return ['AWSCURRENT', 'AWSPENDING', 'AWSPREVIOUS'].map((stage) => `${stage}=${byStage.get(stage)?.id ?? ''}`).join(',');
}

function secretBytes(out: { SecretString?: string; SecretBinary?: Uint8Array }): Buffer | undefined {
  if (out.SecretString !== undefined) return Buffer.from(out.SecretString, 'utf8');
  if (out.SecretBinary !== undefined) return Buffer.from(out.SecretBinary);
  return undefined;
}

function createdAt(d: Date | undefined): { currentCreatedAt?: number } {
  return d ? { currentCreatedAt: d.getTime() } : {};
}
