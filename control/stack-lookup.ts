import { type CloudFormationClient, DescribeStacksCommand, GetTemplateCommand } from '@aws-sdk/client-cloudformation';
import { CONFIG_METADATA_KEY, STACK_OUTPUTS } from '../contract/stack-outputs';

/**
 * Finding a deployed Gatehouse stack by its name (`gatehouse --stack-name`): CloudFormation's DescribeStacks for its
 * outputs (contract/stack-outputs.ts) and GetTemplate for the configuration document it was deployed with (the
 * template's `Metadata` entry), so the tool needs no name, id or file copied by hand. The IAM actions are
 * `cloudformation:DescribeStacks` and `cloudformation:GetTemplate` on the stack.
 */

/** Why a stack cannot be the tool's target, each with the exit code the tool ends with. */
export const STACK_ERRORS = {
  /** No stack of that name in that region (or not one the credentials can see): "not found", like a tenant. */
  STACK_NOT_FOUND: { exit: 3 },
  /** The stack exists but lacks an output or the metadata: another stack, or one deployed by an older version. */
  NOT_A_GATEHOUSE_STACK: { exit: 2 },
} as const;
export type StackErrorCode = keyof typeof STACK_ERRORS;

export class StackError extends Error {
  constructor(
    readonly code: StackErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'StackError';
  }
}

/** What a deployed stack tells the tool. */
export interface DeployedStack {
  readonly name: string;
  readonly region: string;
  readonly tableName: string;
  readonly restApiId: string;
  readonly apiUrl: string;
  /** The stack configuration document as the template holds it (unparsed); absent when not asked for. */
  readonly config?: unknown;
}

/** CloudFormation's own rule for stack names; checked first, so a name is only ever echoed in this shape. */
export const STACK_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;

/** An AWS region's shape (`eu-west-1`, `us-gov-west-1`, `cn-north-1`). */
export const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/**
 * The stack `name` in the region `cfn` is configured for: its outputs and, with `withConfig`, the configuration
 * document from its template (both calls at once). A missing stack is STACK_NOT_FOUND; a stack without the outputs
 * or the metadata is NOT_A_GATEHOUSE_STACK, naming what is missing. Other failures are the SDK's errors, unchanged.
 */
export async function findStack(cfn: CloudFormationClient, name: string, region: string, opts: { readonly withConfig: boolean }): Promise<DeployedStack> {
  const notFound = () => new StackError('STACK_NOT_FOUND', `stack ${name} not found in ${region} (check --stack-name and --region)`);
  const missingStack = (err: unknown): never => {
    throw isMissingStack(err) ? notFound() : err;
  };
  const [stack, template] = await Promise.all([
    cfn.send(new DescribeStacksCommand({ StackName: name })).then((r) => r.Stacks?.[0], missingStack),
    opts.withConfig ? cfn.send(new GetTemplateCommand({ StackName: name, TemplateStage: 'Original' })).then((r) => r.TemplateBody, missingStack) : undefined,
  ]);
  if (!stack) throw notFound();
  const outputs = new Map((stack.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]));
  const missing = Object.values(STACK_OUTPUTS)
    .filter((key) => !outputs.get(key))
    .map((key) => `output ${key}`);
  const config = opts.withConfig ? configOf(template) : undefined;
  const noConfig = opts.withConfig && config === undefined;
  if (noConfig) missing.push(`template metadata ${CONFIG_METADATA_KEY}`);
  if (missing.length) {
    const status = stack.StackStatus && !/^(CREATE|UPDATE|IMPORT)_COMPLETE$/.test(stack.StackStatus) ? ` (status ${stack.StackStatus})` : '';
    // Outputs present but no document: a stack from before the metadata, which --config can still serve.
    const what = noConfig && missing.length === 1 ? 'Redeploy it, or pass --config <the file it was deployed with>.' : 'Check --stack-name and --region, or pass --table and --config.';
    throw new StackError('NOT_A_GATEHOUSE_STACK', `stack ${name} in ${region}${status} has no ${missing.join(', ')}: not a Gatehouse stack, or deployed by an older version. ${what}`);
  }
  return {
    name,
    region,
    tableName: outputs.get(STACK_OUTPUTS.tableName)!,
    restApiId: outputs.get(STACK_OUTPUTS.restApiId)!,
    apiUrl: outputs.get(STACK_OUTPUTS.apiUrl)!,
    ...(opts.withConfig ? { config } : {}),
  };
}

/**
 * The region the tool uses: `given` (--region), else the SDK's own chain (AWS_REGION, the profile's region), or
 * undefined when there is none (the SDK would only say "Region is missing" at the first call; the caller says what
 * to do about it).
 */
export async function regionOf(cfn: CloudFormationClient, given: string | undefined): Promise<string | undefined> {
  if (given !== undefined) return given;
  try {
    return await cfn.config.region();
  } catch (err) {
    if (err instanceof Error && /^Region is missing/.test(err.message)) return undefined;
    throw err;
  }
}

/**
 * CloudFormation answers a missing stack with a ValidationError "Stack with id <name> does not exist" (also for one
 * the credentials may not see). Recognised by name and message, but never printed: the tool says it in its own words.
 */
function isMissingStack(err: unknown): boolean {
  const e = err as { name?: unknown; message?: unknown } | undefined;
  return e?.name === 'ValidationError' && typeof e.message === 'string' && /^Stack with id \S+ does not exist$/.test(e.message);
}

/**
 * The configuration document in a template's metadata, or undefined when the template has none (or is not JSON:
 * CDK writes JSON). Written as an object; a JSON string is read too, in case a stack writes the document that way.
 */
function configOf(templateBody: string | undefined): unknown {
  const parse = (s: string): unknown => {
    try {
      return JSON.parse(s);
    } catch {
      return undefined;
    }
  };
  const template = templateBody === undefined ? undefined : parse(templateBody);
  const entry = (template as { Metadata?: Record<string, unknown> } | undefined)?.Metadata?.[CONFIG_METADATA_KEY];
  return typeof entry === 'string' ? parse(entry) : (entry ?? undefined);
}
