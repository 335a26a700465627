import { generateFixture } from '@rolegraph/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, type Harness, startHarness } from '../helpers.js';
import { codesOf, totalCalls, unexpectedErrors } from './security-helpers.js';

// Depth, alias, token, directive and cost attacks are refused before execution: a clear code,
// an answer in well under 500 ms, and not one AWS call (the sandbox's counters stay at 0).

const FAST_MS = 500;

describe('query attacks are refused quickly, with a code, before any AWS call', () => {
  let h: Harness;

  beforeAll(async () => {
    // The default limits except depth: the schema's deepest honest path is 7 fields deep.
    h = await startHarness({ config: { limits: { maxDepth: 6 } } });
    // Warm up yoga's parse/validate caches and the JIT so the timing measures the refusal only.
    await gql(h.gateway, '{ __typename }');
  });
  afterAll(async () => {
    await h?.close();
  });

  const deep = '{ accounts { instances { edges { node { volumes { tags { key } } } } } } }';
  const attacks: Array<{ name: string; query: string; code: string; message: RegExp }> = [
    { name: 'depth 7 > maxDepth 6', query: deep, code: 'BAD_USER_INPUT', message: /depth/i },
    {
      name: 'depth through 200 nested inline fragments',
      query: `{ accounts { instances { edges { node { ${'... on Instance { '.repeat(200)}volumes { tags { key } }${' }'.repeat(200)} } } } } }`,
      code: 'BAD_USER_INPUT',
      message: /depth|token/i,
    },
    {
      name: '16 aliases > maxAliases 15',
      query: `{ ${Array.from({ length: 16 }, (_, i) => `a${i}: accounts { alias }`).join(' ')} }`,
      code: 'BAD_USER_INPUT',
      message: /alias/i,
    },
    {
      name: '1000 aliases of __typename',
      query: `{ ${Array.from({ length: 1000 }, (_, i) => `a${i}: __typename`).join(' ')} }`,
      // 3000 tokens: armor's token limit refuses it while parsing, before the alias rule runs.
      code: 'GRAPHQL_PARSE_FAILED',
      message: /alias|token/i,
    },
    {
      name: '3000 tokens > maxTokens 2000',
      query: `{ accounts { ${'alias '.repeat(3000)}} }`,
      code: 'GRAPHQL_PARSE_FAILED',
      message: /token/i,
    },
    {
      name: 'a 1 MB query of one field repeated',
      query: `{ accounts { ${'accountId '.repeat(100_000)}} }`,
      code: 'GRAPHQL_PARSE_FAILED',
      message: /token/i,
    },
    {
      name: '25 directives > maxDirectives 20',
      query: `{ accounts { alias ${'@include(if: true) '.repeat(25)}} }`,
      code: 'BAD_USER_INPUT',
      message: /directive/i,
    },
    {
      name: 'cost: every account x region x 1000 instances x nested lists',
      query:
        '{ accounts { instances(first: 1000) { nodes { id securityGroups { id name tags { key value } } volumes { id tags { key } } } } } }',
      code: 'COST_LIMIT_EXCEEDED',
      message: /cost/i,
    },
    {
      // 3,000 ListObjectsV2: over limits.maxAwsCalls before the result size is reached.
      name: 'cost: 1000 buckets x 1000 objects per account',
      query:
        '{ accounts { buckets(first: 1000) { nodes { name objects(first: 1000) { nodes { key } } } } } }',
      code: 'AWS_CALL_BUDGET_EXCEEDED',
      message: /AWS calls/i,
    },
    {
      name: 'a fragment cycle',
      query: '{ ...A } fragment A on Query { accounts { alias } ...B } fragment B on Query { ...A }',
      code: 'GRAPHQL_VALIDATION_FAILED',
      message: /cycle|spread/i,
    },
  ];

  it.each(attacks)('$name', async ({ query, code, message }) => {
    h.sandbox.admin.reset();
    const started = performance.now();
    const r = await gql(h.gateway, query);
    const elapsed = performance.now() - started;
    expect(r.status).toBeLessThan(500);
    expect(r.body.data ?? null).toBeNull();
    expect(codesOf(r.body)).toContain(code);
    expect(unexpectedErrors(r.body)).toEqual([]);
    expect(r.body.errors?.map((e) => e.message).join(' ')).toMatch(message);
    expect(elapsed).toBeLessThan(FAST_MS);
    expect(totalCalls(h.sandbox)).toBe(0);
  });

  it('the same shapes under the limits are answered (the limits are not refusing everything)', async () => {
    h.sandbox.admin.reset();
    const r = await gql<Record<string, Array<{ alias: string }>>>(
      h.gateway,
      `{ ${Array.from({ length: 15 }, (_, i) => `a${i}: accounts { alias }`).join(' ')} }`,
    );
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data?.a0).toHaveLength(3);
    const shallow = await gql(h.gateway, '{ accounts { instances(first: 2) { nodes { volumes { id } } } } }');
    expect(shallow.body.errors).toBeUndefined();
    // One per account: its first region fills the page of 2, so the second is not read.
    expect(h.sandbox.admin.calls({ service: 'ec2', operation: 'DescribeInstances' })).toBe(3);
  });

  it('a batched (array) request is refused: batching is off', async () => {
    h.sandbox.admin.reset();
    const response = await h.gateway.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(Array.from({ length: 100 }, () => ({ query: '{ accounts { alias } }' }))),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { errors?: Array<{ extensions?: { code?: string } }> };
    expect(body.errors?.[0]?.extensions?.code).toBeDefined();
    expect(totalCalls(h.sandbox)).toBe(0);
  });
});

