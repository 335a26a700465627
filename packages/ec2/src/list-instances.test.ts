import { createAnswerCache, createAwsCallBudget } from '@rolegraph/credentials/aws';
import { awsError, createFakeSession as fakeSession } from '@rolegraph/credentials/testing';
import { describe, expect, it } from 'vitest';
import { fakeEc2, idsSent, instanceId } from '../test/fake-ec2.js';
import { createEc2Loaders } from './ec2-loaders.js';
import { AdapterErrorCode } from './errors.js';
import { toInstanceFilters } from './list-instances.js';
import type { Instance } from './types.js';

const fleet = Array.from({ length: 12 }, (_, k) => ({
  id: instanceId(k + 1),
  region: 'us-east-1',
  state: k % 3 === 0 ? 'stopped' : 'running',
  tags: { Name: `web-${k}`, ...(k % 2 === 0 ? { Team: 'data' } : {}) },
}));

describe('toInstanceFilters', () => {
  it('maps every filter to its EC2 filter name', () => {
    expect(
      toInstanceFilters({
        ids: ['i-0123456789abcdef0'],
        states: ['running', 'stopped'],
        types: ['t3.micro'],
        vpcIds: ['vpc-01234567'],
        tags: [{ key: 'Team', values: ['data', 'search'] }, { key: 'Owner' }],
      }),
    ).toEqual([
      { Name: 'instance-id', Values: ['i-0123456789abcdef0'] },
      { Name: 'instance-state-name', Values: ['running', 'stopped'] },
      { Name: 'instance-type', Values: ['t3.micro'] },
      { Name: 'vpc-id', Values: ['vpc-01234567'] },
      { Name: 'tag:Team', Values: ['data', 'search'] },
      { Name: 'tag-key', Values: ['Owner'] },
    ]);
    expect(toInstanceFilters(undefined)).toEqual([]);
    expect(toInstanceFilters({ states: [] })).toBeNull();
  });
});

