import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FlattenedJWSInput, JWTHeaderParameters } from 'jose';
import { type JwksGetterOptions, createJwksGetter } from '../../../lambdas/authorizer/jwks';
import { type JwksServer, type TestKey, makeKey, startJwksServer } from '../../support/jwt';

/**
 * The remote JWKS getter against a real HTTP server on loopback. Time that only the getter measures (max age,
 * cooldown, staleness) runs on an injected clock; fetch timeouts are real and kept small.
 */
let key: TestKey;
let next: TestKey;
let server: JwksServer;
let t: number;

beforeAll(async () => {
  key = await makeKey('ES256');
  next = await makeKey('ES256');
});
beforeEach(async () => {
  server = await startJwksServer([key.publicJwk]);
  t = 1_700_000_000_000;
});
afterEach(() => server.close());

const getter = (o: Partial<JwksGetterOptions> = {}) =>
  createJwksGetter({
    url: server.url,
    timeoutMs: 300,
    cooldownSeconds: 30,
    cacheMaxAgeSeconds: 600,
    maxStaleSeconds: 3600,
    now: () => t,
    ...o,
  });
const header = (kid: string): JWTHeaderParameters => ({ alg: 'ES256', kid });
const input: FlattenedJWSInput = { payload: '', signature: '' };
const codeOf = (p: unknown) => Promise.resolve(p).then(() => 'resolved', (err: { code?: string }) => err.code ?? String(err));

