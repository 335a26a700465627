import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, type Harness, startHarness } from './helpers.js';

// What a new user meets in their first queries: typos answered with a suggestion where the
// schema is public anyway, and one log line per request that says who asked and what it cost.

describe('field suggestions follow introspection', () => {
  let demo: Harness;
  let locked: Harness;
  beforeAll(async () => {
    demo = await startHarness({ config: { server: { graphiql: true } } });
    locked = await startHarness({ config: { server: { introspection: false } } });
  });
  afterAll(async () => {
    await demo?.close();
    await locked?.close();
  });

  it('suggests the field where introspection is on (demo mode: no auth, GraphiQL)', async () => {
    const r = await gql(demo.gateway, '{ account(account: "prod") { alais } }');
    expect(r.body.errors?.[0]?.message).toBe(
      'Cannot query field "alais" on type "Account". Did you mean "alias"?',
    );
    expect(r.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('hides the suggestion where introspection is off', async () => {
    const r = await gql(locked.gateway, '{ account(account: "prod") { alais } }');
    expect(r.body.errors?.[0]?.message).toBe(
      'Cannot query field "alais" on type "Account". [Suggestion hidden]',
    );
  });
});

describe('the request log line', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('has the request id, caller, accounts, AWS calls (as the sandbox counted them) and duration', async () => {
    const before = h.sandbox.admin.calls({ service: 'ec2' }) + h.sandbox.admin.calls({ service: 's3' });
    const r = await gql(
      h.gateway,
      '{ a: account(account: "prod") { instances(region: "us-east-1", first: 1) { nodes { id } } } b: account(account: "audit") { buckets(first: 1) { nodes { name } } } }',
      undefined,
      { 'x-request-id': 'first-hour-1' },
    );
    expect(r.body.errors).toBeUndefined();
    const awsCalls =
      h.sandbox.admin.calls({ service: 'ec2' }) + h.sandbox.admin.calls({ service: 's3' }) - before;
    const line = h.logs.find((l) => l.msg === 'request' && l.requestId === 'first-hour-1');
    expect(line).toMatchObject({
      level: 'info',
      method: 'POST',
      path: '/graphql',
      status: 200,
      caller: 'anonymous',
      callerKind: 'anonymous',
      awsCalls,
      awsErrors: 0,
    });
    expect(awsCalls).toBeGreaterThanOrEqual(2);
    expect([...((line?.accounts as string[]) ?? [])].sort()).toEqual(['audit', 'prod']);
    expect(typeof line?.durationMs).toBe('number');
  });

  it('counts failed AWS calls as errors', async () => {
    h.sandbox.admin.setFault({ service: 'ec2', error: 'internal' });
    try {
      await gql(
        h.gateway,
        '{ account(account: "staging") { instances(region: "us-east-1", first: 1) { nodes { id } } } }',
        undefined,
        {
          'x-request-id': 'first-hour-2',
        },
      );
    } finally {
      h.sandbox.admin.clearFaults();
    }
    const line = h.logs.find((l) => l.msg === 'request' && l.requestId === 'first-hour-2');
    expect(line?.awsErrors).toBeGreaterThanOrEqual(1);
    expect(line?.accounts).toEqual(['staging']);
  });
});
