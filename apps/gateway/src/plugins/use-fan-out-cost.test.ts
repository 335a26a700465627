import fc from 'fast-check';
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { estimateCost, estimateQuery } from './use-fan-out-cost.js';

const inputs = { allowedAccounts: 3, maxRegions: 2, defaultPageSize: 50, variables: {} };

describe('estimateCost', () => {
  it('counts fields once per object', () => {
    expect(estimateCost(parse('{ accounts { alias accountId } }'), undefined, inputs)).toBe(1 + 3 * 2);
  });

  it('multiplies by accounts, adds a listing per region, and multiplies by page size', () => {
    const cost = estimateCost(
      parse('{ accounts { instances(first: 10) { nodes { id } } } }'),
      undefined,
      inputs,
    );
    // accounts 1; per account (3): instances 1 + 2 region listings, nodes 1, id 10
    expect(cost).toBe(1 + 3 * (1 + 2 + 1 + 10));
  });

  it('honours aliases, region and variables', () => {
    const doc = parse(
      'query ($n: Int) { accounts(aliases: ["a"]) { instances(region: "us-east-1", first: $n) { nodes { id } } } }',
    );
    expect(estimateCost(doc, undefined, { ...inputs, variables: { n: 4 } })).toBe(1 + 1 * (1 + 1 + 4));
  });

  it('follows fragments and grows with nesting', () => {
    const small = estimateCost(
      parse('{ instances(account: "a") { nodes { ...I } } } fragment I on Instance { id }'),
      undefined,
      inputs,
    );
    const big = estimateCost(
      parse(
        '{ instances(account: "a") { nodes { ...I } } } fragment I on Instance { id securityGroups { id } volumes { id } }',
      ),
      undefined,
      inputs,
    );
    expect(small).toBe(1 + 2 + 1 + 50);
    expect(big).toBeGreaterThan(small * 5);
  });
});

describe('estimateQuery: AWS calls', () => {
  const calls = (query: string, variables: Record<string, unknown> = {}) =>
    estimateQuery(parse(query), undefined, { ...inputs, variables, maxIds: 1000, maxAccountNames: 100 })
      .awsCalls;

  it('prices a listing per account x region, ids per chunk of 200 x regions', () => {
    expect(calls('{ accounts { instances { nodes { id } } } }')).toBe(3 * 2);
    expect(
      calls('{ instances(account: "a", filter: { ids: $ids }) { nodes { id } } }', { ids: ids(1000) }),
    ).toBe(2 * 5);
    expect(
      calls(
        'query ($f: InstanceFilter) { instances(account: "a", region: "r", filter: $f) { nodes { id } } }',
        {
          f: { ids: ids(401) },
        },
      ),
    ).toBe(3);
  });

  it('collapses repeated aliases and prices nested per-bucket calls', () => {
    expect(
      calls(
        'query ($a: [String!]) { accounts(aliases: $a) { instances(first: 1) { pageInfo { hasNextPage } } } }',
        {
          a: Array.from({ length: 100 }, () => 'prod'),
        },
      ),
    ).toBe(2);
    // 1 ListBuckets + 100 buckets x (ListObjectsV2 + GetBucketTagging), per account
    expect(
      calls('{ accounts { buckets(first: 100) { nodes { tags { key } objects { nodes { key } } } } } }'),
    ).toBe(3 * (1 + 100 * 2));
  });

  it('prices nothing for arguments the field refuses (first out of range, lists over their cap)', () => {
    expect(calls('{ buckets(account: "a", first: 100000) { nodes { tags { key } } } }')).toBe(0);
    expect(
      calls('query ($n: Int) { buckets(account: "a", first: $n) { nodes { tags { key } } } }', {
        n: 2 ** 40,
      }),
    ).toBe(0);
    expect(
      calls('{ instances(account: "a", filter: { ids: $ids }) { nodes { id } } }', { ids: ids(1001) }),
    ).toBe(0);
    expect(
      calls('query ($a: [String!]) { accounts(aliases: $a) { instances { nodes { id } } } }', {
        a: Array.from({ length: 101 }, (_, i) => `a${i}`),
      }),
    ).toBe(0);
  });

  it('stops as soon as a cap is passed', () => {
    const estimate = estimateQuery(
      parse('{ accounts { buckets(first: 1000) { nodes { objects { nodes { key } } } } } }'),
      undefined,
      { ...inputs, maxAwsCalls: 1000 },
    );
    expect(estimate.exceeded).toBe('awsCalls');
    expect(estimate.awsCalls).toBeGreaterThan(1000);
  });
});

/** `depth` levels of fragments, each spreading the one below `width` times: width^depth uses. */
function nestedFragments(depth: number, width: number, leaf: string): string {
  const parts = [`query { ...F${depth} }`, `fragment F0 on Query { ${leaf} }`];
  for (let d = 1; d <= depth; d++) {
    parts.push(
      `fragment F${d} on Query { ${Array.from({ length: width }, () => `...F${d - 1}`).join(' ')} }`,
    );
  }
  return parts.join('\n');
}

describe('estimateQuery runs in linear time', () => {
  it('a 9-deep document of 20 spreads per fragment (20^9 uses) is priced in under 250 ms', () => {
    const doc = parse(nestedFragments(9, 20, 'accounts { alias }'));
    const started = performance.now();
    const estimate = estimateQuery(doc, undefined, inputs);
    expect(performance.now() - started).toBeLessThan(250);
    expect(estimate.cost).toBe(20 ** 9 * (1 + 3));
  });

  it('property: nested fragments of any shape take under 250 ms (milliseconds when quiet; the unmemoized walk took seconds)', () => {
    const leaves = fc.constantFrom(
      'accounts { alias }',
      'accounts { instances { nodes { id volumes { id } } } }',
      'instances(account: "a") { edges { node { id } } }',
      'buckets(account: "a") { nodes { tags { key } } }',
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 30 }),
        leaves,
        fc.boolean(),
        (depth, width, leaf, capped) => {
          const doc = parse(nestedFragments(depth, width, leaf));
          const started = performance.now();
          const estimate = estimateQuery(doc, undefined, {
            ...inputs,
            ...(capped ? { maxCost: 100_000, maxAwsCalls: 1000 } : {}),
          });
          expect(performance.now() - started).toBeLessThan(250);
          expect(estimate.cost).toBeGreaterThan(0);
        },
      ),
      { seed: 20261201, numRuns: 300 },
    );
  });
});

function ids(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `i-${i.toString(16).padStart(17, '0')}`);
}
