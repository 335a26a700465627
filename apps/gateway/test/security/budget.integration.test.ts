import { afterEach, describe, expect, it } from 'vitest';
import { gql, type Harness, startHarness } from '../helpers.js';

// The up-front estimate cannot know what paging and batching will do; the budget is enforced
// again at the seam, on every AWS call the request sends (callAws takes one before each send).
const QUERY =
  '{ account(account: "prod") { alias instances(first: 5) { nodes { id securityGroups { id } volumes { id } } } } }';

interface Data {
  account: {
    alias: string;
    instances: { nodes: Array<{ id: string; securityGroups: unknown[] | null; volumes: unknown[] | null }> };
  };
}

describe('the per-request AWS-call budget at run time', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('a request that reaches limits.maxAwsCalls: the fields that could not run are AWS_CALL_BUDGET_EXCEEDED, siblings keep their data', async () => {
    // The estimate lets this query through (id lookups are priced as a share of a batched call);
    // it really needs 4 EC2 calls: DescribeInstances in 2 regions, then groups, then volumes.
    h = await startHarness({ config: { limits: { maxAwsCalls: 3 } } });
    const r = await gql<Data>(h.gateway, QUERY);
    const nodes = r.body.data?.account.instances.nodes ?? [];
    expect(nodes).toHaveLength(5);
    expect(nodes.every((n) => Array.isArray(n.securityGroups) && n.securityGroups.length > 0)).toBe(true);
    expect(nodes.every((n) => n.volumes === null)).toBe(true);
    expect(r.body.errors).toHaveLength(5);
    for (const error of r.body.errors ?? []) {
      expect(error.path?.at(-1)).toBe('volumes');
      expect(error.extensions).toMatchObject({
        code: 'AWS_CALL_BUDGET_EXCEEDED',
        retryable: false,
        account: 'prod',
        accountId: '111111111111',
      });
      expect(error.message).toMatch(/budget of 3 AWS calls is spent/);
    }
    expect(h.sandbox.admin.calls({ service: 'ec2' })).toBe(3);
    expect(h.sandbox.admin.calls({ operation: 'DescribeVolumes' })).toBe(0);
  });

  it('the same query within the budget answers in full; the budget is per request', async () => {
    h = await startHarness({ config: { limits: { maxAwsCalls: 4 } } });
    for (let i = 0; i < 2; i++) {
      // no-cache: each run really sends its 4 calls.
      const r = await gql<Data>(h.gateway, QUERY, undefined, { 'cache-control': 'no-cache' });
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data?.account.instances.nodes.every((n) => n.volumes !== null)).toBe(true);
    }
    expect(h.sandbox.admin.calls({ service: 'ec2' })).toBe(8);
  });

  it('answers from the answer cache take no budget: the request log counts 0 AWS calls', async () => {
    h = await startHarness({ config: { limits: { maxAwsCalls: 4 } } });
    const cold = await gql<Data>(h.gateway, QUERY);
    expect(cold.body.errors).toBeUndefined();
    h.sandbox.admin.reset();
    h.logs.length = 0;
    const cached = await gql<Data>(h.gateway, QUERY);
    expect(cached.body.errors).toBeUndefined();
    expect(cached.body.data).toEqual(cold.body.data);
    expect(h.sandbox.admin.calls()).toBe(0);
    const line = h.logs.find((l) => l.msg === 'request');
    expect(line).toMatchObject({ awsCalls: 0 });
  });
});
