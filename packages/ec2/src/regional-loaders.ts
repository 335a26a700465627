import {
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  DescribeVolumesCommand,
  EC2Client,
  type Instance as SdkInstance,
  type SecurityGroup as SdkSecurityGroup,
  type Volume as SdkVolume,
} from '@aws-sdk/client-ec2';
import { awsErrorCode, callAws, toAwsCallError } from '@rolegraph/credentials/aws';
import DataLoader from 'dataloader';
import { callContext, type LoaderContext } from './context.js';
import { type Origin, toInstance, toSecurityGroup, toVolume } from './map.js';
import type { Instance, RegionalId, SecurityGroup, Volume } from './types.js';

/** The most ids one Describe call accepts, and the default chunk size. */
export const MAX_IDS_PER_CALL = 1000;
/** The most filter values one EC2 call accepts (more: `FilterLimitExceeded`). */
export const MAX_FILTER_VALUES = 200;

/** One page of a Describe call, however the ids were passed. */
interface DescribePage<R> {
  items: R[];
  nextToken: string | undefined;
}

/** How ids are passed: as the id parameter (fails on unknown ids) or as a filter (omits them). */
type DescribeRequest = { kind: 'ids' | 'filter'; ids: string[]; nextToken: string | undefined };

/** What makes one EC2 resource type loadable by (region, id): one row of the table below. */
interface RegionalResource<R, T> {
  operation: string;
  /** Ids that can never exist resolve to null without a call. */
  idPattern: RegExp;
  /** Codes meaning "one of these ids does not exist": retry the chunk with the filter. */
  missingIdCodes: ReadonlySet<string>;
  /** The id parameter of the call, and the filter that matches the same ids. */
  idParameter: string;
  idFilter: string;
  /** The most results one filtered page may ask for. */
  maxResults: number;
  /** Send the Describe call with `input` and pick out the page. */
  send(client: EC2Client, input: object, signal: AbortSignal | undefined): Promise<DescribePage<R>>;
  idOf(raw: R): string | undefined;
  map(raw: R, origin: Origin): T;
}

/**
 * The shape of a real instance id (8 or 17 hex digits); anything else cannot exist and is
 * resolved to `null` without a call.
 *
 * @example
 * INSTANCE_ID_PATTERN.test('i-0123456789abcdef0'); // true
 */
export const INSTANCE_ID_PATTERN = /^i-[0-9a-f]{8}([0-9a-f]{9})?$/;
/**
 * The shape of a real security group id; anything else is `null` without a call.
 *
 * @example
 * SECURITY_GROUP_ID_PATTERN.test('sg-0123456789abcdef0'); // true
 */
export const SECURITY_GROUP_ID_PATTERN = /^sg-[0-9a-f]{8}([0-9a-f]{9})?$/;
/**
 * The shape of a real volume id; anything else is `null` without a call.
 *
 * @example
 * VOLUME_ID_PATTERN.test('vol-0123456789abcdef0'); // true
 */
export const VOLUME_ID_PATTERN = /^vol-[0-9a-f]{8}([0-9a-f]{9})?$/;

const instanceResource: RegionalResource<SdkInstance, Instance> = {
  operation: 'DescribeInstances',
  idPattern: INSTANCE_ID_PATTERN,
  missingIdCodes: new Set(['InvalidInstanceID.NotFound', 'InvalidInstanceID.Malformed']),
  idParameter: 'InstanceIds',
  idFilter: 'instance-id',
  maxResults: 1000,
  send: (client, input, abortSignal) =>
    client.send(new DescribeInstancesCommand(input), { abortSignal }).then((out) => ({
      items: (out.Reservations ?? []).flatMap((r) => r.Instances ?? []),
      nextToken: out.NextToken,
    })),
  idOf: (raw) => raw.InstanceId,
  map: toInstance,
};

