import { DescribeInstancesCommand, EC2Client, type Filter } from '@aws-sdk/client-ec2';
import {
  callAws,
  cutPage,
  decodePageCursor,
  invalidArgument,
  type Page,
  toAwsCallError,
} from '@rolegraph/credentials/aws';
import type DataLoader from 'dataloader';
import { callContext, type LoaderContext } from './context.js';
import { toInstance } from './map.js';
import { MAX_FILTER_VALUES } from './regional-loaders.js';
import type { Instance, InstanceFilter, RegionalId } from './types.js';

export interface ListInstancesArgs {
  region: string;
  filter?: InstanceFilter;
  /**
   * Page size, sent as `MaxResults` (which EC2 clamps to 5..1000; a larger `first` gets a
   * page of 1000 and `hasNextPage`).
   * @default 100
   */
  first?: number;
  /** The `endCursor` of the previous page. */
  after?: string | null;
}

/** @default page size of `listInstances` */
export const DEFAULT_PAGE_SIZE = 100;
const MIN_RESULTS = 5;
const MAX_RESULTS = 1000;
// A listing by more ids than one call's filter can carry pages over the combined result.
const IDS_CURSOR = /^rolegraph-ids:(\d{1,9})$/;
const OPERATION = 'DescribeInstances';

/**
 * `InstanceFilter` to EC2 `Filters`, or `null` when an empty value list means nothing can match.
 *
 * @example
 * toInstanceFilters({ states: ['running'], tags: [{ key: 'Team', values: ['data'] }] });
 * // [{ Name: 'instance-state-name', Values: ['running'] }, { Name: 'tag:Team', Values: ['data'] }]
 */
export function toInstanceFilters(filter: InstanceFilter | undefined): Filter[] | null {
  if (!filter) return [];
  const filters: Filter[] = [];
  const add = (name: string, values: readonly string[] | undefined) => {
    if (values !== undefined) filters.push({ Name: name, Values: [...values] });
  };
  // ids go in a filter, not InstanceIds: EC2 refuses MaxResults together with InstanceIds.
  add('instance-id', filter.ids);
  add('instance-state-name', filter.states);
  add('instance-type', filter.types);
  add('vpc-id', filter.vpcIds);
  for (const tag of filter.tags ?? []) {
    if (tag.values === undefined) add('tag-key', [tag.key]);
    else add(`tag:${tag.key}`, tag.values);
  }
  return filters.some((f) => f.Values?.length === 0) ? null : filters;
}

/**
 * One page of the instances of a region matching `filter`; every listed instance is primed
 * into `instanceLoader`, so resolving it again by id costs nothing.
 *
 * @example
 * const page = await listInstances(ctx, loader, { region: 'us-east-1', filter: { states: ['running'] }, first: 50 });
 * const next = await listInstances(ctx, loader, { region: 'us-east-1', first: 50, after: page.endCursor });
 */
