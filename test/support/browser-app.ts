import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for a web app on its own origin (what `vite` serves at http://localhost:5173): one page whose script
 * signs in against the app's own server, stores the session in cookies with document.cookie as Supabase's browser
 * client does, and calls the API with fetch(..., { credentials: 'include' }). The page's functions are on
 * `window.app`; everything they return is what the page could read, and never a token.
 */
export interface WebAppConfig {
  /** The API's base URL as the page calls it (http://localhost:<port>: cookies are per host, not per port). */
  readonly apiBase: string;
  /** The cookie the API reads the user's token from (the routes' `cookie`), and the CSRF pair. */
  readonly tokenCookie: string;
  readonly csrfCookie: string;
  readonly csrfHeader: string;
  /** The sign-in endpoint's sessions: a name the page signs in with, and the access token it gets for it. */
  readonly sessions: Readonly<Record<string, string>>;
}

/** One origin serving the page: `origin(host)` is its URL under `localhost` or `127.0.0.1`. */
export interface WebAppServer {
  readonly port: number;
  origin(host?: 'localhost' | '127.0.0.1'): string;
  close(): Promise<void>;
}

/** The page's script, plain JavaScript run in the browser (the config is filled in when served). */
const PAGE_SCRIPT = String.raw`
const config = __CONFIG__;
const b64url = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const readCookie = (name) => document.cookie.split('; ').find((c) => c.startsWith(name + '='))?.slice(name.length + 1);
const cookieNames = () => document.cookie.split('; ').filter(Boolean).map((c) => c.split('=')[0]);

// Sign in: the app's server hands out an access token; the client keeps it in a cookie the API reads (as
// @supabase/ssr's browser client does: Path=/, SameSite=Lax, not HttpOnly), and draws a CSRF token for the
// double submit (a __Host- cookie: Secure, Path=/, no Domain; http://localhost is a secure context).
async function signIn(session) {
  const res = await fetch('/auth/sign-in', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ session }) });
  if (!res.ok) return { signedIn: false, status: res.status };
  const { access_token, expires_in } = await res.json();
  document.cookie = config.tokenCookie + '=' + access_token + '; Path=/; Max-Age=' + expires_in + '; SameSite=Lax';
  document.cookie = config.csrfCookie + '=' + b64url(crypto.getRandomValues(new Uint8Array(24))) + '; Path=/; Secure; SameSite=Strict';
  return { signedIn: true, cookies: cookieNames() };
}

// A call to the API with the browser's cookies. What it returns is what the page could read: the status, the body
// and some of the headers CORS exposes (null when not exposed or absent), or the error fetch rejected with (a TypeError when CORS withholds the answer).
// options: json (a JSON body), text (a text/plain body: a request that needs no preflight), csrf (true: the header
// with the CSRF cookie's value; a string: that value).
async function call(method, path, options = {}) {
  const headers = {};
  let body;
  if (options.json !== undefined) [headers['Content-Type'], body] = ['application/json', JSON.stringify(options.json)];
  if (options.text !== undefined) [headers['Content-Type'], body] = ['text/plain', options.text];
  if (options.csrf !== undefined) headers[config.csrfHeader] = options.csrf === true ? (readCookie(config.csrfCookie) ?? '') : options.csrf;
  try {
    const res = await fetch(config.apiBase + path, { method, credentials: 'include', headers, body });
    const text = await res.text();
    let parsed;
    try { parsed = JSON.parse(text); } catch { parsed = text; }
    return {
      read: true,
      status: res.status,
      body: parsed,
      requestId: res.headers.get('x-amzn-RequestId') ?? res.headers.get('apigw-requestid'),
      rateLimitRemaining: res.headers.get('RateLimit-Remaining'),
    };
  } catch (err) {
    return { read: false, error: err.name, message: err.message };
  }
}

window.app = { signIn, call, cookieNames };
`;

const PAGE_HTML = '<!doctype html><html><head><meta charset="utf-8"><title>Gatehouse browser suite</title></head><body><script src="/app.js"></script></body></html>';

function handler(config: () => WebAppConfig) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://app');
    if (req.method === 'GET' && url.pathname === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' }).end(PAGE_HTML);
    } else if (req.method === 'GET' && url.pathname === '/app.js') {
      const { sessions: _sessions, ...pageConfig } = config();
      res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'no-store' }).end(PAGE_SCRIPT.replace('__CONFIG__', JSON.stringify(pageConfig)));
    } else if (req.method === 'POST' && url.pathname === '/auth/sign-in') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let session: unknown;
        try {
          session = JSON.parse(Buffer.concat(chunks).toString('utf8')).session;
        } catch {
          session = undefined;
        }
        const token = typeof session === 'string' && Object.hasOwn(config().sessions, session) ? config().sessions[session] : undefined;
        if (token === undefined) res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"error":"invalid_grant"}');
        else res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }).end(JSON.stringify({ access_token: token, token_type: 'bearer', expires_in: 3600 }));
      });
    } else {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
    }
  };
}

/**
 * Serves the web app on 127.0.0.1:`port` (0: any free port). A taken port fails with a message that says which
 * and why it matters (the API allows exactly the origin http://localhost:5173, so the app cannot move).
 */
export async function serveWebApp(port: number, config: () => WebAppConfig): Promise<WebAppServer> {
  const server: Server = createServer(handler(config));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(
              `Port ${port} on 127.0.0.1 is taken (a Vite dev server?). The browser suite serves its web app from ` +
                `http://localhost:${port}, the origin config/gatehouse.example.json allows: stop whatever listens there and run the suite again.`,
            )
          : err,
      );
    });
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    port: bound,
    origin: (host = 'localhost') => `http://${host}:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
