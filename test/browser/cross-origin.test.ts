import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { LogFields, Logger } from '../../contract/log';
import { type LocalEnvironment, provisionLocal } from '../../local/provision';
import { describeWithBrowser, launchChromium } from '../support/browser';
import { type WebAppServer, serveWebApp } from '../support/browser-app';
import { type RequestLog, recordRequests } from '../support/browser-requests';
import { nowSeconds, signHs256 } from '../support/jwt';
import { exampleConfig } from '../support/local';

/**
 * The browser story, in headless Chromium: a web app on http://localhost:5173 (the origin the example
 * configuration's `cors` section allows, with credentials) signs in, keeps the user's token and a CSRF token in
 * cookies, and calls the API on another port of localhost (same site: the cookies go along) with
 * fetch(..., { credentials: 'include' }). Pages on origins that are not allowed can read nothing, whether they share
 * the site (http://localhost:<other port>) or not (http://127.0.0.1:<other port>). Assertions are on what the page
 * could read, and on what the API received (cookie names, never values; no token is ever printed).
 */
const APP_PORT = 5173;
const SETUP_TIMEOUT_MS = 240_000;
const TEST_TIMEOUT_MS = 90_000;

/** The reason codes of the authorizer's decision lines (JWT_EXPIRED, CSRF_TOKEN_MISSING, ...): why a request was refused. */
function reasonRecorder(reasons: string[]): Logger {
  const keep = (_message: string, fields?: LogFields) => {
    if (typeof fields?.reason === 'string') reasons.push(fields.reason);
  };
  return { info: keep, warn: keep, error: keep };
}

/**
 * Where the kinds of API differ: the authorizer's own refusals (401 on REST, a Deny behind an HTTP API), the bodies
 * of the gateway's answers, and the request id header (x-amzn-RequestId, exposed by every policy; an HTTP API's
 * apigw-requestid, which the configuration exposes here as a team on an HTTP API would).
 */
const KINDS = {
  rest: { refused: 401, refusedBody: { error: 'unauthorized', message: expect.any(String) }, forbidden: { error: 'forbidden', message: expect.any(String) } },
  http: { refused: 403, refusedBody: { message: 'Forbidden' }, forbidden: { message: 'Forbidden' } },
} as const;

/** The example configuration, for an HTTP API with its request id header exposed to pages. */
function configFor(api: 'rest' | 'http'): Record<string, unknown> {
  const config = exampleConfig();
  if (api === 'rest') return config;
  return { ...config, cors: { ...(config.cors as object), exposeHeaders: ['apigw-requestid'] } };
}

/** What window.app.call returns: what the page could read, or the error fetch rejected with. */
type PageAnswer =
  | { read: true; status: number; body: any; requestId: string | null; rateLimitRemaining: string | null }
  | { read: false; error: string; message: string };

