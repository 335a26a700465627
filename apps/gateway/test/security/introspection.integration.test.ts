import { afterAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../src/auth/authenticate.js';
import { gql, type Harness, startHarness } from '../helpers.js';
import { codesOf } from './security-helpers.js';

// Issue 12, reproduction 10: introspection can be switched off, and is off by default with auth.

const KEY = { 'x-api-key': 'ops-key' };
const auth = { apiKeys: [{ name: 'ops', sha256: hashApiKey('ops-key'), accounts: ['*'] }] };
const INTROSPECTION = '{ __schema { types { name } } }';

/** Refused at validation: no data, and every error is GRAPHQL_VALIDATION_FAILED. */
function expectRefused(body: Parameters<typeof codesOf>[0]) {
  expect(body.data ?? null).toBeNull();
  const codes = codesOf(body);
  expect(codes.length).toBeGreaterThan(0);
  expect(new Set(codes)).toEqual(new Set(['GRAPHQL_VALIDATION_FAILED']));
}

describe('server.introspection', () => {
  const harnesses: Harness[] = [];
  const start = async (config: Record<string, unknown>) => {
    const h = await startHarness({ config });
    harnesses.push(h);
    return h;
  };
  afterAll(async () => {
    for (const h of harnesses) await h.close();
  });

  it('with auth and no setting: __schema and __type are GRAPHQL_VALIDATION_FAILED; __typename answers', async () => {
    const h = await start({ auth });
    const schema = await gql(h.gateway, INTROSPECTION, undefined, KEY);
    expectRefused(schema.body);
    expect(JSON.stringify(schema.body)).not.toMatch(/InstanceConnection/);
    const type = await gql(h.gateway, '{ __type(name: "Account") { fields { name } } }', undefined, KEY);
    expectRefused(type.body);
    const typename = await gql(h.gateway, '{ __typename }', undefined, KEY);
    expect(typename.body.data).toEqual({ __typename: 'Query' });
  });

  it('with auth and introspection: true: the schema is answered', async () => {
    const h = await start({ auth, server: { introspection: true } });
    const r = await gql<{ __schema: { types: unknown[] } }>(h.gateway, INTROSPECTION, undefined, KEY);
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data?.__schema.types.length).toBeGreaterThan(10);
  });

  it('without auth (demo-like, loopback): on by default, off with introspection: false', async () => {
    const on = await start({});
    expect((await gql(on.gateway, INTROSPECTION)).body.errors).toBeUndefined();
    const off = await start({ server: { introspection: false } });
    expectRefused((await gql(off.gateway, INTROSPECTION)).body);
  });
});
