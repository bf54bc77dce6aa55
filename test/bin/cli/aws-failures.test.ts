import { CloudFormationClient, CreateStackCommand } from '@aws-sdk/client-cloudformation';
import { EXIT } from '../../../bin/cli/program';
import { startAuthEmulator, type AuthEmulator, type Credentials } from '../../support/auth-emulator';
import { dynamoClient, uniqueName } from '../../support/aws';
import { gatehouse } from '../../support/cli';
import { DEAD_ENDPOINT, type FaultServer, dynamoDbErrorServer, throttlingDynamoDbServer, withEnv } from '../../support/faults';
import { acmeConfig, createStack, gatehouseMetadata, gatehouseOutputs, stackFixture } from '../../support/stacks';

/**
 * What `gatehouse` says when AWS fails: which call, why (in words a person can act on), the SDK error's name and
 * status, and the exit code; never a credential, a message from AWS, or a body. Each fault is produced for real
 * where something can produce it: the SDK itself (no region, no credentials), the emulator (a missing table, an
 * unknown access key, a wrong secret, CloudFormation's access denied, on a second moto that enforces IAM), a dead
 * port (unreachable). A loopback server answering as DynamoDB does stands in only where no emulator answers:
 * throttling, expired credentials, and DynamoDB's access denied (moto answers JSON services' auth failures in XML).
 */
const dynamo = dynamoClient();
const fx = stackFixture('Fail');
const { stackName, table, tenant, cleanups } = fx;

beforeAll(() => fx.setup(dynamo));
afterAll(async () => {
  await fx.teardown();
  dynamo.destroy();
});

/** No credentials anywhere the SDK looks (variables, files, container and instance metadata). */
const NO_CREDENTIALS = {
  AWS_ACCESS_KEY_ID: undefined,
  AWS_SECRET_ACCESS_KEY: undefined,
  AWS_SESSION_TOKEN: undefined,
  AWS_PROFILE: undefined,
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
  AWS_CONFIG_FILE: '/nonexistent/config',
  AWS_WEB_IDENTITY_TOKEN_FILE: undefined,
  AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: undefined,
  AWS_CONTAINER_CREDENTIALS_FULL_URI: undefined,
  AWS_EC2_METADATA_DISABLED: 'true',
};

describe('gatehouse on AWS failures: the SDK, the emulator and the network', () => {
  it('without a region says to pass --region (exit 2), before any call', async () => {
    const r = await withEnv({ AWS_REGION: undefined, AWS_DEFAULT_REGION: undefined, AWS_PROFILE: undefined, AWS_CONFIG_FILE: '/nonexistent/config' }, () =>
      gatehouse(['--stack-name', stackName, 'keys', 'list', '--tenant', tenant]),
    );
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toBe('gatehouse: no AWS region: pass --region or set AWS_REGION (or --local, against `npm start`)\n');
  });

  it('without credentials says so, naming the call (exit 1)', async () => {
    const r = await withEnv(NO_CREDENTIALS, () => gatehouse(['--json', '--stack-name', stackName, 'keys', 'list', '--tenant', tenant]));
    expect(r.code).toBe(EXIT.failure);
    expect(JSON.parse(r.stderr)).toEqual({
      error: 'CredentialsProviderError',
      message: expect.stringMatching(
        /^CloudFormation (DescribeStacks|GetTemplate) failed \(CredentialsProviderError\): no usable AWS credentials: set AWS_PROFILE .* or use --local$/,
      ),
    });
  });

  it('says an endpoint that refuses connections cannot be reached', async () => {
    const r = await withEnv({ AWS_ENDPOINT_URL: DEAD_ENDPOINT, AWS_MAX_ATTEMPTS: '1' }, () => gatehouse(['--stack-name', stackName, 'keys', 'list', '--tenant', tenant]));
    expect(r.code).toBe(EXIT.failure);
    expect(r.stderr).toMatch(
      /^gatehouse: CloudFormation (DescribeStacks|GetTemplate) failed \(Error ECONNREFUSED\): cannot reach the AWS endpoint: check the network, the region and AWS_ENDPOINT_URL if set\n$/,
    );
  });

  it("names the table the stack points at when it does not exist in the stack's region", async () => {
    const gone = uniqueName('Gone');
    const missingTable = uniqueName('cli-missing');
    cleanups.push(await createStack({ name: gone, outputs: gatehouseOutputs(missingTable), metadata: gatehouseMetadata(acmeConfig()) }));

    const r = await gatehouse(['--stack-name', gone, 'keys', 'list', '--tenant', tenant]);
    expect(r.code).toBe(EXIT.failure);
    expect(r.stderr).toBe(
      `gatehouse: DynamoDB Query failed (ResourceNotFoundException, HTTP 400): table ${missingTable} does not exist in us-east-1 (check --stack-name, --table, --region)\n`,
    );
  });
});

