import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { signRequest } from '../../client/sign-request';
import { requestExamples } from '../../local/examples';
import { type LocalWithCli, bearer, call, exampleConfig, startLocalWithCli } from '../support/local';

/**
 * Issue #9's checks, end to end against local mode on the example configuration: browser callers with the token in
 * a cookie (CSRF on mutating requests), and signed requests from a relay (replay, tampering, the timestamp window,
 * rotation), signed by the TypeScript helper and by the printed openssl + curl commands.
 */
const GRACE_SECONDS = 3;
let local: LocalWithCli;
let base: string;
beforeAll(async () => {
  // The example configuration, with a short AWSPREVIOUS grace so the rotation test can see it end, and a short
  // refetch cooldown: the tampering tests' refused signatures each ask for a re-read of the signer's secret, and a
  // new secret is only seen by the first re-read after the cooldown (30 s by default, a bound on reads under a
  // storm of bad signatures).
  local = await startLocalWithCli({ ...exampleConfig(), serviceSecrets: { previousGraceSeconds: GRACE_SECONDS, refetchCooldownSeconds: 1 } });
  base = local.env.credentials.baseUrl;
});
afterAll(() => local.close());

describe('browser callers: the user token in a cookie', () => {
  const cookie = () => `${local.env.credentials.tokenCookie}=${local.env.credentials.userTokenHs256}`;
  const csrf = () => local.env.credentials.csrf;

  it('works on a GET; the same cookie on a POST is refused without the CSRF proof and passes with it', async () => {
    const me = await call(base, 'GET', '/v1/session', { Cookie: cookie() });
    expect(me).toMatchObject({ status: 200, body: { kind: 'user', tenantId: 'demo', subject: 'demo-user' } });

    const without = await call(base, 'POST', '/v1/customers', { Cookie: cookie() }, { name: 'Mallory' });
    expect(without).toMatchObject({ status: 403, body: { error: 'forbidden' } });
    const wrong = await call(base, 'POST', '/v1/customers', { Cookie: `${cookie()}; ${csrf().cookie}=${csrf().token}`, [csrf().header]: `${csrf().token}x` }, { name: 'Mallory' });
    expect(wrong.status).toBe(403);

    const withProof = await call(base, 'POST', '/v1/customers', { Cookie: `${cookie()}; ${csrf().cookie}=${csrf().token}`, [csrf().header]: csrf().token }, { name: 'Grace Hopper' });
    expect(withProof).toMatchObject({ status: 201, body: { name: 'Grace Hopper' } });
    // The browser reads back what it created, with the cookie alone (a GET needs no proof).
    const read = await call(base, 'GET', `/v1/customers/${withProof.body.id}`, { Cookie: cookie() });
    expect(read).toMatchObject({ status: 200, body: { id: withProof.body.id } });
  });

  it('refuses a cookie together with an Authorization header, even when both name the same user', async () => {
    const c = local.env.credentials;
    expect((await call(base, 'GET', '/v1/session', { Cookie: cookie(), ...bearer(c.userTokenHs256) })).status).toBe(401);
    expect((await call(base, 'GET', '/v1/session', bearer(c.userTokenHs256))).status).toBe(200);
  });

  it('decides every cookie request afresh: users of two tenants on the same route never see each other', async () => {
    const c = local.env.credentials;
    const before = local.env.gateway.authorizerCalls();
    const ours = await call(base, 'GET', '/v1/session', { Cookie: cookie() });
    const theirs = await call(base, 'GET', '/v1/session', { Cookie: `${c.tokenCookie}=${c.otherTenantToken}` });
    const oursAgain = await call(base, 'GET', '/v1/session', { Cookie: cookie() });
    expect([ours.body.tenantId, theirs.body.tenantId, oursAgain.body.tenantId]).toEqual(['demo', 'globex', 'demo']);
    expect(local.env.gateway.authorizerCalls() - before).toBe(3);
  });

  it('reads no cookie on routes that do not take one: API Gateway answers 401 there without an Authorization header', async () => {
    const before = local.env.gateway.authorizerCalls();
    expect((await call(base, 'GET', '/v1/me', { Cookie: cookie() })).status).toBe(401);
    expect(local.env.gateway.authorizerCalls()).toBe(before);
  });
});

