/**
 * The client side of signed requests: client/sign-request.ts (signRequest, signedFetch), scripts/signed-curl.sh and
 * the openssl+curl recipe in docs/signed-requests.md. Known answers computed independently of
 * contract/signing.ts (a canonical string written out by hand, HMAC'd with node:crypto), the script's headers
 * against signRequest's for the same inputs, all three against a local server that verifies with signing.ts, the
 * '+' refusal, inputs that never leak the secret, and a property over random requests.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { SignRequestError, type FetchLike, newNonce, signRequest, signedFetch } from '../../client/sign-request';
import {
  NONCE_PATTERN,
  canonicalString,
  encodeRfc3986,
  formatSignatureHeader,
  parseSignatureHeader,
  sha256Hex,
  signatureOf,
} from '../../contract/signing';

const ROOT = path.resolve(__dirname, '../..');
const SCRIPT = path.join(ROOT, 'scripts/signed-curl.sh');
const DOC = path.join(ROOT, 'docs/signed-requests.md');

const CALLER = 'acme-relay';
/** Shell-hostile on purpose (spaces, quotes, $, backslash, non-ASCII): the script must pass it to openssl intact. */
const SECRET = `s3cr3t with spaces, $HOME "dq" 'sq' \\bs é ✓`;
const SECRET_MARK = 's3cr3t with spaces';

const T = 1_767_225_600; // 2026-01-01T00:00:00Z
const NONCE = 'q3v9Yb2lQn2m0cV7x1s0Zw';

// ---------------------------------------------------------------------------------------------------------------
// A server that verifies signed requests with contract/signing.ts, from the request line as received.

interface Received {
  readonly method: string;
  readonly target: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly verdict: string;
}

function verify(method: string, target: string, headers: IncomingHttpHeaders, body: Buffer): string {
  const h = parseSignatureHeader(String(headers.authorization ?? ''));
  if (!h || h.caller !== CALLER) return 'malformed';
  const q = target.indexOf('?');
  const [p, raw] = q < 0 ? [target, ''] : [target.slice(0, q), target.slice(q + 1)];
  if (raw.includes('+')) return 'plus in query';
  const query: Record<string, string[]> = Object.create(null);
  for (const [k, v] of new URLSearchParams(raw)) (query[k] ??= []).push(v);
  const bodySha256 = String(headers['x-content-sha256'] ?? '');
  if (sha256Hex(body) !== bodySha256) return 'body mismatch';
  const expected = signatureOf(SECRET, canonicalString(h, { method, path: p, query, bodySha256 })).toString('hex');
  return expected === h.signature ? 'ok' : 'signature mismatch';
}

let server: Server;
let base: string;
const received: Received[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const verdict = verify(req.method!, req.url!, req.headers, body);
      received.push({ method: req.method!, target: req.url!, headers: req.headers, body, verdict });
      res.writeHead(verdict === 'ok' ? 200 : 401, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ verdict }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const lastReceived = (): Received => received[received.length - 1]!;

// ---------------------------------------------------------------------------------------------------------------
// Running the script.

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(tmpdir(), 'gh-sign-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function tmpFile(name: string, content: string | Uint8Array): string {
  const file = path.join(tmp, name);
  writeFileSync(file, content);
  return file;
}

function envWith(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('GATEHOUSE_')) delete env[k];
  return { ...env, GATEHOUSE_SIGNER: CALLER, GATEHOUSE_SIGNER_SECRET: SECRET, ...extra };
}

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The script in dry-run mode, at T with NONCE unless overridden. */
function dryRun(args: readonly string[], extra: Record<string, string> = {}): Run {
  const r = spawnSync('bash', [SCRIPT, ...args], {
    env: envWith({ GATEHOUSE_DRY_RUN: '1', GATEHOUSE_TIMESTAMP: String(T), GATEHOUSE_NONCE: NONCE, ...extra }),
    encoding: 'utf8',
  });
  const run = { status: r.status, stdout: r.stdout, stderr: r.stderr };
  expect(run.stdout + run.stderr).not.toContain(SECRET_MARK);
  return run;
}

