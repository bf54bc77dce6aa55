import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand, ResourceExistsException, RotateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Command, CommanderError, Option } from 'commander';
import { SignJWT } from 'jose';
import { randomBytes, randomUUID } from 'node:crypto';
import { Directory } from '../../control/directory/directory';
import { DIRECTORY_ERRORS, DirectoryError, type DirectoryErrorCode } from '../../control/directory/errors';
import { rotateNow } from '../../control/rotation/rotate-now';
import { MEMBER_ROLES } from '../../contract/table';
import type { RevocationBounds } from '../../contract/revocation';
import { flushStageAuthorizersCache } from '../../control/authorizer-cache';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Io, Printer, isoSeconds, table } from './output';
import { UsageKeys } from '../../control/usage-keys';
import { type Target, type TargetOptions, UsageError, parseDuration, resolveTarget } from '../../control/target';
import { CALLER_NAME_PATTERN } from '../../contract/patterns';
import { summarizeError } from '../../contract/aws-error';

/** Exit codes: what a script can branch on. */
export const EXIT = { ok: 0, failure: 1, usage: 2, notFound: 3, conflict: 4 } as const;

interface GlobalOptions extends TargetOptions {
  readonly json?: boolean;
}

export interface CliEnvironment {
  readonly io: Io;
  readonly env: NodeJS.ProcessEnv;
  /** The repository root (config/ and .local/ are found from it). */
  readonly root: string;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

/**
 * The callers with a secret of their own in Secrets Manager, each managed by a command group of its name (add,
 * list, rotate): calling services (a bearer with X-Service-Name) and signers (HMAC-SHA256 signed requests).
 */
interface SecretHolderKind {
  /** The command group, and the list in the stack configuration that holds their entries. */
  readonly command: 'services' | 'signers';
  readonly noun: string;
  /** Who holds such a secret, for help texts. */
  readonly holder: string;
  readonly summary: string;
  readonly namePattern: RegExp;
  readonly secretDescription: (name: string) => string;
  /** Name -> secret id, from the target. */
  readonly secretsOf: (t: Target) => Readonly<Record<string, string>>;
  /** The error codes of a name that exists already, and of one not in the configuration. */
  readonly errors: { readonly exists: DirectoryErrorCode; readonly notFound: DirectoryErrorCode };
}

const SECRET_HOLDERS: readonly SecretHolderKind[] = [
  {
    command: 'services',
    noun: 'service',
    holder: 'a calling service',
    summary: 'service-to-service secrets: add, list, rotate now',
    namePattern: CALLER_NAME_PATTERN,
    secretDescription: (name) => `Gatehouse: shared secret of the calling service "${name}"`,
    secretsOf: (t) => t.services,
    errors: { exists: 'SERVICE_EXISTS', notFound: 'SERVICE_NOT_FOUND' },
  },
  {
    command: 'signers',
    noun: 'signer',
    holder: 'a signer',
    summary: 'secrets of callers that sign requests (HMAC-SHA256): add, list, rotate now',
    namePattern: CALLER_NAME_PATTERN,
    secretDescription: (name) => `Gatehouse: secret of the signer "${name}" (signs requests with HMAC-SHA256)`,
    secretsOf: (t) => t.signers ?? {},
    errors: { exists: 'SIGNER_EXISTS', notFound: 'SIGNER_NOT_FOUND' },
  },
];

/**
 * `gatehouse`: tenants, API keys, services, signers, members, sessions and development tokens, against local mode
 * (`--local`) or a deployed stack (`--table`). Returns the exit code; never calls process.exit.
 */
export async function runCli(argv: readonly string[], cli: CliEnvironment): Promise<number> {
  let exitCode: number = EXIT.ok;
  const clients: { destroy(): void }[] = [];
  let target: Target | undefined;
  const program = new Command('gatehouse')
    .description('Manage Gatehouse: tenants, API keys, service and signer secrets, members, sessions (and dev tokens in local mode).')
    .option('--json', 'print one JSON document on stdout (for scripts)')
    .option('--local', 'act on the running local mode (`npm start`)')
    .option('--table <name>', 'the deployed table (stack output TableName; or GATEHOUSE_TABLE)')
    .option('--config <file>', 'stack configuration the stack was deployed with (default config/gatehouse.example.json; or GATEHOUSE_CONFIG_FILE)')
    .option('--rest-api-id <id>', 'the deployed REST API, for usage-plan keys and --flush (stack output RestApiId; or GATEHOUSE_REST_API_ID)')
    .option('--stack-name <name>', 'the deployed stack, for the names of the secrets it creates (default Gatehouse; or GATEHOUSE_STACK_NAME)')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: cli.io.stdout, writeErr: cli.io.stderr });
  program.addHelpText(
    'after',
    `
Exit codes: 0 done, 1 AWS or unexpected failure, 2 bad usage or input, 3 not found, 4 conflict (exists, suspended, revoked).
AWS clients use the standard SDK environment (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL, ...); --local sets it
from .local/cli-target.json, which \`npm start\` writes.`,
  );

  const context = (cmd: Command) => {
    const g = cmd.optsWithGlobals<GlobalOptions>();
    target ??= resolveTarget(g, cli.env, cli.root);
    const sdk = target.sdkEnv ? sdkConfig(target.sdkEnv) : {};
    const dynamodb = new DynamoDBClient(sdk);
    const secrets = new SecretsManagerClient(sdk);
    clients.push(dynamodb, secrets);
    return { t: target, out: new Printer(cli.io, g.json === true), dir: new Directory(dynamodb, target.tableName), dynamodb, secrets, sdk };
  };
  const action =
    <A extends unknown[]>(fn: (...args: A) => Promise<void>) =>
    async (...args: A) => {
      await fn(...args);
    };
  const flushOption = () =>
    new Option('--flush', "also empty the stage's authorizer cache (now, and again once the authorizer's own cache has expired); waits until then");

  const usageKeys = (c: ReturnType<typeof context>) => {
    const stage = c.t.stage;
    if (!stage) throw new UsageError('tenants: needs --rest-api-id or GATEHOUSE_REST_API_ID (the usage plans are on its stage), or --local');
    const api = new APIGatewayClient(c.sdk);
    clients.push(api);
    return new UsageKeys(api, stage.restApiId, stage.stageName);
  };

  /**
   * Says when a revocation takes effect and, with --flush, empties the stage's authorizer cache twice: now (ending
   * what API Gateway cached before the change) and again once the authorizer's own cache of the record has expired
   * (ending what was decided from a stale record in between). See contract/revocation.ts.
   */
  async function revoked(c: ReturnType<typeof context>, kind: keyof RevocationBounds, what: string, flush: boolean | undefined) {
    const bound = c.t.revocation.bounds[kind];
    if (!bound) {
      c.out.note(`Warning: this configuration does not check ${what} on requests, so this change has no effect on them.`);
      return { effectiveWithinSeconds: null, flushed: false, text: '' };
    }
    if (flush) {
      const stage = c.t.stage;
      if (!stage) throw new UsageError('--flush: needs --rest-api-id or GATEHOUSE_REST_API_ID (or --local)');
      const api = new APIGatewayClient({ ...c.sdk, ...(stage.endpoint ? { endpoint: stage.endpoint } : {}) });
      clients.push(api);
      await flushStageAuthorizersCache(api, stage.restApiId, stage.stageName);
      if (bound.flushAfterSeconds > 0) {
        c.out.note(`Flushed the stage's authorizer cache; flushing again in ${bound.flushAfterSeconds} s, when the authorizer's own cache has expired...`);
        await sleep(bound.flushAfterSeconds * 1000);
        await flushStageAuthorizersCache(api, stage.restApiId, stage.stageName);
      }
    }
    const within = flush ? bound.withFlushSeconds : bound.seconds;
    const cache = bound.withFlushSeconds;
    return {
      effectiveWithinSeconds: within,
      flushed: flush === true,
      text: flush
        ? `In effect now: the stage's authorizer cache was flushed after the authorizer's own ${cache} s cache expired.`
        : `Takes effect within ${within} s (authorizer cache ${cache} s + API Gateway result cache ${c.t.revocation.resultTtlSeconds} s; --flush waits ${cache} s and makes it take effect then).`,
    };
  }

  // ---- tenants -------------------------------------------------------------------------------------------------
  const tenants = program.command('tenants').description('create, list, show, suspend and resume tenants');
  tenants
    .command('create <tenant>')
    .description("onboard a tenant (ids: 1-63 of a-z 0-9 -) with its own usage-plan key in its tier's plan")
    .option('--tier <tier>', 'rate-limit tier (config rateLimits.tiers)', 'default')
    .option('--name <name>', 'display name')
    .action(
      action(async (tenantId: string, o: { tier: string; name?: string }, cmd: Command) => {
        const c = context(cmd);
        // Refuse what would fail anyway before creating anything in API Gateway.
        const exists = await c.dir.getTenant(tenantId).then(
          () => true,
          (err: unknown) => (err instanceof DirectoryError && err.code === 'TENANT_NOT_FOUND' ? false : Promise.reject(err)),
        );
        if (exists) throw new DirectoryError('TENANT_EXISTS', `tenant ${tenantId} already exists`);
        const keys = usageKeys(c);
        const { usageKey, usageKeyId } = await keys.create(tenantId, o.tier);
        try {
          const t = await c.dir.createTenant({ tenantId, tier: o.tier, usageKey, usageKeyId, ...(o.name ? { name: o.name } : {}) });
          c.out.result(publicTenant(t), () => `Created tenant ${t.tenantId} (tier ${t.tier}, usage-plan key ${usageKeyId}).`);
        } catch (err) {
          await keys.remove(usageKeyId);
          throw err;
        }
      }),
    );
  tenants
    .command('set-tier <tenant> <tier>')
    .description("move a tenant to another tier (its usage-plan key moves to that tier's plan; a tenant without one gets one)")
    .action(
      action(async (tenantId: string, tier: string, _o: object, cmd: Command) => {
        const c = context(cmd);
        const before = await c.dir.getTenant(tenantId);
        const keys = usageKeys(c);
        if (before.usageKeyId) await keys.move(before.usageKeyId, before.tier, tier);
        else {
          // A tenant from before usage plans (or written by hand): give it its key now, in the new tier's plan.
          const created = await keys.create(tenantId, tier);
          await c.dir.setTenantUsageKey(tenantId, created.usageKey, created.usageKeyId);
        }
        const t = publicTenant(await c.dir.setTenantTier(tenantId, tier));
        c.out.result(t, () => `Tenant ${t.tenantId} is on tier ${t.tier} (was ${before.tier}).`);
      }),
    );
  tenants
    .command('list')
    .description('every tenant')
    .action(
      action(async (_o: object, cmd: Command) => {
        const c = context(cmd);
        const all = (await c.dir.listTenants()).map(publicTenant);
        c.out.result(all, () => table(all, ['tenantId', 'status', 'tier', 'name', 'createdAt']));
      }),
    );
  tenants
    .command('show <tenant>')
    .description('one tenant, with its API keys and members')
    .action(
      action(async (tenantId: string, _o: object, cmd: Command) => {
        const c = context(cmd);
        const t = publicTenant(await c.dir.getTenant(tenantId));
        const [keys, members] = await Promise.all([c.dir.listApiKeys(tenantId), c.dir.listMembers(tenantId)]);
        c.out.result({ ...t, apiKeys: keys, members }, () =>
          [
            table([t], ['tenantId', 'status', 'tier', 'name', 'createdAt', 'updatedAt']),
            '',
            'API keys:',
            table(keys, ['keyId', 'name', 'status', 'scopes', 'environment', 'createdAt', 'expires'].map((k) => k)).replace(/^/gm, '  '),
            '',
            'Members:',
            table(members, ['issuer', 'subject', 'role', 'createdAt']).replace(/^/gm, '  '),
          ].join('\n'),
        );
      }),
    );
  for (const [verb, status] of [
    ['suspend', 'suspended'],
    ['resume', 'active'],
  ] as const) {
    tenants
      .command(`${verb} <tenant>`)
      .description(verb === 'suspend' ? 'stop every credential of the tenant (like a revocation)' : 'let the tenant in again')
      .addOption(flushOption())
      .action(
        action(async (tenantId: string, o: { flush?: boolean }, cmd: Command) => {
          const c = context(cmd);
          const t = publicTenant(await c.dir.setTenantStatus(tenantId, status));
          const bound = verb === 'suspend' ? await revoked(c, 'tenantSuspended', 'tenants', o.flush) : undefined;
          c.out.result({ ...t, ...(bound ? { effectiveWithinSeconds: bound.effectiveWithinSeconds, flushed: bound.flushed } : {}) }, () =>
            [`Tenant ${t.tenantId} is ${t.status}.`, ...(bound ? [bound.text] : [])].join(' '),
          );
        }),
      );
  }

  // ---- API keys ------------------------------------------------------------------------------------------------
  const keys = program.command('keys').description("create, list, revoke and rotate a tenant's API keys");
  keys
    .command('create')
    .description('a new API key; the key is shown once, only its SHA-256 is stored')
    .requiredOption('--tenant <tenant>', 'the tenant the key acts for')
    .requiredOption('--name <name>', 'what the key is for, e.g. "billing server"')
    .option('--scope <scope>', 'a scope the key grants (repeat for more)', collect, [])
    .option('--expires-in <duration>', 'e.g. 90d; default: never')
    .action(
      action(async (o: { tenant: string; name: string; scope: string[]; expiresIn?: string }, cmd: Command) => {
        const c = context(cmd);
        const { key, record } = await c.dir.createApiKey({
          tenantId: o.tenant,
          name: o.name,
          scopes: o.scope,
          prefix: c.t.apiKeyPrefix,
          environment: c.t.environment,
          ...(o.expiresIn ? { expiresInSeconds: parseDuration(o.expiresIn, '--expires-in') } : {}),
        });
        c.out.result({ key, ...keyView(record) }, () => `${key}\n`);
        c.out.note(`Created ${record.keyId} for tenant ${record.tenantId}. The key above is shown once: store it now.`);
      }),
    );
  keys
    .command('list')
    .description("the tenant's keys (never the keys themselves)")
    .requiredOption('--tenant <tenant>', 'the tenant')
    .action(
      action(async (o: { tenant: string }, cmd: Command) => {
        const c = context(cmd);
        const list = (await c.dir.listApiKeys(o.tenant)).map(keyView);
        c.out.result(list, () => table(list, ['keyId', 'name', 'status', 'scopes', 'environment', 'createdAt', 'expires', 'replacedBy']));
      }),
    );
  keys
    .command('revoke <keyId>')
    .description('stop a key (within the documented bound; see --flush)')
    .requiredOption('--tenant <tenant>', "the key's tenant")
    .addOption(flushOption())
    .action(
      action(async (keyId: string, o: { tenant: string; flush?: boolean }, cmd: Command) => {
        const c = context(cmd);
        const r = keyView(await c.dir.revokeApiKey(o.tenant, keyId));
        const bound = await revoked(c, 'apiKeyRevoked', 'API keys', o.flush);
        c.out.result({ ...r, effectiveWithinSeconds: bound.effectiveWithinSeconds, flushed: bound.flushed }, () => `Revoked ${r.keyId}. ${bound.text}`);
      }),
    );
  keys
    .command('rotate <keyId>')
    .description('a new key with the same scopes; the old one keeps working for --grace, then stops')
    .requiredOption('--tenant <tenant>', "the key's tenant")
    .option('--grace <duration>', 'how long the old key keeps working (0 stops it now)', '24h')
    .action(
      action(async (keyId: string, o: { tenant: string; grace: string }, cmd: Command) => {
        const c = context(cmd);
        const r = await c.dir.rotateApiKey(o.tenant, keyId, parseDuration(o.grace, '--grace'), c.t.apiKeyPrefix);
        c.out.result({ key: r.key, ...keyView(r.record), old: keyView(r.old) }, () => `${r.key}\n`);
        c.out.note(
          `Created ${r.record.keyId} (shown once above). ${r.old.keyId} ${r.old.status === 'revoked' ? 'is revoked' : `stops working at ${isoSeconds(r.old.expiresAt)}`}.`,
        );
      }),
    );

  // ---- services and signers ------------------------------------------------------------------------------------
  // The same three commands for both kinds of caller with a secret of its own (SECRET_HOLDERS).
  for (const kind of SECRET_HOLDERS) {
    const group = program.command(kind.command).description(kind.summary);
    group
      .command('add <name>')
      .description(`create the secret of ${kind.holder} (printed once) and print the configuration entry it needs`)
      .option('--scope <scope>', `a scope the ${kind.noun} gets (repeat for more)`, collect, [])
      .action(
        action(async (name: string, o: { scope: string[] }, cmd: Command) => {
          const c = context(cmd);
          if (!kind.namePattern.test(name)) throw new UsageError(`name: a ${kind.noun} name is lowercase letters, digits and dashes`);
          // Not the stack's own `<stack>/<kind>/` names: a secret made here is referenced by id in the configuration.
          const secretId = kind.secretsOf(c.t)[name] ?? `gatehouse-${kind.command}/${name}`;
          const secret = randomBytes(32).toString('base64url');
          try {
            await c.secrets.send(new CreateSecretCommand({ Name: secretId, SecretString: secret, Description: kind.secretDescription(name) }));
          } catch (err) {
            // DirectoryError has no SIGNER_* codes: a signer's secret conflicts and is missing as a service's does.
            if (err instanceof ResourceExistsException) throw new DirectoryError(kind.errors.exists, `${kind.noun} ${name}: secret ${secretId} already exists`);
            throw err;
          }
          const entry = { name, secretId, scopes: o.scope };
          c.out.result({ ...entry, secret, configEntry: entry }, () => `${secret}\n`);
          c.out.note(
            `Created ${secretId}; the secret above is shown once. Add this to "${kind.command}" in the stack configuration and deploy (or restart local mode):\n  ${JSON.stringify(entry)}`,
          );
        }),
      );
    group
      .command('list')
      .description(`the configured ${kind.command} and the rotation state of their secrets`)
      .action(
        action(async (_o: object, cmd: Command) => {
          const c = context(cmd);
          const rows = await Promise.all(
            Object.entries(kind.secretsOf(c.t)).map(async ([name, secretId]) => {
              const d = await c.secrets.send(new DescribeSecretCommand({ SecretId: secretId }));
              const stages = Object.values(d.VersionIdsToStages ?? {}).flat();
              return {
                name,
                secretId,
                rotationEnabled: d.RotationEnabled === true,
                rotationDays: d.RotationRules?.AutomaticallyAfterDays,
                lastRotated: d.LastRotatedDate?.toISOString(),
                nextRotation: d.NextRotationDate?.toISOString(),
                rotationInFlight: stages.includes('AWSPENDING'),
              };
            }),
          );
          c.out.result(rows, () => table(rows, ['name', 'secretId', 'rotationEnabled', 'rotationDays', 'lastRotated', 'rotationInFlight']));
        }),
      );
    group
      .command('rotate <name>')
      .description(`rotate a ${kind.noun}'s secret now (AWS: Secrets Manager runs the rotation Lambda; local: the same steps in-process)`)
      .action(
        action(async (name: string, _o: object, cmd: Command) => {
          const c = context(cmd);
          const secretId = kind.secretsOf(c.t)[name];
          if (!secretId) throw new DirectoryError(kind.errors.notFound, `no ${kind.noun} ${name} in the configuration`);
          if (c.t.kind === 'local') {
            const r = await rotateNow(c.secrets, secretId);
            c.out.result({ name, secretId, versionId: r.versionId, mode: 'in-process' }, () => `Rotated ${name}: version ${r.versionId} is AWSCURRENT; the previous one keeps working for the grace period.`);
          } else {
            const r = await c.secrets.send(new RotateSecretCommand({ SecretId: secretId, RotateImmediately: true, ClientRequestToken: randomUUID() }));
            c.out.result({ name, secretId, versionId: r.VersionId, mode: 'secrets-manager' }, () => `Rotation of ${name} started (version ${r.VersionId}); Secrets Manager runs the four steps.`);
          }
        }),
      );
  }

  // ---- members -------------------------------------------------------------------------------------------------
  const members = program.command('members').description('membership mode: who belongs to a tenant, with which role');
  const issuerOption = () => new Option('--issuer <id>', "the user's issuer id from the configuration (default: the only one)");
  const issuerOf = (c: ReturnType<typeof context>, given: string | undefined) => {
    if (given) {
      if (!c.t.issuerIds.includes(given)) throw new UsageError(`--issuer: ${given} is not a configured issuer (${c.t.issuerIds.join(', ') || 'none'})`);
      return given;
    }
    if (c.t.issuerIds.length !== 1) throw new UsageError(`--issuer: required, one of ${c.t.issuerIds.join(', ') || '(no issuers configured)'}`);
    return c.t.issuerIds[0]!;
  };
  members
    .command('add')
    .description("add a user to a tenant, or change the user's role there")
    .requiredOption('--tenant <tenant>', 'the tenant')
    .requiredOption('--user <sub>', "the user's sub claim")
    .addOption(new Option('--role <role>', 'the role in the tenant').choices(MEMBER_ROLES).default('member'))
    .addOption(issuerOption())
    .action(
      action(async (o: { tenant: string; user: string; role: string; issuer?: string }, cmd: Command) => {
        const c = context(cmd);
        const m = await c.dir.addMember(o.tenant, issuerOf(c, o.issuer), o.user, o.role);
        c.out.result(m, () => `${m.issuer}:${m.subject} is ${m.role} of ${m.tenantId}.`);
      }),
    );
  members
    .command('remove')
    .description('remove a user from a tenant (within the documented bound; see --flush)')
    .requiredOption('--tenant <tenant>', 'the tenant')
    .requiredOption('--user <sub>', "the user's sub claim")
    .addOption(issuerOption())
    .addOption(flushOption())
    .action(
      action(async (o: { tenant: string; user: string; issuer?: string; flush?: boolean }, cmd: Command) => {
        const c = context(cmd);
        const issuer = issuerOf(c, o.issuer);
        await c.dir.removeMember(o.tenant, issuer, o.user);
        const bound = await revoked(c, 'memberRemoved', 'memberships (membership mode is off)', o.flush);
        c.out.result({ tenantId: o.tenant, issuer, subject: o.user, removed: true, effectiveWithinSeconds: bound.effectiveWithinSeconds, flushed: bound.flushed }, () => `Removed ${issuer}:${o.user} from ${o.tenant}. ${bound.text}`);
      }),
    );
  members
    .command('list')
    .description("the tenant's members")
    .requiredOption('--tenant <tenant>', 'the tenant')
    .action(
      action(async (o: { tenant: string }, cmd: Command) => {
        const c = context(cmd);
        const list = await c.dir.listMembers(o.tenant);
        c.out.result(list, () => table(list, ['issuer', 'subject', 'role', 'createdAt']));
      }),
    );

  // ---- sessions ------------------------------------------------------------------------------------------------
  program
    .command('sessions')
    .description('user sessions (Supabase session_id): revoke')
    .command('revoke <sessionId>')
    .description("deny a signed-out session's tokens until they expire (issuers with revokedSessions on)")
    .addOption(issuerOption())
    .option('--ttl <duration>', "how long to deny it: at least the issuer's token lifetime", '24h')
    .addOption(flushOption())
    .action(
      action(async (sessionId: string, o: { issuer?: string; ttl: string; flush?: boolean }, cmd: Command) => {
        const c = context(cmd);
        const r = await c.dir.revokeSession(issuerOf(c, o.issuer), sessionId, parseDuration(o.ttl, '--ttl'));
        const bound = await revoked(c, 'sessionRevoked', 'revoked sessions (no issuer has revokedSessions on)', o.flush);
        c.out.result({ ...r, effectiveWithinSeconds: bound.effectiveWithinSeconds, flushed: bound.flushed }, () => `Session ${r.sessionId} of ${r.issuer} is denied until ${isoSeconds(r.until)}. ${bound.text}`);
      }),
    );

  // ---- development tokens --------------------------------------------------------------------------------------
  program
    .command('tokens')
    .description('development tokens of the local issuer (local mode only)')
    .command('mint')
    .description('a Supabase-style access token signed by the local issuer; refuses anything but local mode')
    .requiredOption('--sub <sub>', 'the user id')
    .option('--tenant <tenant>', 'app_metadata.tenant_id')
    .option('--scope <scope>', 'app_metadata.scopes entry (repeat for more)', collect, [])
    .option('--role <role>', 'app_metadata.roles entry (repeat for more)', collect, [])
    .option('--ttl <duration>', 'lifetime', '1h')
    .action(
      action(async (o: { sub: string; tenant?: string; scope: string[]; role: string[]; ttl: string }, cmd: Command) => {
        const c = context(cmd);
        const issuer = c.t.localIssuer;
        if (c.t.kind !== 'local' || !issuer || !loopback(issuer.issuer) || !loopback(c.t.sdkEnv?.AWS_ENDPOINT_URL ?? '')) {
          throw new UsageError('tokens mint: works only against local mode (--local); it never signs for a deployed issuer');
        }
        const secret = await c.secrets.send(new GetSecretValueCommand({ SecretId: issuer.hs256SecretId }));
        const now = Math.floor(Date.now() / 1000);
        const ttl = parseDuration(o.ttl, '--ttl');
        const sessionId = randomUUID();
        const token = await new SignJWT({
          role: 'authenticated',
          aud: issuer.audience,
          session_id: sessionId,
          is_anonymous: false,
          app_metadata: { ...(o.tenant ? { tenant_id: o.tenant } : {}), scopes: o.scope, roles: o.role },
          user_metadata: {},
        })
          .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
          .setIssuer(issuer.issuer)
          .setSubject(o.sub)
          .setIssuedAt(now)
          .setExpirationTime(now + ttl)
          .sign(new TextEncoder().encode(secret.SecretString ?? ''));
        c.out.result({ token, sessionId, expiresAt: now + ttl }, () => token);
      }),
    );

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    exitCode = report(err, cli.io, argv.includes('--json'));
  } finally {
    for (const c of clients) c.destroy();
  }
  return exitCode;
}

