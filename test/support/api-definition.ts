import type { Template } from 'aws-cdk-lib/assertions';

/**
 * The REST API of a synthesized template as API Gateway builds it from the OpenAPI body of its
 * `AWS::ApiGateway::RestApi` (lib/gatehouse-api.ts): its authorizers and methods in the shape of the resources
 * API Gateway creates, so template tests assert what is deployed, not how the document spells it.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions.html
 */
export interface AuthorizerView {
  readonly Name: string;
  readonly Type: 'REQUEST';
  /** Absent when the authorizer has no identity source (called for every request). */
  readonly IdentitySource?: string;
  readonly AuthorizerResultTtlInSeconds: number;
  readonly AuthorizerUri: unknown;
}

export interface MethodView {
  readonly HttpMethod: string;
  readonly Path: string;
  readonly AuthorizationType: 'NONE' | 'CUSTOM';
  /** The authorizer's name (its security scheme). */
  readonly Authorizer?: string;
  readonly ApiKeyRequired: boolean;
  /** `method.request.header.X` (and path parameters) -> required. */
  readonly RequestParameters: Readonly<Record<string, boolean>>;
  /** The request validator's settings in force for this method. */
  readonly RequestValidator?: { readonly validateRequestBody: boolean; readonly validateRequestParameters: boolean };
  /** Content type -> model name. */
  readonly RequestModels: Readonly<Record<string, string>>;
  readonly IntegrationUri: unknown;
  readonly IntegrationType: unknown;
}

type Json = Record<string, any>;

/** The OpenAPI body of the template's one REST API. */
export function apiBody(template: Template): Json {
  const apis = Object.values(template.findResources('AWS::ApiGateway::RestApi')) as Json[];
  if (apis.length !== 1) throw new Error(`expected one REST API, found ${apis.length}`);
  const body = apis[0]!.Properties.Body as Json | undefined;
  if (!body) throw new Error('the REST API has no OpenAPI body');
  return body;
}

export function apiAuthorizers(template: Template): AuthorizerView[] {
  const schemes = (apiBody(template).components?.securitySchemes ?? {}) as Record<string, Json>;
  return Object.entries(schemes)
    .filter(([, s]) => s['x-amazon-apigateway-authtype'] === 'custom')
    .map(([name, s]) => {
      const a = s['x-amazon-apigateway-authorizer'] as Json;
      if (a.type !== 'request') throw new Error(`authorizer ${name} is of type ${String(a.type)}`);
      return {
        Name: name,
        Type: 'REQUEST' as const,
        ...(a.identitySource !== undefined ? { IdentitySource: String(a.identitySource) } : {}),
        AuthorizerResultTtlInSeconds: Number(a.authorizerResultTtlInSeconds),
        AuthorizerUri: a.authorizerUri,
      };
    });
}

export function apiMethods(template: Template): MethodView[] {
  const body = apiBody(template);
  const validators = (body['x-amazon-apigateway-request-validators'] ?? {}) as Record<string, MethodView['RequestValidator']>;
  const schemes = (body.components?.securitySchemes ?? {}) as Record<string, Json>;
  const out: MethodView[] = [];
  for (const [path, ops] of Object.entries(body.paths as Record<string, Record<string, Json>>)) {
    for (const [key, op] of Object.entries(ops)) {
      const security = ((op.security ?? []) as Json[])[0] ?? {};
      const names = Object.keys(security);
      const authorizer = names.find((n) => schemes[n]?.['x-amazon-apigateway-authtype'] === 'custom');
      const validator = (op['x-amazon-apigateway-request-validator'] ?? body['x-amazon-apigateway-request-validator']) as string | undefined;
      const integration = (op['x-amazon-apigateway-integration'] ?? {}) as Json;
      out.push({
        HttpMethod: key === 'x-amazon-apigateway-any-method' ? 'ANY' : key.toUpperCase(),
        Path: path,
        AuthorizationType: authorizer ? 'CUSTOM' : 'NONE',
        ...(authorizer ? { Authorizer: authorizer } : {}),
        // A method requires the usage-plan key when its security names API Gateway's API key scheme (x-api-key).
        ApiKeyRequired: names.some((n) => isUsagePlanKeyScheme(schemes[n])),
        RequestParameters: Object.fromEntries(((op.parameters ?? []) as Json[]).map((p) => [`method.request.${p.in === 'path' ? 'path' : p.in}.${p.name}`, p.required === true])),
        ...(validator ? { RequestValidator: validators[validator] } : {}),
        RequestModels: Object.fromEntries(
          Object.entries((op.requestBody?.content ?? {}) as Record<string, Json>).map(([type, c]) => [type, String(c.schema?.$ref ?? '').replace('#/components/schemas/', '')]),
        ),
        IntegrationUri: integration.uri,
        IntegrationType: integration.type,
      });
    }
  }
  return out;
}

/** Each guarded method as `METHOD /path` -> the identity source of its authorizer. */
export function methodIdentitySources(template: Template): Record<string, string> {
  const authorizers = new Map(apiAuthorizers(template).map((a) => [a.Name, a]));
  return Object.fromEntries(
    apiMethods(template)
      .filter((m) => m.Authorizer)
      .map((m) => [`${m.HttpMethod} ${m.Path}`, String(authorizers.get(m.Authorizer!)!.IdentitySource)]),
  );
}

/** The gateway responses of the API, by response type. */
export function apiGatewayResponses(template: Template): Record<string, Json> {
  return (apiBody(template)['x-amazon-apigateway-gateway-responses'] ?? {}) as Record<string, Json>;
}

/** API Gateway's API key scheme: an `apiKey` in the `x-api-key` header that is not an authorizer. */
const isUsagePlanKeyScheme = (s: Json | undefined) =>
  s?.type === 'apiKey' && s.in === 'header' && s.name === 'x-api-key' && s['x-amazon-apigateway-authtype'] === undefined;
