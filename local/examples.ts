import type { DemoCredentials } from './provision';
import { type RequestExample, answerOf, authorizerRefusal, examplePath, knownStatus, providerName, routeRequests } from './route-examples';

export type { RequestExample } from './route-examples';

/**
 * The requests local mode prints for the route table it serves: one per route, the refusals, browser callers
 * (local/route-examples.ts). Tests run each and compare the status with the printed one.
 */
export function demoRequests(c: DemoCredentials): RequestExample[] {
  return routeRequests(c);
}

/** Signed requests (HMAC-SHA256) with openssl and curl on the first route that takes them, and a replay of one. */
function signedExample(c: DemoCredentials): string[] {
  const route = c.routes.find((r) => r.accepts.includes('signed'));
  if (!c.signerName || !route) return [];
  const status = knownStatus(route) ?? (route.handler === 'webhooks' ? 202 : undefined);
  const answer = status === undefined ? answerOf(route) : String(status);
  const url = shellQuote(`${c.baseUrl}${examplePath(route)}`);
  return [
    `# Signed requests (docs/signed-requests.md) on ${route.method} ${route.path}: the relay "${c.signerName}" signs method, path, query, timestamp, nonce and`,
    `# the body hash with HMAC-SHA256 (openssl + curl in scripts/signed-curl.sh). Each run signs afresh -> ${answer}:`,
    `export GATEHOUSE_SIGNER=${c.signerName} GATEHOUSE_SIGNER_SECRET=${shellQuote(c.signerSecret)}`,
    `printf '%s' '{"id":"evt_1","type":"payment.succeeded"}' > /tmp/gatehouse-event.json`,
    `scripts/signed-curl.sh ${route.method} ${url} /tmp/gatehouse-event.json -- -s -i -H 'Content-Type: application/json'`,
    `# The same signed request twice -> ${answer}, then ${authorizerRefusal(c)} (its nonce is spent):`,
    `H=$(GATEHOUSE_DRY_RUN=1 scripts/signed-curl.sh ${route.method} ${url} /tmp/gatehouse-event.json 2>/dev/null)`,
    `for i in 1 2; do curl -s -o /dev/null -w '%{http_code}\\n' -X ${route.method} -H "$(echo "$H" | sed -n 1p)" -H "$(echo "$H" | sed -n 2p)" -H 'Content-Type: application/json' --data-binary @/tmp/gatehouse-event.json ${url}; done`,
    '',
  ];
}


/** The configured issuers: which have local stand-ins (and how to mint their tokens), which were dropped and why. */
function issuerLines(c: DemoCredentials): string[] {
  if (!c.standIns.length && !c.droppedIssuers.length) return [];
  const lines = ['# The configured issuers, offline: each stand-in keeps its iss and claim rules, its keys are served by this gateway.'];
  for (const s of c.standIns) {
    lines.push(`# ${providerName(s.type)} issuer "${s.id}" (iss ${s.iss})${s.note ? `: ${s.note}` : ''}. Mint a token in its shape:`);
    lines.push(`npx gatehouse --local tokens mint --issuer ${s.id} --sub me --tenant ${s.tenant}${c.scopes.map((x) => ` --scope ${x}`).join('')}`);
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

/** What the banner says the gateway emulates, by `deployment.api`. */
const API_KINDS = {
  rest: 'as an API Gateway REST API (deployment.api "rest")',
  http: 'as an API Gateway HTTP API (deployment.api "http": no usage plans, native CORS, the authorizer\'s refusals are 403)',
} as const;

/** The text local mode prints: every demo request as a curl line with its expected status, and the 429 demo. */
export function requestExamples(c: DemoCredentials, credentialsFile: string): string {
  const lines = ['', `Gatehouse is running locally, ${API_KINDS[c.api]}. Demo credentials (tenant "${c.tenantId}"): ${credentialsFile}`, ''];
  for (const r of demoRequests(c)) lines.push(`# ${r.title}${r.expect !== undefined ? ` -> ${r.expect}` : ''}`, curlOf(c, r), '');
  const scope = c.readScopes[0] ?? c.scopes[0];
  lines.push(
    ...rateLimitDemo(c),
    ...signedExample(c),
    ...issuerLines(c),
    '# Manage tenants, keys, members, sessions and service secrets from another terminal (npx gatehouse --help):',
    `npx gatehouse --local keys create --tenant demo --name my-server${scope ? ` --scope ${scope}` : ''}`,
    'npx gatehouse --local keys list --tenant demo',
    'npx gatehouse --local tenants create acme --tier default',
    `npx gatehouse --local tokens mint --sub me --tenant demo${scope ? ` --scope ${scope}` : ''} --role admin`,
    '',
  );
  return lines.join('\n');
}

/** The default tier's limits, shown on the first GET route the read-only API key may call (none: no demo). */
function rateLimitDemo(c: DemoCredentials): string[] {
  const route = c.routes.find((r) => r.method === 'GET' && !r.public && r.accepts.includes('apiKey') && (r.scopes ?? []).every((s) => c.readScopes.includes(s)) && !r.path.includes('{'));
  if (!route || !c.apiKeyRead) return [];
  const { requestsPerMinute, burst } = c.rateLimit;
  return [
    `# Rate limit of the default tier: ${requestsPerMinute} a minute, bursts to ${burst}. ${burst + 50} requests -> ${burst} pass at once, one more`,
    `# per ${60 / requestsPerMinute} s the loop takes, the rest are 429 with Retry-After:`,
    `for i in $(seq ${burst + 50}); do curl -s -o /dev/null -w '%{http_code}\\n' -H ${shellQuote(`Authorization: Bearer ${c.apiKeyRead}`)} ${shellQuote(`${c.baseUrl}${route.path}`)}; done | sort | uniq -c`,
    '',
  ];
}
