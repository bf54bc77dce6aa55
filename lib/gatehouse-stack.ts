import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { type StackConfig, renderAuthorizerConfig, usagePlanKeyed } from '../contract/stack-config';
import { GatehouseApi } from './gatehouse-api';
import { GatehouseAuthorizer } from './gatehouse-authorizer';
import { GatehouseTable } from './gatehouse-table';
import { HandlerFunctions } from './handler-functions';
import { GatehouseAlarms } from './observability';
import { ServiceSecrets, importSecret } from './service-secrets';

export interface GatehouseStackProps extends StackProps {
  /** The validated configuration (see contract/stack-config.ts `parseStackConfig`). */
  readonly config: StackConfig;
}

/**
 * The whole product: the table, the secrets, the authorizer, the handlers, the REST API and its alarms. Each
 * piece is a construct of its own that a team can use in its own stack instead.
 */
export class GatehouseStack extends Stack {
  readonly api: GatehouseApi;
  readonly authorizer: GatehouseAuthorizer;
  readonly table: GatehouseTable;

  constructor(scope: Construct, id: string, props: GatehouseStackProps) {
    super(scope, id, props);
    const { config } = props;
    const { deployment } = config;
    const logRetention = retention(deployment.logRetentionDays);

    this.table = new GatehouseTable(this, 'Data', { deletionProtection: deployment.deletionProtection });

    // Secrets named in the configuration (by name or ARN); the others the stack creates and rotates.
    const existing = (list: readonly { name: string; secretId?: string | undefined }[] = []) =>
      Object.fromEntries(list.filter((s) => s.secretId !== undefined).map((s) => [s.name, s.secretId!]));
    const services = new ServiceSecrets(this, 'ServiceSecrets', {
      create: config.createdServiceSecrets,
      existing: existing(config.source.services),
      namePrefix: `${this.stackName}/services/`,
      createSigners: config.createdSignerSecrets,
      existingSigners: existing(config.source.signers),
      signerNamePrefix: `${this.stackName}/signers/`,
      logRetention,
      tracing: deployment.tracing,
    });
    const issuerSecrets: ISecret[] = [];
    config.authorizer.issuers.forEach((iss, i) => {
      const ref = iss.type === 'oidc' ? ('hs256SecretId' in iss.keys ? iss.keys.hs256SecretId : undefined) : iss.type === 'supabase' ? iss.hs256SecretId : undefined;
      if (ref) issuerSecrets.push(importSecret(this, `IssuerSecret${i}`, ref));
    });

    const arns = (secrets: Readonly<Record<string, ISecret>>) => Object.fromEntries(Object.entries(secrets).map(([name, s]) => [name, s.secretArn]));
    this.authorizer = new GatehouseAuthorizer(this, 'Authorizer', {
      config: renderAuthorizerConfig(config, this.table.table.tableName, { services: arns(services.secrets), signers: arns(services.signerSecrets) }),
      table: this.table.table,
      issuerSecrets,
      serviceSecrets: Object.values(services.secrets),
      signerSecrets: Object.values(services.signerSecrets),
      memorySize: deployment.authorizerMemoryMb,
      logRetention,
      tracing: deployment.tracing,
    });

    const handlers = new HandlerFunctions(this, 'Handlers', {
      names: config.authorizer.routes.map((r) => r.handler!),
      table: this.table.table,
      deployment: {
        environment: config.authorizer.environment,
        rateLimitTiers: config.authorizer.rateLimits.tiers,
        ...(config.authorizer.apiKeys ? { apiKeyPrefix: config.authorizer.apiKeys.prefix } : {}),
      },
      logRetention,
      tracing: deployment.tracing,
    });

    this.api = new GatehouseApi(this, 'Api', {
      routes: config.authorizer.routes,
      authorizerFunction: this.authorizer.function,
      handlers: handlers.functions,
      stageName: deployment.stageName,
      ...(config.authorizer.membership ? { tenantHeader: config.authorizer.membership.header } : {}),
      usagePlans: {
        tiers: config.authorizer.rateLimits.tiers,
        headroom: config.authorizer.rateLimits.usagePlanHeadroom,
        keyed: (route) => usagePlanKeyed(config.authorizer, route),
      },
      authorizerResultTtl: Duration.seconds(deployment.authorizerResultTtlSeconds),
      tracing: deployment.tracing,
      logRetention,
    });

    new GatehouseAlarms(this, 'Alarms', {
      api: this.api.api,
      authorizerFunction: this.authorizer.function,
      handlerFunctions: Object.values(handlers.functions),
      unauthorizedPer5Minutes: deployment.alarms.unauthorizedPer5Minutes,
      forbiddenPer5Minutes: deployment.alarms.forbiddenPer5Minutes,
    });

    new CfnOutput(this, 'ApiUrl', { value: this.api.api.url, description: 'Base URL of the API stage' });
    new CfnOutput(this, 'RestApiId', { value: this.api.api.restApiId, description: 'REST API id (gatehouse --rest-api-id, for --flush)' });
    new CfnOutput(this, 'TableName', { value: this.table.table.tableName, description: 'DynamoDB table of API keys, tenants and data' });
    for (const [name, secret] of Object.entries(services.secrets)) {
      new CfnOutput(this, `ServiceSecret-${name}`, { value: secret.secretArn, description: `Secret of the calling service ${name}` });
    }
    for (const [name, secret] of Object.entries(services.signerSecrets)) {
      new CfnOutput(this, `SignerSecret-${name}`, { value: secret.secretArn, description: `Secret of the signer ${name} (HMAC-SHA256 signed requests)` });
    }
  }
}

function retention(days: number): RetentionDays {
  const byDays: Record<number, RetentionDays> = {
    1: RetentionDays.ONE_DAY,
    3: RetentionDays.THREE_DAYS,
    5: RetentionDays.FIVE_DAYS,
    7: RetentionDays.ONE_WEEK,
    14: RetentionDays.TWO_WEEKS,
    30: RetentionDays.ONE_MONTH,
    60: RetentionDays.TWO_MONTHS,
    90: RetentionDays.THREE_MONTHS,
    180: RetentionDays.SIX_MONTHS,
    365: RetentionDays.ONE_YEAR,
  };
  return byDays[days]!;
}
