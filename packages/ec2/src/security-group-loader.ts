import {
  DescribeSecurityGroupsCommand,
  type DescribeSecurityGroupsRequest,
  type SecurityGroup as SdkSecurityGroup,
} from '@aws-sdk/client-ec2';
import type DataLoader from 'dataloader';
import { toSecurityGroup } from './map.js';
import { createRegionalLoader, type LoaderContext, type RegionalResource } from './regional-loader.js';
import type { RegionalId, SecurityGroup } from './types.js';

/**
 * The shape of a real id (8 or 17 hex digits); anything else is `null` without a call.
 *
 * @example
 * SECURITY_GROUP_ID_PATTERN.test('sg-0123456789abcdef0'); // true
 */
export const SECURITY_GROUP_ID_PATTERN = /^sg-[0-9a-f]{8}([0-9a-f]{9})?$/;

export const securityGroupResource: RegionalResource<SdkSecurityGroup, SecurityGroup> = {
  operation: 'DescribeSecurityGroups',
  idPattern: SECURITY_GROUP_ID_PATTERN,
  missingIdCodes: new Set([
    'InvalidGroup.NotFound',
    'InvalidGroupId.Malformed',
    'InvalidSecurityGroupID.NotFound',
  ]),
  async describe(client, request, signal) {
    const input: DescribeSecurityGroupsRequest =
      request.kind === 'ids'
        ? { GroupIds: request.ids, NextToken: request.nextToken }
        : {
            Filters: [{ Name: 'group-id', Values: request.ids }],
            MaxResults: 1000,
            NextToken: request.nextToken,
          };
    const output = await client.send(new DescribeSecurityGroupsCommand(input), { abortSignal: signal });
    return { items: output.SecurityGroups ?? [], nextToken: output.NextToken };
  },
  idOf: (raw) => raw.GroupId,
  map: toSecurityGroup,
};

/**
 * Security groups by (region, id): one `DescribeSecurityGroups` per region per batch.
 *
 * @example
 * const group = await createSecurityGroupLoader({ session, maxBatchSize: 1000 }).load({ region, id: 'sg-0123456789abcdef0' });
 */
export function createSecurityGroupLoader(
  ctx: LoaderContext,
): DataLoader<RegionalId, SecurityGroup | null, string> {
  return createRegionalLoader(securityGroupResource, ctx);
}
