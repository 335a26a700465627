import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../src/auth/authenticate.js';
import { demoAccounts } from '../../src/demo.js';
import { gql, type Harness, startHarness } from '../helpers.js';
import { unexpectedErrors } from './security-helpers.js';

// Unknown, malformed and forbidden accounts are typed errors on every root field, and the only
// roles the sandbox ever sees assumed are the configured ones.

const ALL = { 'x-api-key': 'all-accounts-key' };
const PROD_ONLY = { 'x-api-key': 'prod-only-key' };

let h: Harness;

beforeAll(async () => {
  h = await startHarness({
    config: {
      auth: {
        apiKeys: [
          { name: 'ops', sha256: hashApiKey('all-accounts-key'), accounts: ['*'] },
          { name: 'ci', sha256: hashApiKey('prod-only-key'), accounts: ['prod'] },
        ],
      },
    },
  });
});
afterAll(async () => {
  await h?.close();
});

/** Every root field that takes an account, with the account as a variable. */
const ROOT_FIELDS: Array<{ field: string; query: string }> = [
  { field: 'account', query: 'query ($a: String!) { account(account: $a) { alias } }' },
  { field: 'instances', query: 'query ($a: String!) { instances(account: $a) { nodes { id } } }' },
  {
    field: 'instance',
    query: 'query ($a: String!) { instance(account: $a, id: "i-0123456789abcdef0") { id } }',
  },
  { field: 'buckets', query: 'query ($a: String!) { buckets(account: $a) { nodes { name } } }' },
  { field: 'bucket', query: 'query ($a: String!) { bucket(account: $a, name: "x") { name } }' },
];

function names(): Record<string, string> {
  const outsider = h.sandbox.fixture.accounts
    .flatMap((a) => a.roles)
    .find((r) => r.name !== 'RolegraphReader');
  return {
    unknown: 'nope',
    empty: '',
    'eleven digits': '11111111111',
    'thirteen digits': '1111111111111',
    'id of an unconfigured sandbox account': '000000000000',
    'id with spaces': ' 111111111111 ',
    'alias in upper case': 'PROD',
    'ARN of a configured role': 'arn:aws:iam::111111111111:role/RolegraphReader',
    'ARN of an unconfigured role': outsider?.arn ?? 'arn:aws:iam::111111111111:role/Other',
    'malformed ARN': 'arn:aws:iam::1:role/',
    wildcard: '*',
  };
}

describe('accounts a caller cannot use are typed errors, never AWS calls', () => {
  it('unknown and malformed accounts are ACCOUNT_NOT_FOUND for an all-accounts caller', async () => {
    for (const [label, name] of Object.entries(names())) {
      for (const { field, query } of ROOT_FIELDS) {
        const r = await gql(h.gateway, query, { a: name }, ALL);
        expect(r.status, `${label} / ${field}`).toBe(200);
        expect(r.body.data?.[field], `${label} / ${field}`).toBeNull();
        expect(
          r.body.errors?.map((e) => e.extensions?.code),
          `${label} / ${field}`,
        ).toEqual(['ACCOUNT_NOT_FOUND']);
        expect(r.body.errors?.[0]?.path).toEqual([field]);
      }
      const list = await gql<{ accounts: unknown[] }>(
        h.gateway,
        'query ($a: String!) { accounts(aliases: [$a, "prod"]) { alias } }',
        { a: name },
        ALL,
      );
      expect(list.body.data?.accounts, label).toEqual([null, { alias: 'prod' }]);
      expect(
        list.body.errors?.map((e) => e.extensions?.code),
        label,
      ).toEqual(['ACCOUNT_NOT_FOUND']);
    }
  });

  it('a restricted caller gets the same FORBIDDEN for a denied, unknown or malformed account', async () => {
    const candidates = { ...names(), 'configured but denied alias': 'staging', 'denied id': '333333333333' };
    for (const [label, name] of Object.entries(candidates)) {
      for (const { field, query } of ROOT_FIELDS) {
        const r = await gql(h.gateway, query, { a: name }, PROD_ONLY);
        expect(r.body.data?.[field], `${label} / ${field}`).toBeNull();
        expect(
          r.body.errors?.map((e) => e.extensions?.code),
          `${label} / ${field}`,
        ).toEqual(['FORBIDDEN']);
        // Nothing in the answer tells a denied account from one that does not exist.
        expect(r.body.errors?.[0]?.message).toBe(
          `Account ${JSON.stringify(name)} is not available to this caller`,
        );
        expect(r.body.errors?.[0]?.extensions?.accountId).toBeNull();
      }
    }
    const list = await gql<{ accounts: Array<{ alias: string }> }>(
      h.gateway,
      '{ accounts { alias } }',
      {},
      PROD_ONLY,
    );
    expect(list.body.data?.accounts).toEqual([{ alias: 'prod' }]);
  });

  it('an account the caller may use still answers (control)', async () => {
    const r = await gql<{ instances: { nodes: unknown[] } }>(
      h.gateway,
      '{ instances(account: "prod") { nodes { id } } }',
      {},
      PROD_ONLY,
    );
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data?.instances.nodes.length).toBeGreaterThan(0);
    const all = await gql(h.gateway, '{ accounts { alias buckets { nodes { name } } } }', {}, ALL);
    expect(unexpectedErrors(all.body)).toEqual([]);
    expect(all.body.errors).toBeUndefined();
  });

  it('no role outside the configuration is ever assumed (the sandbox AssumeRole counters)', async () => {
    // The harness configures exactly demoAccounts(sandbox): those role ARNs are the configuration.
    const configured = new Set(demoAccounts(h.sandbox).map((a) => a.roleArn));
    const assumed = h.sandbox.admin
      .counters()
      .filter((c) => c.service === 'sts' && c.operation === 'AssumeRole');
    // The control queries above assumed every configured role once: the check is not vacuous.
    expect(new Set(assumed.map((c) => c.roleArn))).toEqual(configured);
    expect(assumed.reduce((n, c) => n + c.count, 0)).toBe(configured.size);
    for (const c of assumed) expect(configured.has(c.roleArn ?? '(none)')).toBe(true);
  });
});
