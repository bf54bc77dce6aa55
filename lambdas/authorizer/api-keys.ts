import type { AuthorizerConfig } from '../../contract/config';
import { hashApiKey, parseApiKey } from '../../contract/api-key';
import { AuthError } from './errors';
import { type ApiKeyStore, RecordInvalidError } from './store';

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
 * environment.
 */
export class ApiKeyVerifier {
  private readonly prefix: string;
  private readonly environment: AuthorizerConfig['environment'];

  constructor(
    private readonly store: ApiKeyStore,
    opts: { readonly prefix: string; readonly environment: AuthorizerConfig['environment'] },
    private readonly now: () => number,
  ) {
    this.prefix = opts.prefix;
    this.environment = opts.environment;
  }

  /** The key's principal; throws an APIKEY_* refusal (401, or 500 when the record cannot be read or is invalid). */
  async verify(key: string): Promise<ApiKeyPrincipal> {
    const parsed = parseApiKey(key, this.prefix);
    if (!parsed.ok) throw new AuthError(parsed.reason);
    if (parsed.key.environment !== this.environment) throw new AuthError('APIKEY_ENVIRONMENT_MISMATCH');
    let record;
    try {
      record = await this.store.get(hashApiKey(key));
    } catch (err) {
      if (err instanceof RecordInvalidError) throw new AuthError('APIKEY_RECORD_INVALID', { field: err.field });
      throw new AuthError('APIKEY_STORE_UNAVAILABLE', undefined, { cause: err });
    }
    if (!record) throw new AuthError('APIKEY_NOT_FOUND');
    const detail = { keyId: record.keyId, tenantId: record.tenantId };
    if (record.status !== 'active') throw new AuthError('APIKEY_REVOKED', detail);
    if (record.expiresAt !== undefined && record.expiresAt * 1000 <= this.now()) throw new AuthError('APIKEY_EXPIRED', detail);
    if (record.environment !== parsed.key.environment) throw new AuthError('APIKEY_ENVIRONMENT_MISMATCH', detail);
    return { kind: 'apiKey', keyId: record.keyId, tenantId: record.tenantId, scopes: record.scopes };
  }
}
