/**
 * The package's root entry point (`import { GatehouseStack } from 'gatehouse'`): the stack, the constructs it is
 * built from, and the configuration's parser and types. The handler toolkit is `gatehouse/toolkit`.
 */
export { GatehouseStack, type GatehouseStackProps } from './gatehouse-stack';
export { GatehouseApi, type GatehouseApiProps } from './gatehouse-api';
export { GatehouseHttpApi, type GatehouseHttpApiProps } from './gatehouse-http-api';
export { GatehouseAuthorizer, type GatehouseAuthorizerProps } from './gatehouse-authorizer';
export { GatehouseTable, type GatehouseTableProps } from './gatehouse-table';
export { HandlerFunctions, type HandlerFunctionsProps, type HandlerDeployment } from './handler-functions';
export { GatehouseFunction, type GatehouseFunctionProps } from './gatehouse-function';
export { GatehouseAlarms, type GatehouseAlarmsProps } from './observability';
export { GatehouseDashboard, type GatehouseDashboardProps } from './dashboard';
export { ServiceSecrets, type ServiceSecretsProps } from './service-secrets';
export { AlarmTopic, type AlarmTopicProps } from './alarm-topic';
export { loadStackConfig, resolveStackConfig, isStackConfig, type StackConfigSource } from './stack-config-source';
export { packageRoot, bundlingRoot, type BundlingRoot } from './package-paths';
export {
  parseStackConfig,
  renderAuthorizerConfig,
  type StackConfig,
  type StackConfigInput,
  type DeploymentConfig,
  type ApiKind,
  type CreatedSecretIds,
} from '../contract/stack-config';
export type { AuthorizerConfig, AuthorizerConfigInput, RouteConfig } from '../contract/config';
export type { UserHandler, FileHandler, ExistingFunctionHandler, BackendConfig, BuiltInHandler } from '../contract/targets';
export type { CorsConfig, CorsConfigInput } from '../contract/cors';
export { ConfigError } from '../contract/config-error';
export { STACK_OUTPUTS, DEFAULT_STACK_NAME } from '../contract/stack-outputs';
