import { CSRF_COOKIE, CSRF_HEADER } from '../../../contract/headers';
import { type CsrfRequest, MIN_CSRF_TOKEN_LENGTH, checkCsrf } from '../../../lambdas/authorizer/csrf-check';
import { reasonOf } from './steps';

/** The CSRF step alone: no I/O, so plain requests and the default header and cookie names. */
const CSRF = { cookie: CSRF_COOKIE, header: CSRF_HEADER, allowedOrigins: [] as string[] };
const ORIGINS = { ...CSRF, allowedOrigins: ['https://app.example.com'] };
const TOKEN = 't'.repeat(24);

function request(method: string, headers: Record<string, string>): CsrfRequest {
  return { httpMethod: method, headers, multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])) };
}
const proof = (header: string, cookie: string) => ({ [CSRF_HEADER]: header, Cookie: `sb-access-token=jwt; ${CSRF_COOKIE}=${cookie}` });

describe('CSRF check', () => {
  it.each(['GET', 'HEAD', 'OPTIONS'])('asks a safe method (%s) for no proof', (method) => {
    expect(() => checkCsrf(ORIGINS, request(method, { Origin: 'https://evil.example.com' }))).not.toThrow();
  });

  it.each(['POST', 'PUT', 'PATCH', 'DELETE'])('lets a %s through with the same token in the header and the cookie', (method) => {
    expect(() => checkCsrf(CSRF, request(method, proof(TOKEN, TOKEN)))).not.toThrow();
  });

  it('refuses a mutating request without the header as CSRF_TOKEN_MISSING', async () => {
    expect(await reasonOf(() => checkCsrf(CSRF, request('POST', { Cookie: `${CSRF_COOKIE}=${TOKEN}` })))).toBe('CSRF_TOKEN_MISSING');
  });

  it('refuses a mutating request without the cookie as CSRF_TOKEN_MISSING', async () => {
    expect(await reasonOf(() => checkCsrf(CSRF, request('POST', { [CSRF_HEADER]: TOKEN })))).toBe('CSRF_TOKEN_MISSING');
  });

  it('refuses an emptied cookie as a missing one', async () => {
    expect(await reasonOf(() => checkCsrf(CSRF, request('POST', proof(TOKEN, ''))))).toBe('CSRF_TOKEN_MISSING');
  });

  it('refuses a header that differs from the cookie as CSRF_TOKEN_MISMATCH', async () => {
    expect(await reasonOf(() => checkCsrf(CSRF, request('POST', proof(TOKEN, `${TOKEN}x`))))).toBe('CSRF_TOKEN_MISMATCH');
  });

  it('refuses equal tokens shorter than the minimum length, which are too short to be random', async () => {
    const short = 's'.repeat(MIN_CSRF_TOKEN_LENGTH - 1);
    const enough = 's'.repeat(MIN_CSRF_TOKEN_LENGTH);

    expect(await reasonOf(() => checkCsrf(CSRF, request('POST', proof(short, short))))).toBe('CSRF_TOKEN_MISMATCH');
    expect(() => checkCsrf(CSRF, request('POST', proof(enough, enough)))).not.toThrow();
  });

  it('refuses an Origin outside the configured list before it looks at the token', async () => {
    expect(await reasonOf(() => checkCsrf(ORIGINS, request('POST', { Origin: 'https://evil.example.com' })))).toBe('CSRF_ORIGIN_NOT_ALLOWED');
  });

  it('accepts a listed Origin, and a request that sends none (browsers omit it on some requests)', () => {
    expect(() => checkCsrf(ORIGINS, request('POST', { ...proof(TOKEN, TOKEN), Origin: 'https://app.example.com' }))).not.toThrow();
    expect(() => checkCsrf(ORIGINS, request('POST', proof(TOKEN, TOKEN)))).not.toThrow();
  });

  it('does not check Origin when no origins are configured', () => {
    expect(() => checkCsrf(CSRF, request('POST', { ...proof(TOKEN, TOKEN), Origin: 'https://evil.example.com' }))).not.toThrow();
  });

  it('refuses a repeated CSRF header or cookie as CREDENTIAL_MULTIPLE rather than picking one', async () => {
    const twoHeaders: CsrfRequest = { httpMethod: 'POST', multiValueHeaders: { [CSRF_HEADER]: [TOKEN, TOKEN], Cookie: [`${CSRF_COOKIE}=${TOKEN}`] } };
    const twoCookies = request('POST', { [CSRF_HEADER]: TOKEN, Cookie: `${CSRF_COOKIE}=${TOKEN}; ${CSRF_COOKIE}=${TOKEN}` });

    expect(await reasonOf(() => checkCsrf(CSRF, twoHeaders))).toBe('CREDENTIAL_MULTIPLE');
    expect(await reasonOf(() => checkCsrf(CSRF, twoCookies))).toBe('CREDENTIAL_MULTIPLE');
  });

  it('reads the header and cookie the configuration names', async () => {
    const custom = { cookie: 'xsrf', header: 'X-XSRF', allowedOrigins: [] };

    expect(() => checkCsrf(custom, request('POST', { 'X-XSRF': TOKEN, Cookie: `xsrf=${TOKEN}` }))).not.toThrow();
    expect(await reasonOf(() => checkCsrf(custom, request('POST', proof(TOKEN, TOKEN))))).toBe('CSRF_TOKEN_MISSING');
  });
});
