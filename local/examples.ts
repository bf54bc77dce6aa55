import type { DemoCredentials } from './provision';

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
      headers: { ...bearer(c.serviceSecret), 'X-Service-Name': c.serviceName, 'Content-Type': 'application/json' },
      body: { job: 'nightly-report' },
    },
    { title: "A tenant admin lists its own tenant's API keys (self-service; never the keys themselves)", expect: 200, method: 'GET', path: '/v1/api-keys', headers: bearer(c.userTokenHs256) },
    { title: 'An API key may not manage API keys', expect: 403, method: 'GET', path: '/v1/api-keys', headers: bearer(c.apiKeyWrite) },
    { title: 'No credential', expect: 401, method: 'GET', path: '/v1/me', headers: {} },
    { title: 'A user token on the service-only route (no X-Service-Name)', expect: 401, method: 'POST', path: '/internal/jobs', headers: bearer(c.userTokenHs256) },
    { title: 'A route that does not exist', expect: 404, method: 'GET', path: '/v1/nothing-here', headers: bearer(c.userTokenHs256) },
  ];
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
    '# Manage tenants, keys, members, sessions and service secrets from another terminal (npx gatehouse --help):',
    'npx gatehouse --local keys create --tenant demo --name my-server --scope customers:read',
    'npx gatehouse --local keys list --tenant demo',
    'npx gatehouse --local tenants create acme --tier default',
    'npx gatehouse --local tokens mint --sub me --tenant demo --scope customers:read --role admin',
    '',
  );
  return lines.join('\n');
}
