import type { DemoCredentials } from './provision';
import { SERVICE_NAME_HEADER } from '../contract/headers';

/** A request a newcomer can paste, and what it answers. */
export interface RequestExample {
  readonly title: string;
  readonly expect: number;
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: unknown;
}

/** The demo requests, one per credential kind and per answer (200, 201, 202, 401, 403, 404, 429). */
export function demoRequests(c: DemoCredentials): RequestExample[] {
  const bearer = (v: string) => ({ Authorization: `Bearer ${v}` });
  return [
    { title: 'Public health check', expect: 200, method: 'GET', path: '/health', headers: {} },
    { title: 'Supabase-style user, HS256 (legacy secret)', expect: 200, method: 'GET', path: '/v1/me', headers: bearer(c.userTokenHs256) },
    { title: 'Supabase-style user, ES256 (JWKS served by the gateway)', expect: 200, method: 'GET', path: '/v1/me', headers: bearer(c.userTokenEs256) },
    ...c.standIns
      .filter((s) => s.token !== undefined)
      .map((s) => ({
        title: `${providerName(s.type)} user, from the local stand-in for issuer "${s.id}" (its iss ${s.iss}, its token shape, the local RSA key)`,
        expect: 200,
        method: 'GET',
        path: '/v1/me',
        headers: bearer(s.token!),
      })),
    {
      title: 'Create a customer in the demo tenant (API key with customers:write)',
      expect: 201,
      method: 'POST',
      path: '/v1/customers',
      headers: { ...bearer(c.apiKeyWrite), 'Content-Type': 'application/json' },
      body: { name: 'Ada Lovelace', email: 'ada@example.com' },
    },
    { title: "List the demo tenant's customers (read-only API key)", expect: 200, method: 'GET', path: '/v1/customers', headers: bearer(c.apiKeyRead) },
    { title: 'Another tenant sees none of them (user of tenant globex)', expect: 200, method: 'GET', path: '/v1/customers', headers: bearer(c.otherTenantToken) },
    {
      title: 'A read-only key may not create',
      expect: 403,
      method: 'POST',
      path: '/v1/customers',
      headers: { ...bearer(c.apiKeyRead), 'Content-Type': 'application/json' },
      body: { name: 'Nope' },
    },
    {
      title: `Internal service "${c.serviceName}" with its secret`,
      expect: 202,
      method: 'POST',
      path: '/internal/jobs',
      headers: { ...bearer(c.serviceSecret), [SERVICE_NAME_HEADER]: c.serviceName, 'Content-Type': 'application/json' },
      body: { job: 'nightly-report' },
    },
    { title: "A tenant admin lists its own tenant's API keys (self-service; never the keys themselves)", expect: 200, method: 'GET', path: '/v1/api-keys', headers: bearer(c.userTokenHs256) },
    { title: 'An API key may not manage API keys', expect: 403, method: 'GET', path: '/v1/api-keys', headers: bearer(c.apiKeyWrite) },
    ...browserRequests(c),
    { title: 'No credential', expect: 401, method: 'GET', path: '/v1/me', headers: {} },
    { title: 'A user token on the service-only route (no X-Service-Name)', expect: 401, method: 'POST', path: '/internal/jobs', headers: bearer(c.userTokenHs256) },
    { title: 'A route that does not exist', expect: 404, method: 'GET', path: '/v1/nothing-here', headers: bearer(c.userTokenHs256) },
  ];
}

/** Browser callers: the user's token in a cookie, and the CSRF proof a mutating request needs (when a route takes a cookie). */
function browserRequests(c: DemoCredentials): RequestExample[] {
  if (!c.tokenCookie) return [];
  const cookie = `${c.tokenCookie}=${c.userTokenHs256}`;
  const withCsrf = { Cookie: `${cookie}; ${c.csrf.cookie}=${c.csrf.token}`, [c.csrf.header]: c.csrf.token, 'Content-Type': 'application/json' };
  return [
    { title: `Browser: the user token in the ${c.tokenCookie} cookie, on a GET`, expect: 200, method: 'GET', path: '/v1/session', headers: { Cookie: cookie } },
    {
      title: 'Browser: the same cookie on a POST without the CSRF token (a cross-site form could send this)',
      expect: 403,
      method: 'POST',
      path: '/v1/customers',
      headers: { Cookie: cookie, 'Content-Type': 'application/json' },
      body: { name: 'Mallory' },
    },
    {
      title: `Browser: with the CSRF token in the ${c.csrf.header} header and the ${c.csrf.cookie} cookie (double submit)`,
      expect: 201,
      method: 'POST',
      path: '/v1/customers',
      headers: withCsrf,
      body: { name: 'Grace Hopper' },
    },
    {
      title: 'Browser: a cookie and an Authorization header together are refused',
      expect: 401,
      method: 'GET',
      path: '/v1/session',
      headers: { Cookie: cookie, Authorization: `Bearer ${c.userTokenHs256}` },
    },
  ];
}

