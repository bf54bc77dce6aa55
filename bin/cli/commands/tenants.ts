import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import type { Command } from 'commander';
import { DirectoryError } from '../../../control/directory/errors';
import { UsageError } from '../../../control/target';
import { UsageKeys } from '../../../control/usage-keys';
import type { CommandContext, ContextFactory } from '../context';
import { action, flushOption } from '../options';
import { table } from '../output';
import { revoked } from '../revocation';

/** `gatehouse tenants`: create, set-tier, list, show, suspend, resume. */
export function registerTenantCommands(program: Command, context: ContextFactory): void {
  const tenants = program.command('tenants').description('create, list, show, suspend and resume tenants');
  addCreate(tenants, context);
  addSetTier(tenants, context);
  addList(tenants, context);
  addShow(tenants, context);
  addSuspendResume(tenants, context);
}

function addCreate(tenants: Command, context: ContextFactory): void {
  tenants
    .command('create <tenant>')
    .description(
      "onboard a tenant with its own usage-plan key in its tier's plan. A tenant id is 1-128 of A-Z a-z 0-9 _ -, starting " +
        'with a letter or digit, and case-sensitive (Acme and acme are two tenants): a slug (acme) or the organization id ' +
        'your identity provider issues (org_01EHZNVPK3SFK441A1RGBFSHRT, a GUID); no #, *, /, ., spaces or non-ASCII',
    )
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
        const name = o.name ? { name: o.name } : {};
        if (c.t.api === 'http') {
          // An HTTP API has no usage plans: the tenant gets no usage-plan key (the handlers' limiter limits it).
          const t = await c.dir.createTenant({ tenantId, tier: o.tier, ...name });
          c.out.result(publicTenant(t), () => `Created tenant ${t.tenantId} (tier ${t.tier}; an HTTP API has no usage plans).`);
          return;
        }
        const keys = usageKeys(c);
        const { usageKey, usageKeyId } = await keys.create(tenantId, o.tier);
        try {
          const t = await c.dir.createTenant({ tenantId, tier: o.tier, usageKey, usageKeyId, ...name });
          c.out.result(publicTenant(t), () => `Created tenant ${t.tenantId} (tier ${t.tier}, usage-plan key ${usageKeyId}).`);
        } catch (err) {
          await keys.remove(usageKeyId);
          throw err;
        }
      }),
    );
}

function addSetTier(tenants: Command, context: ContextFactory): void {
  tenants
    .command('set-tier <tenant> <tier>')
    .description("move a tenant to another tier (its usage-plan key moves to that tier's plan; a tenant without one gets one)")
    .action(
      action(async (tenantId: string, tier: string, _o: object, cmd: Command) => {
        const c = context(cmd);
        const before = await c.dir.getTenant(tenantId);
        // An HTTP API has no usage plans: only the tenant record's tier changes.
        if (c.t.api !== 'http') await moveUsageKey(c, before, tier);
        const t = publicTenant(await c.dir.setTenantTier(tenantId, tier));
        c.out.result(t, () => `Tenant ${t.tenantId} is on tier ${t.tier} (was ${before.tier}).`);
      }),
    );
}

function addList(tenants: Command, context: ContextFactory): void {
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
}

function addShow(tenants: Command, context: ContextFactory): void {
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
}

function addSuspendResume(tenants: Command, context: ContextFactory): void {
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
}

/** Moves a tenant's usage-plan key to `tier`'s plan; a tenant without one (from before usage plans, or written by hand) gets one there. */
async function moveUsageKey(c: CommandContext, before: { tenantId: string; tier: string; usageKeyId?: string }, tier: string): Promise<void> {
  const keys = usageKeys(c);
  if (before.usageKeyId) {
    await keys.move(before.usageKeyId, before.tier, tier);
    return;
  }
  const created = await keys.create(before.tenantId, tier);
  await c.dir.setTenantUsageKey(before.tenantId, created.usageKey, created.usageKeyId);
}

/** The usage-plan keys of the target's stage (each tenant has one, in its tier's plan). */
function usageKeys(c: CommandContext): UsageKeys {
  const stage = c.t.stage;
  if (!stage) throw new UsageError('tenants: with --table, needs --rest-api-id or GATEHOUSE_REST_API_ID (the usage plans are on its stage; the stack lookup finds it)');
  const api = c.track(new APIGatewayClient(c.sdk));
  return new UsageKeys(api, stage.restApiId, stage.stageName);
}

function publicTenant(t: { tenantId: string; status: string; tier: string; name?: string; createdAt: string; updatedAt?: string; usageKey?: string; usageKeyId?: string }) {
  // The usage key's value is an API Gateway API key: print its id, never its value.
  const { usageKey: _value, ...rest } = t;
  return rest;
}
