/*
 * Microsoft Entra ID access tokens through the `entra` preset, in the shape Microsoft documents:
 * - Access tokens (the v1.0 and v2.0 sample tokens, issuers, lifetime incl. CAE's 20-28 h, validation):
 *   https://learn.microsoft.com/en-us/entra/identity-platform/access-tokens
 * - Claims reference (aud, iss, tid, oid, sub, scp, roles, ver): https://learn.microsoft.com/en-us/entra/identity-platform/access-token-claims-reference
 * - Claims validation (key users by tid and oid): https://learn.microsoft.com/en-us/entra/identity-platform/claims-validation
 * - Optional claims (idtyp): https://learn.microsoft.com/en-us/entra/identity-platform/optional-claims-reference
 *
 * V2 and V1 are the payloads of the page's sample tokens as published ("keys are changed"); only the times (moved to
 * now, lifetimes kept) and, where a test says so, one claim are changed. The v1.0 sample's `iss` is scrubbed (its
 * GUID does not match its `tid`); the tests use `https://sts.windows.net/<tid>/` as real v1.0 tokens carry it. APP is
 * an app-only token assembled from the claims table (roles, idtyp; no scp), marked as such. Headers are the
 * samples': v2.0 `{ typ, alg: RS256, kid }`, v1.0 with `x5t` too.
 */
import { type Claims, type IssuerInput, providerSuite, retimed, signAs } from '../../../support/provider-tokens';

const TID = '72f988bf-86f1-41af-91ab-2d7cd011db47';
/** The v1.0 sample's tenant. */
const OTHER_TID = 'fa15d692-e9c7-4460-a743-29f2956fd429';
/** The API's application (client) id: the v2.0 sample's `aud`. */
const API = '6e74172b-be56-4843-9ff4-e66a39bb12e3';
const OID = '690222be-ff1a-4d56-abd1-7e4f7d38e474';

/** The v2.0 sample token's payload. */
const V2: Claims = {
  aud: '6e74172b-be56-4843-9ff4-e66a39bb12e3',
  iss: 'https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0',
  iat: 1537231048,
  nbf: 1537231048,
  exp: 1537234948,
  aio: 'AXQAi/8IAAAAtAaZLo3ChMif6KOnttRB7eBq4/DccQzjcJGxPYy/C3jDaNGxXd6wNIIVGRghNRnwJ1lOcAnNZcjvkoyrFxCttv33140RioOFJ4bCCGVuoCag1uOTT22222gHwLPYQ/uf79QX+0KIijdrmp69RctzmQ==',
  azp: '6e74172b-be56-4843-9ff4-e66a39bb12e3',
  azpacr: '0',
  name: 'Abe Lincoln',
  oid: '690222be-ff1a-4d56-abd1-7e4f7d38e474',
  preferred_username: 'abeli@microsoft.com',
  rh: 'I',
  scp: 'access_as_user',
  sub: 'HKZpfaHyWadeOouYlitjrI-KffTm222X5rrV3xDqfKQ',
  tid: '72f988bf-86f1-41af-91ab-2d7cd011db47',
  uti: 'fqiBqXLPj0eQa82S-IYFAA',
  ver: '2.0',
};

/** The v1.0 sample token's payload (`aio` shortened), `iss` as a real v1.0 token of its tenant carries it. */
const V1: Claims = {
  aud: 'ef1da9d4-ff77-4c3e-a005-840c3f830745',
  iss: `https://sts.windows.net/${OTHER_TID}/`,
  iat: 1537233106,
  nbf: 1537233106,
  exp: 1537237006,
  acr: '1',
  aio: 'AXQAi/8IAAAAFm+E/...',
  amr: ['wia'],
  appid: '75dbe77f-10a3-4e59-85fd-8c127544f17c',
  appidacr: '0',
  email: 'AbeLi@microsoft.com',
  family_name: 'Lincoln',
  given_name: 'Abe (MSFT)',
  idp: 'https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd0122247/',
  ipaddr: '222.222.222.22',
  name: 'abeli',
  oid: '02223b6b-aa1d-42d4-9ec0-1b2bb9194438',
  rh: 'I',
  scp: 'user_impersonation',
  sub: 'l3_roISQU222bULS9yi2k0XpqpOiMz5H3ZACo1GeXA',
  tid: 'fa15d692-e9c7-4460-a743-29f2956fd429',
  unique_name: 'abeli@microsoft.com',
  uti: 'FVsGxYXI30-TuikuuUoFAA',
  ver: '1.0',
};

/** [built from the claims table] An app-only (client-credentials) v2.0 token: app roles, idtyp app, no scp. */
const APP: Claims = {
  aud: API,
  iss: `https://login.microsoftonline.com/${TID}/v2.0`,
  iat: 1537231048,
  nbf: 1537231048,
  exp: 1537234948,
  azp: '75dbe77f-10a3-4e59-85fd-8c127544f17c',
  azpacr: '1',
  oid: 'b2c4e6f8-1a3c-4e5a-8b7c-9d0e1f2a3b4c',
  sub: 'b2c4e6f8-1a3c-4e5a-8b7c-9d0e1f2a3b4c',
  tid: TID,
  roles: ['Data.Read.All'],
  idtyp: 'app',
  uti: 'qP2s9b0OXkSq3a0gQbYEAA',
  ver: '2.0',
};

const s = providerSuite({ tenants: [TID, OTHER_TID] });

