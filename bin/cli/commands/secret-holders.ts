import { CreateSecretCommand, DescribeSecretCommand, ResourceExistsException, RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import type { Command } from 'commander';
import { randomBytes, randomUUID } from 'node:crypto';
import { CALLER_NAME_PATTERN } from '../../../contract/patterns';
import { DirectoryError, type DirectoryErrorCode } from '../../../control/directory/errors';
import { rotateNow } from '../../../control/rotation/rotate-now';
import { type Target, UsageError } from '../../../control/target';
import type { ContextFactory } from '../context';
import { action, collect } from '../options';
import { table } from '../output';

/**
 * The callers with a secret of their own in Secrets Manager, each managed by a command group of its name (add,
 * list, rotate): calling services (a bearer with X-Service-Name) and signers (HMAC-SHA256 signed requests).
 */
export interface SecretHolderKind {
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

/** Calling services and signers, in the order their command groups appear. */
export const SECRET_HOLDERS: readonly SecretHolderKind[] = [
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
 * `gatehouse services` and `gatehouse signers`: the same three commands (add, list, rotate) for both kinds of
 * caller with a secret of its own, one definition parameterized by {@link SecretHolderKind}.
 */
export function registerSecretHolderCommands(program: Command, context: ContextFactory): void {
  for (const kind of SECRET_HOLDERS) {
    const group = program.command(kind.command).description(kind.summary);
    addAdd(group, kind, context);
    addList(group, kind, context);
    addRotate(group, kind, context);
  }
}

function addAdd(group: Command, kind: SecretHolderKind, context: ContextFactory): void {
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
}

function addList(group: Command, kind: SecretHolderKind, context: ContextFactory): void {
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
}

function addRotate(group: Command, kind: SecretHolderKind, context: ContextFactory): void {
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
