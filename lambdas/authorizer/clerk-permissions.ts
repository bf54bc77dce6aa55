/**
 * Clerk session tokens v2 carry the active organization compactly (https://clerk.com/docs/guides/sessions/session-tokens,
 * "Decode o.fpm manually"): `o.rol` is the role without its `org:` prefix; `o.per` the permission names, comma-separated;
 * `fea` the features, comma-separated, each `<scope>:<name>`; and `o.fpm` one integer per organization feature, whose
 * bits (least significant first) say which of `o.per` that feature grants. Worked example from the page: fea
 * `o:dashboard,o:teams`, per `manage,read`, fpm `3,2` -> org:dashboard:manage, org:dashboard:read, org:teams:read.
 *
 * Read as Clerk's own SDK reads them (clerk/javascript packages/shared/src/jwtPayloadParser.ts): the role becomes
 * `org:<rol>`, an organization feature is one scoped `o`, `ou` or `uo`, and `fpm` is indexed among those. Written
 * here because no library does it without Clerk's SDK. A claim of the wrong shape refuses the token
 * (JWT_CLAIM_INVALID): nobody can say what it grants.
 */
import { SCOPE_PATTERN } from '../../contract/patterns';
import { AuthError } from './errors';

/** More permissions or features than any organization has: a token past these is refused, not read for minutes. */
const MAX_ENTRIES = 256;
const ORG_SCOPES = new Set(['o', 'ou', 'uo']);

/** The roles and scopes of the token's active organization (none without one). */
export function clerkOrganization(issuer: string, payload: Readonly<Record<string, unknown>>): { roles: string[]; scopes: string[] } {
  const o = Object.prototype.hasOwnProperty.call(payload, 'o') ? payload.o : undefined;
  if (o === undefined) return { roles: [], scopes: [] };
  const invalid = (claim: string) => new AuthError('JWT_CLAIM_INVALID', { issuer, claim });
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw invalid('o');
  const org = o as Record<string, unknown>;
  const own = (name: string) => (Object.prototype.hasOwnProperty.call(org, name) ? org[name] : undefined);
  const rol = own('rol');
  if (rol !== undefined && (typeof rol !== 'string' || !SCOPE_PATTERN.test(`org:${rol}`))) throw invalid('o.rol');
  const roles = rol === undefined ? [] : [`org:${rol}`];
  const per = own('per');
  const fpm = own('fpm');
  // Clerk's SDK reads no permissions unless both are there.
  if (per === undefined || fpm === undefined) return { roles, scopes: [] };
  if (typeof per !== 'string') throw invalid('o.per');
  if (typeof fpm !== 'string') throw invalid('o.fpm');
  const fea = Object.prototype.hasOwnProperty.call(payload, 'fea') ? payload.fea : '';
  if (typeof fea !== 'string') throw invalid('fea');
  const permissions = list(per, () => invalid('o.per'));
  const masks = list(fpm, () => invalid('o.fpm')).map((m) => {
    if (!/^\d{1,80}$/.test(m)) throw invalid('o.fpm');
    return BigInt(m);
  });
  const features = organizationFeatures(fea, () => invalid('fea'));
  const scopes: string[] = [];
  features.forEach((feature, i) => {
    const mask = masks[i] ?? 0n;
    permissions.forEach((permission, j) => {
      const scope = `org:${feature}:${permission}`;
      if ((mask >> BigInt(j)) & 1n && SCOPE_PATTERN.test(scope)) scopes.push(scope);
    });
  });
  return { roles, scopes };
}

/** A comma-separated list, trimmed, empty entries dropped, at most MAX_ENTRIES. */
function list(value: string, invalid: () => AuthError): string[] {
  const items = value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (items.length > MAX_ENTRIES) throw invalid();
  return items;
}

/** The organization features of `fea`, in order: the names of entries scoped o, ou or uo. */
function organizationFeatures(fea: string, invalid: () => AuthError): string[] {
  const names: string[] = [];
  for (const entry of list(fea, invalid)) {
    const colon = entry.indexOf(':');
    if (colon < 0) throw invalid();
    if (ORG_SCOPES.has(entry.slice(0, colon))) names.push(entry.slice(colon + 1));
  }
  return names;
}
