import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, type Harness, startHarness } from './helpers.js';

// The batching claim, measured: every AWS call the sandbox saw for one query.
const QUERY = `{
  accounts {
    alias
    instances(first: 100) { nodes { id region securityGroups { id name } volumes { id sizeGiB } } }
    buckets(first: 100) { nodes { name region tags { key value } } }
  }
}`;

describe('AWS calls per query (3 accounts x 2 regions, demo fixture)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  /** The fewest calls that can answer QUERY, derived from the fixture. */
  function minimum() {
    const members = h.sandbox.fixture.accounts.filter((a) => a.id !== '000000000000');
    let describeInstances = 0;
    let describeSecurityGroups = 0;
    let describeVolumes = 0;
    let getBucketTagging = 0;
    for (const account of members) {
      for (const region of account.regions) {
        describeInstances += 1; // one page per region: first 100 > instances per region
        const instances = account.instances.filter((i) => i.region === region);
        if (instances.some((i) => i.securityGroupIds.length > 0)) describeSecurityGroups += 1;
        const ids = new Set(instances.map((i) => i.id));
        if (
          account.volumes.some((v) => v.region === region && v.attachedTo && ids.has(v.attachedTo.instanceId))
        ) {
          describeVolumes += 1;
        }
      }
      getBucketTagging += account.buckets.length; // S3 has no batch API for tags
    }
    return {
      AssumeRole: members.length,
      DescribeInstances: describeInstances,
      DescribeSecurityGroups: describeSecurityGroups,
      DescribeVolumes: describeVolumes,
      ListBuckets: members.length, // one page each; it also carries BucketRegion, so no GetBucketLocation
      GetBucketLocation: 0,
      GetBucketTagging: getBucketTagging,
    };
  }

  function measured() {
    const calls = (operation: string) => h.sandbox.admin.calls({ operation });
    return {
      AssumeRole: calls('AssumeRole'),
      DescribeInstances: calls('DescribeInstances'),
      DescribeSecurityGroups: calls('DescribeSecurityGroups'),
      DescribeVolumes: calls('DescribeVolumes'),
      ListBuckets: calls('ListBuckets'),
      GetBucketLocation: calls('GetBucketLocation') + calls('HeadBucket'),
      GetBucketTagging: calls('GetBucketTagging'),
    };
  }

  it('first run costs exactly the minimum (3 + 6 + 6 + 6 + 3 + 15 = 39 on the demo fixture)', async () => {
    h.sandbox.admin.reset();
    const r = await gql<{
      accounts: Array<{ instances: { nodes: unknown[] }; buckets: { nodes: unknown[] } }>;
    }>(h.gateway, QUERY);
    expect(r.body.errors).toBeUndefined();
    const expected = minimum();
    expect(measured()).toEqual(expected);
    const total = Object.values(expected).reduce((a, b) => a + b, 0);
    expect(h.sandbox.admin.calls()).toBe(total);
    expect(total).toBe(39);
    const instances = r.body.data?.accounts.reduce((n, a) => n + a.instances.nodes.length, 0);
    expect(instances).toBe(30);
  });

  it('a second run costs no AssumeRole and the same service calls (loaders are per request)', async () => {
    h.sandbox.admin.reset();
    const r = await gql(h.gateway, QUERY);
    expect(r.body.errors).toBeUndefined();
    expect(measured()).toEqual({ ...minimum(), AssumeRole: 0 });
    expect(h.sandbox.admin.calls({ service: 'sts' })).toBe(0);
  });

  it('the concurrency cap does not cost extra calls (maxConcurrentAccounts: 1)', async () => {
    const capped = await startHarness({ config: { server: { maxConcurrentAccounts: 1 } } });
    try {
      const r = await gql(capped.gateway, QUERY);
      expect(r.body.errors).toBeUndefined();
      expect(capped.sandbox.admin.calls()).toBe(39);
    } finally {
      await capped.close();
    }
  });
});
