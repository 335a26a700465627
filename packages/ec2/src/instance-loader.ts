import {
  DescribeInstancesCommand,
  type DescribeInstancesRequest,
  type Instance as SdkInstance,
} from '@aws-sdk/client-ec2';
import type DataLoader from 'dataloader';
import { toInstance } from './map.js';
import { createRegionalLoader, type LoaderContext, type RegionalResource } from './regional-loader.js';
import type { Instance, RegionalId } from './types.js';

/**
 * The shape of a real instance id (8 or 17 hex digits); anything else cannot exist and is
 * resolved to `null` without a call.
 *
 * @example
 * INSTANCE_ID_PATTERN.test('i-0123456789abcdef0'); // true
 */
export const INSTANCE_ID_PATTERN = /^i-[0-9a-f]{8}([0-9a-f]{9})?$/;

export const instanceResource: RegionalResource<SdkInstance, Instance> = {
  operation: 'DescribeInstances',
  idPattern: INSTANCE_ID_PATTERN,
  missingIdCodes: new Set(['InvalidInstanceID.NotFound', 'InvalidInstanceID.Malformed']),
  async describe(client, request, signal) {
    const input: DescribeInstancesRequest =
      request.kind === 'ids'
        ? { InstanceIds: request.ids, NextToken: request.nextToken }
        : {
            Filters: [{ Name: 'instance-id', Values: request.ids }],
            MaxResults: 1000,
            NextToken: request.nextToken,
          };
    const output = await client.send(new DescribeInstancesCommand(input), { abortSignal: signal });
    return {
      items: (output.Reservations ?? []).flatMap((r) => r.Instances ?? []),
      nextToken: output.NextToken,
    };
  },
  idOf: (raw) => raw.InstanceId,
  map: toInstance,
};

/**
 * Instances by (region, id): one `DescribeInstances` per region per batch (chunked at
 * `maxBatchSize` ids), unknown or malformed ids resolve to `null`.
 *
 * @example
 * const loader = createInstanceLoader({ session, maxBatchSize: 1000 });
 * const [a, b] = await loader.loadMany([{ region: 'us-east-1', id: 'i-0123456789abcdef0' }, ...]);
 */
export function createInstanceLoader(ctx: LoaderContext): DataLoader<RegionalId, Instance | null, string> {
  return createRegionalLoader(instanceResource, ctx);
}
