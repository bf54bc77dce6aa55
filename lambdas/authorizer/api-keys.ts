import type { AuthorizerConfig } from '../../contract/config';
import { hashApiKey, parseApiKey } from '../../contract/api-key';
import { AuthError } from './errors';
import { LookupBudget } from './lookup-budget';
import { TtlLru } from './lru';
import { type ApiKeyStore, RecordInvalidError } from './store';

/** A found key stays exempt from the lookup budget this long after it was last found. */
const KNOWN_KEY_MS = 86_400_000;

/** A caller that presented an active API key of this deployment's environment. */
export interface ApiKeyPrincipal {
  readonly kind: 'apiKey';
  readonly keyId: string;
  readonly tenantId: string;
  readonly scopes: readonly string[];
}

/**
 * Verifies API keys, cheapest check first: the key's shape and checksum and its environment (no I/O), then its
 * record, read by the SHA-256 of the key (the store never sees the key itself), and the record's status, expiry and
 * environment. Lookups of keys this container has never found spend from a per-second budget (lookup-budget.ts),
 * so a flood of forged keys with valid checksums costs a bounded number of reads.
 */
export class ApiKeyVerifier {
  private readonly prefix: string;
  private readonly environment: AuthorizerConfig['environment'];

  /** Hashes of keys whose record this container has found: their lookups never spend the budget. */
  private readonly known: TtlLru<string, true>;
  private readonly budget: LookupBudget | undefined;

  constructor(
    private readonly store: ApiKeyStore,
    opts: {
      readonly prefix: string;
      readonly environment: AuthorizerConfig['environment'];
      /** DynamoDB lookups a second for keys never found here (lookup-budget.ts); absent: no budget. */
      readonly unknownKeyLookupsPerSecond?: number;
      /** How many found keys to remember (default 10,000). */
      readonly knownKeys?: number;
    },
    private readonly now: () => number,
  ) {
    this.prefix = opts.prefix;
    this.environment = opts.environment;
    this.known = new TtlLru(opts.knownKeys ?? 10_000, now);
    this.budget = opts.unknownKeyLookupsPerSecond ? new LookupBudget(opts.unknownKeyLookupsPerSecond, now) : undefined;
  }

  /** The key's principal; throws an APIKEY_* refusal (401, or 500 when the record cannot be read or is invalid). */
  async verify(key: string): Promise<ApiKeyPrincipal> {
    const parsed = parseApiKey(key, this.prefix);
    if (!parsed.ok) throw new AuthError(parsed.reason);
    if (parsed.key.environment !== this.environment) throw new AuthError('APIKEY_ENVIRONMENT_MISMATCH');
    const hash = hashApiKey(key);
    if (this.budget && this.known.get(hash) === undefined && !this.store.cached(hash) && !this.budget.take()) {
      throw new AuthError('APIKEY_LOOKUP_BUDGET_EXCEEDED');
    }
    let record;
    try {
      record = await this.store.get(hash);
    } catch (err) {
      if (err instanceof RecordInvalidError) throw new AuthError('APIKEY_RECORD_INVALID', { field: err.field });
      throw new AuthError('APIKEY_STORE_UNAVAILABLE', undefined, { cause: err });
    }
    if (!record) throw new AuthError('APIKEY_NOT_FOUND');
    this.known.set(hash, true, KNOWN_KEY_MS);
    const detail = { keyId: record.keyId, tenantId: record.tenantId };
    if (record.status !== 'active') throw new AuthError('APIKEY_REVOKED', detail);
    if (record.expiresAt !== undefined && record.expiresAt * 1000 <= this.now()) throw new AuthError('APIKEY_EXPIRED', detail);
    if (record.environment !== parsed.key.environment) throw new AuthError('APIKEY_ENVIRONMENT_MISMATCH', detail);
    return { kind: 'apiKey', keyId: record.keyId, tenantId: record.tenantId, scopes: record.scopes };
  }
}
