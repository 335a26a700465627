import type { GraphQLResponse } from '../helpers.js';

/** The full fan-out query of the demo fixture: 39 AWS calls on a cold gateway, 36 warm. */
export const FAN_OUT_QUERY = `{
  accounts {
    alias
    instances(first: 100) { nodes { id region securityGroups { id name } volumes { id sizeGiB } } }
    buckets(first: 100) { nodes { name region tags { key value } } }
  }
}`;

export interface FanOutData {
  accounts: Array<{
    alias: string;
    instances: {
      nodes: Array<{ id: string; securityGroups: unknown[] | null; volumes: unknown[] | null }>;
    } | null;
    buckets: { nodes: Array<{ name: string; tags: unknown[] | null }> } | null;
  }>;
}

/** Instances and buckets one account of the demo fixture has. */
export const DEMO_INSTANCES_PER_ACCOUNT = 10;
export const DEMO_BUCKETS_PER_ACCOUNT = 5;

/** True when every account answered everything, with no error. */
export function isComplete(r: GraphQLResponse<FanOutData>): boolean {
  const accounts = r.body.data?.accounts;
  return (
    r.status === 200 &&
    r.body.errors === undefined &&
    accounts?.length === 3 &&
    accounts.every(
      (a) =>
        a.instances?.nodes.length === DEMO_INSTANCES_PER_ACCOUNT &&
        a.instances.nodes.every((i) => i.securityGroups !== null && i.volumes !== null) &&
        a.buckets?.nodes.length === DEMO_BUCKETS_PER_ACCOUNT &&
        a.buckets.nodes.every((b) => b.tags !== null),
    )
  );
}

export const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** `extensions` of every error of a response, for exact assertions. */
export function errorExtensions(r: GraphQLResponse): Array<Record<string, unknown>> {
  return (r.body.errors ?? []).map((e) => e.extensions ?? {});
}
