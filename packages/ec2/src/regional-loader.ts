import { EC2Client } from '@aws-sdk/client-ec2';
import { awsErrorCode, type Session } from '@rolegraph/credentials';
import DataLoader from 'dataloader';
import { abortedError, type ErrorContext, toEc2Error } from './errors.js';
import type { Origin } from './map.js';
import type { RegionalId } from './types.js';

/** The most ids one Describe call accepts, and the default chunk size. */
export const MAX_IDS_PER_CALL = 1000;
/** The most filter values one EC2 call accepts (more: `FilterLimitExceeded`). */
export const MAX_FILTER_VALUES = 200;

/** What every loader of one `createEc2Loaders` call shares. */
export interface LoaderContext {
  session: Session;
  signal?: AbortSignal | undefined;
  /** Ids per Describe call; more are split into several calls in the same batch. */
  maxBatchSize: number;
}

/** One page of a Describe call, however the ids were passed. */
export interface DescribePage<R> {
  items: R[];
  nextToken: string | undefined;
}

/** How ids are passed: as the id parameter (fails on unknown ids) or as a filter (omits them). */
export type DescribeRequest =
  | { kind: 'ids'; ids: string[]; nextToken: string | undefined }
  | { kind: 'filter'; ids: string[]; nextToken: string | undefined };

/** What makes one EC2 resource type loadable by (region, id). */
export interface RegionalResource<R, T> {
  operation: string;
  /** Ids that can never exist resolve to null without a call. */
  idPattern: RegExp;
  /** Codes meaning "one of these ids does not exist": retry the chunk with the filter. */
  missingIdCodes: ReadonlySet<string>;
  describe(
    client: EC2Client,
    request: DescribeRequest,
    signal: AbortSignal | undefined,
  ): Promise<DescribePage<R>>;
  idOf(raw: R): string | undefined;
  map(raw: R, origin: Origin): T;
}

/**
 * DataLoader cache key of a regional id.
 *
 * @example
 * regionalKey({ region: 'us-east-1', id: 'i-0123456789abcdef0' }); // 'us-east-1:i-0123456789abcdef0'
 */
export const regionalKey = (key: RegionalId): string => `${key.region}:${key.id}`;

function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

async function collect<R, T>(
  resource: RegionalResource<R, T>,
  client: EC2Client,
  kind: DescribeRequest['kind'],
  ids: string[],
  context: ErrorContext,
): Promise<R[]> {
  const items: R[] = [];
  let nextToken: string | undefined;
  do {
    if (context.signal?.aborted) throw abortedError(context);
    const page = await resource.describe(client, { kind, ids, nextToken }, context.signal);
    items.push(...page.items);
    nextToken = page.nextToken;
  } while (nextToken);
  return items;
}

/**
 * Fetch one chunk of ids of one region. Up to 200 ids go as a filter: one call, and unknown
 * ids are simply absent. A larger chunk goes as the id parameter (up to 1000 in one call);
 * if an id is unknown that call fails, and the chunk is fetched again as filters of 200.
 */
async function fetchChunk<R, T>(
  resource: RegionalResource<R, T>,
  ctx: LoaderContext,
  region: string,
  ids: string[],
): Promise<Map<string, T>> {
  const errorContext: ErrorContext = {
    accountId: ctx.session.accountId,
    region,
    operation: resource.operation,
    signal: ctx.signal,
  };
  const origin: Origin = { accountId: ctx.session.accountId, region };
  try {
    const client = ctx.session.client(EC2Client, region);
    const byFilter = async () =>
      (
        await Promise.all(
          chunk(ids, MAX_FILTER_VALUES).map((part) =>
            collect(resource, client, 'filter', part, errorContext),
          ),
        )
      ).flat();
    let raws: R[];
    if (ids.length <= MAX_FILTER_VALUES) {
      raws = await byFilter();
    } else {
      try {
        raws = await collect(resource, client, 'ids', ids, errorContext);
      } catch (error) {
        const code = awsErrorCode(error);
        if (code === undefined || !resource.missingIdCodes.has(code) || ctx.signal?.aborted) throw error;
        // The id form fails the whole call for one unknown id; the filter form leaves it out.
        raws = await byFilter();
      }
    }
    const found = new Map<string, T>();
    for (const raw of raws) {
      const id = resource.idOf(raw);
      if (id !== undefined) found.set(id, resource.map(raw, origin));
    }
    return found;
  } catch (error) {
    throw toEc2Error(error, errorContext);
  }
}

/**
 * A per-request DataLoader for one EC2 resource type: each batch costs one Describe call per
 * region (per `maxBatchSize` ids), unknown and malformed ids resolve to `null`, and a failed
 * call rejects only the keys it carried, each with an `Ec2Error`.
 */
export function createRegionalLoader<R, T>(
  resource: RegionalResource<R, T>,
  ctx: LoaderContext,
): DataLoader<RegionalId, T | null, string> {
  const batch = async (keys: readonly RegionalId[]): Promise<Array<T | null | Error>> => {
    const results: Array<T | null | Error> = keys.map(() => null);
    const byRegion = new Map<string, Map<string, number[]>>();
    keys.forEach((key, index) => {
      if (!resource.idPattern.test(key.id)) return;
      let ids = byRegion.get(key.region);
      if (!ids) {
        ids = new Map();
        byRegion.set(key.region, ids);
      }
      const indexes = ids.get(key.id);
      if (indexes) indexes.push(index);
      else ids.set(key.id, [index]);
    });
    const work: Promise<void>[] = [];
    for (const [region, ids] of byRegion) {
      for (const part of chunk([...ids.keys()], ctx.maxBatchSize)) {
        work.push(
          fetchChunk(resource, ctx, region, part).then(
            (found) => {
              for (const id of part) {
                const value = found.get(id) ?? null;
                for (const index of ids.get(id) ?? []) results[index] = value;
              }
            },
            (error: unknown) => {
              const failure = error instanceof Error ? error : new Error(String(error));
              for (const id of part) for (const index of ids.get(id) ?? []) results[index] = failure;
            },
          ),
        );
      }
    }
    await Promise.all(work);
    return results;
  };
  return new DataLoader<RegionalId, T | null, string>(batch, { cacheKeyFn: regionalKey });
}
