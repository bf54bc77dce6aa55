import type { Command } from 'commander';
import { UsageError, parseDuration } from '../../../control/target';
import type { ContextFactory } from '../context';
import { action, collect, flushOption } from '../options';
import { isoSeconds, table } from '../output';
import { revoked } from '../revocation';

/** `gatehouse keys`: create, list, revoke, rotate a tenant's API keys. */
export function registerKeyCommands(program: Command, context: ContextFactory): void {
  const keys = program.command('keys').description("create, list, revoke and rotate a tenant's API keys");
  addCreate(keys, context);
  addList(keys, context);
  addRevoke(keys, context);
  addRotate(keys, context);
}

function addCreate(keys: Command, context: ContextFactory): void {
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
          ...(c.t.apiKeysPerTenant !== undefined ? { maxKeysPerTenant: c.t.apiKeysPerTenant } : {}),
          ...(o.expiresIn ? { expiresInSeconds: parseDuration(o.expiresIn, '--expires-in') } : {}),
        });
        c.out.result({ key, ...keyView(record) }, () => `${key}\n`);
        c.out.note(`Created ${record.keyId} for tenant ${record.tenantId}. The key above is shown once: store it now.`);
      }),
    );
}

function addList(keys: Command, context: ContextFactory): void {
  keys
    .command('list')
    .description("the tenant's keys (never the keys themselves): all of them, newest first, or one page with --limit/--cursor")
    .requiredOption('--tenant <tenant>', 'the tenant')
    .option('--limit <n>', 'one page of at most n keys (1-100), in key id order, as GET /v1/api-keys pages')
    .option('--cursor <cursor>', 'the page after the one that printed this cursor')
    .action(
      action(async (o: { tenant: string; limit?: string; cursor?: string }, cmd: Command) => {
        const c = context(cmd);
        const columns = ['keyId', 'name', 'status', 'scopes', 'environment', 'createdAt', 'expires', 'replacedBy'];
        if (o.limit === undefined && o.cursor === undefined) {
          const list = (await c.dir.listApiKeys(o.tenant)).map(keyView);
          c.out.result(list, () => table(list, columns));
          return;
        }
        const page = await c.dir.listApiKeyPage(o.tenant, { ...(o.limit !== undefined ? { limit: pageLimit(o.limit) } : {}), ...(o.cursor !== undefined ? { cursor: o.cursor } : {}) });
        const items = page.items.map(keyView);
        c.out.result({ items, ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) }, () => table(items, columns));
        if (page.nextCursor) c.out.note(`More keys: --cursor ${page.nextCursor}`);
      }),
    );
}

/** --limit as a whole number; the range (1-100) is the directory's to check, as for the HTTP listing. */
function pageLimit(value: string): number {
  if (!/^[0-9]{1,4}$/.test(value)) throw new UsageError('--limit: a whole number of keys, 1-100');
  return Number(value);
}

function addRevoke(keys: Command, context: ContextFactory): void {
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
}

function addRotate(keys: Command, context: ContextFactory): void {
  keys
    .command('rotate <keyId>')
    .description('a new key with the same scopes; the old one keeps working for --grace, then stops')
    .requiredOption('--tenant <tenant>', "the key's tenant")
    .option('--grace <duration>', 'how long the old key keeps working (0 stops it now)', '24h')
    .action(
      action(async (keyId: string, o: { tenant: string; grace: string }, cmd: Command) => {
        const c = context(cmd);
        const r = await c.dir.rotateApiKey(o.tenant, keyId, parseDuration(o.grace, '--grace'), c.t.apiKeyPrefix, c.t.apiKeysPerTenant);
        c.out.result({ key: r.key, ...keyView(r.record), old: keyView(r.old) }, () => `${r.key}\n`);
        c.out.note(
          `Created ${r.record.keyId} (shown once above). ${r.old.keyId} ${r.old.status === 'revoked' ? 'is revoked' : `stops working at ${isoSeconds(r.old.expiresAt)}`}.`,
        );
      }),
    );
}

/** A key record as printed: its expiry also as an ISO timestamp. */
function keyView<K extends { expiresAt?: number }>(k: K) {
  return { ...k, ...(k.expiresAt !== undefined ? { expires: isoSeconds(k.expiresAt) } : {}) };
}