describe('listInstances', () => {
  it('takes from the request budget: once it is spent, nothing more is sent (AWS_CALL_BUDGET_EXCEEDED)', async () => {
    const { session, calls } = fakeSession(fakeEc2(fleet));
    const budget = createAwsCallBudget(2);
    const ec2 = createEc2Loaders({ session, budget });
    const first = await ec2.listInstances({ region: 'us-east-1', first: 5 });
    await ec2.listInstances({ region: 'us-east-1', first: 5, after: first.endCursor });
    // (The same arguments again would be the same listing: these differ.)
    const third = await ec2
      .listInstances({ region: 'us-east-1', first: 6, after: first.endCursor })
      .catch((e: unknown) => e);
    expect(third).toMatchObject({ code: AdapterErrorCode.AWS_CALL_BUDGET_EXCEEDED, retryable: false });
    // Loads through the same request's other loaders are refused too.
    const group = await ec2.securityGroup
      .load({ region: 'us-east-1', id: 'sg-0123456789abcdef0' })
      .catch((e) => e);
    expect(group).toMatchObject({ code: AdapterErrorCode.AWS_CALL_BUDGET_EXCEEDED });
    expect(calls).toHaveLength(2);
  });

  it('pages with MaxResults/NextToken and primes the instance loader', async () => {
    const { session, calls } = fakeSession(fakeEc2(fleet));
    const ec2 = createEc2Loaders({ session });
    const seen: Instance[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const page = await ec2.listInstances({ region: 'us-east-1', first: 5, after });
      seen.push(...page.items);
      after = page.hasNextPage ? page.endCursor : null;
      pages++;
    } while (after);
    expect(pages).toBe(3);
    expect(seen.map((i) => i.id)).toEqual(fleet.map((f) => f.id));
    expect(calls.map((c) => [c.input.MaxResults, c.input.NextToken])).toEqual([
      [5, undefined],
      [5, '5'],
      [5, '10'],
    ]);
    const again = await ec2.instance.loadMany(fleet.map((f) => ({ region: 'us-east-1', id: f.id })));
    expect(again.map((i) => (i instanceof Error ? i : i?.name))).toEqual(fleet.map((f) => f.tags.Name));
    expect(calls).toHaveLength(3);
  });

  it('serves pages smaller than the EC2 minimum of 5 without losing instances', async () => {
    const { session, calls } = fakeSession(fakeEc2(fleet));
    const ec2 = createEc2Loaders({ session });
    const seen: string[] = [];
    let after: string | null = null;
    do {
      const page = await ec2.listInstances({ region: 'us-east-1', first: 2, after });
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((i) => i.id));
      after = page.hasNextPage ? page.endCursor : null;
    } while (after);
    expect(seen).toEqual(fleet.map((f) => f.id));
    expect(calls.every((c) => c.input.MaxResults !== undefined && (c.input.MaxResults as number) >= 5)).toBe(
      true,
    );
  });

  it('clamps a large first to 1000 and sends filters, ids included, as Filters', async () => {
    const { session, calls } = fakeSession(fakeEc2(fleet));
    const ec2 = createEc2Loaders({ session });
    const page = await ec2.listInstances({
      region: 'us-east-1',
      first: 5000,
      filter: { states: ['running'], tags: [{ key: 'Team', values: ['data'] }], ids: fleet.map((f) => f.id) },
    });
    expect(page.items.map((i) => i.id)).toEqual(
      fleet.filter((f) => f.state === 'running' && f.tags.Team === 'data').map((f) => f.id),
    );
    expect(page).toMatchObject({ endCursor: null, hasNextPage: false });
    expect(calls[0]?.input.MaxResults).toBe(1000);
    expect(calls[0]?.input.InstanceIds).toBeUndefined();
  });

  it('lists by more ids than one filter holds in chunks beside the other filters, paging the result', async () => {
    const big = Array.from({ length: 600 }, (_, k) => ({
      id: instanceId(k + 1),
      region: 'us-east-1',
      state: k % 3 === 0 ? 'stopped' : 'running',
    }));
    const wanted = big.filter((_, k) => k % 2 === 0).map((i) => i.id);
    const ghosts = Array.from({ length: 50 }, (_, k) => instanceId(90_000 + k));
    const asked = [...wanted, ...ghosts];
    expect(asked.length).toBe(350);
    const { session, calls } = fakeSession(fakeEc2(big));
    const loaders = createEc2Loaders({ session });
    const filter = { ids: asked, states: ['running' as const] };
    const running = big.filter((i) => wanted.includes(i.id) && i.state === 'running');
    const page1 = await loaders.listInstances({ region: 'us-east-1', filter, first: 100 });
    // 1 state value leaves room for 199 ids per call; every call carries the state filter.
    expect(calls.map((c) => idsSent(c).length)).toEqual(chunkSizes(asked.length, 199));
    expect(calls.every((c) => JSON.stringify(c.input.Filters).includes('instance-state-name'))).toBe(true);
    expect(page1.items.map((i) => i.id)).toEqual(running.slice(0, 100).map((i) => i.id));
    expect(page1.hasNextPage).toBe(running.length > 100);
    const rest = await loaders.listInstances({
      region: 'us-east-1',
      filter,
      first: 1000,
      after: page1.endCursor,
    });
    expect([...page1.items, ...rest.items].map((i) => i.id)).toEqual(running.map((i) => i.id));
    expect(rest.hasNextPage).toBe(false);
    await expect(
      loaders.listInstances({ region: 'us-east-1', filter, after: 'not-a-cursor' }),
    ).rejects.toThrow(/cursor/);
  });

  it('answers an empty value list without a call and rejects a bad first', async () => {
    const { session, calls } = fakeSession(fakeEc2(fleet));
    const ec2 = createEc2Loaders({ session });
    expect(await ec2.listInstances({ region: 'us-east-1', filter: { ids: [] } })).toEqual({
      items: [],
      cursors: [],
      endCursor: null,
      hasNextPage: false,
    });
    await expect(ec2.listInstances({ region: 'us-east-1', first: 0 })).rejects.toThrow(TypeError);
    expect(calls).toHaveLength(0);
  });

  it('gives every item a cursor that resumes right after it', async () => {
    const { session } = fakeSession(fakeEc2(fleet));
    const ec2 = createEc2Loaders({ session });
    const page = await ec2.listInstances({ region: 'us-east-1', first: 7 });
    expect(page.cursors).toHaveLength(7);
    for (const [i, cursor] of page.cursors.entries()) {
      const next = await ec2.listInstances({ region: 'us-east-1', first: 3, after: cursor });
      expect(next.items.map((x) => x.id)).toEqual(fleet.slice(i + 1, i + 4).map((f) => f.id));
    }
    const big = fleet.map((f) => f.id).concat(Array.from({ length: 200 }, (_, k) => instanceId(50_000 + k)));
    const byIds = await ec2.listInstances({ region: 'us-east-1', filter: { ids: big }, first: 4 });
    const rest = await ec2.listInstances({
      region: 'us-east-1',
      filter: { ids: big },
      first: 100,
      after: byIds.cursors[1] ?? null,
    });
    expect(rest.items.map((x) => x.id)).toEqual(fleet.slice(2).map((f) => f.id));
  });

  it('a cursor it did not make is INVALID_ARGUMENT naming after, with nothing sent', async () => {
    const { session, calls } = fakeSession(fakeEc2(fleet));
    const ec2 = createEc2Loaders({ session });
    const ids = Array.from({ length: 201 }, (_, k) => instanceId(k + 1));
    for (const after of ['foo', 'rolegraph:0:tok', 'rolegraph-ids:x']) {
      await expect(ec2.listInstances({ region: 'us-east-1', filter: { ids }, after })).rejects.toMatchObject({
        name: 'Ec2Error',
        code: AdapterErrorCode.INVALID_ARGUMENT,
        argument: 'after',
        retryable: false,
      });
    }
    await expect(
      ec2.listInstances({ region: 'us-east-1', after: 'rolegraph:5000:tok' }),
    ).rejects.toMatchObject({
      code: AdapterErrorCode.INVALID_ARGUMENT,
      argument: 'after',
    });
    expect(calls).toHaveLength(0);
  });

  it('turns a failure into an Ec2Error', async () => {
    const { session } = fakeSession(() => {
      throw awsError('UnauthorizedOperation', 403, 'req-denied');
    });
    await expect(createEc2Loaders({ session }).listInstances({ region: 'ap-south-1' })).rejects.toMatchObject(
      {
        name: 'Ec2Error',
        code: AdapterErrorCode.AWS_ACCESS_DENIED,
        region: 'ap-south-1',
        awsCode: 'UnauthorizedOperation',
        requestId: 'req-denied',
        retryable: false,
      },
    );
  });
});

