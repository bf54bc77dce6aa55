/**
 * A rotation while a calling service keeps calling the real authorizer: the rotation steps run against the emulator
 * (moto) while concurrent clients send `X-Service-Name` + `Authorization: Bearer <secret>` to the authorizer, and
 * switch from the old secret to the new one at a random moment after the new version exists. Nothing is mocked
 * except one fault moto cannot produce (an AWSPENDING version without a value), injected as SDK middleware.
 * Secret values are never printed: failures report counts, reason codes and timings.
 */
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { randomBytes, randomUUID } from 'node:crypto';
import type { AuthorizerConfigInput } from '../../../contract/config';
import { evaluatePolicy, type PolicyDocument } from '../../../lambdas/authorizer/policy';
import { rotateNow } from '../../../control/rotation/rotate-now';
import { ROTATION_STEPS, createRotationHandler } from '../../../control/rotation/steps';
import { uniqueName } from '../../support/aws';
import { API_ARN_PREFIX, type Fixture, TEST_ROUTES, authorizerEvent, createFixture } from '../../support/fixture';

let fx: Fixture;
let sm: SecretsManagerClient;

beforeAll(async () => {
  fx = await createFixture();
  sm = new SecretsManagerClient({});
});
afterAll(async () => {
  sm.destroy();
  await fx.close();
});

// The service route of the shared route table, and the service the fixture configures.
const route = TEST_ROUTES.find((r) => r.accepts?.includes('service'))!;
const request = (secret: string): APIGatewayRequestAuthorizerEvent =>
  authorizerEvent({ Authorization: `Bearer ${secret}`, 'X-Service-Name': fx.serviceName }, route.method, route.path);

type Authorize = ReturnType<Fixture['authorizer']>;

/** API Gateway's answer: 200 (Allow on this route), 403, 401 or 500. */
async function status(authorize: Authorize, secret: string): Promise<number> {
  try {
    const result = await authorize(request(secret));
    return evaluatePolicy(result.policyDocument as PolicyDocument, `${API_ARN_PREFIX}/${route.method}${route.path}`) === 'Allow' ? 200 : 403;
  } catch (err) {
    return (err as Error).message === 'Unauthorized' ? 401 : 500;
  }
}

/** A service secret of its own for each test, and an authorizer (fresh caches) that knows the service by it. */
async function serviceSecret(config: Partial<AuthorizerConfigInput> = {}, deps: Parameters<Fixture['authorizer']>[1] = {}) {
  const secretId = uniqueName('svc-rotating');
  const initial = randomBytes(32).toString('base64url');
  await sm.send(new CreateSecretCommand({ Name: secretId, SecretString: initial }));
  const reasons: string[] = [];
  const logger = {
    info: (m: string, f?: Record<string, unknown>) => void (m === 'decision' && f?.decision !== 'allow' && reasons.push(String(f?.reason))),
    warn: (m: string, f?: Record<string, unknown>) => void (m === 'decision' && reasons.push(String(f?.reason))),
    error: (m: string, f?: Record<string, unknown>) => void (m === 'decision' && reasons.push(String(f?.reason))),
  };
  const services = [{ name: fx.serviceName, secretId, scopes: ['jobs:run'] }];
  const authorize = fx.authorizer({ services, ...config }, { logger, ...deps });
  return { secretId, initial, authorize, reasons, services };
}