describeWithBrowser('a web app on http://localhost:5173 calling the API in a real browser (CORS, cookies, CSRF)', (chromiumPath) => {
  describe.each(['rest', 'http'] as const)('%s API', (api) => {
    const kind = KINDS[api];
    let env: LocalEnvironment | undefined;
    let browser: Browser | undefined;
    let app: WebAppServer | undefined;
    let other: WebAppServer | undefined;
    let received: RequestLog | undefined;
    const reasons: string[] = [];
    const sessions: Record<string, string> = {};
    const contexts: BrowserContext[] = [];

    beforeAll(async () => {
      // The app's fixed port first: a taken port fails the suite at once, with its own message.
      let apiBase = '';
      const config = () => ({ apiBase, tokenCookie: env!.credentials.tokenCookie, csrfCookie: env!.credentials.csrf.cookie, csrfHeader: env!.credentials.csrf.header, sessions });
      app = await serveWebApp(APP_PORT, config);
      other = await serveWebApp(0, config);
      // The browser starts while local mode provisions: one launch for the whole suite.
      const [started, launched] = await Promise.allSettled([
        provisionLocal({ stackConfig: configFor(api), port: 0, logger: reasonRecorder(reasons), api }),
        launchChromium(chromiumPath()),
      ]);
      if (started.status === 'fulfilled') env = started.value;
      if (launched.status === 'fulfilled') browser = launched.value;
      if (started.status === 'rejected') throw started.reason;
      if (launched.status === 'rejected') throw new Error(`Chromium (${chromiumPath()}) did not start: ${(launched.reason as Error).message}`);

      // The gateway listens on 127.0.0.1; the page calls it as localhost, the host its own cookies belong to.
      const url = new URL(env!.credentials.baseUrl);
      url.hostname = 'localhost';
      apiBase = url.origin;
      received = recordRequests(env!.gateway.server);

      // The sign-in endpoint's sessions: the demo user, and the same user with a token that expired an hour ago
      // (the demo token's claims, signed with the run's own local HS256 secret).
      const demo = env!.credentials.userTokenHs256;
      const claims = JSON.parse(Buffer.from(demo.split('.')[1]!, 'base64url').toString('utf8'));
      const { supabaseSecret } = await env!.snapshot();
      sessions.demo = demo;
      sessions.expired = await signHs256(supabaseSecret, { ...claims, iat: nowSeconds() - 7200, exp: nowSeconds() - 3600 });
    }, SETUP_TIMEOUT_MS);

    afterEach(async () => {
      await Promise.all(contexts.splice(0).map((c) => c.close()));
    });

    afterAll(async () => {
      received?.stop();
      await browser?.close();
      await Promise.all([app?.close(), other?.close(), env?.close()]);
    }, SETUP_TIMEOUT_MS);

    async function openPage(origin: string): Promise<Page> {
      const context = await browser!.newContext();
      contexts.push(context);
      context.setDefaultTimeout(TEST_TIMEOUT_MS);
      const page = await context.newPage();
      await page.goto(`${origin}/`);
      return page;
    }

    /** A page of the app, signed in as `session`: its token and CSRF cookies set by the page itself. */
    async function signedInApp(session = 'demo'): Promise<Page> {
      const page = await openPage(app!.origin());
      const signedIn = await page.evaluate((s) => (globalThis as any).app.signIn(s), session);
      expect(signedIn).toEqual({ signedIn: true, cookies: [env!.credentials.tokenCookie, env!.credentials.csrf.cookie] });
      return page;
    }

    /** Another page in the same browser (same cookie jar), at `origin`. */
    async function pageBeside(page: Page, origin: string): Promise<Page> {
      const next = await page.context().newPage();
      await next.goto(`${origin}/`);
      return next;
    }

    const call = (page: Page, method: string, path: string, options: { json?: unknown; text?: string; csrf?: true | string } = {}): Promise<PageAnswer> =>
      page.evaluate(([m, p, o]) => (globalThis as any).app.call(m, p, o), [method, path, options] as const);

    const appOrigin = () => app!.origin();

    it(
      'reads data cross-origin with the cookie: 200, the body and the exposed request id readable; the API got the cookie',
      async () => {
        const page = await signedInApp();
        const mark = received!.mark();
        const answer = await call(page, 'GET', '/v1/session');
        expect(answer).toMatchObject({ read: true, status: 200, body: { kind: 'user', tenantId: 'demo', subject: 'demo-user' } });
        // Headers the API exposes: the request id, and the rate limit's fields for a client that paces itself.
        expect(answer.read && answer.requestId).toMatch(/\S/);
        expect(answer.read && answer.rateLimitRemaining).toMatch(/^\d+$/);

        const requests = await received!.since(mark);
        expect(requests).toEqual([
          {
            method: 'GET',
            path: '/v1/session',
            origin: appOrigin(),
            cookies: [env!.credentials.tokenCookie, env!.credentials.csrf.cookie],
            authorization: false,
            status: 200,
          },
        ]);
        // A public route's answer too (the handler's own CORS headers; no credential involved).
        expect(await call(page, 'GET', '/health')).toMatchObject({ read: true, status: 200 });
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'creates with the CSRF header (201, after a preflight the API answered), reads it back, changes and deletes it',
      async () => {
        const page = await signedInApp();
        const mark = received!.mark();
        const created = await call(page, 'POST', '/v1/customers', { json: { name: 'Ada Lovelace' }, csrf: true });
        expect(created).toMatchObject({ read: true, status: 201, body: { name: 'Ada Lovelace' } });
        const requests = await received!.since(mark);
        expect(requests.map((r) => [r.method, r.path, r.origin, r.status])).toEqual([
          ['OPTIONS', '/v1/customers', appOrigin(), expect.any(Number)],
          ['POST', '/v1/customers', appOrigin(), 201],
        ]);
        // The preflight succeeded with no cookie (browsers never send credentials on one): the gateway answers it
        // itself, without the authorizer.
        expect(requests[0]).toMatchObject({ cookies: [], authorization: false });
        expect(requests[0]!.status).toBeLessThan(300);

        const id = created.read ? created.body.id : undefined;
        expect(await call(page, 'GET', `/v1/customers/${id}`)).toMatchObject({ read: true, status: 200, body: { id, name: 'Ada Lovelace' } });
        // Methods that always need a preflight, on the templated path: the preflight must allow them.
        const patched = await call(page, 'PATCH', `/v1/customers/${id}`, { json: { name: 'Augusta Ada King' }, csrf: true });
        expect(patched).toMatchObject({ read: true, status: 200, body: { id, name: 'Augusta Ada King' } });
        expect(await call(page, 'DELETE', `/v1/customers/${id}`, { csrf: true })).toMatchObject({ read: true, status: 204 });
        expect(await call(page, 'GET', `/v1/customers/${id}`)).toMatchObject({ read: true, status: 404 });
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'is refused without the CSRF header, or with another value, and the page reads the 403 (error and message)',
      async () => {
        const page = await signedInApp();
        const [mark, decided] = [received!.mark(), reasons.length];
        const without = await call(page, 'POST', '/v1/customers', { json: { name: 'Mallory' } });
        expect(without).toMatchObject({ read: true, status: 403, body: kind.forbidden });
        // REST: the body's request id is the header's, the page can quote it in a bug report. An HTTP API's own
        // answer has only a message; the id is in its apigw-requestid header, which this configuration exposes.
        if (api === 'rest') expect(without.read && without.body.requestId).toBe(without.read && without.requestId);
        else expect(without.read && without.requestId).toMatch(/^[0-9a-f-]{36}$/);

        const wrong = await call(page, 'POST', '/v1/customers', { json: { name: 'Mallory' }, csrf: 'x'.repeat(32) });
        expect(wrong).toMatchObject({ read: true, status: 403, body: kind.forbidden });

        const posts = (await received!.since(mark)).filter((r) => r.method === 'POST');
        expect(posts.map((r) => [r.status, r.cookies.includes(env!.credentials.tokenCookie)])).toEqual([
          [403, true],
          [403, true],
        ]);
        expect(reasons.slice(decided)).toEqual(['CSRF_TOKEN_MISSING', 'CSRF_TOKEN_MISMATCH']);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'reads the refusal of an expired token in the cookie (401 on REST, a Deny behind an HTTP API)',
      async () => {
        const page = await signedInApp('expired');
        const decided = reasons.length;
        const answer = await call(page, 'GET', '/v1/session');
        expect(answer).toMatchObject({ read: true, status: kind.refused, body: kind.refusedBody });
        expect(answer.read && answer.requestId).toMatch(/\S/);
        expect(reasons.slice(decided)).toEqual(['JWT_EXPIRED']);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'a page on another port of localhost (same site, not allowed) reads nothing, though the cookie goes along',
      async () => {
        const page = await signedInApp();
        // The same host: the app's cookies are this page's too (document.cookie shows them).
        const intruder = await pageBeside(page, other!.origin('localhost'));
        expect(await intruder.evaluate(() => (globalThis as any).app.cookieNames())).toEqual([env!.credentials.tokenCookie, env!.credentials.csrf.cookie]);

        const [mark, decided] = [received!.mark(), reasons.length];
        const read = await call(intruder, 'GET', '/v1/session');
        // A JSON POST with the CSRF token copied from the shared cookie: the preflight is refused, the POST never sent.
        const copied = await call(intruder, 'POST', '/v1/customers', { json: { name: 'Mallory' }, csrf: true });
        // A POST that needs no preflight (text/plain): sent with the cookie, refused by the CSRF check's origin list.
        const simple = await call(intruder, 'POST', '/v1/customers', { text: '{"name":"Mallory"}' });
        const health = await call(intruder, 'GET', '/health');
        for (const answer of [read, copied, simple, health]) expect(answer).toEqual({ read: false, error: 'TypeError', message: 'Failed to fetch' });

        const requests = await received!.since(mark);
        const origin = other!.origin('localhost');
        expect(requests.map((r) => [r.method, r.path, r.origin, r.cookies.includes(env!.credentials.tokenCookie), r.status])).toEqual([
          // The API answered the read (the cookie is valid): the browser withheld the answer from the page.
          ['GET', '/v1/session', origin, true, 200],
          ['OPTIONS', '/v1/customers', origin, false, expect.any(Number)],
          ['POST', '/v1/customers', origin, true, 403],
          ['GET', '/health', origin, true, 200],
        ]);
        // The authorizer allowed the read, and refused the simple POST for its Origin (the CSRF check's origin list).
        expect(reasons.slice(decided)).toEqual(['ALLOWED', 'CSRF_ORIGIN_NOT_ALLOWED']);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'a page on another site (http://127.0.0.1) reads nothing, and the cookie does not go along (SameSite=Lax)',
      async () => {
        const page = await signedInApp();
        const intruder = await pageBeside(page, other!.origin('127.0.0.1'));
        expect(await intruder.evaluate(() => (globalThis as any).app.cookieNames())).toEqual([]);

        const mark = received!.mark();
        const read = await call(intruder, 'GET', '/v1/session');
        const simple = await call(intruder, 'POST', '/v1/customers', { text: '{"name":"Mallory"}' });
        const health = await call(intruder, 'GET', '/health');
        for (const answer of [read, simple, health]) expect(answer).toEqual({ read: false, error: 'TypeError', message: 'Failed to fetch' });

        const requests = await received!.since(mark);
        const origin = other!.origin('127.0.0.1');
        expect(requests.map((r) => [r.method, r.path, r.origin, r.cookies, r.status])).toEqual([
          ['GET', '/v1/session', origin, [], kind.refused],
          ['POST', '/v1/customers', origin, [], kind.refused],
          ['GET', '/health', origin, [], 200],
        ]);
      },
      TEST_TIMEOUT_MS,
    );
  });
});
