import { TENANT_ID_MESSAGE, TENANT_ID_PATTERN } from '../../contract/patterns';
import { DirectoryError } from '../../control/directory/errors';
import { check, tenantId } from '../../control/directory/validate';
import { PROVIDER_TENANT_IDS } from '../support/tenant-ids';

/**
 * The tenant id rule (contract/patterns.ts): organization ids as identity providers issue them, and nothing that
 * could break a table key (`TENANT#<id>`), an IAM `dynamodb:LeadingKeys` condition, API Gateway's cache key or a
 * log line. The directory's check (control/directory/validate.ts) refuses with the rule's message.
 */

const refusal = (value: string): DirectoryError => {
  try {
    check(tenantId, value, 'tenant');
  } catch (err) {
    if (err instanceof DirectoryError) return err;
    throw err;
  }
  throw new Error(`accepted ${JSON.stringify(value)}`);
};

describe('tenant ids: accepted', () => {
  it.each([...Object.entries(PROVIDER_TENANT_IDS), ['a plain slug', 'acme']])('%s (%s)', (_, id) => {
    expect(TENANT_ID_PATTERN.test(id)).toBe(true);
    expect(check(tenantId, id, 'tenant')).toBe(id);
  });

  it.each([
    ['one letter', 'a'],
    ['one digit', '7'],
    ['capitals only', 'ACME'],
    ['an upper-case GUID', '72F988BF-86F1-41AF-91AB-2D7CD011DB47'],
    ['underscores and dashes inside', 'a_b-c__d--e'],
    ['a trailing underscore or dash', 'acme_'],
    ['128 characters', 'a'.repeat(128)],
  ])('%s', (_, id) => {
    expect(TENANT_ID_PATTERN.test(id)).toBe(true);
  });

  it('keeps the id exactly as given: nothing lowercases or trims it', () => {
    expect(check(tenantId, 'Acme', 'tenant')).toBe('Acme');
    expect(check(tenantId, 'org_2Z1b3XkQd9YtMpFkYaS7vR0cW4e', 'tenant')).toBe('org_2Z1b3XkQd9YtMpFkYaS7vR0cW4e');
  });
});

describe('tenant ids: refused, each with the message', () => {
  it.each([
    ['a key separator', 'a#b'],
    ['an IAM wildcard', 'a*'],
    ['an IAM single-character wildcard', 'a?'],
    ['a slash', 'a/b'],
    ['a space', 'a b'],
    ['a tab', 'a\tb'],
    ['a NUL', 'a\u0000b'],
    ['a newline at the end', 'acme\n'],
    ['a dot', 'a.b'],
    ['a comma', 'a,b'],
    ['a colon', 'a:b'],
    ['a quote', 'a"b'],
    ['empty', ''],
    ['129 characters', 'a'.repeat(129)],
    ['a leading dash', '-acme'],
    ['a leading underscore', '_acme'],
    ['non-ASCII letters', 'tenänt'],
    ['a non-ASCII digit', 'acme\u0663'],
    ['a fullwidth letter', 'ａcme'],
    ['a zero-width space', 'ac\u200bme'],
  ])('%s', (_, id) => {
    expect(TENANT_ID_PATTERN.test(id)).toBe(false);
    const err = refusal(id);
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.message).toBe(`tenant: ${TENANT_ID_MESSAGE}`);
  });

  it('refuses what is not a string', () => {
    expect(refusal(42 as unknown as string).code).toBe('INVALID_INPUT');
    expect(refusal(undefined as unknown as string).code).toBe('INVALID_INPUT');
  });

  it('never echoes the refused value', () => {
    expect(refusal('evil#CUSTOMERS').message).not.toContain('evil');
  });

  it('names what is allowed and what is refused, with examples', () => {
    expect(TENANT_ID_MESSAGE).toContain('1-128 of A-Z a-z 0-9 _ -');
    expect(TENANT_ID_MESSAGE).toContain('starting with a letter or digit');
    expect(TENANT_ID_MESSAGE).toContain('case-sensitive');
    expect(TENANT_ID_MESSAGE).toContain('org_01EHZNVPK3SFK441A1RGBFSHRT');
    for (const c of ['#', '*', '/', '.', 'spaces', 'control', 'non-ASCII']) expect(TENANT_ID_MESSAGE).toContain(c);
  });
});