describe('gatehouse on AWS answers no emulator gives on demand (a loopback server answering as DynamoDB)', () => {
  let server: FaultServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  /** The tool with the stack found on the emulator and DynamoDB's calls answered by `server`. */
  const withDynamoDbAt = (url: string, ...args: string[]) =>
    withEnv({ AWS_ENDPOINT_URL_DYNAMODB: url, AWS_MAX_ATTEMPTS: '1' }, () => gatehouse(['--stack-name', stackName, ...args]));

  it('says AWS is throttling', async () => {
    server = await throttlingDynamoDbServer();
    const r = await withDynamoDbAt(server.url, 'keys', 'list', '--tenant', tenant);
    expect(r.code).toBe(EXIT.failure);
    expect(r.stderr).toBe('gatehouse: DynamoDB Query failed (ProvisionedThroughputExceededException, HTTP 400): AWS is throttling these calls: try again in a moment\n');
  });

  it('says the credentials have expired', async () => {
    server = await dynamoDbErrorServer('ExpiredTokenException', 'The security token included in the request is expired');
    const r = await withDynamoDbAt(server.url, 'keys', 'list', '--tenant', tenant);
    expect(r.stderr).toBe('gatehouse: DynamoDB Query failed (ExpiredTokenException, HTTP 400): the AWS credentials have expired: refresh them (`aws sso login`, or new session credentials)\n');
  });

  it('names the IAM action denied, and nothing else of the answer (the ARNs in it)', async () => {
    const denial = 'User: arn:aws:iam::123456789012:user/ci is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:us-east-1:123456789012:table/t';
    server = await dynamoDbErrorServer('AccessDeniedException', denial);
    const r = await withDynamoDbAt(server.url, 'keys', 'create', '--tenant', tenant, '--name', 'denied');
    expect(r.code).toBe(EXIT.failure);
    expect(r.stderr).toBe('gatehouse: DynamoDB TransactWriteItems failed (AccessDeniedException, HTTP 400): access denied: these credentials may not call dynamodb:PutItem\n');
    expect(r.stdout).toBe('');
  });

  it('names the call when AWS does not name the action', async () => {
    server = await dynamoDbErrorServer('AccessDeniedException', 'Access denied');
    const r = await withDynamoDbAt(server.url, 'keys', 'list', '--tenant', tenant);
    expect(r.stderr).toBe('gatehouse: DynamoDB Query failed (AccessDeniedException, HTTP 400): access denied: these credentials may not call dynamodb:Query\n');
  });
});

describe('gatehouse against an emulator that enforces IAM', () => {
  let auth: AuthEmulator;
  let describeOnly: Credentials;
  const name = uniqueName('Auth');

  beforeAll(async () => {
    auth = await startAuthEmulator();
    const cfn = new CloudFormationClient({ endpoint: auth.endpoint, maxAttempts: 1 });
    const outputs = Object.fromEntries(Object.entries(gatehouseOutputs(table)).map(([k, v]) => [k, { Value: v }]));
    const template = { Metadata: gatehouseMetadata(acmeConfig()), Resources: { Handle: { Type: 'AWS::CloudFormation::WaitConditionHandle' } }, Outputs: outputs };
    await cfn.send(new CreateStackCommand({ StackName: name, TemplateBody: JSON.stringify(template) }));
    cfn.destroy();
    describeOnly = await auth.user(['cloudformation:DescribeStacks']);
    await auth.enforce();
  }, 60_000);
  afterAll(() => auth?.stop());

  /** The tool against the IAM-enforcing emulator, signing with `creds`; asserts nothing of them is printed. */
  async function as(creds: Credentials, ...args: string[]) {
    const r = await withEnv({ AWS_ENDPOINT_URL: auth.endpoint, AWS_ACCESS_KEY_ID: creds.accessKeyId, AWS_SECRET_ACCESS_KEY: creds.secretAccessKey, AWS_MAX_ATTEMPTS: '1' }, () =>
      gatehouse(['--stack-name', name, ...args]),
    );
    for (const printed of [r.stdout, r.stderr]) {
      expect(printed).not.toContain(creds.accessKeyId);
      expect(printed).not.toContain(creds.secretAccessKey);
      expect(printed).not.toContain('arn:aws:iam');
    }
    return r;
  }

  it('names the CloudFormation action the credentials may not call', async () => {
    const r = await as(describeOnly, 'keys', 'list', '--tenant', tenant);
    expect(r.code).toBe(EXIT.failure);
    expect(r.stderr).toBe('gatehouse: CloudFormation GetTemplate failed (AccessDenied, HTTP 403): access denied: these credentials may not call cloudformation:GetTemplate\n');
  });

  it('says AWS does not know an access key', async () => {
    const r = await as({ accessKeyId: 'AKIAUNKNOWNKEY123456', secretAccessKey: 'x'.repeat(40) }, '--json', 'keys', 'list', '--tenant', tenant);
    expect(r.code).toBe(EXIT.failure);
    expect(JSON.parse(r.stderr)).toEqual({
      error: 'InvalidClientTokenId',
      message: expect.stringMatching(
        /^CloudFormation (DescribeStacks|GetTemplate) failed \(InvalidClientTokenId, HTTP 403\): AWS does not know these credentials: check AWS_PROFILE or AWS_ACCESS_KEY_ID/,
      ),
    });
  });

  it('says the secret access key does not go with the key id', async () => {
    const r = await as({ ...describeOnly, secretAccessKey: `${describeOnly.secretAccessKey.slice(0, -4)}AAAA` }, 'keys', 'list', '--tenant', tenant);
    expect(r.code).toBe(EXIT.failure);
    expect(r.stderr).toMatch(/^gatehouse: CloudFormation (DescribeStacks|GetTemplate) failed \(SignatureDoesNotMatch, HTTP 403\): the AWS secret access key does not belong/);
  });
});
