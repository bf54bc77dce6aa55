import { generateKeyPairSync } from 'node:crypto';
import type { IssuerSpec } from '../../../lambdas/authorizer/issuers';
import { issuerSpec } from './issuer-spec';
import { remoteJwks } from '../../../lambdas/authorizer/remote-jwks';
import { type JwksServer, startJwksServer } from '../../support/jwt';

const spec = (keys: IssuerSpec['keys']): IssuerSpec => issuerSpec({ keys });

function jwk(kid: string): Record<string, unknown> {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...(publicKey.export({ format: 'jwk' }) as object), kid, alg: 'ES256', use: 'sig' };
}

describe('remoteJwks', () => {
  let server: JwksServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('serves a static JWKS as given, with no I/O', async () => {
    const getter = remoteJwks(spec({ jwks: { keys: [jwk('k1')] } }));

    expect(getter.current('ES256', 'k1')).toBeDefined();
    expect((await getter({ alg: 'ES256', kid: 'k1' })).alg).toBe('ES256');
  });

  it('prefers the static JWKS when an issuer has both', async () => {
    server = await startJwksServer([jwk('remote') as never]);
    const getter = remoteJwks(spec({ jwks: { keys: [jwk('static')] }, jwksUrl: server.url }));

    await getter({ alg: 'ES256', kid: 'static' });

    expect(server.fetches()).toBe(0);
  });

  it('fetches a remote JWKS on the clock it is given, and stands in a stale set for a failing endpoint up to maxStaleSeconds only', async () => {
    server = await startJwksServer([jwk('k1') as never]);
    let now = 1_750_000_000_000;
    const getter = remoteJwks(spec({ jwksUrl: server.url }), { maxStaleSeconds: 60, now: () => now });
    await getter({ alg: 'ES256', kid: 'k1' });
    server.setMode('error');

    now += (600 + 59) * 1000; // within max age + maxStaleSeconds: the stale set stands in
    const stale = await getter({ alg: 'ES256', kid: 'k1' }).then(
      () => 'ok',
      (err: { code?: string }) => err.code,
    );
    now += 2000; // past max age + maxStaleSeconds
    const expired = await getter({ alg: 'ES256', kid: 'k1' }).then(
      () => 'ok',
      (err: { code?: string }) => err.code,
    );

    expect(stale).toBe('ok');
    expect(expired).toBe('ERR_JOSE_GENERIC');
    expect(server.fetches()).toBe(3); // the first fetch, then one failed attempt per use past the max age
  });

  it('refuses an issuer with no JWKS at all', () => {
    expect(() => remoteJwks(spec({}))).toThrow('issuer oidc has no JWKS');
  });
});