function report(err: unknown, io: Io, json: boolean): number {
  if (err instanceof CommanderError) {
    // Commander has printed its own message (or the help); help and --version exit 0.
    return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  let code: number;
  let reason: string;
  let message: string;
  if (err instanceof UsageError) {
    [code, reason, message] = [EXIT.usage, 'USAGE', err.message];
  } else if (err instanceof DirectoryError) {
    [code, reason, message] = [DIRECTORY_ERRORS[err.code]?.exit ?? EXIT.failure, err.code, err.message];
  } else if (err instanceof Error && err.name === 'ConfigError') {
    [code, reason, message] = [EXIT.usage, 'CONFIG_INVALID', err.message];
  } else {
    // An AWS error: its name and status, never a request or response body.
    const e = summarizeError(err);
    const status = e?.status;
    [code, reason, message] = [EXIT.failure, String(e?.name ?? 'Error'), `${e?.name ?? 'error'}${status ? ` (HTTP ${status})` : ''}: ${credentialHint(e?.name)}`];
  }
  io.stderr(json ? `${JSON.stringify({ error: reason, message })}\n` : `gatehouse: ${message}\n`);
  return code;
}

function credentialHint(name: string | undefined): string {
  switch (name) {
    case 'CredentialsProviderError':
      return 'no AWS credentials (set AWS_PROFILE or the AWS_* variables, or use --local)';
    case 'ResourceNotFoundException':
      return 'the table or secret does not exist (check --table / the region)';
    case 'AccessDeniedException':
    case 'UnrecognizedClientException':
      return 'these AWS credentials may not do this';
    default:
      return 'the AWS call failed';
  }
}

function publicTenant(t: { tenantId: string; status: string; tier: string; name?: string; createdAt: string; updatedAt?: string; usageKey?: string; usageKeyId?: string }) {
  // The usage key's value is an API Gateway API key: print its id, never its value.
  const { usageKey: _value, ...rest } = t;
  return rest;
}

function keyView<K extends { expiresAt?: number }>(k: K) {
  return { ...k, ...(k.expiresAt !== undefined ? { expires: isoSeconds(k.expiresAt) } : {}) };
}

function loopback(url: string): boolean {
  try {
    const h = new URL(url).hostname;
    return h === '127.0.0.1' || h === 'localhost' || h === '[::1]';
  } catch {
    return false;
  }
}

function sdkConfig(env: Readonly<Record<string, string>>) {
  return {
    region: env.AWS_REGION ?? 'us-east-1',
    ...(env.AWS_ENDPOINT_URL ? { endpoint: env.AWS_ENDPOINT_URL } : {}),
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID ?? 'local', secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? 'local' },
  };
}