/** Signed requests (HMAC-SHA256) with openssl and curl, and a replay of one (when a signer is configured). */
function signedExample(c: DemoCredentials): string[] {
  if (!c.signerName) return [];
  const url = shellQuote(`${c.baseUrl}/v1/webhooks/stripe`);
  return [
    `# Signed requests (docs/signed-requests.md): the relay "${c.signerName}" signs method, path, query, timestamp, nonce and`,
    '# the body hash with HMAC-SHA256 (openssl + curl in scripts/signed-curl.sh). Each run signs afresh -> 202:',
    `export GATEHOUSE_SIGNER=${c.signerName} GATEHOUSE_SIGNER_SECRET=${shellQuote(c.signerSecret)}`,
    `printf '%s' '{"id":"evt_1","type":"payment.succeeded"}' > /tmp/gatehouse-event.json`,
    `scripts/signed-curl.sh POST ${url} /tmp/gatehouse-event.json -- -s -i -H 'Content-Type: application/json'`,
    '# The same signed request twice -> 202, then 401 (its nonce is spent):',
    `H=$(GATEHOUSE_DRY_RUN=1 scripts/signed-curl.sh POST ${url} /tmp/gatehouse-event.json 2>/dev/null)`,
    `for i in 1 2; do curl -s -o /dev/null -w '%{http_code}\n' -H "$(echo "$H" | sed -n 1p)" -H "$(echo "$H" | sed -n 2p)" -H 'Content-Type: application/json' --data-binary @/tmp/gatehouse-event.json ${url}; done`,
    '',
  ];
}

const PROVIDERS: Readonly<Record<string, string>> = { cognito: 'Amazon Cognito', auth0: 'Auth0', clerk: 'Clerk', entra: 'Microsoft Entra ID', workos: 'WorkOS', oidc: 'OIDC' };
const providerName = (type: string) => PROVIDERS[type] ?? type;

/** The configured issuers: which have local stand-ins (and how to mint their tokens), which were dropped and why. */
function issuerLines(c: DemoCredentials): string[] {
  if (!c.standIns.length && !c.droppedIssuers.length) return [];
  const lines = ['# The configured issuers, offline: each stand-in keeps its iss and claim rules, its keys are served by this gateway.'];
  for (const s of c.standIns) {
    lines.push(`# ${providerName(s.type)} issuer "${s.id}" (iss ${s.iss})${s.note ? `: ${s.note}` : ''}. Mint a token in its shape:`);
    lines.push(`npx gatehouse --local tokens mint --issuer ${s.id} --sub me --tenant ${s.tenant} --scope customers:read`);
  }
  for (const d of c.droppedIssuers) lines.push(`# Issuer "${d.id}" is not served locally: ${d.reason}.`);
  return [...lines, ''];
}

const shellQuote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

export function curlOf(c: DemoCredentials, r: RequestExample): string {
  const parts = ['curl -s -i', ...(r.method === 'GET' ? [] : [`-X ${r.method}`])];
  for (const [k, v] of Object.entries(r.headers)) parts.push(`-H ${shellQuote(`${k}: ${v}`)}`);
  if (r.body !== undefined) parts.push(`-d ${shellQuote(JSON.stringify(r.body))}`);
  parts.push(shellQuote(`${c.baseUrl}${r.path}`));
  return parts.join(' ');
}

/** The text local mode prints: every demo request as a curl line with its expected status, and the 429 demo. */
export function requestExamples(c: DemoCredentials, credentialsFile: string): string {
  const lines = ['', `Gatehouse is running locally. Demo credentials (tenant "${c.tenantId}"): ${credentialsFile}`, ''];
  for (const r of demoRequests(c)) lines.push(`# ${r.title} -> ${r.expect}`, curlOf(c, r), '');
  const { requestsPerMinute, burst } = c.rateLimit;
  lines.push(
    `# Rate limit of the default tier: ${requestsPerMinute} a minute, bursts to ${burst}. ${burst + 50} requests -> ${burst} pass at once, one more`,
    `# per ${60 / requestsPerMinute} s the loop takes (about 15 in a 9 s loop), the rest are 429 with Retry-After:`,
    `for i in $(seq ${burst + 50}); do curl -s -o /dev/null -w '%{http_code}\\n' -H ${shellQuote(`Authorization: Bearer ${c.apiKeyRead}`)} ${shellQuote(`${c.baseUrl}/v1/customers`)}; done | sort | uniq -c`,
    '',
    ...signedExample(c),
    ...issuerLines(c),
    '# Manage tenants, keys, members, sessions and service secrets from another terminal (npx gatehouse --help):',
    'npx gatehouse --local keys create --tenant demo --name my-server --scope customers:read',
    'npx gatehouse --local keys list --tenant demo',
    'npx gatehouse --local tenants create acme --tier default',
    'npx gatehouse --local tokens mint --sub me --tenant demo --scope customers:read --role admin',
    '',
  );
  return lines.join('\n');
}