function chunkSizes(total: number, size: number): number[] {
  const sizes: number[] = [];
  for (let left = total; left > 0; left -= size) sizes.push(Math.min(size, left));
  return sizes;
}

describe('listings per request, and the answer cache', () => {
  it('the same listing twice in one set of loaders is one call, whatever order the filter was written in', async () => {
    const { session, calls } = fakeSession(fakeEc2(fleet));
    const ec2 = createEc2Loaders({ session });
    const [a, b] = await Promise.all([
      ec2.listInstances({
        region: 'us-east-1',
        first: 5,
        filter: { states: ['running'], tags: [{ key: 'Team' }] },
      }),
      ec2.listInstances({
        region: 'us-east-1',
        filter: { tags: [{ key: 'Team' }], states: ['running'] },
        first: 5,
      }),
    ]);
    const c = await ec2.listInstances({
      region: 'us-east-1',
      first: 5,
      filter: { states: ['running'], tags: [{ key: 'Team' }] },
    });
    expect(calls).toHaveLength(1);
    expect(b).toBe(a);
    expect(c).toBe(a);
    // Other arguments are another listing.
    await ec2.listInstances({ region: 'us-east-1', first: 6 });
    expect(calls).toHaveLength(2);
  });

  it('a second request lists from the cache and resolves ids primed from it', async () => {
    const { session, calls } = fakeSession(fakeEc2(fleet));
    const answers = createAnswerCache();
    const one = createEc2Loaders({ session, cache: answers.forRequest() });
    const page = await one.listInstances({ region: 'us-east-1', first: 5 });
    const view = answers.forRequest();
    const two = createEc2Loaders({ session, cache: view });
    const again = await two.listInstances({ region: 'us-east-1', first: 5 });
    expect(again.items).toEqual(page.items);
    expect(await two.instance.load({ region: 'us-east-1', id: page.items[0]!.id })).toEqual(page.items[0]);
    expect(calls).toHaveLength(1);
    expect(view.stats()).toMatchObject({ hits: 1, misses: 0 });
  });
});
