import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { generateApiKey, hashApiKey, looksLikeApiKey, parseApiKey } from '../../contract/api-key';

const HEX = '0123456789abcdef';
const SHAPE = /^gh_live_([0-9a-f]{64})([0-9a-f]{8})$/;
// `<prefix>_<env>_` is 8 characters for `gh`; the body and checksum are the 72 hex characters after it.
const HEX_START = 'gh_live_'.length;

/** The checksum the format specifies, computed here independently of the module: CRC-32 of the head, 8 hex. */
function specChecksum(head: string): string {
  return (crc32(head) >>> 0).toString(16).padStart(8, '0');
}

function replaceAt(s: string, i: number, c: string): string {
  return s.slice(0, i) + c + s.slice(i + 1);
}

describe('api-key', () => {
  describe('generateApiKey', () => {
    it('makes `gh_live_` + 64 hex body + 8 hex checksum', () => {
      // Act
      const key = generateApiKey('gh', 'live');

      // Assert
      const m = SHAPE.exec(key);
      expect(m).not.toBeNull();
      expect(m![2]).toBe(specChecksum(key.slice(0, -8)));
    });

    it('puts the environment in the key', () => {
      // Act
      const key = generateApiKey('acme', 'test');

      // Assert
      expect(key).toMatch(/^acme_test_[0-9a-f]{72}$/);
    });

    it('draws a 256-bit body: 1000 keys are distinct and every hex position varies', () => {
      // Act
      const bodies = Array.from({ length: 1000 }, () => SHAPE.exec(generateApiKey('gh', 'live'))![1]!);

      // Assert
      expect(new Set(bodies).size).toBe(1000);
      for (let i = 0; i < 64; i++) {
        // ~16 distinct digits expected per position; a constant or padded position would show 1.
        expect(new Set(bodies.map((b) => b[i])).size).toBeGreaterThan(8);
      }
    });
  });

  describe('parseApiKey', () => {
    it('parses a generated key with its prefix and environment', () => {
      // Prepare
      const live = generateApiKey('gh', 'live');
      const test = generateApiKey('gh', 'test');

      // Act
      const parsedLive = parseApiKey(live, 'gh');
      const parsedTest = parseApiKey(test, 'gh');

      // Assert
      expect(parsedLive).toEqual({ ok: true, key: { prefix: 'gh', environment: 'live' } });
      expect(parsedTest).toEqual({ ok: true, key: { prefix: 'gh', environment: 'test' } });
    });

    it('refuses a well-formed key with another prefix as APIKEY_PREFIX_UNKNOWN', () => {
      // Prepare
      const key = generateApiKey('acme', 'live');

      // Act
      const parsed = parseApiKey(key, 'gh');

      // Assert
      expect(parsed).toEqual({ ok: false, reason: 'APIKEY_PREFIX_UNKNOWN' });
    });

    it('refuses a prefix that merely starts with the expected one as APIKEY_PREFIX_UNKNOWN', () => {
      // Act
      const parsed = parseApiKey(generateApiKey('ghx', 'live'), 'gh');

      // Assert
      expect(parsed).toEqual({ ok: false, reason: 'APIKEY_PREFIX_UNKNOWN' });
    });

    it('refuses every single hex-character substitution in the body or checksum as APIKEY_CHECKSUM_INVALID', () => {
      // Prepare
      const keys = [generateApiKey('gh', 'live'), generateApiKey('gh', 'live'), generateApiKey('gh', 'live')];

      for (const key of keys) {
        for (let i = HEX_START; i < key.length; i++) {
          for (const c of HEX) {
            if (c === key[i]) continue;
            // Act
            const parsed = parseApiKey(replaceAt(key, i, c), 'gh');

            // Assert: CRC-32 detects every single-character error, so none of these can pass.
            expect(parsed).toEqual({ ok: false, reason: 'APIKEY_CHECKSUM_INVALID' });
          }
        }
      }
    });

    it('never accepts a key with any single character changed, in any position', () => {
      // Prepare
      const key = generateApiKey('gh', 'live');
      const alphabet = `${HEX}ghlivtsxyz_-ABCDEF.~ `;

      for (let i = 0; i < key.length; i++) {
        for (const c of alphabet) {
          if (c === key[i]) continue;
          // Act
          const parsed = parseApiKey(replaceAt(key, i, c), 'gh');

          // Assert
          expect(parsed.ok).toBe(false);
          if (!parsed.ok) expect(['APIKEY_CHECKSUM_INVALID', 'CREDENTIAL_UNRECOGNIZED', 'APIKEY_PREFIX_UNKNOWN']).toContain(parsed.reason);
        }
      }
    });

    it('refuses a key swapped between live and test as APIKEY_CHECKSUM_INVALID', () => {
      // Prepare
      const live = generateApiKey('gh', 'live');
      const test = generateApiKey('gh', 'test');

      // Act
      const liveAsTest = parseApiKey(live.replace('_live_', '_test_'), 'gh');
      const testAsLive = parseApiKey(test.replace('_test_', '_live_'), 'gh');

      // Assert
      expect(liveAsTest).toEqual({ ok: false, reason: 'APIKEY_CHECKSUM_INVALID' });
      expect(testAsLive).toEqual({ ok: false, reason: 'APIKEY_CHECKSUM_INVALID' });
    });

    it('refuses an uppercased key as CREDENTIAL_UNRECOGNIZED', () => {
      // Prepare
      const key = generateApiKey('gh', 'live');

      // Act
      const whole = parseApiKey(key.toUpperCase(), 'gh');
      const body = parseApiKey(key.slice(0, HEX_START) + key.slice(HEX_START).toUpperCase(), 'gh');

      // Assert
      expect(whole).toEqual({ ok: false, reason: 'CREDENTIAL_UNRECOGNIZED' });
      expect(body).toEqual({ ok: false, reason: 'CREDENTIAL_UNRECOGNIZED' });
    });

    it.each([
      ['one character short', (k: string) => k.slice(0, -1)],
      ['one character long', (k: string) => `${k}0`],
      ['without its checksum', (k: string) => k.slice(0, -8)],
      ['with a leading space', (k: string) => ` ${k}`],
      ['with a trailing newline', (k: string) => `${k}\n`],
      ['with an extra segment', (k: string) => k.replace('_live_', '_live_x_')],
      ['empty', () => ''],
    ])('refuses a key %s as CREDENTIAL_UNRECOGNIZED', (_name, mangle) => {
      // Prepare
      const key = mangle(generateApiKey('gh', 'live'));

      // Act
      const parsed = parseApiKey(key, 'gh');

      // Assert
      expect(parsed).toEqual({ ok: false, reason: 'CREDENTIAL_UNRECOGNIZED' });
      expect(looksLikeApiKey(key)).toBe(false);
    });
  });

  describe('hashApiKey', () => {
    it('is the lowercase hex SHA-256 of the whole key', () => {
      // Prepare
      const key = generateApiKey('gh', 'live');

      // Act
      const hash = hashApiKey(key);

      // Assert
      expect(hash).toBe(createHash('sha256').update(Buffer.from(key, 'utf8')).digest('hex'));
      expect(hash).toMatch(/^[0-9a-f]{64}$/);
    });

    it('differs between keys that differ only in their environment', () => {
      // Prepare
      const live = generateApiKey('gh', 'live');

      // Act
      const hashes = [hashApiKey(live), hashApiKey(live.replace('_live_', '_test_'))];

      // Assert
      expect(hashes[0]).not.toBe(hashes[1]);
    });
  });

  describe('properties', () => {
    it('never parses a random string as a valid key', () => {
      fc.assert(
        fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ minLength: 70, maxLength: 90 })), (s) => {
          expect(parseApiKey(s, 'gh').ok).toBe(false);
        }),
        { numRuns: 2000 },
      );
    });

    it('parses a well-shaped key only when its checksum is the CRC-32 of everything before it', () => {
      const hex = (n: number) => fc.string({ unit: fc.constantFrom(...HEX), minLength: n, maxLength: n });
      fc.assert(
        fc.property(fc.constantFrom('live', 'test'), hex(64), hex(8), (env, body, check) => {
          const head = `gh_${env}_${body}`;
          expect(parseApiKey(head + check, 'gh').ok).toBe(check === specChecksum(head));
          expect(parseApiKey(head + specChecksum(head), 'gh').ok).toBe(true);
        }),
        { numRuns: 500 },
      );
    });

    it('never accepts a valid key with one character replaced by any other', () => {
      fc.assert(
        fc.property(fc.nat(), fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }), (pos, c) => {
          const key = generateApiKey('gh', 'test');
          const i = pos % key.length;
          fc.pre(c !== key[i]);
          expect(parseApiKey(replaceAt(key, i, c), 'gh').ok).toBe(false);
        }),
        { numRuns: 1000 },
      );
    });
  });
});
