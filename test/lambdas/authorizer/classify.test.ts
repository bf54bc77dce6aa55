import fc from 'fast-check';
import { generateApiKey } from '../../../contract/api-key';
import { type ClassifyOptions, type RequestHeaders, classify } from '../../../lambdas/authorizer/classify';
import { AuthError, type ReasonCode } from '../../../lambdas/authorizer/errors';

const OPTIONS: ClassifyOptions = { maxAuthorizationBytes: 8192, servicesAccepted: false };
const SERVICES: ClassifyOptions = { ...OPTIONS, servicesAccepted: true };

// Shapes only: classification never verifies, so the segments need not decode.
const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEifQ.c2lnbmF0dXJl';
const API_KEY = generateApiKey('gh', 'live');

/** Headers as API Gateway sends them: the last value in `headers`, every value in `multiValueHeaders`. */
function request(headers: Record<string, string>): RequestHeaders {
  return { headers, multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])) };
}

/** The reason code classify refuses with (fails the test if it does not throw an AuthError). */
function refusal(req: RequestHeaders, opts: ClassifyOptions = OPTIONS): ReasonCode {
  try {
    classify(req, opts);
  } catch (err) {
    if (err instanceof AuthError) return err.code;
    throw err;
  }
  throw new Error('classify accepted the request');
}