/** The preset as the recipe writes it: the customer tenants and the API's client id; the keys read on loopback. */
const entra = (extra: Partial<Extract<IssuerInput, { type: 'entra' }>> = {}): IssuerInput => ({ type: 'entra', tenants: [TID], audience: API, jwksUrl: s.jwksUrl, ...extra });
const sign = (doc: Claims, over: Claims = {}, header: Record<string, unknown> = { typ: 'JWT' }) => signAs(s.keys[0]!, { ...retimed(doc), ...over }, header);
const v2 = (over: Claims = {}) => sign(V2, over);
/** A v1.0 token of `tid`, with the v1.0 sample's header (x5t beside kid). */
const v1 = (tid: string) => sign(V1, { iss: `https://sts.windows.net/${tid}/`, tid }, { typ: 'JWT', x5t: s.keys[0]!.kid });
/** The v2.0 sample as tenant `tid` would issue it. */
const v2Of = (tid: string) => v2({ iss: `https://login.microsoftonline.com/${tid}/v2.0`, tid });

describe('Microsoft Entra ID access tokens (v2.0)', () => {
  it('allows the documented v2.0 token: tid as tenant, oid as subject, scp as scopes', async () => {
    const d = await s.decide(s.authorizer(entra()), await v2());

    expect(d.status).toBe(200);
    expect(d.context).toEqual({
      kind: 'user',
      principalId: OID,
      issuer: 'entra',
      subject: OID,
      tenantId: TID,
      tier: 'default',
      scopes: 'access_as_user',
      roles: '',
      email: '',
      sessionId: '',
      // Every context key is always there: '' where a user has none (left out of the backend's X-Gatehouse-Context).
      keyId: '', service: '', signer: '', bodySha256: '',
    });
  });

  it('takes the per-app sub as subject where subjectClaim is sub', async () => {
    const d = await s.decide(s.authorizer(entra({ subjectClaim: 'sub' })), await v2());

    expect(d).toMatchObject({ status: 200, context: { subject: 'HKZpfaHyWadeOouYlitjrI-KffTm222X5rrV3xDqfKQ', tenantId: TID } });
  });

  it('allows an app-only token and hands on its app roles', async () => {
    const d = await s.decide(s.authorizer(entra()), await sign(APP));

    expect(d).toMatchObject({ status: 200, context: { subject: 'b2c4e6f8-1a3c-4e5a-8b7c-9d0e1f2a3b4c', tenantId: TID, roles: 'Data.Read.All', scopes: '' } });
  });

  it('allows each configured tenant with its own tid, and no other', async () => {
    const both = s.authorizer(entra({ tenants: [TID, OTHER_TID] }));

    expect(await s.decide(both, await v2Of(OTHER_TID))).toMatchObject({ status: 200, context: { tenantId: OTHER_TID } });
    expect(await s.decide(both, await v2())).toMatchObject({ status: 200, context: { tenantId: TID } });
    expect(await s.decide(s.authorizer(entra()), await v2Of(OTHER_TID))).toMatchObject({ status: 401, reason: 'JWT_ISSUER_UNKNOWN' });
  });

  it('refuses a v1.0 token of a configured tenant (JWT_TOKEN_TYPE_NOT_ALLOWED) and of any other (JWT_ISSUER_UNKNOWN)', async () => {
    const authorize = s.authorizer(entra());

    expect(await s.decide(authorize, await v1(TID))).toMatchObject({ status: 401, reason: 'JWT_TOKEN_TYPE_NOT_ALLOWED' });
    expect(await s.decide(authorize, await v1(OTHER_TID))).toMatchObject({ status: 401, reason: 'JWT_ISSUER_UNKNOWN' });
  });

  it.each<[string, Claims, string]>([
    ['a token of the consumer (MSA) tenant', { iss: 'https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0', tid: '9188040d-6c67-4c5b-b112-36a304b66dad' }, 'JWT_ISSUER_UNKNOWN'],
    ['the multi-tenant issuer template itself', { iss: 'https://login.microsoftonline.com/{tenantid}/v2.0' }, 'JWT_ISSUER_UNKNOWN'],
    ['a token for Microsoft Graph', { aud: '00000003-0000-0000-c000-000000000000' }, 'JWT_AUDIENCE_MISMATCH'],
    ["a token for the API's App ID URI (a v1.0-style aud)", { aud: `api://${API}` }, 'JWT_AUDIENCE_MISMATCH'],
    ['a tid other than the issuer names', { tid: OTHER_TID }, 'JWT_CLAIM_INVALID'],
    ['ver 1.0 under the v2.0 issuer', { ver: '1.0' }, 'JWT_TOKEN_TYPE_NOT_ALLOWED'],
    ['a token without oid', { oid: undefined }, 'JWT_CLAIM_MISSING'],
  ])('refuses %s (401)', async (_name, over, reason) => {
    expect(await s.decide(s.authorizer(entra()), await v2(over))).toMatchObject({ status: 401, reason });
  });

  it('allows a CAE long-lived token (up to 28 h, the default cap of the preset) and refuses one minted to live longer', async () => {
    const now = Math.floor(Date.now() / 1000);
    const cae = await v2({ iat: now, nbf: now, exp: now + 28 * 3600 });
    const longer = await v2({ iat: now, nbf: now, exp: now + 28 * 3600 + 1 });

    expect(await s.decide(s.authorizer(entra()), cae)).toMatchObject({ status: 200, context: { tenantId: TID } });
    expect(await s.decide(s.authorizer(entra()), longer)).toMatchObject({ status: 401, reason: 'JWT_LIFETIME_TOO_LONG' });
    expect(await s.decide(s.authorizer(entra({ maxTokenAgeSeconds: 3 * 3600 })), cae)).toMatchObject({ status: 401, reason: 'JWT_LIFETIME_TOO_LONG' });
  });
});
