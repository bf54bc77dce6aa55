/**
 * What the hosted-provider tests (test/lambdas/authorizer/providers/) share: a stand-in for one provider's signing
 * keys (RS256 keys generated per run, served by a loopback JWKS server that the preset reads through its `jwksUrl`),
 * tokens signed with the header the provider documents, the provider's documented example payloads moved to the
 * present time, and a decision through the real authorizer handler (createFixture: real DynamoDB tenant records on
 * the emulator) with the status API Gateway would answer, the reason code logged and the context handed on.
 */
import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import { type JWTPayload, SignJWT } from 'jose';
import { GATEWAY_CONTEXT_KEY, type GatewayContext, decodeGatewayContext } from '../../contract/backend-headers';
import type { AuthorizerConfigInput } from '../../contract/config';
import { type PolicyDocument, evaluatePolicy } from '../../lambdas/authorizer/policy';
import { API_ARN_PREFIX, type Fixture, authorizerEvent, createFixture, withRequestLine } from './fixture';
import { type JwksServer, type TestKey, makeKey, nowSeconds, startJwksServer } from './jwt';

/** One issuer as a configuration document writes it (before its defaults). */
export type IssuerInput = NonNullable<AuthorizerConfigInput['issuers']>[number];
export type Authorize = ReturnType<Fixture['authorizer']>;
export type Claims = Record<string, unknown>;

/**
 * API Gateway's answer to one request, the reason code in the decision log, and on an Allow the context handed to
 * handlers (without its encoded copy) and the context an HTTP backend gets in X-Gatehouse-Context (decoded).
 */
export interface Decision {
  readonly status: 200 | 401 | 403 | 500;
  readonly reason: string | undefined;
  readonly context: APIGatewayAuthorizerResult['context'] | undefined;
  readonly backendContext: GatewayContext | undefined;
}

/**
 * A documented example payload with its time claims moved to now, the distances between them kept: the lifetime the
 * provider gave it (`exp - iat`), `nbf` and `auth_time` relative to `iat`. Everything else stays as documented.
 */
export function retimed(doc: Claims, now = nowSeconds()): Claims {
  const iat = doc.iat as number;
  const out: Claims = { ...doc };
  for (const claim of ['iat', 'exp', 'nbf', 'auth_time']) {
    const v = doc[claim];
    if (typeof v === 'number') out[claim] = now + (v - iat);
  }
  return out;
}

/** Signs `payload` with `key`; the protected header is `{ alg, kid }` and `header` on top (e.g. `typ`, `x5t`). */
export function signAs(key: TestKey, payload: Claims, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(payload as JWTPayload).setProtectedHeader({ alg: key.alg, kid: key.kid, ...header }).sign(key.privateKey);
}

/** Runs the authorizer on one request with the token as a bearer, as API Gateway's REQUEST authorizer would. */
export async function decide(fx: Fixture, authorize: Authorize, token: string, method = 'GET', path = '/v1/me'): Promise<Decision> {
  const before = fx.logs.length;
  let status: Decision['status'];
  let result: APIGatewayAuthorizerResult | undefined;
  try {
    result = await authorize(withRequestLine(authorizerEvent({ Authorization: `Bearer ${token}` }, method, path)));
    status = evaluatePolicy(result.policyDocument as PolicyDocument, `${API_ARN_PREFIX}/${method}${path}`) === 'Allow' ? 200 : 403;
  } catch (err) {
    status = (err as Error).message === 'Unauthorized' ? 401 : 500;
  }
  let context: Decision['context'];
  let backendContext: GatewayContext | undefined;
  if (status === 200 && result?.context) {
    const { [GATEWAY_CONTEXT_KEY]: encoded, ...rest } = result.context;
    context = rest;
    backendContext = decodeGatewayContext(String(encoded));
    // The backend's copy is the handlers' context, keys that are '' left out.
    const sorted = (o: object) => JSON.stringify(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
    if (sorted(backendContext) !== sorted(Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== '')))) {
      throw new Error(`decide: X-Gatehouse-Context ${JSON.stringify(backendContext)} is not the context ${JSON.stringify(rest)}`);
    }
  }
  // The decision this request logged (not an earlier one's).
  const reason = fx.logs.length > before ? fx.lastReason() : undefined;
  return { status, reason, context, backendContext };
}

/** One provider's stand-in and the fixture around it, set up before the file's tests and closed after them. */
export interface ProviderSuite {
  readonly fx: Fixture;
  /** The provider's signing keys (all served by its JWKS). */
  readonly keys: readonly TestKey[];
  /** The loopback URL of the provider's JWKS, for the preset's `jwksUrl`. */
  readonly jwksUrl: string;
  readonly jwks: JwksServer;
  /** A fresh authorizer (fresh caches) that trusts exactly these issuers, over the fixture's routes and table. */
  authorizer(...issuers: IssuerInput[]): Authorize;
  decide(authorize: Authorize, token: string, method?: string, path?: string): Promise<Decision>;
}

/**
 * Registers beforeAll/afterAll for a provider test file: the fixture, `keyCount` RS256 keys on one loopback JWKS, and
 * an active tenant record for each of `tenants` (put directly, as `gatehouse tenants create` would store it).
 */
export function providerSuite(opts: { readonly tenants: readonly string[]; readonly keyCount?: number }): ProviderSuite {
  const state: { fx?: Fixture; keys?: TestKey[]; jwks?: JwksServer } = {};
  beforeAll(async () => {
    state.fx = await createFixture();
    state.keys = await Promise.all(Array.from({ length: opts.keyCount ?? 1 }, () => makeKey('RS256')));
    state.jwks = await startJwksServer(state.keys.map((k) => k.publicJwk));
    for (const tenantId of opts.tenants) await state.fx.putTenant({ tenantId });
  });
  afterAll(async () => {
    await state.jwks?.close();
    await state.fx?.close();
  });
  return {
    get fx() {
      return state.fx!;
    },
    get keys() {
      return state.keys!;
    },
    get jwks() {
      return state.jwks!;
    },
    get jwksUrl() {
      return state.jwks!.url;
    },
    authorizer: (...issuers) => state.fx!.authorizer({ issuers }),
    decide: (authorize, token, method, path) => decide(state.fx!, authorize, token, method, path),
  };
}
