import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { timingSafeEqual } from 'node:crypto';
import { dynamodbSdk } from './aws';
import type { RequestHeaders } from './classify';
import { singleHeader } from './classify';
import type { AuthorizerConfig, SignerConfig } from '../../contract/config';
import { AuthError } from './errors';
import type { SecretStore } from './secrets';
import { matchSecret } from './service-secrets';
import { type SignatureHeader, canonicalString, signatureOf } from '../../contract/signing';
import { TTL_ATTRIBUTE, nonceItemKey } from '../../contract/table';
import { CONTENT_SHA256_HEADER } from '../../contract/headers';
import { SHA256_HEX_PATTERN } from '../../contract/patterns';

/** A caller that signed this request with its secret (contract/signing.ts). */
export interface SignedPrincipal {
  readonly kind: 'signed';
  readonly signer: string;
  readonly scopes: readonly string[];
  /** The body hash the signature covers; the handler checks the body against it (lambdas/shared/signed-body.ts). */
  readonly bodySha256: string;
}

/** What of the REQUEST authorizer event the canonical string covers. */
export interface SignedRequestEvent extends RequestHeaders {
  readonly httpMethod: string;
  readonly multiValueQueryStringParameters?: Record<string, string[] | undefined> | null;
  readonly queryStringParameters?: Record<string, string | undefined> | null;
  /** `path` here is the path of the request line (with the stage on the default endpoint), as the caller signed it. */
  readonly requestContext?: { readonly path?: string } | null;
}

/** Nonces after a timestamp window plus this slack are gone from the table (DynamoDB's TTL deletes them later). */
const NONCE_TTL_SLACK_SECONDS = 60;

/**
 * Checks signed requests, cheapest check first: the signer, the timestamp window, the body-hash header, the
 * signature (against every valid version of the signer's secret, as for service secrets: a rotation fails no
 * request), and last the nonce, recorded once with a conditional write, so that only a genuine request spends
 * one (a forger cannot burn a caller's nonces) and a replay within the window finds it taken.
 */
export class SignedRequestVerifier {
  private readonly signers: ReadonlyMap<string, SignerConfig>;

  constructor(
    signers: readonly SignerConfig[],
    private readonly opts: { readonly windowSeconds: number; readonly secrets: AuthorizerConfig['serviceSecrets'] },
    private readonly store: SecretStore,
    private readonly nonces: NonceStore | undefined,
    private readonly now: () => number,
  ) {
    this.signers = new Map(signers.map((s) => [s.name, s]));
  }

  async verify(header: SignatureHeader, event: SignedRequestEvent): Promise<SignedPrincipal> {
    const signer = this.signers.get(header.caller);
    if (!signer || !this.nonces) throw new AuthError('SIGNER_UNKNOWN');
    const detail = { signer: signer.name };
    const skewSeconds = Math.round(this.now() / 1000 - header.timestamp);
    if (Math.abs(skewSeconds) > this.opts.windowSeconds) throw new AuthError('SIGNATURE_TIMESTAMP_OUT_OF_WINDOW', { ...detail, skewSeconds });
    const bodySha256 = singleHeader(event, CONTENT_SHA256_HEADER);
    if (bodySha256 === undefined || !SHA256_HEX_PATTERN.test(bodySha256)) throw new AuthError('SIGNATURE_BODY_HASH_INVALID', detail);
    const path = event.requestContext?.path;
    if (typeof path !== 'string' || !path.startsWith('/')) throw new AuthError('INTERNAL_ERROR', { ...detail, cause: 'requestContext.path' });

    let canonical: string;
    try {
      canonical = canonicalString(header, {
        method: event.httpMethod,
        path,
        query: event.multiValueQueryStringParameters ?? singleValued(event.queryStringParameters),
        bodySha256,
      });
    } catch {
      // A query no UTF-8 encoding can spell (a lone surrogate): no client could have signed it.
      throw new AuthError('SIGNATURE_MISMATCH', { ...detail, query: 'unencodable' });
    }
    const presented = Buffer.from(header.signature, 'hex');
    // Every candidate is computed and compared, with no early exit: timing does not tell which version matched.
    const matches = (candidates: readonly Buffer[]) =>
      candidates.reduce((ok, secret) => timingSafeEqual(signatureOf(secret, canonical), presented) || ok, false);
    let ok: boolean;
    try {
      ok = await matchSecret(this.store, signer.secretId, this.opts.secrets, this.now, matches);
    } catch (err) {
      throw new AuthError('SIGNER_SECRET_UNAVAILABLE', detail, { cause: err });
    }
    if (!ok) throw new AuthError('SIGNATURE_MISMATCH', detail);

    let fresh: boolean;
    try {
      fresh = await this.nonces.record(signer.name, header.nonce, header.timestamp + this.opts.windowSeconds + NONCE_TTL_SLACK_SECONDS);
    } catch (err) {
      throw new AuthError('NONCE_STORE_UNAVAILABLE', detail, { cause: err });
    }
    if (!fresh) throw new AuthError('SIGNATURE_REPLAYED', detail);
    return { kind: 'signed', signer: signer.name, scopes: signer.scopes, bodySha256 };
  }
}

function singleValued(q: Record<string, string | undefined> | null | undefined): Record<string, string[]> | undefined {
  if (!q) return undefined;
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(q)) if (v !== undefined) out[k] = [v];
  return out;
}

/** Nonces of signed requests in the table: one conditional PutItem each; never cached (each is seen once). */
export class NonceStore {
  constructor(
    private readonly client: () => DynamoDBClient,
    private readonly tableName: string,
  ) {}

  /** Records a nonce; false if it was already recorded (a replay). `expiresAt`: seconds since the epoch. */
  async record(signer: string, nonce: string, expiresAt: number): Promise<boolean> {
    const { PutItemCommand, ConditionalCheckFailedException } = dynamodbSdk();
    const { pk, sk } = nonceItemKey(signer, nonce);
    try {
      await this.client().send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: { pk: { S: pk }, sk: { S: sk }, [TTL_ATTRIBUTE]: { N: String(expiresAt) } },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException || (err as { name?: string }).name === 'ConditionalCheckFailedException') return false;
      throw err;
    }
  }
}