describe('Function: createJwksGetter', () => {
  it('fetches once and serves later keys from the cache', async () => {
    const get = getter();

    for (let i = 0; i < 5; i++) await expect(Promise.resolve(get(header(key.kid), input))).resolves.toBeDefined();

    expect(server.fetches()).toBe(1);
  });

  it('fetches once for many concurrent first requests (single flight)', async () => {
    const get = getter();

    await Promise.all(Array.from({ length: 50 }, () => get(header(key.kid), input)));

    expect(server.fetches()).toBe(1);
  });

  it('refetches once for an unknown kid, then refuses it until the cooldown has passed', async () => {
    const get = getter();
    await get(header(key.kid), input);
    expect(await codeOf(get(header('unknown-0'), input))).toBe('ERR_JWKS_NO_MATCHING_KEY');
    expect(server.fetches()).toBe(1); // the first fetch started the cooldown
    t += 31_000;

    const storm = await Promise.all(Array.from({ length: 25 }, (_, i) => codeOf(get(header(`unknown-${i}`), input))));

    expect(new Set(storm)).toEqual(new Set(['ERR_JWKS_NO_MATCHING_KEY']));
    expect(server.fetches()).toBe(2);
    t += 10_000;
    expect(await codeOf(get(header('unknown-x'), input))).toBe('ERR_JWKS_NO_MATCHING_KEY');
    expect(server.fetches()).toBe(2);
    t += 21_000;
    expect(await codeOf(get(header('unknown-y'), input))).toBe('ERR_JWKS_NO_MATCHING_KEY');
    expect(server.fetches()).toBe(3);
  });

  it('picks up a rotated key on the refetch its unknown kid triggers', async () => {
    const get = getter();
    await get(header(key.kid), input);
    t += 31_000;
    server.setKeys([key.publicJwk, next.publicJwk]);

    await expect(Promise.resolve(get(header(next.kid), input))).resolves.toBeDefined();

    expect(server.fetches()).toBe(2);
  });

  it('refetches a set older than its max age before using it', async () => {
    const get = getter({ cacheMaxAgeSeconds: 60 });
    await get(header(key.kid), input);
    server.setKeys([next.publicJwk]);
    t += 61_000;

    expect(await codeOf(get(header(key.kid), input))).toBe('ERR_JWKS_NO_MATCHING_KEY');
    await expect(Promise.resolve(get(header(next.kid), input))).resolves.toBeDefined();
    expect(server.fetches()).toBe(2);
  });

  describe('with nothing cached', () => {
    it.each([
      ['error', 'ERR_JOSE_GENERIC'],
      ['garbage', 'ERR_JWKS_INVALID'],
      ['hang', 'ERR_JWKS_TIMEOUT'],
    ] as const)('rejects when the endpoint is %s (%s), within the timeout', async (mode, code) => {
      server.setMode(mode);
      const started = Date.now();

      expect(await codeOf(getter()(header(key.kid), input))).toBe(code);

      expect(Date.now() - started).toBeLessThan(1500);
    });

    it('rejects valid JSON that is not a key set', async () => {
      const get = getter({ fetch: async () => new Response('{"keys":"nope"}', { status: 200 }) });

      expect(await codeOf(get(header(key.kid), input))).toBe('ERR_JWKS_INVALID');
    });

    it('rejects when nothing listens (a network error)', async () => {
      const url = server.url;
      await server.close();

      expect(await codeOf(getter({ url })(header(key.kid), input))).toBe('ERR_JOSE_GENERIC');
    });

    it('does not follow a redirect', async () => {
      const redirect = createServer((_, res) => res.writeHead(302, { location: server.url }).end());
      await new Promise<void>((r) => redirect.listen(0, '127.0.0.1', r));
      try {
        const { port } = redirect.address() as AddressInfo;
        const get = getter({ url: `http://127.0.0.1:${port}/jwks.json` });

        expect(await codeOf(get(header(key.kid), input))).toBe('ERR_JOSE_GENERIC');
        expect(server.fetches()).toBe(0);
      } finally {
        redirect.closeAllConnections();
        await new Promise((r) => redirect.close(r));
      }
    });

    it('tries again on the next request, however recent the failure', async () => {
      server.setMode('error');
      const get = getter();
      expect(await codeOf(get(header(key.kid), input))).toBe('ERR_JOSE_GENERIC');
      server.setMode('ok');

      await expect(Promise.resolve(get(header(key.kid), input))).resolves.toBeDefined();
      expect(server.fetches()).toBe(2);
    });
  });

  describe('with a set cached and past its max age', () => {
    const stale = async (mode: 'error' | 'garbage' | 'hang') => {
      const get = getter({ cacheMaxAgeSeconds: 60, maxStaleSeconds: 3600 });
      await get(header(key.kid), input);
      server.setMode(mode);
      t += 61_000;
      return get;
    };

    it.each(['error', 'garbage', 'hang'] as const)('keeps the cached keys working when the endpoint is %s', async (mode) => {
      const get = await stale(mode);
      const started = Date.now();

      await expect(Promise.resolve(get(header(key.kid), input))).resolves.toBeDefined();

      expect(Date.now() - started).toBeLessThan(1500);
      expect(server.fetches()).toBe(2);
    });

    it('tries the endpoint again at most once per cooldown while it keeps failing', async () => {
      const get = await stale('hang');
      await Promise.all(Array.from({ length: 10 }, () => get(header(key.kid), input)));
      expect(server.fetches()).toBe(2);

      t += 10_000;
      const started = Date.now();
      await expect(Promise.resolve(get(header(key.kid), input))).resolves.toBeDefined();
      expect(Date.now() - started).toBeLessThan(100); // no second wait for the timeout within the cooldown
      expect(server.fetches()).toBe(2);

      t += 21_000;
      await expect(Promise.resolve(get(header(key.kid), input))).resolves.toBeDefined();
      expect(server.fetches()).toBe(3);
    });

    it('fails closed once the set is older than max age plus the stale bound', async () => {
      const get = await stale('error');
      await get(header(key.kid), input);

      t += 3600_000;

      expect(await codeOf(get(header(key.kid), input))).toBe('ERR_JOSE_GENERIC');
    });

    it('uses 0 as "no stale use at all"', async () => {
      const get = getter({ cacheMaxAgeSeconds: 60, maxStaleSeconds: 0 });
      await get(header(key.kid), input);
      server.setMode('error');
      t += 61_000;

      expect(await codeOf(get(header(key.kid), input))).toBe('ERR_JOSE_GENERIC');
    });

    it('takes the new set once the endpoint is back', async () => {
      const get = await stale('error');
      await get(header(key.kid), input);
      server.setMode('ok');
      server.setKeys([next.publicJwk]);
      t += 31_000;

      await expect(Promise.resolve(get(header(next.kid), input))).resolves.toBeDefined();
      expect(await codeOf(get(header(key.kid), input))).toBe('ERR_JWKS_NO_MATCHING_KEY');
    });
  });

  it('answers an unknown kid with the fetch error, not "no matching key", while the endpoint is down', async () => {
    const get = getter();
    await get(header(key.kid), input);
    server.setMode('error');
    t += 31_000;

    expect(await codeOf(get(header('rotated-in'), input))).toBe('ERR_JOSE_GENERIC');
    // Within the cooldown no new fetch, and still not a 401-style answer; known kids keep working.
    expect(await codeOf(get(header('rotated-in-2'), input))).toBe('ERR_JOSE_GENERIC');
    await expect(Promise.resolve(get(header(key.kid), input))).resolves.toBeDefined();
    expect(server.fetches()).toBe(2);
  });

  it('answers current() without I/O: the key while the set is fresh or stands in, nothing once it needs a fetch', async () => {
    const get = getter({ cacheMaxAgeSeconds: 60 });
    expect(get.current('ES256', key.kid)).toBeUndefined(); // nothing fetched yet
    const k = await get(header(key.kid), input);

    expect(get.current('ES256', key.kid)).toBe(k);
    expect(get.current('ES256', 'unknown')).toBeUndefined();
    expect(get.current('ES384', key.kid)).toBeUndefined();
    t += 61_000;
    expect(get.current('ES256', key.kid)).toBeUndefined(); // past max age: the getter would fetch first
    server.setMode('error');
    await expect(Promise.resolve(get(header(key.kid), input))).resolves.toBe(k); // the refetch fails, the stale set stands in
    expect(get.current('ES256', key.kid)).toBe(k);
    expect(server.fetches()).toBe(2);
  });

  it('hands out the same key object across refetches while the JWK is unchanged, a new one when it changes', async () => {
    const get = getter({ cacheMaxAgeSeconds: 60 });
    const first = await get(header(key.kid), input);
    t += 61_000;
    expect(await get(header(key.kid), input)).toBe(first);
    server.setKeys([{ ...key.publicJwk, use: undefined }]);
    t += 61_000;
    const changed = await get(header(key.kid), input);
    expect(changed).not.toBe(first);
    expect(server.fetches()).toBe(3);
  });

  it('exposes when the set in use was fetched, and reload fetches now', async () => {
    const get = getter();
    expect(get.fetchedAt).toBeUndefined();
    await get.reload();
    expect(get.fetchedAt).toBe(t);
    expect(server.fetches()).toBe(1);
  });
});