export async function listInstances(
  ctx: LoaderContext,
  instanceLoader: DataLoader<RegionalId, Instance | null, string>,
  args: ListInstancesArgs,
): Promise<Page<Instance>> {
  const { region } = args;
  const first = args.first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 1) {
    throw new TypeError(`listInstances: first must be a positive integer, got ${String(args.first)}`);
  }
  const filters = toInstanceFilters(args.filter);
  if (filters === null) return { items: [], cursors: [], endCursor: null, hasNextPage: false };
  const origin = { accountId: ctx.session.accountId, region };
  const filterValues = filters.reduce((n, f) => n + (f.Values?.length ?? 0), 0);
  if (args.filter?.ids && filterValues > MAX_FILTER_VALUES) {
    return listByIdChunks(ctx, instanceLoader, args, filters, first);
  }
  let position = decodePageCursor(args.after);
  if (position.skip > MAX_RESULTS) {
    throw invalidArgument(callContext(ctx, region), OPERATION, 'after', 'is not a cursor of this listing');
  }
  const maxResults = Math.min(MAX_RESULTS, Math.max(MIN_RESULTS, position.skip + first));
  // Only a token that came from the caller can be the caller's bad argument.
  let cursor = args.after ? { argument: 'after' } : undefined;
  for (;;) {
    const token = position.token;
    const input = {
      Filters: filters.length > 0 ? filters : undefined,
      MaxResults: maxResults,
      NextToken: token,
    };
    // Mapped inside the call: what an answer cache keeps is the (smaller) domain page, and a hit
    // costs no mapping.
    const output = await callAws(
      callContext(ctx, region, { cursor }),
      { operation: OPERATION, input },
      async (signal) => {
        const out = await ctx.session
          .client(EC2Client, region)
          .send(new DescribeInstancesCommand(input), { abortSignal: signal });
        return {
          instances: (out.Reservations ?? [])
            .flatMap((r) => r.Instances ?? [])
            .map((raw) => toInstance(raw, origin)),
          NextToken: out.NextToken,
        };
      },
    );
    const { instances } = output;
    for (const instance of instances) instanceLoader.prime({ region, id: instance.id }, instance);
    const page = cutPage({ items: instances, position, first, nextToken: output.NextToken });
    // A filtered page may come back empty with a token; keep going rather than return nothing.
    if (page.items.length === 0 && output.NextToken) {
      position = { token: output.NextToken, skip: 0 };
      cursor = undefined;
      continue;
    }
    return page;
  }
}

/**
 * EC2 takes at most 200 filter values per call, so a listing by more ids sends them in
 * chunks that fit beside the other filters (which stay server-side), one call per chunk and
 * page, in parallel, and pages over the combined result with an offset cursor.
 */
async function listByIdChunks(
  ctx: LoaderContext,
  instanceLoader: DataLoader<RegionalId, Instance | null, string>,
  args: ListInstancesArgs,
  filters: Filter[],
  first: number,
): Promise<Page<Instance>> {
  const { region } = args;
  const origin = { accountId: ctx.session.accountId, region };
  const others = filters.filter((f) => f.Name !== 'instance-id');
  const room = Math.max(1, MAX_FILTER_VALUES - others.reduce((n, f) => n + (f.Values?.length ?? 0), 0));
  const ids = [...new Set(args.filter?.ids ?? [])];
  const context = callContext(ctx, region);
  const offsetMatch = args.after ? IDS_CURSOR.exec(args.after) : null;
  if (args.after && !offsetMatch) {
    // Runtime input, so a typed error the caller can act on, not a TypeError (a bug).
    throw invalidArgument(context, OPERATION, 'after', 'is not a cursor of this listing');
  }
  const offset = Number(offsetMatch?.[1] ?? 0);
  try {
    const chunks: string[][] = [];
    for (let i = 0; i < ids.length; i += room) chunks.push(ids.slice(i, i + room));
    const found = await Promise.all(
      chunks.map(async (chunk) => {
        const instances: Instance[] = [];
        let token: string | undefined;
        do {
          const next = token;
          const input = { Filters: [{ Name: 'instance-id', Values: chunk }, ...others], NextToken: next };
          const output = await callAws(context, { operation: OPERATION, input }, (signal) =>
            ctx.session
              .client(EC2Client, region)
              .send(new DescribeInstancesCommand(input), { abortSignal: signal }),
          );
          for (const raw of (output.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
            instances.push(toInstance(raw, origin));
          }
          token = output.NextToken;
        } while (token);
        return instances;
      }),
    );
    const all = found.flat();
    for (const instance of all) instanceLoader.prime({ region, id: instance.id }, instance);
    const items = all.slice(offset, offset + first);
    const cursors = items.map((_, i) => `rolegraph-ids:${offset + i + 1}`);
    const hasNextPage = offset + first < all.length;
    return { items, cursors, endCursor: hasNextPage ? `rolegraph-ids:${offset + first}` : null, hasNextPage };
  } catch (error) {
    throw toAwsCallError(error, context, OPERATION);
  }
}