describe('classify', () => {
  describe('Bearer parsing', () => {
    it.each(['Bearer', 'bearer', 'BEARER', 'bEaReR'])('accepts the scheme spelled %s (schemes are case-insensitive)', (scheme) => {
      // Prepare
      const req = request({ Authorization: `${scheme} ${JWT}` });

      // Act
      const credential = classify(req, OPTIONS);

      // Assert
      expect(credential).toEqual({ kind: 'jwt', token: JWT, source: 'header' });
    });

    it.each([
      ['two spaces after the scheme', `Bearer  ${JWT}`],
      ['a tab after the scheme', `Bearer\t${JWT}`],
      ['leading whitespace', ` Bearer ${JWT}`],
      ['trailing whitespace', `Bearer ${JWT} `],
      ['a trailing newline', `Bearer ${JWT}\n`],
      ['no scheme', JWT],
      ['the Basic scheme', 'Basic dXNlcjpwYXNzd29yZA=='],
      ['an empty token', 'Bearer '],
      ['the scheme alone', 'Bearer'],
      ['an empty header', ''],
      ['two comma-joined credentials', `Bearer ${JWT}, Bearer ${JWT}`],
      ['characters outside b64token', `Bearer ${JWT}"`],
    ])('refuses a header with %s as AUTHORIZATION_MALFORMED', (_name, value) => {
      // Prepare
      const req = request({ Authorization: value });

      // Act
      const code = refusal(req);

      // Assert
      expect(code).toBe('AUTHORIZATION_MALFORMED');
    });

    it.each([
      ['no headers at all', { headers: null, multiValueHeaders: null }],
      ['empty header maps', { headers: {}, multiValueHeaders: {} }],
      ['only other headers', request({ 'X-Api-Key': API_KEY, Cookie: 'a=b' })],
    ])('refuses a request with %s as CREDENTIAL_MISSING', (_name, req) => {
      // Act
      const code = refusal(req);

      // Assert
      expect(code).toBe('CREDENTIAL_MISSING');
    });
  });

  describe('size cap', () => {
    it('refuses a 1 MB header as AUTHORIZATION_TOO_LARGE', () => {
      // Prepare
      const req = request({ Authorization: `Bearer ${'a'.repeat(1024 * 1024)}` });

      // Act
      const code = refusal(req);

      // Assert
      expect(code).toBe('AUTHORIZATION_TOO_LARGE');
    });

    it('checks the size before the syntax: a huge malformed header is TOO_LARGE, not MALFORMED', () => {
      // Prepare: without the cap this would be AUTHORIZATION_MALFORMED.
      const req = request({ Authorization: ` ${'Bearer '.repeat(150_000)}` });

      // Act
      const code = refusal(req);

      // Assert
      expect(code).toBe('AUTHORIZATION_TOO_LARGE');
    });

    it('accepts a header of exactly the cap and refuses one byte more', () => {
      // Prepare
      const atCap = `Bearer ${'a'.repeat(OPTIONS.maxAuthorizationBytes - 'Bearer '.length)}`;

      // Act
      const code = refusal(request({ Authorization: `${atCap}a` }));

      // Assert
      expect(refusal(request({ Authorization: atCap }))).toBe('CREDENTIAL_UNRECOGNIZED');
      expect(code).toBe('AUTHORIZATION_TOO_LARGE');
    });

    it('measures the cap in UTF-8 bytes, as maxAuthorizationBytes says, not in UTF-16 characters', () => {
      // Prepare: 5,000 two-byte characters are 10,000 bytes, over the 8,192-byte cap.
      const req = request({ Authorization: `Bearer ${'é'.repeat(5000)}` });

      // Act
      const code = refusal(req);

      // Assert
      expect(code).toBe('AUTHORIZATION_TOO_LARGE');
    });
  });

  describe('repeated headers', () => {
    it('refuses two Authorization values in multiValueHeaders as CREDENTIAL_MULTIPLE', () => {
      // Prepare
      const req = { headers: { Authorization: `Bearer ${JWT}` }, multiValueHeaders: { Authorization: [`Bearer ${API_KEY}`, `Bearer ${JWT}`] } };

      // Act
      const code = refusal(req);

      // Assert
      expect(code).toBe('CREDENTIAL_MULTIPLE');
    });

    it('refuses the same value repeated in multiValueHeaders as CREDENTIAL_MULTIPLE', () => {
      // Act
      const code = refusal({ multiValueHeaders: { Authorization: [`Bearer ${JWT}`, `Bearer ${JWT}`] } });

      // Assert
      expect(code).toBe('CREDENTIAL_MULTIPLE');
    });

    it('refuses the same header in two casings in headers as CREDENTIAL_MULTIPLE, even with one value', () => {
      // Act
      const code = refusal({ headers: { Authorization: `Bearer ${JWT}`, authorization: `Bearer ${JWT}` } });

      // Assert
      expect(code).toBe('CREDENTIAL_MULTIPLE');
    });

    it('refuses the same header in two casings in multiValueHeaders as CREDENTIAL_MULTIPLE', () => {
      // Act
      const code = refusal({ multiValueHeaders: { Authorization: [`Bearer ${JWT}`], AUTHORIZATION: [`Bearer ${API_KEY}`] } });

      // Assert
      expect(code).toBe('CREDENTIAL_MULTIPLE');
    });

    it('refuses headers and multiValueHeaders that disagree as CREDENTIAL_MULTIPLE', () => {
      // Act
      const code = refusal({ headers: { Authorization: `Bearer ${JWT}` }, multiValueHeaders: { authorization: [`Bearer ${API_KEY}`] } });

      // Assert
      expect(code).toBe('CREDENTIAL_MULTIPLE');
    });

    it('reads the header case-insensitively from either map alone', () => {
      // Act
      const fromSingle = classify({ headers: { AUTHORIZATION: `Bearer ${JWT}` } }, OPTIONS);
      const fromMulti = classify({ multiValueHeaders: { authorization: [`Bearer ${JWT}`] } }, OPTIONS);

      // Assert
      expect(fromSingle).toEqual({ kind: 'jwt', token: JWT, source: 'header' });
      expect(fromMulti).toEqual({ kind: 'jwt', token: JWT, source: 'header' });
    });
  });

  describe('credential shape', () => {
    it('classifies three base64url segments as a JWT', () => {
      // Act
      const credential = classify(request({ Authorization: `Bearer ${JWT}` }), OPTIONS);

      // Assert
      expect(credential).toEqual({ kind: 'jwt', token: JWT, source: 'header' });
    });

    it('classifies a prefixed, checksummed key as an API key, whatever its prefix', () => {
      // Prepare
      const other = generateApiKey('acme', 'test');

      // Act
      const credential = classify(request({ Authorization: `Bearer ${API_KEY}` }), OPTIONS);
      const otherCredential = classify(request({ Authorization: `Bearer ${other}` }), OPTIONS);

      // Assert
      expect(credential).toEqual({ kind: 'apiKey', key: API_KEY });
      expect(otherCredential).toEqual({ kind: 'apiKey', key: other });
    });

    it.each([
      ['a JWE (five segments)', 'eyJhbGciOiJSU0EtT0FFUCJ9.a2V5.aXY.Y2lwaGVydGV4dA.dGFn'],
      ['two segments', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0'],
      ['an alg-none token with an empty signature', 'eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.'],
      ['a token with an empty payload segment', 'eyJhbGciOiJIUzI1NiJ9..c2ln'],
      ['a padded JWT', `${JWT}==`],
      ['an opaque token', 'c29tZS1vcGFxdWUtdG9rZW4'],
      ['an uppercase API key', API_KEY.toUpperCase()],
      ['a truncated API key', API_KEY.slice(0, -1)],
    ])('refuses %s as CREDENTIAL_UNRECOGNIZED', (_name, token) => {
      // Act
      const code = refusal(request({ Authorization: `Bearer ${token}` }));

      // Assert
      expect(code).toBe('CREDENTIAL_UNRECOGNIZED');
    });
  });

  describe('service credentials', () => {
    it('classifies Authorization plus X-Service-Name as a service credential where services are accepted', () => {
      // Prepare
      const req = request({ Authorization: 'Bearer c2VydmljZS1zZWNyZXQ=', 'X-Service-Name': 'billing' });

      // Act
      const credential = classify(req, SERVICES);

      // Assert
      expect(credential).toEqual({ kind: 'service', service: 'billing', secret: 'c2VydmljZS1zZWNyZXQ=' });
    });

    it('takes X-Service-Name over the token shape: a JWT-shaped secret is still a service secret', () => {
      // Act
      const credential = classify(request({ authorization: `Bearer ${JWT}`, 'x-service-name': 'billing' }), SERVICES);

      // Assert
      expect(credential.kind).toBe('service');
    });

    it('refuses X-Service-Name as SERVICE_NOT_ACCEPTED where no route accepts services', () => {
      // Act
      const code = refusal(request({ Authorization: `Bearer ${JWT}`, 'X-Service-Name': 'billing' }), OPTIONS);

      // Assert
      expect(code).toBe('SERVICE_NOT_ACCEPTED');
    });

    it('refuses two X-Service-Name values as CREDENTIAL_MULTIPLE', () => {
      // Prepare
      const req = { headers: { Authorization: 'Bearer c2VjcmV0', 'X-Service-Name': 'billing', 'x-service-name': 'search' } };

      // Act
      const code = refusal(req, SERVICES);

      // Assert
      expect(code).toBe('CREDENTIAL_MULTIPLE');
    });

    it('refuses X-Service-Name without Authorization as CREDENTIAL_MISSING', () => {
      // Act
      const code = refusal(request({ 'X-Service-Name': 'billing' }), SERVICES);

      // Assert
      expect(code).toBe('CREDENTIAL_MISSING');
    });
  });

  describe('properties', () => {
    it('either classifies an arbitrary header or refuses it with an AuthError, never anything else', () => {
      fc.assert(
        fc.property(fc.string({ maxLength: 200 }), fc.option(fc.string({ maxLength: 20 }), { nil: undefined }), (value, service) => {
          const headers: Record<string, string> = { Authorization: value };
          if (service !== undefined) headers['X-Service-Name'] = service;
          try {
            const credential = classify(request(headers), SERVICES);
            // Whatever is classified came verbatim from the header after the scheme.
            // (No route accepts signed requests here, so the signing scheme is refused, never classified.)
            if (credential.kind === 'signed') throw new Error('classified a signed request with signedAccepted off');
            const carried = credential.kind === 'jwt' ? credential.token : credential.kind === 'apiKey' ? credential.key : credential.secret;
            expect(value).toBe(`${value.slice(0, 7)}${carried}`);
          } catch (err) {
            expect(err).toBeInstanceOf(AuthError);
          }
        }),
      );
    });
  });
});