describe('5000 instance ids in one query are chunked, not refused', () => {
  const REGIONS = ['us-east-1', 'eu-west-1'];
  const PER_REGION = 2500;
  const CHUNK = 1000; // @rolegraph/ec2: at most 1000 ids per Describe call (MAX_IDS_PER_CALL)
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({
      sandbox: {
        fixture: generateFixture({
          accounts: 1,
          regions: REGIONS,
          instancesPerRegion: PER_REGION,
          bucketsPerAccount: 1,
          objectsPerBucket: 1,
        }),
      },
      // Limits an operator raises on purpose to allow 5000 lookups in one operation.
      config: { limits: { maxAliases: 5000, maxTokens: 100_000, maxCost: 100_000, maxIds: 5000 } },
    });
  });
  afterAll(async () => {
    await h?.close();
  });
  /** The one member account (the generated fixture also holds the management account). */
  const member = () => {
    const account = h.sandbox.fixture.accounts.find((a) => a.instances.length > 0);
    if (!account) throw new Error('fixture without a member account');
    return account;
  };

  it('5000 instance(account, region, id) lookups: ceil(2500 / 1000) = 3 DescribeInstances per region', async () => {
    const account = member();
    const instances = account.instances;
    expect(instances).toHaveLength(REGIONS.length * PER_REGION);
    const query = `{ ${instances
      .map(
        (i, n) =>
          `i${n}: instance(account: "${account.alias}", region: "${i.region}", id: "${i.id}") { id region }`,
      )
      .join(' ')} }`;
    h.sandbox.admin.reset();
    const r = await gql<Record<string, { id: string; region: string } | null>>(h.gateway, query);
    expect(r.status).toBe(200);
    expect(r.body.errors).toBeUndefined();
    const found = Object.values(r.body.data ?? {});
    expect(found).toHaveLength(5000);
    expect(new Set(found.map((f) => f?.id))).toEqual(new Set(instances.map((i) => i.id)));
    for (const region of REGIONS) {
      expect(h.sandbox.admin.calls({ service: 'ec2', operation: 'DescribeInstances', region })).toBe(
        Math.ceil(PER_REGION / CHUNK),
      );
    }
    expect(h.sandbox.admin.calls({ service: 'sts', operation: 'AssumeRole' })).toBeLessThanOrEqual(1);
  });

  it('instances(filter: { ids: 5000 }) is chunked into calls of at most 200 filter values', async () => {
    // EC2 (like the sandbox) takes at most 200 filter values per call (FilterLimitExceeded), so
    // the listing sends the ids in chunks of 200: 5000 ids = 25 DescribeInstances per region listed.
    const account = member();
    const ids = account.instances.map((i) => i.id);
    h.sandbox.admin.reset();
    const r = await gql<{ instances: { nodes: Array<{ id: string }>; pageInfo: { hasNextPage: boolean } } }>(
      h.gateway,
      'query ($account: String!, $ids: [String!]) { instances(account: $account, filter: { ids: $ids }, first: 1000) { nodes { id } pageInfo { hasNextPage } } }',
      { account: account.alias, ids },
    );
    expect(r.status).toBe(200);
    expect(r.body.errors).toBeUndefined();
    const nodes = r.body.data?.instances.nodes ?? [];
    expect(nodes).toHaveLength(1000);
    expect(nodes.every((n) => ids.includes(n.id))).toBe(true);
    expect(r.body.data?.instances.pageInfo.hasNextPage).toBe(true);
    const calls = REGIONS.map((region) =>
      h.sandbox.admin.calls({ service: 'ec2', operation: 'DescribeInstances', region }),
    );
    // Without a region the connection covers every configured region in order; the first one's
    // 2500 matches fill the page of 1000, so the later ones are not read.
    expect(calls).toEqual(REGIONS.map((_, i) => (i === 0 ? Math.ceil(5000 / 200) : 0)));
    expect(unexpectedErrors(r.body)).toEqual([]);
  });
});
