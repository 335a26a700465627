import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { AdapterErrorCode, AwsCallError } from '@rolegraph/credentials/aws';
import { awsError, createFakeSession } from '@rolegraph/credentials/testing';
import { describe, expect, it } from 'vitest';
import { discoverOrganization, type OrganizationsSender } from './discover-organization.js';
import { FAKE_TREE, type FakeOrganizationOptions, fakeOrganization } from './testing/fake-organization.js';

function fake(options: FakeOrganizationOptions = {}) {
  const { session, calls } = createFakeSession(fakeOrganization(FAKE_TREE, options), {
    accountId: '000000000000',
  });
  const client = session.client(OrganizationsClient, 'us-east-1') as unknown as OrganizationsSender;
  return { client, calls };
}

const noSleep = { sleep: async () => {}, random: () => 0.5 };

describe('discoverOrganization', () => {
  it('walks nested OUs and knows every account’s path and state', async () => {
    const { client, calls } = fake();
    const tree = await discoverOrganization({ client, accountId: '000000000000' });
    expect(tree.rootIds).toEqual(['r-ab12']);
    const byId = new Map(tree.accounts.map((a) => [a.id, a]));
    expect([...byId.keys()].sort()).toEqual([
      '000000000000',
      '111111111111',
      '222222222222',
      '333333333333',
      '444444444444',
      '555555555555',
      '666666666666',
    ]);
    expect(byId.get('333333333333')?.state).toBe('SUSPENDED');
    expect(byId.get('666666666666')?.parentId).toBe('ou-ab12-55555555');
    expect(tree.units.get('ou-ab12-55555555')).toMatchObject({
      path: ['Workloads', 'Prod', 'EU'],
      ancestorIds: ['r-ab12', 'ou-ab12-11111111', 'ou-ab12-22222222', 'ou-ab12-55555555'],
    });
    // 1 ListRoots + 2 listings for each of the 6 parents (root and 5 OUs), one page each.
    expect(calls).toHaveLength(13);
    expect(tree.stats).toEqual({ calls: 13, emptyPages: 0, throttled: 0 });
    expect(new Set(calls.map((c) => c.region))).toEqual(new Set(['us-east-1']));
  });

  it('follows NextToken through pages of one item and through empty pages', async () => {
    const { client, calls } = fake({ pageSize: 1, emptyPages: true });
    const tree = await discoverOrganization({ client, accountId: '000000000000' });
    expect(tree.accounts).toHaveLength(7);
    expect(tree.units.size).toBe(6);
    // Every listing starts with an empty page: ListRoots once, 2 listings x 6 parents.
    expect(tree.stats.emptyPages).toBe(13);
    const tokens = calls.filter((c) => c.input.NextToken !== undefined).map((c) => String(c.input.NextToken));
    expect(tokens).toContain('empty:0');
    expect(tokens).toContain('page:1');
  });

  it('tries a throttled call again with backoff and still discovers everything', async () => {
    const delays: number[] = [];
    let throttled = 0;
    const { client } = fake({
      before: (call) => {
        // The first three ListAccountsForParent calls are throttled, as Organizations does.
        if (call.operation === 'ListAccountsForParent' && throttled < 3) {
          throttled++;
          throw awsError('TooManyRequestsException', 400);
        }
      },
    });
    const tree = await discoverOrganization({
      client,
      accountId: '000000000000',
      backoff: { baseMs: 100, maxMs: 1000 },
      sleep: async (ms) => {
        delays.push(ms);
      },
      random: () => 1,
    });
    expect(tree.accounts).toHaveLength(7);
    expect(tree.stats.throttled).toBe(3);
    // The root's listing, throttled three times: exponential (random 1: the whole ceiling).
    expect(delays).toEqual([100, 200, 400]);
  });

  it('gives up after throttleRetries with the AwsCallError (AWS_THROTTLED)', async () => {
    const { client } = fake({
      before: (call) => {
        if (call.operation === 'ListOrganizationalUnitsForParent')
          throw awsError('TooManyRequestsException', 400);
      },
    });
    const error = await discoverOrganization({
      client,
      accountId: '000000000000',
      throttleRetries: 2,
      ...noSleep,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsCallError);
    expect(error).toMatchObject({
      code: AdapterErrorCode.AWS_THROTTLED,
      service: 'organizations',
      operation: 'ListOrganizationalUnitsForParent',
      awsCode: 'TooManyRequestsException',
      accountId: '000000000000',
    });
  });

  it('fails at once, without retrying, when access is denied', async () => {
    let n = 0;
    const { client } = fake({
      before: (call) => {
        n++;
        if (call.operation === 'ListRoots') throw awsError('AccessDeniedException', 400);
      },
    });
    const error = await discoverOrganization({ client, accountId: '000000000000', ...noSleep }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: AdapterErrorCode.AWS_ACCESS_DENIED, operation: 'ListRoots' });
    expect(n).toBe(1);
  });

  it('refuses a NextToken that comes back unchanged instead of looping', async () => {
    const client: OrganizationsSender = {
      send: async () => ({ Roots: [], NextToken: 'again' }),
    };
    const error = await discoverOrganization({ client, accountId: '000000000000' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ORGANIZATION_DISCOVERY_FAILED' });
    expect(String((error as Error).message)).toMatch(/same NextToken/);
  });

  it('sends nothing once its signal fired', async () => {
    const { client, calls } = fake();
    const controller = new AbortController();
    controller.abort();
    const error = await discoverOrganization({
      client,
      accountId: '000000000000',
      signal: controller.signal,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: AdapterErrorCode.ABORTED });
    expect(calls).toHaveLength(0);
  });

  it('lists 4 parents at a time by default (2 listings each)', async () => {
    const wide = {
      id: 'r-wide',
      name: 'Root',
      units: Array.from({ length: 12 }, (_, i) => ({
        id: `ou-wide-${String(i).padStart(8, '0')}`,
        name: `Unit ${i}`,
        accounts: [{ id: String(100000000000 + i), name: `acct ${i}` }],
      })),
    };
    const handler = fakeOrganization(wide);
    let inFlight = 0;
    let most = 0;
    const client: OrganizationsSender = {
      async send(command) {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 5));
        inFlight--;
        const name = command.constructor.name.replace(/Command$/, '');
        return handler({
          region: 'us-east-1',
          operation: name,
          input: (command as { input: Record<string, unknown> }).input,
          signal: undefined,
        });
      },
    };
    const tree = await discoverOrganization({ client, accountId: '000000000000' });
    expect(tree.accounts).toHaveLength(12);
    expect(most).toBe(8);
  });

  it('backs off 0.5 s doubling to 20 s, 8 times, by default', async () => {
    const delays: number[] = [];
    const { client } = fake({
      before: (call) => {
        if (call.operation === 'ListRoots') throw awsError('TooManyRequestsException', 400);
      },
    });
    const error = await discoverOrganization({
      client,
      accountId: '000000000000',
      random: () => 1,
      sleep: async (ms) => {
        delays.push(ms);
      },
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: AdapterErrorCode.AWS_THROTTLED });
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 16000, 20000, 20000]);
  });

  it('refuses bad tuning with a TypeError naming the option', async () => {
    const { client } = fake();
    await expect(discoverOrganization({ client, accountId: 'x', concurrency: 0 })).rejects.toThrow(
      /concurrency/,
    );
    await expect(
      discoverOrganization({ client, accountId: 'x', backoff: { baseMs: 10, maxMs: 1 } }),
    ).rejects.toThrow(/backoff/);
  });
});
