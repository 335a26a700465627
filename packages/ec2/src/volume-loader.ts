import {
  DescribeVolumesCommand,
  type DescribeVolumesRequest,
  type Volume as SdkVolume,
} from '@aws-sdk/client-ec2';
import type DataLoader from 'dataloader';
import { toVolume } from './map.js';
import { createRegionalLoader, type LoaderContext, type RegionalResource } from './regional-loader.js';
import type { RegionalId, Volume } from './types.js';

/**
 * The shape of a real id (8 or 17 hex digits); anything else is `null` without a call.
 *
 * @example
 * VOLUME_ID_PATTERN.test('vol-0123456789abcdef0'); // true
 */
export const VOLUME_ID_PATTERN = /^vol-[0-9a-f]{8}([0-9a-f]{9})?$/;

export const volumeResource: RegionalResource<SdkVolume, Volume> = {
  operation: 'DescribeVolumes',
  idPattern: VOLUME_ID_PATTERN,
  missingIdCodes: new Set(['InvalidVolume.NotFound', 'InvalidVolumeID.Malformed']),
  async describe(client, request, signal) {
    const input: DescribeVolumesRequest =
      request.kind === 'ids'
        ? { VolumeIds: request.ids, NextToken: request.nextToken }
        : {
            Filters: [{ Name: 'volume-id', Values: request.ids }],
            // DescribeVolumes pages at most 500 (the others 1000).
            MaxResults: 500,
            NextToken: request.nextToken,
          };
    const output = await client.send(new DescribeVolumesCommand(input), { abortSignal: signal });
    return { items: output.Volumes ?? [], nextToken: output.NextToken };
  },
  idOf: (raw) => raw.VolumeId,
  map: toVolume,
};

/**
 * EBS volumes by (region, id): one `DescribeVolumes` per region per batch.
 *
 * @example
 * const volume = await createVolumeLoader({ session, maxBatchSize: 1000 }).load({ region, id: 'vol-0123456789abcdef0' });
 */
export function createVolumeLoader(ctx: LoaderContext): DataLoader<RegionalId, Volume | null, string> {
  return createRegionalLoader(volumeResource, ctx);
}