const securityGroupResource: RegionalResource<SdkSecurityGroup, SecurityGroup> = {
  operation: 'DescribeSecurityGroups',
  idPattern: SECURITY_GROUP_ID_PATTERN,
  missingIdCodes: new Set([
    'InvalidGroup.NotFound',
    'InvalidGroupId.Malformed',
    'InvalidSecurityGroupID.NotFound',
  ]),
  idParameter: 'GroupIds',
  idFilter: 'group-id',
  maxResults: 1000,
  send: (client, input, abortSignal) =>
    client
      .send(new DescribeSecurityGroupsCommand(input), { abortSignal })
      .then((out) => ({ items: out.SecurityGroups ?? [], nextToken: out.NextToken })),
  idOf: (raw) => raw.GroupId,
  map: toSecurityGroup,
};

const volumeResource: RegionalResource<SdkVolume, Volume> = {
  operation: 'DescribeVolumes',
  idPattern: VOLUME_ID_PATTERN,
  missingIdCodes: new Set(['InvalidVolume.NotFound', 'InvalidVolumeID.Malformed']),
  idParameter: 'VolumeIds',
  idFilter: 'volume-id',
  // DescribeVolumes pages at most 500 (the others 1000).
  maxResults: 500,
  send: (client, input, abortSignal) =>
    client
      .send(new DescribeVolumesCommand(input), { abortSignal })
      .then((out) => ({ items: out.Volumes ?? [], nextToken: out.NextToken })),
  idOf: (raw) => raw.VolumeId,
  map: toVolume,
};

/** The Describe input of one request, in the id form or the filter form. */
function describeInput(
  resource: Pick<RegionalResource<unknown, unknown>, 'idParameter' | 'idFilter' | 'maxResults'>,
  request: DescribeRequest,
): object {
  if (request.kind === 'ids') return { [resource.idParameter]: request.ids, NextToken: request.nextToken };
  return {
    Filters: [{ Name: resource.idFilter, Values: request.ids }],
    MaxResults: resource.maxResults,
    NextToken: request.nextToken,
  };
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
  ctx: LoaderContext,
  region: string,
  kind: DescribeRequest['kind'],
  ids: string[],
): Promise<R[]> {
  const items: R[] = [];
  let nextToken: string | undefined;
  do {
    const input = describeInput(resource, { kind, ids, nextToken });
    const page = await callAws(callContext(ctx, region), { operation: resource.operation, input }, (signal) =>
      resource.send(ctx.session.client(EC2Client, region), input, signal),
    );
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
  const origin: Origin = { accountId: ctx.session.accountId, region };
  const byFilter = async () =>
    (
      await Promise.all(
        chunk(ids, MAX_FILTER_VALUES).map((part) => collect(resource, ctx, region, 'filter', part)),
      )
    ).flat();
  try {
    let raws: R[];
    if (ids.length <= MAX_FILTER_VALUES) {
      raws = await byFilter();
    } else {
      try {
        raws = await collect(resource, ctx, region, 'ids', ids);
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
    throw toAwsCallError(error, callContext(ctx, region), resource.operation);
  }
}

/**
 * A per-request DataLoader for one EC2 resource type: each batch costs one Describe call per
 * region (per `maxBatchSize` ids), unknown and malformed ids resolve to `null`, and a failed
 * call rejects only the keys it carried, each with an `Ec2Error`.
 */
function createRegionalLoader<R, T>(
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

/** The (region, id) loaders of one request, one per resource type of the table above. */
export interface RegionalLoaders {
  instance: DataLoader<RegionalId, Instance | null, string>;
  securityGroup: DataLoader<RegionalId, SecurityGroup | null, string>;
  volume: DataLoader<RegionalId, Volume | null, string>;
}

/**
 * Instances, security groups and volumes by (region, id): one Describe call per region per
 * batch (chunked at `maxBatchSize` ids); unknown or malformed ids resolve to `null`.
 *
 * @example
 * const { instance } = createRegionalLoaders({ session, maxBatchSize: 1000 });
 * const [a, b] = await instance.loadMany([{ region: 'us-east-1', id: 'i-0123456789abcdef0' }, ...]);
 */
export function createRegionalLoaders(ctx: LoaderContext): RegionalLoaders {
  return {
    instance: createRegionalLoader(instanceResource, ctx),
    securityGroup: createRegionalLoader(securityGroupResource, ctx),
    volume: createRegionalLoader(volumeResource, ctx),
  };
}