/** A process that talks to the in-process server: asynchronous, or the server could never answer. */
function runAsync(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

function headersOf(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split('\n').filter(Boolean)) {
    const i = line.indexOf(': ');
    out[line.slice(0, i)] = line.slice(i + 2);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------

describe('the machine', () => {
  it('has bash, openssl and curl (nothing below is skipped)', () => {
    for (const [cmd, arg] of [
      ['bash', '--version'],
      ['openssl', 'version'],
      ['curl', '--version'],
    ] as const) {
      expect(spawnSync(cmd, [arg]).status).toBe(0);
    }
  });
});

describe('signRequest: known answers', () => {
  // The worked example of docs/signed-requests.md.
  const url = 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod/v1/webhooks/stripe?caf%C3%A9=%F0%9F%98%80&b=2&a=x%20y&a=1';
  const body = '{"id":"evt_1","type":"invoice.paid"}';
  const secret = 's3cr3t-example';
  const canonical = [
    'GH-HMAC-SHA256',
    'acme-relay',
    '1767225600',
    'q3v9Yb2lQn2m0cV7x1s0Zw',
    'POST',
    '/prod/v1/webhooks/stripe',
    'a=1&a=x%20y&b=2&caf%C3%A9=%F0%9F%98%80',
    'd0d68fc7e872c5939afbebc3266f9bf866148a28a9b90b787c8caacc700c6bc6',
  ].join('\n');

  it('signs the worked example: the hand-written canonical string, HMAC-SHA256 under the secret', () => {
    const signed = signRequest({ method: 'POST', url, body, caller: CALLER, secret, now: T * 1000, nonce: NONCE });
    expect(createHash('sha256').update(body).digest('hex')).toBe('d0d68fc7e872c5939afbebc3266f9bf866148a28a9b90b787c8caacc700c6bc6');
    const expected = createHmac('sha256', Buffer.from(secret, 'utf8')).update(Buffer.from(canonical, 'utf8')).digest('hex');
    expect(expected).toBe('56bb6bc647d042bdf1743e38986e9796f20e0ed07aa15f7221db2f0f87e0c3dd');
    expect(signed.canonical).toBe(canonical);
    expect(signed.headers).toEqual({
      Authorization: `GH-HMAC-SHA256 Caller=acme-relay, Timestamp=1767225600, Nonce=q3v9Yb2lQn2m0cV7x1s0Zw, Signature=${expected}`,
      'X-Content-SHA256': 'd0d68fc7e872c5939afbebc3266f9bf866148a28a9b90b787c8caacc700c6bc6',
    });
  });

  it('matches the numbers printed in docs/signed-requests.md', () => {
    const doc = readFileSync(DOC, 'utf8');
    expect(doc).toContain(`\`\`\`text\n${canonical}\n\`\`\``);
    const signed = signRequest({ method: 'POST', url, body, caller: CALLER, secret, now: new Date('2026-01-01T00:00:00Z'), nonce: NONCE });
    expect(doc).toContain(`Authorization: ${signed.headers.Authorization}\nX-Content-SHA256: ${signed.headers['X-Content-SHA256']}\n`);
  });

  it('signs a GET with no body and no query: the empty query line and the empty string hash', () => {
    const signed = signRequest({ method: 'get', url: new URL('https://api.example.com/v1/me'), caller: 'svc-a1', secret: 'k', now: 5_999, nonce: 'AAAAAAAAAAAAAAAA' });
    const literal = 'GH-HMAC-SHA256\nsvc-a1\n5\nAAAAAAAAAAAAAAAA\nGET\n/v1/me\n\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
    expect(signed.canonical).toBe(literal);
    expect(signed.headers.Authorization).toBe(
      `GH-HMAC-SHA256 Caller=svc-a1, Timestamp=5, Nonce=AAAAAAAAAAAAAAAA, Signature=${createHmac('sha256', 'k').update(literal).digest('hex')}`,
    );
    expect(signed.headers['X-Content-SHA256']).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('hashes a Uint8Array body as its bytes and a string body as UTF-8', () => {
    const bytes = Uint8Array.from([0, 255, 10, 13, 0xc3]);
    const a = signRequest({ method: 'PUT', url: 'https://h.example/x', body: bytes, caller: CALLER, secret, now: 0, nonce: NONCE });
    expect(a.headers['X-Content-SHA256']).toBe(createHash('sha256').update(Buffer.from([0, 255, 10, 13, 0xc3])).digest('hex'));
    const b = signRequest({ method: 'PUT', url: 'https://h.example/x', body: 'é', caller: CALLER, secret, now: 0, nonce: NONCE });
    expect(b.headers['X-Content-SHA256']).toBe(createHash('sha256').update(Buffer.from([0xc3, 0xa9])).digest('hex'));
  });
});

describe('signRequest: the query as the contract says', () => {
  const queryLine = (search: string) =>
    signRequest({ method: 'GET', url: `https://h.example/p${search}`, caller: CALLER, secret: SECRET, now: 0, nonce: NONCE }).canonical.split('\n')[6];

  it('groups multi-valued parameters and sorts by encoded key, then encoded value, in byte order', () => {
    // 'B' < 'a' (uppercase first); 'a' < 'a-b' by key, though "a-b=" < "a=" as whole strings; '10' < '9'.
    expect(queryLine('?a-b=1&a=9&B=z&a=10&a=9')).toBe('B=z&a=10&a=9&a=9&a-b=1');
  });

  it('decodes, then re-encodes with RFC 3986: unicode keys and values, !\'()*, %2B, a value-less parameter', () => {
    expect(queryLine("?caf%C3%A9=%E2%9C%93&q=it's%20(ok)*!&plus=%2B1&flag&sp=%20")).toBe(
      'caf%C3%A9=%E2%9C%93&flag=&plus=%2B1&q=it%27s%20%28ok%29%2A%21&sp=%20',
    );
    // Raw UTF-8 in the URL and its percent-encoded form sign alike; lowercase hex is normalized.
    expect(queryLine('?clé=ü&x=%c3%bc')).toBe('cl%C3%A9=%C3%BC&x=%C3%BC');
    // Astral-plane characters: four UTF-8 bytes.
    expect(queryLine('?e=%F0%9F%98%80')).toBe('e=%F0%9F%98%80');
  });

  it('takes parameters named like Object.prototype members as ordinary parameters', () => {
    expect(queryLine('?__proto__=x&constructor=1&valueOf=&toString=a&toString=b')).toBe('__proto__=x&constructor=1&toString=a&toString=b&valueOf=');
  });

  it("signs the path as sent (url.pathname): the stage prefix is kept, percent-escapes as written", () => {
    const s = signRequest({ method: 'GET', url: 'https://h.example/prod/v1/things/caf%C3%A9?x=1#frag', caller: CALLER, secret: SECRET, now: 0, nonce: NONCE });
    expect(s.canonical.split('\n')[5]).toBe('/prod/v1/things/caf%C3%A9');
  });

  it("refuses a '+' anywhere in the query, naming %20 and %2B, and accepts %2B", () => {
    for (const search of ['?q=a+b', '?a+b=1', '?q=%2B&r=+']) {
      expect(() => queryLine(search)).toThrow(SignRequestError);
      expect(() => queryLine(search)).toThrow(/'\+'.*%20.*%2B/);
    }
    expect(queryLine('?q=a%2Bb')).toBe('q=a%2Bb');
    // A '+' in the path is an ordinary path character.
    const s = signRequest({ method: 'GET', url: 'https://h.example/a+b', caller: CALLER, secret: SECRET, now: 0, nonce: NONCE });
    expect(s.canonical.split('\n')[5]).toBe('/a+b');
  });

  it("refuses a '%' not followed by two hex digits", () => {
    expect(() => queryLine('?q=100%')).toThrow(/%25/);
    expect(() => queryLine('?q=%zz')).toThrow(SignRequestError);
  });
});

describe('signRequest: defaults and input checks', () => {
  it('defaults to a fresh 22-character base64url nonce and the current second', () => {
    const before = Math.floor(Date.now() / 1000);
    const a = parseSignatureHeader(signRequest({ method: 'GET', url: 'https://h.example/', caller: CALLER, secret: SECRET }).headers.Authorization)!;
    const b = parseSignatureHeader(signRequest({ method: 'GET', url: 'https://h.example/', caller: CALLER, secret: SECRET }).headers.Authorization)!;
    const after = Math.floor(Date.now() / 1000);
    expect(a.nonce).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(a.nonce).toMatch(NONCE_PATTERN);
    expect(a.nonce).not.toBe(b.nonce);
    expect(a.timestamp).toBeGreaterThanOrEqual(before);
    expect(a.timestamp).toBeLessThanOrEqual(after);
    expect(newNonce()).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('refuses bad input with a clear SignRequestError that never contains the secret', () => {
    const ok = { method: 'POST', url: 'https://h.example/p', caller: CALLER, secret: SECRET, now: 0, nonce: NONCE };
    const cases: [string, () => unknown, RegExp][] = [
      ['empty secret', () => signRequest({ ...ok, secret: '' }), /secret must be a non-empty string/],
      ['secret not a string', () => signRequest({ ...ok, secret: undefined as unknown as string }), /secret must be a non-empty string/],
      ['bad caller', () => signRequest({ ...ok, caller: 'Acme Relay' }), /caller must be a signer name/],
      ['caller and secret swapped', () => signRequest({ ...ok, caller: SECRET, secret: CALLER }), /caller must be a signer name/],
      ['bad method', () => signRequest({ ...ok, method: 'PO ST' }), /method must be an HTTP method/],
      ['relative url', () => signRequest({ ...ok, url: '/prod/v1/things' }), /absolute URL/],
      ['secret passed as url', () => signRequest({ ...ok, url: SECRET }), /absolute URL/],
      ['url not a string', () => signRequest({ ...ok, url: 42 as unknown as string }), /url must be a string or a URL/],
      ['bad nonce', () => signRequest({ ...ok, nonce: 'short' }), /nonce must be 16-128/],
      ['secret passed as nonce', () => signRequest({ ...ok, nonce: SECRET }), /nonce must be 16-128/],
      ['bad now', () => signRequest({ ...ok, now: new Date('nope') }), /now must be a valid Date/],
      ['negative now', () => signRequest({ ...ok, now: -5000 }), /now must be/],
      ['object body', () => signRequest({ ...ok, body: { a: 1 } as unknown as string }), /JSON\.stringify/],
      ['stream body', () => signRequest({ ...ok, body: Readable.from(['x']) as unknown as string }), /stream body cannot be signed/],
      ['plus in query', () => signRequest({ ...ok, url: 'https://h.example/p?q=a+b' }), /'\+'/],
      ['not an object', () => signRequest(null as unknown as Parameters<typeof signRequest>[0]), /expected an object/],
    ];
    for (const [name, call, message] of cases) {
      let err: unknown;
      try {
        call();
      } catch (e) {
        err = e;
      }
      expect([name, err]).toEqual([name, expect.any(SignRequestError)]);
      const { message: m, stack } = err as Error;
      expect([name, m]).toEqual([name, expect.stringMatching(message)]);
      expect(m).not.toContain(SECRET_MARK);
      expect(String(stack)).not.toContain(SECRET_MARK);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('signedFetch', () => {
  function capture(): { fetch: FetchLike; calls: { input: string | URL; init: RequestInit }[] } {
    const calls: { input: string | URL; init: RequestInit }[] = [];
    return {
      calls,
      fetch: async (input, init = {}) => {
        calls.push({ input, init });
        return new Response('{}', { status: 200 });
      },
    };
  }

  it('signs with the method from init (uppercased), keeps the other headers and passes the body through', async () => {
    const c = capture();
    const gh = signedFetch(CALLER, SECRET, { fetch: c.fetch, now: () => T * 1000 });
    const body = Buffer.from('{"id":"evt_2","type":"x"}');
    await gh('https://h.example/prod/v1/webhooks/stripe?b=2&a=1', { method: 'patch', body, headers: [['Content-Type', 'application/json']] });
    const { init } = c.calls[0]!;
    const headers = new Headers(init.headers);
    expect(init.method).toBe('PATCH');
    expect(init.body).toBe(body);
    expect(headers.get('content-type')).toBe('application/json');
    expect(headers.get('x-content-sha256')).toBe(sha256Hex(body));
    const h = parseSignatureHeader(headers.get('authorization')!)!;
    expect(h).toMatchObject({ caller: CALLER, timestamp: T });
    const expected = signatureOf(
      SECRET,
      canonicalString(h, { method: 'PATCH', path: '/prod/v1/webhooks/stripe', query: { a: ['1'], b: ['2'] }, bodySha256: sha256Hex(body) }),
    ).toString('hex');
    expect(h.signature).toBe(expected);
  });

  it('defaults to GET with the empty body, and signs every call afresh (a new nonce each time)', async () => {
    const c = capture();
    const gh = signedFetch(CALLER, SECRET, { fetch: c.fetch });
    await gh(new URL('https://h.example/v1/me'));
    await gh('https://h.example/v1/me');
    const [a, b] = c.calls.map(({ init }) => new Headers(init.headers));
    expect(c.calls[0]!.init.method).toBe('GET');
    expect(a!.get('x-content-sha256')).toBe(sha256Hex(''));
    expect(parseSignatureHeader(a!.get('authorization')!)!.nonce).not.toBe(parseSignatureHeader(b!.get('authorization')!)!.nonce);
  });

  it('refuses streams, Blobs, Requests and headers it would overwrite, without calling fetch or leaking the secret', async () => {
    const c = capture();
    const gh = signedFetch(CALLER, SECRET, { fetch: c.fetch });
    const url = 'https://h.example/p';
    const refusals: [() => Promise<Response>, RegExp][] = [
      [() => gh(url, { method: 'POST', body: new ReadableStream() }), /stream body cannot be signed.*read it into a Buffer/],
      [() => gh(url, { method: 'POST', body: Readable.from(['x']) as unknown as RequestInit['body'] }), /stream body cannot be signed/],
      [() => gh(url, { method: 'POST', body: new Blob(['x']) }), /must be a string, a Uint8Array/],
      [() => gh(url, { method: 'POST', body: new URLSearchParams({ a: 'b' }) }), /must be a string, a Uint8Array/],
      [() => gh(new Request(url) as unknown as string, {}), /not a Request/],
      [() => gh(url, { headers: { authorization: 'Bearer x' } }), /already has Authorization/],
      [() => gh(url, { headers: { 'x-content-sha256': 'x' } }), /already has X-Content-SHA256/],
      [() => gh(`${url}?q=a+b`), /'\+'/],
    ];
    for (const [call, message] of refusals) {
      const err = (await call().then(
        () => undefined,
        (e: unknown) => e,
      )) as Error;
      expect(err).toBeInstanceOf(SignRequestError);
      expect(err.message).toMatch(message);
      expect(err.message).not.toContain(SECRET_MARK);
    }
    expect(c.calls).toHaveLength(0);
    expect(() => signedFetch('Not A Name', SECRET)).toThrow(/caller must be a signer name/);
    expect(() => signedFetch(CALLER, '')).toThrow(/secret must be a non-empty string/);
  });

  it('passes a server that verifies with contract/signing.ts (real fetch: the path and query as sent)', async () => {
    const gh = signedFetch(CALLER, SECRET);
    const body = JSON.stringify({ id: 'evt_3', type: 'invoice.paid', note: 'é ✓' });
    const res = await gh(`${base}/prod/v1/webhooks/stripe?z=%E2%9C%93&a=x%20y&a=1&flag&q=%2B`, {
      method: 'post',
      body,
      headers: { 'Content-Type': 'application/json' },
    });
    expect(await res.json()).toEqual({ verdict: 'ok' });
    expect(lastReceived()).toMatchObject({ method: 'POST', target: '/prod/v1/webhooks/stripe?z=%E2%9C%93&a=x%20y&a=1&flag&q=%2B' });
    expect(lastReceived().body.toString('utf8')).toBe(body);
    // A body other than the one signed fails the body check (the handlers make the same one).
    const tampered = await fetch(`${base}/prod/v1/webhooks/stripe`, {
      method: 'POST',
      body: body.replace('evt_3', 'evt_4'),
      headers: signRequest({ method: 'POST', url: `${base}/prod/v1/webhooks/stripe`, body, caller: CALLER, secret: SECRET }).headers,
    });
    expect(await tampered.json()).toEqual({ verdict: 'body mismatch' });
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('scripts/signed-curl.sh', () => {
  const execute = 'https://abc123.execute-api.eu-west-1.amazonaws.com';

  it('prints, in dry-run mode, exactly the headers signRequest makes for the same inputs', () => {
    const binary = Uint8Array.from({ length: 256 }, (_, i) => i);
    const cases: { method: string; scriptUrl: string; tsUrl?: string; body?: string | Uint8Array }[] = [
      // The worked example: the script takes the canonical query; signRequest sorts any order.
      {
        method: 'POST',
        scriptUrl: `${execute}/prod/v1/webhooks/stripe?a=1&a=x%20y&b=2&caf%C3%A9=%F0%9F%98%80`,
        tsUrl: `${execute}/prod/v1/webhooks/stripe?caf%C3%A9=%F0%9F%98%80&b=2&a=x%20y&a=1`,
        body: '{"id":"evt_1","type":"invoice.paid"}',
      },
      { method: 'GET', scriptUrl: 'http://localhost:3000/v1/me' },
      { method: 'get', scriptUrl: 'https://api.example.com' }, // no path: '/'
      {
        method: 'PUT',
        scriptUrl: `${execute}/prod/v1/blobs/caf%C3%A9?B=z&a=10&a=9&a-b=1&flag=&q=%2B1&z=%E2%9C%93`,
        tsUrl: `${execute}/prod/v1/blobs/caf%C3%A9?z=%E2%9C%93&q=%2B1&flag&a-b=1&a=9&B=z&a=10`,
        body: binary,
      },
      { method: 'DELETE', scriptUrl: `${execute}/prod/v1/things/t_1?reason=it%27s%20%28gone%29%21`, tsUrl: `${execute}/prod/v1/things/t_1?reason=it's%20(gone)!` },
      { method: 'head', scriptUrl: `${execute}/prod/health`, body: '\n' },
    ];
    cases.forEach(({ method, scriptUrl, tsUrl, body }, i) => {
      const args = [method, scriptUrl];
      if (body !== undefined) args.push(tmpFile(`body-${i}`, body));
      const run = dryRun(args);
      expect([i, run.status, run.stderr]).toEqual([i, 0, expect.stringContaining('--- canonical string (signed) ---')]);
      const signed = signRequest({ method, url: tsUrl ?? scriptUrl, body, caller: CALLER, secret: SECRET, now: T * 1000, nonce: NONCE });
      expect([i, headersOf(run.stdout)]).toEqual([i, signed.headers]);
      expect(run.stderr).toContain(`\n${signed.canonical}\n`);
    });
  });

  it('uses a random 32-hex-digit nonce and the current time by default', () => {
    const before = Math.floor(Date.now() / 1000);
    const run = dryRun(['GET', 'https://h.example/p'], { GATEHOUSE_TIMESTAMP: '', GATEHOUSE_NONCE: '' });
    const h = parseSignatureHeader(headersOf(run.stdout).Authorization!)!;
    expect(h.nonce).toMatch(/^[0-9a-f]{32}$/);
    expect(h.timestamp).toBeGreaterThanOrEqual(before);
    expect(h.timestamp).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    const again = parseSignatureHeader(headersOf(dryRun(['GET', 'https://h.example/p'], { GATEHOUSE_NONCE: '' }).stdout).Authorization!)!;
    expect(again.nonce).not.toBe(h.nonce);
  });

  it('refuses, with exit 2 and a message, a query that is not canonical instead of signing it', () => {
    const refused: [string, RegExp][] = [
      ['q=a+b', /'\+'.*%20.*%2B/],
      ['b=1&a=2', /not sorted/],
      ['a-b=1&a=2', /not sorted/], // sorted as whole strings, not by key
      ['a=2&a=10', /not sorted/],
      ['a=1&a=1&A=1', /not sorted/],
      ['flag', /needs '='/],
      ['a=%c3%a9', /not RFC 3986-encoded/], // lowercase hex
      ['a=%41', /not RFC 3986-encoded/], // an escaped unreserved character
      ['a=!', /not RFC 3986-encoded/], // a reserved character left literal
      ['a=x%20y%2', /not RFC 3986-encoded/],
      ['a=%FF', /not RFC 3986-encoded/], // not UTF-8
      ['a=%C3', /not RFC 3986-encoded/], // truncated UTF-8
      ['a=%C3x', /not RFC 3986-encoded/],
      ['a=%C0%80', /not RFC 3986-encoded/], // overlong
      ['a=%ED%A0%80', /not RFC 3986-encoded/], // a surrogate
      ['a=%F4%90%80%80', /not RFC 3986-encoded/], // past U+10FFFF
      ['a=b=c', /not RFC 3986-encoded/],
      ['caf\u00e9=1', /not RFC 3986-encoded/],
    ];
    for (const [query, message] of refused) {
      const run = dryRun(['GET', `https://h.example/p?${query}`]);
      expect([query, run.status, run.stdout]).toEqual([query, 2, '']);
      expect([query, run.stderr]).toEqual([query, expect.stringMatching(message)]);
    }
    // And these are canonical.
    for (const query of ['a=1&a-b=2', 'a=10&a=2', 'B=1&a=1', 'a=%21%2A', 'a=&a=x', 'e=%F0%9F%98%80&f=%EF%BF%BD', 'a=1&a=1']) {
      expect([query, dryRun(['GET', `https://h.example/p?${query}`]).status]).toEqual([query, 0]);
    }
  });

  it('refuses, with exit 2, a path a client would rewrite, bad arguments and missing settings, never printing the secret', () => {
    const refused: [string[], Record<string, string>, RegExp][] = [
      [['GET', 'https://h.example/a/../b'], {}, /'\.' or '\.\.' segment/],
      [['GET', 'https://h.example/a/%2E/b'], {}, /'\.' or '\.\.' segment/],
      [['GET', 'https://h.example/a b'], {}, /RFC 3986 path characters/],
      [['GET', 'https://h.example/caf\u00e9'], {}, /RFC 3986 path characters/],
      [['GET', '/v1/me'], {}, /must be absolute/],
      [['GET', 'ftp://h.example/x'], {}, /http:\/\/ or https:\/\//],
      [['GET'], {}, /usage:/],
      [['GET', 'https://h.example/p', 'body', 'extra'], {}, /usage:/],
      [['PO ST', 'https://h.example/p'], {}, /METHOD must be/],
      [['POST', 'https://h.example/p', path.join(tmp, 'missing.json')], {}, /BODY_FILE must be a readable regular file/],
      [['GET', 'https://h.example/p'], { GATEHOUSE_SIGNER: '' }, /GATEHOUSE_SIGNER is not set/],
      [['GET', 'https://h.example/p'], { GATEHOUSE_SIGNER: 'Acme' }, /GATEHOUSE_SIGNER must be a signer name/],
      [['GET', 'https://h.example/p'], { GATEHOUSE_SIGNER: SECRET }, /GATEHOUSE_SIGNER must be a signer name/],
      [['GET', 'https://h.example/p'], { GATEHOUSE_SIGNER_SECRET: '' }, /GATEHOUSE_SIGNER_SECRET is not set/],
      [['GET', 'https://h.example/p'], { GATEHOUSE_TIMESTAMP: '-1' }, /GATEHOUSE_TIMESTAMP must be unix seconds/],
      [['GET', 'https://h.example/p'], { GATEHOUSE_NONCE: 'short' }, /GATEHOUSE_NONCE must be 16-128/],
      [['GET', 'https://h.example/p'], { GATEHOUSE_NONCE: SECRET }, /GATEHOUSE_NONCE must be 16-128/],
    ];
    for (const [args, env, message] of refused) {
      const run = dryRun(args, env); // dryRun checks that neither output contains the secret
      expect([args, run.status, run.stdout]).toEqual([args, 2, '']);
      expect([args, run.stderr]).toEqual([args, expect.stringMatching(message)]);
    }
  });

  it('sends the request with curl (no dry run): the server verifies it, body and extra curl arguments included', async () => {
    const body = tmpFile('event.json', '{"id":"evt_5","type":"invoice.paid"}\r\n');
    const url = `${base}/prod/v1/webhooks/stripe?a=1&a=x%20y&caf%C3%A9=%F0%9F%98%80`;
    const run = await runAsync('bash', [SCRIPT, 'POST', url, body, '--', '-sS', '-H', 'Content-Type: application/json'], envWith({}));
    expect(run).toEqual({ status: 0, stdout: '{"verdict":"ok"}', stderr: '' });
    const r = lastReceived();
    expect(r).toMatchObject({ method: 'POST', target: '/prod/v1/webhooks/stripe?a=1&a=x%20y&caf%C3%A9=%F0%9F%98%80' });
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.body.equals(readFileSync(body))).toBe(true);

    const get = await runAsync('bash', [SCRIPT, 'get', `${base}/v1/me`, '--', '-sS'], envWith({}));
    expect(get).toEqual({ status: 0, stdout: '{"verdict":"ok"}', stderr: '' });
    expect(lastReceived()).toMatchObject({ method: 'GET', target: '/v1/me', verdict: 'ok' });
    expect(lastReceived().body).toHaveLength(0);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('the openssl + curl recipe in docs/signed-requests.md', () => {
  function recipe(): string {
    const doc = readFileSync(DOC, 'utf8');
    const m = /<!-- recipe:start -->\n```bash\n([\s\S]*?)```\n<!-- recipe:end -->/.exec(doc);
    expect(m).not.toBeNull();
    return m![1]!;
  }

  function replaced(block: string, pairs: [string, string][]): string {
    return pairs.reduce((b, [from, to]) => {
      expect(b).toContain(from);
      return b.replace(from, to);
    }, block);
  }

  it('is at most 10 lines and needs only openssl, curl and coreutils', () => {
    const block = recipe();
    expect(block.trimEnd().split('\n').length).toBeLessThanOrEqual(10);
    expect(block).not.toMatch(/\b(node|python|jq|xxd|sed|awk)\b/);
  });

  it('signs a POST with a body and a query, and a GET with neither, that the verifying server accepts', async () => {
    const env = { ...envWith({}), PATH: process.env.PATH };
    const body = tmpFile('recipe-event.json', '{"id":"evt_6","type":"invoice.paid"}\n');
    const post = replaced(recipe(), [
      ['BASE=https://abc123.execute-api.eu-west-1.amazonaws.com', `BASE=${base}`],
      ['QUERY= ', "QUERY='a=1&b=x%20y&caf%C3%A9=%E2%9C%93' "],
      ['BODY_FILE=event.json', `BODY_FILE='${body}'`],
      ['curl -X', 'curl -sS -X'],
    ]);
    expect(await runAsync('bash', ['-c', post], env)).toEqual({ status: 0, stdout: '{"verdict":"ok"}', stderr: '' });
    expect(lastReceived()).toMatchObject({ method: 'POST', target: '/prod/v1/webhooks/stripe?a=1&b=x%20y&caf%C3%A9=%E2%9C%93' });
    expect(lastReceived().body.equals(readFileSync(body))).toBe(true);

    const get = replaced(recipe(), [
      ['METHOD=POST', 'METHOD=GET'],
      ['BASE=https://abc123.execute-api.eu-west-1.amazonaws.com', `BASE=${base}`],
      ['BODY_FILE=event.json', 'BODY_FILE='],
      ['curl -X', 'curl -sS -X'],
    ]);
    expect(await runAsync('bash', ['-c', get], env)).toEqual({ status: 0, stdout: '{"verdict":"ok"}', stderr: '' });
    expect(lastReceived()).toMatchObject({ method: 'GET', target: '/prod/v1/webhooks/stripe', verdict: 'ok' });
    expect(lastReceived().body).toHaveLength(0);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('property: signRequest agrees with signing.ts through the header round-trip', () => {
  const segment = fc.oneof(
    fc.stringMatching(/^[A-Za-z0-9._~-]{1,10}$/),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 6 }).map(encodeRfc3986),
  );
  const text = fc.oneof(
    fc.string({ maxLength: 8 }),
    fc.string({ unit: 'binary', maxLength: 6 }),
    fc.constantFrom('', ' ', '+', '&', '=', '%', '?', '#', '__proto__', 'constructor', 'valueOf'),
  );
  const pair = fc.tuple(text, text, fc.constantFrom(encodeRfc3986, encodeURIComponent));

  it('for random methods, paths, queries and bodies, the signature is signatureOf(secret, canonicalString(...))', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('GET', 'post', 'Put', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'),
        fc.array(segment, { maxLength: 5 }),
        fc.array(pair, { maxLength: 6 }),
        fc.option(fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.uint8Array({ maxLength: 64 })), { nil: undefined }),
        fc.stringMatching(/^[a-z][a-z0-9-]{1,20}$/),
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }),
        fc.integer({ min: 0, max: 4_102_444_800_000 }),
        (method, segments, pairs, body, caller, secret, now) => {
          const search = pairs.length ? `?${pairs.map(([k, v, enc]) => `${enc(k)}=${enc(v)}`).join('&')}` : '';
          const url = new URL(`https://abc123.execute-api.eu-west-1.amazonaws.com/${segments.join('/')}${search}`);
          // The decoded query, grouped, from the generator rather than from the URL.
          const query: Record<string, string[]> = Object.create(null);
          for (const [k, v] of pairs) (query[k] ??= []).push(v);

          const { headers } = signRequest({ method, url: url.href, body, caller, secret, now });
          const parsed = parseSignatureHeader(headers.Authorization);
          expect(parsed).toBeDefined();
          expect(formatSignatureHeader(parsed!)).toBe(headers.Authorization);
          expect(parsed).toMatchObject({ caller, timestamp: Math.floor(now / 1000) });
          const bodySha256 = sha256Hex(body ?? '');
          expect(headers['X-Content-SHA256']).toBe(bodySha256);
          const expected = signatureOf(secret, canonicalString(parsed!, { method, path: url.pathname, query, bodySha256 }));
          expect(parsed!.signature).toBe(expected.toString('hex'));
        },
      ),
      { numRuns: 300 },
    );
  });
});