describe('signed requests', () => {
  const url = (p = '/v1/webhooks/stripe') => `${base}${p}`;
  const event = JSON.stringify({ id: 'evt_1', type: 'payment.succeeded', data: { amount: 1200 } });
  const signer = () => ({ caller: local.env.credentials.signerName, secret: local.env.credentials.signerSecret });
  const send = (target: string, headers: Record<string, string>, body = event, method = 'POST') =>
    fetch(target, { method, headers: { ...headers, 'Content-Type': 'application/json' }, body }).then(async (r) => ({ status: r.status, body: await r.json() }));

  it('passes once; the same request again is refused', async () => {
    const { headers } = signRequest({ method: 'POST', url: url(), body: event, ...signer() });
    const first = await send(url(), { ...headers });
    expect(first).toMatchObject({ status: 202, body: { accepted: true, signer: 'payments-relay', source: 'stripe', eventId: 'evt_1' } });
    expect((await send(url(), { ...headers })).status).toBe(401);
  });

  it('is refused when the path, the query, the body, the body hash or the method differ from what was signed', async () => {
    const signed = (target = url(), body = event) => ({ ...signRequest({ method: 'POST', url: target, body, ...signer() }).headers });
    expect((await send(url('/v1/webhooks/github'), signed())).status).toBe(401);
    expect((await send(`${url()}?attempt=2`, signed(`${url()}?attempt=1`))).status).toBe(401);
    expect((await send(url(), signed(`${url()}?attempt=1`))).status).toBe(401);
    // The body is not the authorizer's to see: the handler checks it against the signed hash (401 too).
    const tampered = await send(url(), signed(), event.replace('1200', '9900'));
    expect(tampered).toMatchObject({ status: 401, body: { error: 'unauthorized' } });
    const hash = signed();
    expect((await send(url(), { ...hash, 'X-Content-SHA256': '0'.repeat(64) })).status).toBe(401);
    // Signed as a PUT, sent as a POST.
    expect((await send(url(), { ...signRequest({ method: 'PUT', url: url(), body: event, ...signer() }).headers })).status).toBe(401);
    // And the untampered request still passes: refusals spend no nonce.
    expect((await send(url(), signed())).status).toBe(202);
  });

  it('is refused with a timestamp beyond the window (300 s) either way, and accepted just inside it', async () => {
    // Whole seconds are signed: offsets a few seconds past the window, not one, so rounding never decides.
    const at = (offsetSeconds: number) => ({ ...signRequest({ method: 'POST', url: url(), body: event, ...signer(), now: Date.now() + offsetSeconds * 1000 }).headers });
    expect((await send(url(), at(-305))).status).toBe(401);
    expect((await send(url(), at(+305))).status).toBe(401);
    expect((await send(url(), at(-290))).status).toBe(202);
  });

  it('works with the printed openssl + curl commands, and the printed replay is refused', async () => {
    const text = requestExamples(local.env.credentials, '.local/demo-credentials.json');
    const lines = text.split('\n');
    const start = lines.findIndex((l) => l.startsWith('export GATEHOUSE_SIGNER='));
    const script = lines.slice(start, lines.findIndex((l, i) => i > start && l === '')).join('\n');
    expect(script).toContain('scripts/signed-curl.sh');
    // Asynchronously: the gateway that answers curl runs in this process.
    const run = await promisify(execFile)('bash', ['-c', `set -e\n${script.replace('-s -i', "-s -o /dev/null -w '%{http_code}\\n'")}`], {
      cwd: path.resolve(__dirname, '../..'),
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim().split('\n')).toEqual(['202', '202', '401']);
  });

  it('keeps working through a rotation; signatures with the rotated-out secret stop after the grace period', async () => {
    const { caller, secret: before } = signer();
    const sign = (secret: string) => ({ ...signRequest({ method: 'POST', url: url(), body: event, caller, secret }).headers });
    expect((await send(url(), sign(before))).status).toBe(202);

    await new Promise((r) => setTimeout(r, 1_100)); // past the refetch cooldown of the refusals above
    const rotated = await local.cli('signers', 'rotate', caller);
    expect(rotated.code).toBe(0);
    const sm = new SecretsManagerClient({});
    const current = await sm.send(new GetSecretValueCommand({ SecretId: local.env.cliTarget.signers![caller]!, VersionStage: 'AWSCURRENT' }));
    sm.destroy();
    const after = current.SecretString!;
    expect(after).not.toBe(before);

    expect((await send(url(), sign(after))).status).toBe(202);
    expect((await send(url(), sign(before))).status).toBe(202); // AWSPREVIOUS, within the grace period
    const graceEnds = current.CreatedDate!.getTime() + GRACE_SECONDS * 1000;
    await new Promise((r) => setTimeout(r, Math.max(0, graceEnds - Date.now()) + 50));
    expect((await send(url(), sign(before))).status).toBe(401);
    expect((await send(url(), sign(after))).status).toBe(202);
  });
});
