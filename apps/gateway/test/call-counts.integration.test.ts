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

  it('a second run within the TTL costs no AWS call at all (the answer cache)', async () => {
    h.sandbox.admin.reset();
    const r = await gql(h.gateway, QUERY);
    expect(r.body.errors).toBeUndefined();
    expect(h.sandbox.admin.calls()).toBe(0);
  });

  it('a second run with Cache-Control: no-cache costs no AssumeRole and the same service calls', async () => {
    h.sandbox.admin.reset();
    const r = await gql(h.gateway, QUERY, undefined, { 'cache-control': 'no-cache' });
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

  it('with the cache off, a second run costs no AssumeRole and the same service calls (loaders are per request)', async () => {
    const uncached = await startHarness({ config: { cache: { enabled: false } } });
    try {
      await gql(uncached.gateway, QUERY);
      uncached.sandbox.admin.reset();
      const r = await gql(uncached.gateway, QUERY);
      expect(r.body.errors).toBeUndefined();
      expect(uncached.sandbox.admin.calls()).toBe(36);
      expect(uncached.sandbox.admin.calls({ service: 'sts' })).toBe(0);
    } finally {
      await uncached.close();
    }
  });
});

// Inside one request nothing is asked twice, with the answer cache off (so the loaders alone
// do it) and on: every case at the minimum derived from the fixture.
describe('no repeats inside one request', () => {
  const harnesses: Record<'off' | 'on', Harness | undefined> = { off: undefined, on: undefined };
  beforeAll(async () => {
    harnesses.off = await startHarness({ config: { cache: { enabled: false } } });
    harnesses.on = await startHarness();
  });
  afterAll(async () => {
    await harnesses.off?.close();
    await harnesses.on?.close();
  });

  const ACCOUNT_FIELDS =
    'alias instances(first: 100) { nodes { id } } buckets(first: 100) { nodes { name tags { key } } }';
  /** One account's calls for ACCOUNT_FIELDS: a listing per region, its buckets and their tags. */
  function oneAccount(h: Harness, alias: string) {
    const account = h.sandbox.fixture.accounts.find((a) => a.alias === alias);
    if (!account) throw new Error(`no ${alias} in the fixture`);
    return {
      DescribeInstances: account.regions.length,
      ListBuckets: 1,
      GetBucketTagging: account.buckets.length,
    };
  }
  const counted = (h: Harness) => ({
    DescribeInstances: h.sandbox.admin.calls({ operation: 'DescribeInstances' }),
    ListBuckets: h.sandbox.admin.calls({ operation: 'ListBuckets' }),
    GetBucketTagging: h.sandbox.admin.calls({ operation: 'GetBucketTagging' }),
  });

  for (const mode of ['off', 'on'] as const) {
    it(`cache ${mode}: an account named by alias and by id in one query is one set of calls`, async () => {
      const h = harnesses[mode] as Harness;
      const prodId = h.sandbox.fixture.accounts.find((a) => a.alias === 'prod')?.id;
      h.sandbox.admin.reset();
      const r = await gql<Record<string, { instances: { nodes: unknown[] } }>>(
        h.gateway,
        `{ a: account(account: "prod") { ${ACCOUNT_FIELDS} }
           b: account(account: "${prodId}") { ${ACCOUNT_FIELDS} }
           c: instances(account: "${prodId}", first: 100) { nodes { id } } }`,
        undefined,
        { 'cache-control': 'no-cache' },
      );
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data?.a?.instances.nodes).toHaveLength(10);
      expect(r.body.data?.b).toEqual(r.body.data?.a);
      expect(counted(h)).toEqual(oneAccount(h, 'prod'));
    });

    it(`cache ${mode}: repeated names in accounts(aliases:) collapse to one entry and one set of calls`, async () => {
      const h = harnesses[mode] as Harness;
      const prodId = h.sandbox.fixture.accounts.find((a) => a.alias === 'prod')?.id;
      h.sandbox.admin.reset();
      const r = await gql<{ accounts: Array<{ alias: string }> }>(
        h.gateway,
        `{ accounts(aliases: ["prod", "prod", "${prodId}", "staging", "prod"]) { ${ACCOUNT_FIELDS} } }`,
        undefined,
        { 'cache-control': 'no-cache' },
      );
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data?.accounts.map((a) => a.alias)).toEqual(['prod', 'staging']);
      const prod = oneAccount(h, 'prod');
      const staging = oneAccount(h, 'staging');
      expect(counted(h)).toEqual({
        DescribeInstances: prod.DescribeInstances + staging.DescribeInstances,
        ListBuckets: 2,
        GetBucketTagging: prod.GetBucketTagging + staging.GetBucketTagging,
      });
    });
  }

  const WALK = `query ($after: String) {
    instances(account: "prod", first: 1, after: $after) { nodes { id region } pageInfo { endCursor hasNextPage } } }`;
  async function walk(h: Harness, headers: Record<string, string> = {}) {
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 100; page++) {
      const r: Awaited<
        ReturnType<
          typeof gql<{
            instances: {
              nodes: Array<{ id: string }>;
              pageInfo: { endCursor: string | null; hasNextPage: boolean };
            };
          }>
        >
      > = await gql(h.gateway, WALK, { after }, headers);
      expect(r.body.errors).toBeUndefined();
      const connection = r.body.data?.instances;
      seen.push(...(connection?.nodes.map((n) => n.id) ?? []));
      if (!connection?.pageInfo.hasNextPage) return seen;
      after = connection.pageInfo.endCursor;
    }
    throw new Error('the walk did not end');
  }

  /**
   * The fewest DescribeInstances for a walk one item at a time: one per item (each page reads its
   * item's region) plus one per later non-empty region, read by the page that shows the last item
   * of the region before it (to know whether anything follows). 5 + 5 instances: 11, not 15.
   */
  function walkMinimum(h: Harness) {
    const prod = h.sandbox.fixture.accounts.find((a) => a.alias === 'prod');
    const perRegion = (prod?.regions ?? []).map(
      (r) => prod?.instances.filter((i) => i.region === r).length ?? 0,
    );
    const nonEmpty = perRegion.filter((n) => n > 0).length;
    return {
      items: perRegion.reduce((a, b) => a + b, 0),
      calls: perRegion.reduce((a, b) => a + b, 0) + nonEmpty - 1,
    };
  }

  it('cache off: walking instances over 2 regions one item at a time costs the minimum (11, not 15)', async () => {
    const h = harnesses.off as Harness;
    const { items, calls } = walkMinimum(h);
    expect(calls).toBe(11);
    h.sandbox.admin.reset();
    const seen = await walk(h);
    expect(seen).toHaveLength(items);
    expect(new Set(seen).size).toBe(items);
    expect(h.sandbox.admin.calls({ operation: 'DescribeInstances' })).toBe(calls);
  });

  it('cache on: the same walk reads each region once; walked again within the TTL it costs nothing', async () => {
    const h = harnesses.on as Harness;
    const { items } = walkMinimum(h);
    h.sandbox.admin.reset();
    // Every page of a region asks EC2 the same page (MaxResults 5, no token): one call per region.
    const seen = await walk(h, { 'cache-control': 'max-age=3600' });
    expect(seen).toHaveLength(items);
    const prod = h.sandbox.fixture.accounts.find((a) => a.alias === 'prod');
    expect(h.sandbox.admin.calls({ operation: 'DescribeInstances' })).toBeLessThanOrEqual(
      prod?.regions.length ?? 0,
    );
    h.sandbox.admin.reset();
    expect(await walk(h)).toEqual(seen);
    expect(h.sandbox.admin.calls()).toBe(0);
  });

  it('a page that the first region fills does not read the second one', async () => {
    const h = harnesses.off as Harness;
    h.sandbox.admin.reset();
    const r = await gql<{
      instances: { nodes: Array<{ region: string }>; pageInfo: { hasNextPage: boolean } };
    }>(h.gateway, '{ instances(account: "prod", first: 3) { nodes { region } pageInfo { hasNextPage } } }');
    expect(r.body.errors).toBeUndefined();
    const first = h.sandbox.fixture.accounts.find((a) => a.alias === 'prod')?.regions[0];
    expect(r.body.data?.instances.nodes.map((n) => n.region)).toEqual([first, first, first]);
    expect(r.body.data?.instances.pageInfo.hasNextPage).toBe(true);
    expect(h.sandbox.admin.calls({ operation: 'DescribeInstances' })).toBe(1);
  });
});
