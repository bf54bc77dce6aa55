import { type AttributeValue, type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { type APIGatewayClient, CreateRestApiCommand, CreateUsagePlanCommand } from '@aws-sdk/client-api-gateway';
import { CreateSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { AuthorizerConfig } from '../contract/config';
import { usagePlanLimits, usagePlanName } from '../contract/stack-config';
import { Directory } from '../control/directory/directory';
import { UsageKeys } from '../control/usage-keys';
import { DEMO_TENANT, DEMO_USER, LOCAL_ISSUER_ID, LOCAL_STAGE, type LocalSecrets, type LocalSetup, OTHER_TENANT, OTHER_USER } from './local-setup';
import { hs256SecretIdOf, rsaKeySecretId } from './stand-ins';

/**
 * Creates the run's secrets on the emulator: the local issuer's HS256 secret, one per service and signer, and the
 * stand-in issuers' RSA key (its private JWK, which `tokens mint --issuer` reads) and HS256 secrets.
 */
export async function createSecrets(secretsManager: SecretsManagerClient, setup: LocalSetup, secrets: LocalSecrets): Promise<void> {
  await secretsManager.send(new CreateSecretCommand({ Name: setup.secretId('supabase-jwt-secret'), SecretString: secrets.supabaseSecret }));
  if (secrets.rsaSigningKey) await secretsManager.send(new CreateSecretCommand({ Name: rsaKeySecretId(setup), SecretString: JSON.stringify(secrets.rsaSigningKey) }));
  for (const [id, value] of Object.entries(secrets.issuerSecrets ?? {})) {
    await secretsManager.send(new CreateSecretCommand({ Name: hs256SecretIdOf(setup, id), SecretString: value }));
  }
  for (const [name, value] of Object.entries(secrets.serviceSecrets)) {
    await secretsManager.send(new CreateSecretCommand({ Name: setup.secretId(`services/${name}`), SecretString: value }));
  }
  for (const [name, value] of Object.entries(secrets.signerSecrets ?? {})) {
    await secretsManager.send(new CreateSecretCommand({ Name: setup.secretId(`signers/${name}`), SecretString: value }));
  }
}

/** The scopes of the demo credentials: `all` for the read-write key and the demo tokens, `read` for the read-only key. */
export interface DemoScopes {
  readonly all: readonly string[];
  readonly read: readonly string[];
}

const DEFAULT_DEMO_SCOPES: DemoScopes = { all: ['customers:read', 'customers:write'], read: ['customers:read'] };

/**
 * The scopes the route table asks for (their union), so that the demo key and tokens pass every route's scope
 * check; the read-only key gets the `:read` ones (what a "read-only key may not write" example shows). A route
 * table that asks for none: the example's customers:*, which the documentation's requests use.
 */
export function demoScopes(config: AuthorizerConfig): DemoScopes {
  // The built-in customers handler checks customers:read and customers:write itself, wherever it is routed.
  const handlerScopes = config.routes.some((r) => r.handler === 'customers') ? DEFAULT_DEMO_SCOPES.all : [];
  const all = [...new Set([...handlerScopes, ...config.routes.flatMap((r) => r.scopes ?? [])])].sort();
  if (!all.length) return DEFAULT_DEMO_SCOPES;
  return { all, read: all.filter((s) => s.endsWith(':read')) };
}

/** The local REST API on the emulator, and the usage-plan keys of its stage. */
export interface LocalUsagePlans {
  readonly restApiId: string;
  readonly usageKeys: UsageKeys;
}

/**
 * API Gateway's side of rate limiting, on the emulator: a REST API whose stage carries one usage plan per tier,
 * as the stack deploys them. Tenants get their usage-plan keys through the command-line tool's own code.
 */
export async function createUsagePlans(apigateway: APIGatewayClient, setup: LocalSetup, config: AuthorizerConfig): Promise<LocalUsagePlans> {
  const restApi = await apigateway.send(new CreateRestApiCommand({ name: `gatehouse-local-${setup.suffix}`, description: 'Gatehouse local mode' }));
  const restApiId = restApi.id!;
  for (const [tier, limits] of Object.entries(config.rateLimits.tiers)) {
    const plan = usagePlanLimits(limits, config.rateLimits.usagePlanHeadroom);
    await apigateway.send(
      new CreateUsagePlanCommand({
        name: usagePlanName(`gatehouse-local-${setup.suffix}`, tier),
        throttle: plan.throttle,
        ...(plan.quota ? { quota: plan.quota } : {}),
        apiStages: [{ apiId: restApiId, stage: LOCAL_STAGE }],
      }),
    );
  }
  return { restApiId, usageKeys: new UsageKeys(apigateway, restApiId, LOCAL_STAGE) };
}

/** Puts a kept state's table items back (--keep), each tenant with its usage-plan key made again. */
export async function restoreItems(dynamodb: DynamoDBClient, tableName: string, items: Record<string, AttributeValue>[], usageKeys: UsageKeys): Promise<void> {
  for (const item of items) {
    // A kept tenant's usage-plan key lived in the previous emulator: make it again, with the same value.
    if (item.sk?.S === 'TENANT' && item.usageKey?.S) {
      const again = await usageKeys.create(item.tenantId!.S!, item.tier?.S ?? 'default', item.usageKey.S);
      item.usageKeyId = { S: again.usageKeyId };
    }
    await dynamodb.send(new PutItemCommand({ TableName: tableName, Item: item }));
  }
}

/**
 * Seeds the demo tenants, each with its usage-plan key and an admin, and the demo tenant's two API keys (returned).
 * Seeded through the same directory code as the command-line tool and the self-service API.
 */
export async function seedDemoTenants(dynamodb: DynamoDBClient, setup: LocalSetup, usageKeys: UsageKeys, scopes: DemoScopes = DEFAULT_DEMO_SCOPES): Promise<LocalSecrets['apiKeys']> {
  const prefix = setup.apiKeyPrefix;
  const directory = new Directory(dynamodb, setup.tableName);
  for (const tenantId of [DEMO_TENANT, OTHER_TENANT]) {
    await directory.createTenant({ tenantId, tier: 'default', ...(await usageKeys.create(tenantId, 'default')) });
  }
  const read = await directory.createApiKey({ tenantId: DEMO_TENANT, name: 'demo read-only key', scopes: [...scopes.read], prefix, environment: 'test' });
  const write = await directory.createApiKey({ tenantId: DEMO_TENANT, name: 'demo read-write key', scopes: [...scopes.all], prefix, environment: 'test' });
  // The demo user administers the demo tenant (membership mode reads this; claim mode reads app_metadata.roles).
  await directory.addMember(DEMO_TENANT, LOCAL_ISSUER_ID, DEMO_USER, 'admin');
  await directory.addMember(OTHER_TENANT, LOCAL_ISSUER_ID, OTHER_USER, 'admin');
  return { read: read.key, write: write.key };
}
