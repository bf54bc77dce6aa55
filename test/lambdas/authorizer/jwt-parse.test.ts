import { AuthError } from '../../../lambdas/authorizer/errors';
import {
  HEADER_MEMO_MAX_CHARS,
  HEADER_MEMO_MAX_ENTRIES,
  canonicalBytes,
  headerMemoSize,
  jsonObject,
  parsedHeader,
} from '../../../lambdas/authorizer/jwt-parse';

const b64u = (v: string | Buffer) => Buffer.from(v).toString('base64url');

/** The reason code and detail a call throws with. */
function refusal(fn: () => unknown): { code: string; detail: unknown } {
  try {
    fn();
  } catch (err) {
    if (err instanceof AuthError) return { code: err.code, detail: err.detail };
    throw err;
  }
  throw new Error('did not throw');
}

describe('canonicalBytes', () => {
  it('decodes a canonical base64url segment', () => {
    expect(canonicalBytes(b64u('{"alg":"HS256"}')).toString()).toBe('{"alg":"HS256"}');
  });

  it.each([
    ['padding', `${b64u('ab')}=`],
    ['standard base64 characters', Buffer.from([0xfb, 0xff]).toString('base64')],
    ['non-zero unused bits', 'YR'],
    ['a dangling character', `${b64u('abc')}A`],
    ['a character outside the alphabet', 'ab.c'],
  ])('refuses a segment with %s as JWT_MALFORMED, so a token has one spelling', (_what, seg) => {
    expect(refusal(() => canonicalBytes(seg))).toEqual({ code: 'JWT_MALFORMED', detail: { part: 'encoding' } });
  });
});

describe('jsonObject', () => {
  it('reads a JSON object', () => {
    expect(jsonObject(Buffer.from('{"iss":"x","n":1}'))).toEqual({ iss: 'x', n: 1 });
  });

  it.each(['[]', 'null', '"s"', '42', 'true', '{', ''])('refuses %p as JWT_MALFORMED: only an object is a header or payload', (text) => {
    expect(refusal(() => jsonObject(Buffer.from(text)))).toEqual({ code: 'JWT_MALFORMED', detail: { part: 'json' } });
  });

  it('keeps __proto__ as an own data property, never as the prototype', () => {
    const value = jsonObject(Buffer.from('{"__proto__":{"admin":true}}'));

    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(value, '__proto__')).toBe(true);
    expect((value as { admin?: unknown }).admin).toBeUndefined();
  });
});

describe('parsedHeader', () => {
  it('hands out the same frozen header for a repeated segment', () => {
    const seg = b64u(JSON.stringify({ alg: 'ES256', kid: 'memo-same' }));

    const first = parsedHeader(seg);
    const second = parsedHeader(seg);

    expect(second).toBe(first);
    expect(first.header).toEqual({ alg: 'ES256', kid: 'memo-same' });
    expect(Object.isFrozen(first.header)).toBe(true);
    expect(first.utf8).toBe(true);
  });

  it('reads invalid UTF-8 leniently and says so, leaving the refusal to the verifier', () => {
    const bytes = Buffer.concat([Buffer.from('{"alg":"HS256","x":"'), Buffer.from([0xff]), Buffer.from('"}')]);

    const read = parsedHeader(bytes.toString('base64url'));

    expect(read.header.alg).toBe('HS256');
    expect(read.utf8).toBe(false);
  });

  it('refuses a header that is not a JSON object, and keeps nothing for it', () => {
    const before = headerMemoSize();
    const seg = b64u('["alg"]');

    expect(refusal(() => parsedHeader(seg)).code).toBe('JWT_MALFORMED');
    expect(headerMemoSize()).toBe(before);
  });

  it('stays bounded under a flood of distinct headers, and never keeps a long one', () => {
    for (let i = 0; i < HEADER_MEMO_MAX_ENTRIES * 3; i++) {
      parsedHeader(b64u(JSON.stringify({ alg: 'RS256', kid: `flood-${i}` })));
      expect(headerMemoSize()).toBeLessThanOrEqual(HEADER_MEMO_MAX_ENTRIES);
    }
    const long = b64u(JSON.stringify({ alg: 'RS256', kid: 'k'.repeat(HEADER_MEMO_MAX_CHARS) }));
    const size = headerMemoSize();

    const first = parsedHeader(long);

    expect(headerMemoSize()).toBe(size);
    expect(parsedHeader(long)).not.toBe(first);
    expect(parsedHeader(long)).toEqual(first);
  });
});