const yieldToIo = () => new Promise<void>((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
async function until(what: string, cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(2);
  }
}

const MIN_REQUESTS_PER_SECRET = 100;

/**
 * `rotations` rotations one after the other (each step through the rotation handler, as Secrets Manager calls
 * them), while `workers` clients call the authorizer without pause. Once the new version exists the clients switch
 * to it at a random moment (during or after the remaining steps); the next rotation starts once the new value has
 * been used MIN_REQUESTS_PER_SECRET times.
 */
async function rotateUnderLoad(opts: { rotations: number; config?: Partial<AuthorizerConfigInput>; workers?: number; switchJitterMs?: number }) {
  const s = await serviceSecret(opts.config ?? {});
  const values = [s.initial];
  const counts = [0];
  const failures: { value: number; status: number }[] = [];
  const switchDelays: number[] = [];
  const stepsDoneAtSwitch: number[] = [];
  let presented = 0; // index into values
  let stop = false;

  const worker = async () => {
    while (!stop) {
      const i = presented;
      const code = await status(s.authorize, values[i]!);
      counts[i]!++;
      if (code !== 200) failures.push({ value: i, status: code });
      await yieldToIo();
    }
  };
  const clients = Array.from({ length: opts.workers ?? 4 }, worker);

  const rotate = createRotationHandler({
    secretsManager: sm,
    startedBy: 'in-process',
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    generate: () => {
      const v = randomBytes(32).toString('base64url');
      values.push(v);
      counts.push(0);
      return v;
    },
  });
  try {
    for (let r = 1; r <= opts.rotations; r++) {
      await until(`${MIN_REQUESTS_PER_SECRET} requests with secret #${r - 1}`, () => counts[r - 1]! >= MIN_REQUESTS_PER_SECRET);
      const token = randomUUID();
      // The switch: a random moment after the new version exists, i.e. a random number of milliseconds after a
      // random step from createSecret on has returned (so it may land during a later step, or after finishSecret).
      const afterStep = 1 + Math.floor(Math.random() * ROTATION_STEPS.length);
      const delay = Math.floor(Math.random() * (opts.switchJitterMs ?? 15));
      switchDelays.push(delay);
      let stepsDone = 0;
      let switched: Promise<void> | undefined;
      for (const step of ROTATION_STEPS) {
        await rotate({ SecretId: s.secretId, ClientRequestToken: token, Step: step });
        stepsDone++;
        if (stepsDone === afterStep) {
          switched = sleep(delay).then(() => {
            stepsDoneAtSwitch.push(stepsDone);
            presented = r;
          });
        }
      }
      await switched;
      await until(`${MIN_REQUESTS_PER_SECRET} requests with secret #${r}`, () => counts[r]! >= MIN_REQUESTS_PER_SECRET);
    }
  } finally {
    stop = true;
    await Promise.all(clients);
  }
  // Counts, timings and reason codes only: never a value.
  const report = { counts, failures: failures.slice(0, 10), failureCount: failures.length, reasons: [...new Set(s.reasons)], switchDelays, stepsDoneAtSwitch };
  return { ...s, values, counts, failures, report };
}

describe('a rotation under load', () => {
  it('fails no request while the client switches from the old secret to the new one at a random moment; afterwards the old one lasts exactly the grace period', async () => {
    const run = await rotateUnderLoad({ rotations: 1 });

    expect({ failures: run.failures.length, report: run.report }).toEqual({ failures: 0, report: run.report });
    expect(run.counts[0]).toBeGreaterThanOrEqual(MIN_REQUESTS_PER_SECRET);
    expect(run.counts[1]).toBeGreaterThanOrEqual(MIN_REQUESTS_PER_SECRET);

    // Afterwards: AWSPREVIOUS (the pre-rotation secret) works until previousGraceSeconds after the new version was
    // created. Moto keeps creation times in whole seconds and its ListSecretVersionIds reports the time of the call
    // as CreatedDate: wait for the next second, so a grace counted from the read instead would show.
    const created = (await sm.send(new GetSecretValueCommand({ SecretId: run.secretId, VersionStage: 'AWSCURRENT' }))).CreatedDate!.getTime();
    await until('the next second', () => Date.now() >= created + 1_000);
    let clock = created + 4_999;
    const graceful = fx.authorizer({ services: run.services, serviceSecrets: { previousGraceSeconds: 5 } }, { now: () => clock });
    const [before, after] = [run.values[0]!, run.values[1]!];

    expect(await status(graceful, before)).toBe(200);
    expect(await status(graceful, after)).toBe(200);
    clock = created + 5_000;
    expect(await status(graceful, before)).toBe(401);
    expect(fx.lastReason()).toBe('SERVICE_SECRET_MISMATCH');
    expect(await status(graceful, after)).toBe(200);
  });

  it('fails no request through two rotations back to back (the second within the refetch cooldown)', async () => {
    const run = await rotateUnderLoad({ rotations: 2 });

    expect({ failures: run.failures.length, report: run.report }).toEqual({ failures: 0, report: run.report });
    for (const n of run.counts) expect(n).toBeGreaterThanOrEqual(MIN_REQUESTS_PER_SECRET);
  });

  it('fails no request with the cache off, where every request reads the secret while the steps run', async () => {
    const run = await rotateUnderLoad({ rotations: 2, config: { serviceSecrets: { cacheTtlSeconds: 0 } } });

    expect({ failures: run.failures.length, report: run.report }).toEqual({ failures: 0, report: run.report });
    for (const n of run.counts) expect(n).toBeGreaterThanOrEqual(MIN_REQUESTS_PER_SECRET);
  });
});

describe('the refetch cooldown during rotations', () => {
  it('does not hold back the read that finds a second rotation: its new secret works at once', async () => {
    const s = await serviceSecret();
    expect(await status(s.authorize, s.initial)).toBe(200);
    const first: string[] = [];
    await rotateNow(sm, s.secretId, { generate: () => (first.push(randomBytes(32).toString('base64url')), first[0]!) });
    expect(await status(s.authorize, first[0]!)).toBe(200); // a mismatch, then a forced read that finds the rotation

    const second: string[] = [];
    await rotateNow(sm, s.secretId, { generate: () => (second.push(randomBytes(32).toString('base64url')), second[0]!) });

    // Seconds after the last forced read, well within the 30 s cooldown.
    expect(await status(s.authorize, second[0]!)).toBe(200);
    expect(s.reasons).toEqual([]);
    expect(await status(s.authorize, first[0]!)).toBe(200); // AWSPREVIOUS, within the grace period
  });

  it('still reads at most once per cooldown for wrong secrets, before and after a rotation', async () => {
    const s = await serviceSecret();
    expect(await status(s.authorize, s.initial)).toBe(200);
    const wrong = () => randomBytes(32).toString('base64url');
    fx.clients.reset();

    for (let i = 0; i < 10; i++) expect(await status(s.authorize, wrong())).toBe(401);
    expect(fx.clients.count('ListSecretVersionIdsCommand')).toBe(1);

    await rotateNow(sm, s.secretId);
    fx.clients.reset();
    // The cooldown from the wrong secrets above still runs, and the version check (serviceSecrets.versionCheckSeconds,
    // 5 s; test/security/bounded-waits.test.ts) is not due yet: no read, though the secret has rotated since.
    for (let i = 0; i < 10; i++) expect(await status(s.authorize, wrong())).toBe(401);
    expect(fx.clients.count('ListSecretVersionIdsCommand')).toBe(0);
  });
});

describe('an AWSPENDING version without a value', () => {
  // On AWS, RotateSecret stages AWSPENDING on a new, value-less version before it calls createSecret, and a rotation
  // that fails there leaves it so; GetSecretValue on it answers ResourceNotFoundException. Moto cannot make one
  // (PutSecretValue needs a value), so the answer is injected for that one version.
  function valuelessVersion(versionId: () => string | undefined) {
    const client = new SecretsManagerClient({ maxAttempts: 1 });
    client.middlewareStack.add(
      ((next: (a: unknown) => Promise<unknown>, ctx: { commandName?: string }) => async (args: { input?: { VersionId?: string } }) => {
        if (ctx.commandName === 'GetSecretValueCommand' && args.input?.VersionId && args.input.VersionId === versionId()) {
          throw new ResourceNotFoundException({ message: `Secrets Manager can't find the specified secret value for VersionId: ${args.input.VersionId}`, $metadata: { httpStatusCode: 400 } });
        }
        return next(args);
      }) as never,
      { step: 'initialize', name: 'valuelessPendingVersion' } as never,
    );
    return client;
  }

  it('does not stop a cold authorizer from accepting AWSCURRENT, and the value is accepted once createSecret has put it', async () => {
    let empty: string | undefined = randomUUID();
    const client = valuelessVersion(() => empty);
    const s = await serviceSecret({}, { secretsManager: client });
    const pending = randomBytes(32).toString('base64url');
    await sm.send(new PutSecretValueCommand({ SecretId: s.secretId, ClientRequestToken: empty!, SecretString: pending, VersionStages: ['AWSPENDING'] }));

    expect(await status(s.authorize, s.initial)).toBe(200);
    expect(await status(s.authorize, pending)).toBe(401); // no value yet, as far as this authorizer can tell
    empty = undefined; // createSecret has put the value
    await sleep(1);
    // A fresh authorizer sees it at once; the warm one when its cooldown from the mismatch above has passed.
    const fresh = fx.authorizer({ services: s.services }, { secretsManager: client });
    expect(await status(fresh, pending)).toBe(200);
    expect(await status(fresh, s.initial)).toBe(200);
    client.destroy();
  });
});
