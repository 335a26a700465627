import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { createFakeSession } from '@rolegraph/credentials/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { type AccountConfig, type OrganizationConfig, organizationSchema } from '../config/config-schema.js';
import { createAccountSnapshot } from './account-snapshot.js';
import {
  discoverOrganization,
  type OrganizationsSender,
  type OrganizationTree,
} from './discover-organization.js';
import { memberRoleArn, selectAccounts } from './select-accounts.js';
import { FAKE_TREE, fakeOrganization } from './testing/fake-organization.js';

let tree: OrganizationTree;
beforeAll(async () => {
  const { session } = createFakeSession(fakeOrganization(FAKE_TREE), { accountId: '000000000000' });
  const client = session.client(OrganizationsClient, 'us-east-1') as unknown as OrganizationsSender;
  tree = await discoverOrganization({ client, accountId: '000000000000' });
});

const org = (overrides: Record<string, unknown> = {}): OrganizationConfig =>
  organizationSchema.parse({
    memberRoleArn: 'arn:aws:iam::{accountId}:role/RolegraphReader',
    regions: ['us-east-1'],
    ...overrides,
  });

const ids = (accounts: readonly AccountConfig[]) => accounts.map((a) => a.accountId).sort();

describe('selectAccounts', () => {
  it('takes every ACTIVE account of the organization by default, with its member role and place', () => {
    const { accounts } = selectAccounts(tree, org({ memberExternalId: 'ext-1' }), { staticAccounts: [] });
    expect(ids(accounts)).toEqual([
      '000000000000',
      '111111111111',
      '222222222222',
      '444444444444',
      '555555555555',
      '666666666666',
    ]);
    const eu = accounts.find((a) => a.accountId === '666666666666');
    expect(eu).toMatchObject({
      alias: 'payments-eu',
      roleArn: 'arn:aws:iam::666666666666:role/RolegraphReader',
      externalId: 'ext-1',
      regions: ['us-east-1'],
      organization: {
        name: 'Payments EU',
        state: 'ACTIVE',
        parentId: 'ou-ab12-55555555',
        ouPath: ['Workloads', 'Prod', 'EU'],
        ancestorIds: ['r-ab12', 'ou-ab12-11111111', 'ou-ab12-22222222', 'ou-ab12-55555555'],
      },
    });
  });

  it('include and exclude are recursive, by id or by name path, and exclude wins', () => {
    const byPath = selectAccounts(tree, org({ include: ['Workloads'], exclude: ['Workloads/Sandbox'] }), {
      staticAccounts: [],
    });
    expect(ids(byPath.accounts)).toEqual(['111111111111', '222222222222', '666666666666']);
    const byId = selectAccounts(tree, org({ include: ['ou-ab12-22222222', 'ou-ab12-44444444'] }), {
      staticAccounts: [],
    });
    expect(ids(byId.accounts)).toEqual(['222222222222', '555555555555', '666666666666']);
    const nested = selectAccounts(tree, org({ include: ['Workloads/Prod'], exclude: ['ou-ab12-55555555'] }), {
      staticAccounts: [],
    });
    expect(ids(nested.accounts)).toEqual(['222222222222']);
    const root = selectAccounts(tree, org({ include: ['r-ab12'], exclude: ['Workloads'] }), {
      staticAccounts: [],
    });
    expect(ids(root.accounts)).toEqual(['000000000000', '555555555555']);
  });

  it('keeps the states asked for and skips the listed accounts', () => {
    const { accounts } = selectAccounts(
      tree,
      org({ states: ['ACTIVE', 'SUSPENDED'], skipAccounts: ['000000000000', '444444444444'] }),
      { staticAccounts: [] },
    );
    expect(ids(accounts)).toEqual([
      '111111111111',
      '222222222222',
      '333333333333',
      '555555555555',
      '666666666666',
    ]);
    expect(accounts.find((a) => a.accountId === '333333333333')?.organization?.state).toBe('SUSPENDED');
  });

  it('reports include / exclude entries that name no unit', () => {
    const { unmatched, accounts } = selectAccounts(
      tree,
      org({ include: ['Workloads/Prodd', 'ou-ab12-99999999'] }),
      {
        staticAccounts: [],
      },
    );
    expect(unmatched).toEqual(['Workloads/Prodd', 'ou-ab12-99999999']);
    expect(accounts).toEqual([]);
  });

  it('leaves accounts configured statically to their entry and never takes their alias', () => {
    const audit: AccountConfig = {
      alias: 'payments-prod',
      accountId: '555555555555',
      roleArn: 'arn:aws:iam::555555555555:role/Custom',
      regions: ['eu-west-1'],
    };
    const { accounts, placements } = selectAccounts(tree, org({ aliases: { '111111111111': 'shared' } }), {
      staticAccounts: [audit],
    });
    expect(accounts.some((a) => a.accountId === '555555555555')).toBe(false);
    expect(accounts.find((a) => a.accountId === '222222222222')?.alias).toBe('payments-prod-2222');
    expect(accounts.find((a) => a.accountId === '111111111111')?.alias).toBe('shared');
    // The static account's place is known all the same.
    expect(placements.get('555555555555')).toMatchObject({ ouPath: ['Security'], state: 'ACTIVE' });
  });

  it('derives aliases from every listed account, so a filter never renames one', () => {
    const all = selectAccounts(tree, org({ states: ['ACTIVE', 'SUSPENDED'] }), { staticAccounts: [] });
    const some = selectAccounts(tree, org({ include: ['Workloads/Prod'] }), { staticAccounts: [] });
    for (const account of some.accounts) {
      expect(account.alias).toBe(all.accounts.find((a) => a.accountId === account.accountId)?.alias);
    }
  });

  it('memberRoleArn fills every {accountId}', () => {
    expect(memberRoleArn('arn:aws:iam::{accountId}:role/Reader-{accountId}', '123456789012')).toBe(
      'arn:aws:iam::123456789012:role/Reader-123456789012',
    );
  });
});

describe('allow-lists over a snapshot', () => {
  it('an OU entry (id or ou: path) allows every account below it; aliases and ids still work', () => {
    const { accounts } = selectAccounts(tree, org(), { staticAccounts: [] });
    const snapshot = createAccountSnapshot(accounts, { version: 2, complete: true });
    const reach = (entries: string[]) => ids(snapshot.allowed(new Set(entries)));
    expect(reach(['ou:Workloads/Prod'])).toEqual(['222222222222', '666666666666']);
    expect(reach(['ou-ab12-11111111'])).toEqual([
      '111111111111',
      '222222222222',
      '444444444444',
      '666666666666',
    ]);
    expect(reach(['ou:Workloads/Prod/EU', 'audit'])).toEqual(['555555555555', '666666666666']);
    expect(reach(['r-ab12'])).toHaveLength(accounts.length);
    expect(reach(['000000000000'])).toEqual(['000000000000']);
    // A path is matched whole, not as a string prefix.
    expect(reach(['ou:Work', 'ou:Workloads/Pro'])).toEqual([]);
    expect(snapshot.allowed('*')).toHaveLength(accounts.length);
    expect(snapshot.maxRegions).toBe(1);
  });
});
