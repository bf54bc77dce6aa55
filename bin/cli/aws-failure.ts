import { summarizeError } from '../../contract/aws-error';
import type { Target } from '../../control/target';

/**
 * What the tool says when an AWS call fails: which call (`DynamoDB PutItem`), why in words a person can act on
 * (no credentials, expired or unknown ones, access denied to an IAM action, a table or secret that does not exist,
 * throttling, an endpoint that cannot be reached), and the SDK error's name and HTTP status. Never the error's
 * message or a request or response body (they can echo input: contract/aws-error.ts), never a credential. The one
 * piece read from a message is the IAM action AWS names in an access-denied answer, and only in that action's shape.
 */

/** The call a failed SDK error came from, by error (set by {@link labelFailures}). */
const failedCalls = new WeakMap<object, { readonly service: string; readonly operation: string }>();

/** Services by SDK client: the name people know, and the IAM prefix when its actions are named after its operations. */
const SERVICES: Readonly<Record<string, { readonly name: string; readonly iam?: string }>> = {
  CloudFormationClient: { name: 'CloudFormation', iam: 'cloudformation' },
  DynamoDBClient: { name: 'DynamoDB', iam: 'dynamodb' },
  SecretsManagerClient: { name: 'Secrets Manager', iam: 'secretsmanager' },
  // API Gateway's IAM actions are HTTP verbs on resource paths (apigateway:POST), not operation names.
  APIGatewayClient: { name: 'API Gateway' },
};

type Middleware = (next: (args: unknown) => Promise<unknown>, context: { clientName?: string; commandName?: string }) => (args: unknown) => Promise<unknown>;

/**
 * Remembers, for every error a call of `client` throws, which call it was, so the tool can say what failed. The
 * middleware sits first (initialize step), so it sees the final error after the SDK's retries.
 */
export function labelFailures<C extends { middlewareStack: { add: (...args: never[]) => unknown } }>(client: C): C {
  const label: Middleware = (next, context) => async (args) => {
    try {
      return await next(args);
    } catch (err) {
      if (err !== null && typeof err === 'object') {
        failedCalls.set(err, { service: String(context.clientName), operation: String(context.commandName).replace(/Command$/, '') });
      }
      throw err;
    }
  };
  (client.middlewareStack.add as (mw: Middleware, opts: object) => void)(label, { step: 'initialize', name: 'gatehouseFailedCall', priority: 'high' });
  return client;
}

/** A failed command, as the tool reports it: the reason (`--json`'s `error`), the message, the exit code. */
export interface AwsFailure {
  readonly reason: string;
  readonly message: string;
  readonly exit: 1;
}

const CREDENTIALS_EXPIRED = new Set(['ExpiredToken', 'ExpiredTokenException', 'TokenRefreshRequired']);
const CREDENTIALS_UNKNOWN = new Set(['InvalidClientTokenId', 'UnrecognizedClientException', 'InvalidAccessKeyId']);
const SIGNATURE_WRONG = new Set(['SignatureDoesNotMatch', 'InvalidSignatureException', 'IncompleteSignature']);
const ACCESS_DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation']);
const THROTTLED = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottledException',
]);
/** Node's network error codes: nothing answered at the endpoint. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * The report of an error that is not the tool's own (an AWS SDK error, or an unexpected one). `target` is the run's
 * target when it was resolved, for the region and table a "not found" names.
 */
export function describeAwsFailure(err: unknown, target: Target | undefined): AwsFailure {
  const e = summarizeError(err);
  const name = e?.name ?? 'Error';
  const call = err !== null && typeof err === 'object' ? failedCalls.get(err) : undefined;
  const service = call ? SERVICES[call.service] : undefined;
  const code = e?.code ?? networkCode(err);
  const seen = [code && code !== name ? `${name} ${code}` : name, ...(e?.status ? [`HTTP ${e.status}`] : [])].join(', ');
  const why = ((): string | undefined => {
    if (name === 'CredentialsProviderError') return 'no usable AWS credentials: set AWS_PROFILE (after `aws sso login` for SSO) or the AWS_* variables, or use --local';
    if (CREDENTIALS_EXPIRED.has(name)) return 'the AWS credentials have expired: refresh them (`aws sso login`, or new session credentials)';
    if (CREDENTIALS_UNKNOWN.has(name)) return 'AWS does not know these credentials: check AWS_PROFILE or AWS_ACCESS_KEY_ID (and its session token)';
    if (SIGNATURE_WRONG.has(name)) return 'the AWS secret access key does not belong to the access key id: check the credentials';
    if (ACCESS_DENIED.has(name)) {
      const action = deniedAction(err) ?? (call && service?.iam ? `${service.iam}:${call.operation}` : undefined);
      return `access denied: these credentials may not ${action ? `call ${action}` : 'do this'}`;
    }
    if (name === 'ResourceNotFoundException') return notFound(call?.service, target);
    if (THROTTLED.has(name) || (err as { $retryable?: { throttling?: boolean } })?.$retryable?.throttling) return 'AWS is throttling these calls: try again in a moment';
    if (code && UNREACHABLE.has(code)) return `cannot reach the AWS endpoint: check the network, the region${target?.region ? ` (${target.region})` : ''} and AWS_ENDPOINT_URL if set`;
    return undefined;
  })();
  // An error no AWS call threw (no call, no HTTP status) is a bug or the environment's, not AWS's answer.
  const what = call ? `${service?.name ?? call.service} ${call.operation} failed` : (why ?? e?.status) ? 'an AWS call failed' : 'unexpected failure';
  return { reason: name, message: `${what} (${seen})${why ? `: ${why}` : ''}`, exit: 1 };
}

/** What does not exist, when a DynamoDB or Secrets Manager call says so. */
function notFound(client: string | undefined, t: Target | undefined): string {
  const where = t?.region ? ` in ${t.region}` : '';
  if (client === 'DynamoDBClient') return t ? `table ${t.tableName} does not exist${where} (check --stack-name, --table, --region)` : 'the table does not exist';
  if (client === 'SecretsManagerClient') return `the secret does not exist${where}; the stack's own are <stack name>/services/<name> and /signers/<name>: check --stack-name`;
  return `it does not exist${where}`;
}

/**
 * The network error code of an error whose `code` was lost: the SDK's retry middleware wraps a socket error it does
 * not see as an Error (one from another realm, as under jest) in a new Error that keeps only the text
 * ("... connect ECONNREFUSED 127.0.0.1:9"). Only a known code is taken from it.
 */
function networkCode(err: unknown): string | undefined {
  const message = (err as { message?: unknown })?.message;
  return typeof message === 'string' ? message.match(/\bE[A-Z_]{4,15}\b/g)?.find((c) => UNREACHABLE.has(c)) : undefined;
}

/**
 * The IAM action an access-denied message names ("... is not authorized to perform: dynamodb:PutItem on resource:
 * ..."), or undefined. Only a token of an action's shape is taken: the rest of the message (the caller's ARN, the
 * resource) is never printed.
 */
function deniedAction(err: unknown): string | undefined {
  const message = (err as { message?: unknown })?.message;
  if (typeof message !== 'string') return undefined;
  return /\bperform: ([a-z0-9-]{2,32}:[A-Za-z0-9*]{2,64})(?![A-Za-z0-9:])/.exec(message)?.[1];
}
