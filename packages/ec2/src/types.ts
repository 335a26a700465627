/** An EC2 resource tag. */
export interface Tag {
  key: string;
  value: string;
}

/**
 * What a regional EC2 resource is looked up by: ids are only unique inside a region.
 *
 * @example
 * const key: RegionalId = { region: 'eu-west-1', id: 'i-0123456789abcdef0' };
 */
export interface RegionalId {
  region: string;
  id: string;
}

export type InstanceState = 'pending' | 'running' | 'shutting-down' | 'terminated' | 'stopping' | 'stopped';

/** An EC2 instance, flattened out of its reservation. */
export interface Instance {
  id: string;
  region: string;
  accountId: string;
  type: string;
  state: InstanceState;
  launchTime: Date | null;
  /** The value of the `Name` tag. */
  name: string | null;
  tags: Tag[];
  privateIp: string | null;
  publicIp: string | null;
  vpcId: string | null;
  subnetId: string | null;
  imageId: string | null;
  availabilityZone: string | null;
  securityGroupIds: string[];
  /** EBS volumes attached through the instance's block device mappings. */
  volumeIds: string[];
}

export interface SecurityGroup {
  id: string;
  region: string;
  accountId: string;
  name: string;
  description: string;
  vpcId: string | null;
  tags: Tag[];
  /** Number of ingress permissions (protocol/port ranges), not of CIDRs. */
  inboundRuleCount: number;
  outboundRuleCount: number;
}

export interface Volume {
  id: string;
  region: string;
  accountId: string;
  sizeGiB: number;
  type: string;
  state: string;
  encrypted: boolean;
  availabilityZone: string | null;
  iops: number | null;
  attachedInstanceIds: string[];
  tags: Tag[];
}

/** Filters of `listInstances`; all given filters must match (AND), values of one filter are OR-ed. */
export interface InstanceFilter {
  ids?: string[];
  states?: InstanceState[];
  types?: string[];
  vpcIds?: string[];
  /** `values` omitted: the instance only needs to carry the tag key. */
  tags?: Array<{ key: string; values?: string[] }>;
}

/** One page of a cursor-paginated listing, as every adapter returns it. */
export type { Page } from '@rolegraph/credentials/aws';
