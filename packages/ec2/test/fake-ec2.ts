import { awsError, type RecordedCall } from '@rolegraph/credentials/testing';

interface FakeInstance {
  id: string;
  region: string;
  state?: string;
  type?: string;
  vpcId?: string;
  tags?: Record<string, string>;
  groups?: string[];
  volumes?: string[];
}

interface Filter {
  Name: string;
  Values: string[];
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
export const instanceId = (n: number) => `i-${hex(n, 17)}`;
export const groupId = (n: number) => `sg-${hex(n, 17)}`;
export const volumeId = (n: number) => `vol-${hex(n, 17)}`;

function paginate<T>(items: T[], input: Record<string, unknown>): { page: T[]; next: string | undefined } {
  const start = Number(input.NextToken ?? 0);
  const size = typeof input.MaxResults === 'number' ? input.MaxResults : items.length || 1;
  const page = items.slice(start, start + size);
  return { page, next: start + size < items.length ? String(start + size) : undefined };
}

function matches(instance: FakeInstance, filters: Filter[]): boolean {
  return filters.every((f) => {
    if (f.Name === 'instance-id') return f.Values.includes(instance.id);
    if (f.Name === 'instance-state-name') return f.Values.includes(instance.state ?? 'running');
    if (f.Name === 'instance-type') return f.Values.includes(instance.type ?? 't3.micro');
    if (f.Name === 'vpc-id') return f.Values.includes(instance.vpcId ?? '');
    if (f.Name === 'tag-key') return f.Values.some((k) => instance.tags?.[k] !== undefined);
    if (f.Name.startsWith('tag:')) return f.Values.includes(instance.tags?.[f.Name.slice(4)] ?? '\u0000');
    throw awsError('InvalidParameterValue');
  });
}

/**
 * A tiny in-memory EC2 that behaves like the real one where the adapter cares: the id form
 * fails the whole call on an unknown id, the filter form leaves it out, MaxResults pages.
 */
export function fakeEc2(instances: FakeInstance[]) {
  const groups = new Set(instances.flatMap((i) => (i.groups ?? []).map((g) => `${i.region}:${g}`)));
  const volumes = new Map(
    instances.flatMap((i) => (i.volumes ?? []).map((v) => [`${i.region}:${v}`, i.id] as const)),
  );
  return (call: RecordedCall): unknown => {
    const { input, region } = call;
    const filters = (input.Filters as Filter[] | undefined) ?? [];
    if (filters.reduce((n, f) => n + f.Values.length, 0) > 200) throw awsError('FilterLimitExceeded');
    if (call.operation === 'DescribeInstances') {
      const ids = input.InstanceIds as string[] | undefined;
      const inRegion = instances.filter((i) => i.region === region);
      if (ids) {
        if (input.MaxResults !== undefined) throw awsError('InvalidParameterCombination');
        const missing = ids.find((id) => !inRegion.some((i) => i.id === id));
        if (missing) throw awsError('InvalidInstanceID.NotFound');
      }
      const selected = inRegion.filter((i) => (!ids || ids.includes(i.id)) && matches(i, filters));
      const { page, next } = paginate(selected, input);
      return {
        Reservations: page.map((i) => ({
          Instances: [
            {
              InstanceId: i.id,
              InstanceType: i.type ?? 't3.micro',
              State: { Name: i.state ?? 'running' },
              VpcId: i.vpcId,
              Tags: Object.entries(i.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
              SecurityGroups: (i.groups ?? []).map((GroupId) => ({ GroupId })),
              BlockDeviceMappings: (i.volumes ?? []).map((VolumeId) => ({ Ebs: { VolumeId } })),
            },
          ],
        })),
        NextToken: next,
      };
    }
    if (call.operation === 'DescribeSecurityGroups') {
      const ids =
        (input.GroupIds as string[] | undefined) ?? filters.find((f) => f.Name === 'group-id')?.Values;
      if (input.GroupIds && ids?.some((id) => !groups.has(`${region}:${id}`))) {
        throw awsError('InvalidGroup.NotFound');
      }
      const found = (ids ?? []).filter((id) => groups.has(`${region}:${id}`));
      return {
        SecurityGroups: found.map((GroupId) => ({
          GroupId,
          GroupName: `name-${GroupId}`,
          IpPermissions: [{}],
        })),
      };
    }
    if (call.operation === 'DescribeVolumes') {
      const ids =
        (input.VolumeIds as string[] | undefined) ?? filters.find((f) => f.Name === 'volume-id')?.Values;
      if (input.VolumeIds && ids?.some((id) => !volumes.has(`${region}:${id}`))) {
        throw awsError('InvalidVolume.NotFound');
      }
      const found = (ids ?? []).filter((id) => volumes.has(`${region}:${id}`));
      return {
        Volumes: found.map((VolumeId) => ({
          VolumeId,
          Size: 8,
          Attachments: [{ InstanceId: volumes.get(`${region}:${VolumeId}`) }],
        })),
      };
    }
    throw new Error(`fake EC2 does not know ${call.operation}`);
  };
}

/** The ids a Describe call asked for, whether as the id parameter or as the id filter. */
export function idsSent(call: RecordedCall | undefined): string[] {
  const input = call?.input ?? {};
  for (const name of ['InstanceIds', 'GroupIds', 'VolumeIds']) {
    if (Array.isArray(input[name])) return input[name] as string[];
  }
  const filters = (input.Filters as Filter[] | undefined) ?? [];
  return filters.find((f) => ['instance-id', 'group-id', 'volume-id'].includes(f.Name))?.Values ?? [];
}
