import { type Command, Option } from 'commander';
import { MEMBER_ROLES } from '../../../contract/table';
import type { ContextFactory } from '../context';
import { action, flushOption, issuerOf, issuerOption } from '../options';
import { table } from '../output';
import { revoked } from '../revocation';

/** `gatehouse members` (membership mode): add, remove, list who belongs to a tenant, with which role. */
export function registerMemberCommands(program: Command, context: ContextFactory): void {
  const members = program.command('members').description('membership mode: who belongs to a tenant, with which role');
  addAdd(members, context);
  addRemove(members, context);
  addList(members, context);
}

function addAdd(members: Command, context: ContextFactory): void {
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
}

function addRemove(members: Command, context: ContextFactory): void {
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
}

function addList(members: Command, context: ContextFactory): void {
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
}
