import type {
  Instance as SdkInstance,
  SecurityGroup as SdkSecurityGroup,
  Tag as SdkTag,
  Volume as SdkVolume,
} from '@aws-sdk/client-ec2';
import { byKey } from '@rolegraph/credentials/aws';
import type { Instance, InstanceState, SecurityGroup, Tag, Volume } from './types.js';

const INSTANCE_STATES: ReadonlySet<string> = new Set<InstanceState>([
  'pending',
  'running',
  'shutting-down',
  'terminated',
  'stopping',
  'stopped',
]);

/** Where a resource was read: stamped onto every domain object. */
export interface Origin {
  accountId: string;
  region: string;
}

/**
 * SDK tags to domain tags, sorted by key so equal tag sets compare equal.
 *
 * @example
 * toTags([{ Key: 'Name', Value: 'web' }]); // [{ key: 'Name', value: 'web' }]
 */
export function toTags(tags: readonly SdkTag[] | undefined): Tag[] {
  return (tags ?? [])
    .filter((t): t is SdkTag & { Key: string } => typeof t.Key === 'string')
    .map((t) => ({ key: t.Key, value: t.Value ?? '' }))
    .sort(byKey);
}

function toState(name: string | undefined): InstanceState {
  // An unknown state is reported as pending rather than inventing a new enum value.
  return name !== undefined && INSTANCE_STATES.has(name) ? (name as InstanceState) : 'pending';
}

const defined = <T>(value: T | undefined | null): value is T => value !== undefined && value !== null;

/**
 * A `DescribeInstances` instance to the domain `Instance`.
 *
 * @example
 * const instance = toInstance(reservation.Instances[0], { accountId, region: 'us-east-1' });
 */
export function toInstance(raw: SdkInstance, origin: Origin): Instance {
  const tags = toTags(raw.Tags);
  return {
    id: raw.InstanceId ?? '',
    region: origin.region,
    accountId: origin.accountId,
    type: raw.InstanceType ?? '',
    state: toState(raw.State?.Name),
    launchTime: raw.LaunchTime ?? null,
    name: tags.find((t) => t.key === 'Name')?.value ?? null,
    tags,
    privateIp: raw.PrivateIpAddress ?? null,
    publicIp: raw.PublicIpAddress ?? null,
    vpcId: raw.VpcId ?? null,
    subnetId: raw.SubnetId ?? null,
    imageId: raw.ImageId ?? null,
    availabilityZone: raw.Placement?.AvailabilityZone ?? null,
    securityGroupIds: (raw.SecurityGroups ?? []).map((g) => g.GroupId).filter(defined),
    volumeIds: (raw.BlockDeviceMappings ?? []).map((m) => m.Ebs?.VolumeId).filter(defined),
  };
}

/**
 * A `DescribeSecurityGroups` group to the domain `SecurityGroup`.
 *
 * @example
 * const group = toSecurityGroup(SecurityGroups[0], { accountId, region: 'us-east-1' });
 */
export function toSecurityGroup(raw: SdkSecurityGroup, origin: Origin): SecurityGroup {
  return {
    id: raw.GroupId ?? '',
    region: origin.region,
    accountId: origin.accountId,
    name: raw.GroupName ?? '',
    description: raw.Description ?? '',
    vpcId: raw.VpcId ?? null,
    tags: toTags(raw.Tags),
    inboundRuleCount: raw.IpPermissions?.length ?? 0,
    outboundRuleCount: raw.IpPermissionsEgress?.length ?? 0,
  };
}

/**
 * A `DescribeVolumes` volume to the domain `Volume`.
 *
 * @example
 * const volume = toVolume(Volumes[0], { accountId, region: 'us-east-1' });
 */
export function toVolume(raw: SdkVolume, origin: Origin): Volume {
  return {
    id: raw.VolumeId ?? '',
    region: origin.region,
    accountId: origin.accountId,
    sizeGiB: raw.Size ?? 0,
    type: raw.VolumeType ?? '',
    state: raw.State ?? '',
    encrypted: raw.Encrypted ?? false,
    availabilityZone: raw.AvailabilityZone ?? null,
    iops: raw.Iops ?? null,
    attachedInstanceIds: [...new Set((raw.Attachments ?? []).map((a) => a.InstanceId).filter(defined))],
    tags: toTags(raw.Tags),
  };
}
