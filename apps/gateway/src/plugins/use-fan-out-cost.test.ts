import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { estimateCost } from './use-fan-out-cost.js';

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
