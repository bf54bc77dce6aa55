import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { issuerIdentity } from '../../contract/config';
import { parseStackConfig } from '../../contract/stack-config';

/**
 * The per-provider example configurations (config/examples/<provider>.json) are whole stack documents that load as
 * `cdk synth` loads them, each with that provider's issuer configured as a user would: the provider's own key
 * source (no jwksUrl, which only local mode's stand-ins set).
 */
const DIR = path.resolve(__dirname, '../../config/examples');
const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));

describe('config/examples', () => {
  it('has one for each hosted provider', () => {
    expect(files.sort()).toEqual(['auth0.json', 'clerk.json', 'cognito.json', 'entra.json', 'workos.json']);
  });

  it.each(files)('%s loads as a stack configuration, with that provider as its only issuer and no jwksUrl', (file) => {
    const raw = JSON.parse(readFileSync(path.join(DIR, file), 'utf8'));
    const config = parseStackConfig(raw, file);
    const provider = path.basename(file, '.json');
    expect(config.authorizer.issuers.map((i) => i.type)).toEqual([provider]);
    expect(issuerIdentity(config.authorizer.issuers[0]!).id).toBe(provider);
    expect(JSON.stringify(raw)).not.toContain('jwksUrl');
    expect(config.authorizer.routes.some((r) => r.accepts.includes('user'))).toBe(true);
  });
});
