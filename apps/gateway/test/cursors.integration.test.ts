import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCursor } from '../src/schema/connection.js';
import { gql, type Harness, startHarness } from './helpers.js';

// The adapters own their cursors; the gateway only adds the region. Whatever the cursor
// carries, a forged or foreign one is the caller's bad argument, never an internal error.

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

type Errors = Array<{ message: string; extensions?: Record<string, unknown> }> | undefined;
const codes = (errors: Errors) => errors?.map((e) => e.extensions?.code);

describe('forged and foreign cursors', () => {
  const ids = Array.from({ length: 201 }, (_, k) => `i-${k.toString(16).padStart(17, '0')}`);

  it('a forged cursor on an id-chunk listing (201 ids) answers BAD_USER_INPUT, not INTERNAL', async () => {
    const internal = () => h.logs.filter((l) => l.code === 'INTERNAL_SERVER_ERROR').length;
    const before = internal();
    // [0,"foo",0]: the cursor, and the same adapter cursor in this gateway's format.
    for (const after of ['WzAsImZvbyIsMF0', encodeCursor({ r: 0, c: 'foo' })]) {
      const r = await gql(
        h.gateway,
        'query ($ids: [String!], $after: String) { instances(account: "prod", filter: { ids: $ids }, after: $after) { nodes { id } } }',
        { ids, after },
      );
      expect(r.status).toBe(200);
      expect(codes(r.body.errors)).toEqual(['BAD_USER_INPUT']);
      expect(r.body.errors?.[0]?.message).toMatch(/after/);
      expect(JSON.stringify(r.body)).not.toMatch(/stack|TypeError/);
    }
    expect(internal()).toBe(before);
  });

  it('an adapter cursor AWS refuses, or one of another listing, is BAD_USER_INPUT naming after', async () => {
    const cases = [
      // EC2 refuses a token it did not make.
      `{ instances(account: "prod", after: "${encodeCursor({ r: 0, c: 'forged-token' })}") { nodes { id } } }`,
      // A region index past the account's regions.
      `{ instances(account: "prod", after: "${encodeCursor({ r: 7, c: null })}") { nodes { id } } }`,
      // S3 refuses an EC2 cursor as its continuation token.
      `{ buckets(account: "prod", after: "${encodeCursor({ r: 0, c: 'rolegraph:3:abc' })}") { nodes { name } } }`,
      // A multi-region position on a listing that has one.
      `{ buckets(account: "prod", after: "${encodeCursor({ r: 1, c: null })}") { nodes { name } } }`,
    ];
    for (const query of cases) {
      const r = await gql(h.gateway, query);
      expect(codes(r.body.errors), query).toEqual(['BAD_USER_INPUT']);
      expect(r.body.errors?.[0]?.message, query).toMatch(/after/);
    }
  });

  it('every edge cursor resumes right after its edge, across regions', async () => {
    const all = await gql<{ instances: { edges: Array<{ cursor: string; node: { id: string } }> } }>(
      h.gateway,
      '{ instances(account: "audit", first: 500) { edges { cursor node { id } } } }',
    );
    const edges = all.body.data?.instances.edges ?? [];
    expect(edges.length).toBeGreaterThan(3);
    const picks = [0, Math.floor(edges.length / 2), edges.length - 2];
    for (const i of picks) {
      const next = await gql<{ instances: { nodes: Array<{ id: string }> } }>(
        h.gateway,
        'query ($c: String) { instances(account: "audit", first: 1, after: $c) { nodes { id } } }',
        { c: edges[i]?.cursor },
      );
      expect(next.body.data?.instances.nodes.map((n) => n.id)).toEqual([edges[i + 1]?.node.id]);
    }
  });
});
