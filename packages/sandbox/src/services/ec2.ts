import type {
  FixtureAccount,
  FixtureInstance,
  FixtureSecurityGroup,
  FixtureVolume,
  SandboxFixture,
} from '../fixture/fixture-schema.js';
import type { Ec2ThrottlingClass } from '../knobs/knobs.js';
import { AwsError } from '../server/aws-error.js';
import type { QueryParams, ServiceRequest, ServiceResponse } from '../server/service-types.js';
import { el, wrap, XML_DECLARATION } from '../server/xml.js';

const NS = 'http://ec2.amazonaws.com/doc/2016-11-15/';
/**
 * Operations AWS meters in the smaller "unfiltered and unpaginated" bucket when sent without a
 * filter or pagination (AWS lists seven; these are the three the sandbox emulates), with the
 * parameters that name resources. Ids narrow a call as a filter does, so they count as one here.
 */
const UNFILTERED_CLASS_ID_PARAMS: Readonly<Record<string, readonly string[]>> = {
  DescribeInstances: ['InstanceId.'],
  DescribeSecurityGroups: ['GroupId.', 'GroupName.'],
  DescribeVolumes: ['VolumeId.'],
};

/** EC2's request-rate class of a call (see `Ec2ThrottlingClass` in the knobs). */
export function ec2ThrottlingClass(action: string, params: QueryParams): Ec2ThrottlingClass {
  const idParams = UNFILTERED_CLASS_ID_PARAMS[action];
  if (idParams === undefined) return 'nonMutating';
  for (const key of params.keys()) {
    if (key === 'MaxResults' || key === 'NextToken' || key.startsWith('Filter.')) return 'nonMutating';
    for (const prefix of idParams) if (key.startsWith(prefix)) return 'nonMutating';
  }
  return 'unfilteredUnpaginated';
}

export const EC2_OPERATIONS = [
  'DescribeInstances',
  'DescribeRegions',
  'DescribeVolumes',
  'DescribeSecurityGroups',
] as const;

const stateCodes: Record<string, number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

interface Filter {
  readonly name: string;
  readonly values: readonly string[];
}

const indexedPatterns = new Map<string, RegExp>();
const idPatterns = new Map<string, RegExp>();

/** Compiled once per prefix: building the RegExp on every request showed up in the profile. */
function cachedPattern(
  cache: Map<string, RegExp>,
  prefix: string,
  source: (prefix: string) => string,
): RegExp {
  let pattern = cache.get(prefix);
  if (!pattern) {
    pattern = new RegExp(source(prefix));
    cache.set(prefix, pattern);
  }
  return pattern;
}

/** `Prefix.1`, `Prefix.2`... in index order. */
export function indexedList(params: QueryParams, prefix: string): string[] {
  const found: [number, string][] = [];
  const pattern = cachedPattern(indexedPatterns, prefix, (p) => `^${p}\\.(\\d+)$`);
  for (const [key, value] of params) {
    const m = pattern.exec(key);
    if (m) found.push([Number(m[1]), value]);
  }
  return found.sort((a, b) => a[0] - b[0]).map(([, v]) => v);
}

/** EC2 refuses a call whose filters carry more values than this, in all. */
export const MAX_FILTER_VALUES = 200;

/** `Filter.N.Name` / `Filter.N.Value.M`. */
export function parseFilters(params: QueryParams): Filter[] {
  const byIndex = new Map<number, { name?: string; values: [number, string][] }>();
  for (const [key, value] of params) {
    const m = /^Filter\.(\d+)\.(Name|Value\.(\d+))$/.exec(key);
    if (!m) continue;
    const index = Number(m[1]);
    const entry = byIndex.get(index) ?? { values: [] };
    byIndex.set(index, entry);
    if (m[2] === 'Name') entry.name = value;
    else entry.values.push([Number(m[3]), value]);
  }
  let values = 0;
  for (const entry of byIndex.values()) values += entry.values.length;
  if (values > MAX_FILTER_VALUES) {
    throw new AwsError(
      400,
      'FilterLimitExceeded',
      `The maximum number of filter values specified on a single call is ${MAX_FILTER_VALUES}`,
    );
  }
  return [...byIndex.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([, f]) => {
      if (f.name === undefined)
        throw new AwsError(400, 'InvalidParameterValue', "The filter 'null' is invalid");
      return { name: f.name, values: f.values.sort((a, b) => a[0] - b[0]).map(([, v]) => v) };
    });
}

const wildcardCache = new Map<string, RegExp>();
/** EC2 filter values accept `*` and `?` wildcards. */
function valueMatches(pattern: string, actual: string): boolean {
  if (!pattern.includes('*') && !pattern.includes('?')) return pattern === actual;
  let re = wildcardCache.get(pattern);
  if (!re) {
    re = new RegExp(
      `^${pattern
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`,
      's',
    );
    wildcardCache.set(pattern, re);
  }
  return re.test(actual);
}

type FieldReader<T> = (resource: T, filterName: string) => readonly string[] | undefined;

function tagField(tags: Record<string, string>, name: string): readonly string[] | undefined {
  if (name.startsWith('tag:')) {
    const v = tags[name.slice(4)];
    return v === undefined ? [] : [v];
  }
  if (name === 'tag-key') return Object.keys(tags);
  if (name === 'tag-value') return Object.values(tags);
  return undefined;
}

function applyFilters<T>(
  items: readonly T[],
  filters: readonly Filter[],
  read: FieldReader<T>,
  sample: T | undefined,
): T[] {
  // Unknown filter names are rejected even when nothing would be filtered, as EC2 does.
  for (const f of filters) {
    if (sample !== undefined && read(sample, f.name) === undefined)
      throw new AwsError(400, 'InvalidParameterValue', `The filter '${f.name}' is invalid`);
  }
  return items.filter((item) =>
    filters.every((f) => {
      const actual = read(item, f.name) ?? [];
      return f.values.some((pattern) => actual.some((a) => valueMatches(pattern, a)));
    }),
  );
}

interface Page<T> {
  items: T[];
  nextToken?: string;
}

function paginate<T>(
  items: readonly T[],
  params: QueryParams,
  limits: { min: number; max: number; idsGiven: boolean; idsParam: string },
): Page<T> {
  const maxText = params.get('MaxResults');
  const token = params.get('NextToken');
  if (maxText !== undefined && limits.idsGiven) {
    throw new AwsError(
      400,
      'InvalidParameterCombination',
      `The parameter ${limits.idsParam} cannot be used with the parameter maxResults`,
    );
  }
  let start = 0;
  if (token !== undefined && token !== '') {
    const m = /^o(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
    if (!m || Number(m[1]) > items.length) {
      throw new AwsError(
        400,
        'InvalidPaginationToken',
        'The specified pagination token is not valid or is expired.',
      );
    }
    start = Number(m[1]);
  }
  if (maxText === undefined) return { items: items.slice(start) };
  const max = Number(maxText);
  if (!Number.isInteger(max) || max < limits.min || max > limits.max) {
    throw new AwsError(
      400,
      'InvalidParameterValue',
      `Value ( ${maxText} ) for parameter maxResults is invalid. Expecting a value between ${limits.min} and ${limits.max}.`,
    );
  }
  const end = start + max;
  const page: Page<T> = { items: items.slice(start, end) };
  if (end < items.length) page.nextToken = Buffer.from(`o${end}`, 'utf8').toString('base64url');
  return page;
}

function idsNotFound(kind: string, code: string, missing: string[]): AwsError {
  const plural = missing.length > 1;
  return new AwsError(
    400,
    code,
    `The ${kind}${plural ? 's' : ''} '${missing.join(', ')}' ${plural ? 'do' : 'does'} not exist`,
  );
}

function checkIds(ids: string[], prefix: string, malformedCode: string): void {
  const pattern = cachedPattern(idPatterns, prefix, (p) => `^${p}-[0-9a-f]{8}([0-9a-f]{9})?$`);
  for (const id of ids) {
    if (!pattern.test(id)) {
      throw new AwsError(400, malformedCode, `Invalid id: "${id}" (expecting "${prefix}-...")`);
    }
  }
}

function tagSet(tags: Record<string, string> | undefined): string {
  const entries = Object.entries(tags ?? {});
  if (entries.length === 0) return '<tagSet/>';
  return wrap('tagSet', entries.map(([k, v]) => wrap('item', el('key', k) + el('value', v))).join(''));
}

function ec2Response(action: string, requestId: string, inner: string): ServiceResponse {
  return {
    body: `${XML_DECLARATION}<${action}Response xmlns="${NS}">${el('requestId', requestId)}${inner}</${action}Response>`,
  };
}

interface RegionIndex {
  instances: FixtureInstance[];
  instancesById: Map<string, FixtureInstance>;
  volumes: FixtureVolume[];
  volumesById: Map<string, FixtureVolume>;
  groups: FixtureSecurityGroup[];
  groupsById: Map<string, FixtureSecurityGroup>;
}

function internalDns(region: string): string {
  return region === 'us-east-1' ? 'ec2.internal' : `${region}.compute.internal`;
}

export function createEc2Service(fixture: SandboxFixture) {
  const index = new Map<string, RegionIndex>();
  const accounts = new Map<string, FixtureAccount>();
  for (const account of fixture.accounts) accounts.set(account.id, account);
  const regionIndex = (accountId: string, region: string): RegionIndex => {
    const key = `${accountId}/${region}`;
    let entry = index.get(key);
    if (!entry) {
      const account = accounts.get(accountId);
      const byId = <T extends { id: string; region: string }>(list: readonly T[] | undefined): T[] =>
        (list ?? [])
          .filter((r) => r.region === region)
          .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      const instances = byId(account?.instances);
      const volumes = byId(account?.volumes);
      const groups = byId(account?.securityGroups);
      entry = {
        instances,
        instancesById: new Map(instances.map((i) => [i.id, i])),
        volumes,
        volumesById: new Map(volumes.map((v) => [v.id, v])),
        groups,
        groupsById: new Map(groups.map((g) => [g.id, g])),
      };
      index.set(key, entry);
    }
    return entry;
  };

  const forget = (accountId: string) => {
    for (const key of index.keys()) if (key.startsWith(`${accountId}/`)) index.delete(key);
    for (const key of instanceXmlCache.keys())
      if (key.startsWith(`${accountId}/`)) instanceXmlCache.delete(key);
  };

  // Instance XML never changes, so it is built and UTF-8 encoded once: a response is then one copy of
  // cached bytes, where joining the concatenated strings walked hundreds of rope pieces per instance.
  const instanceXmlCache = new Map<string, Buffer>();
  function reservationXml(accountId: string, inst: FixtureInstance, idx: RegionIndex): Buffer {
    const key = `${accountId}/${inst.id}`;
    const cached = instanceXmlCache.get(key);
    if (cached !== undefined) return cached;
    const az = inst.availabilityZone ?? `${inst.region}a`;
    const privateDns = inst.privateIpAddress
      ? `ip-${inst.privateIpAddress.replace(/\./g, '-')}.${internalDns(inst.region)}`
      : '';
    const publicDns = inst.publicIpAddress
      ? `ec2-${inst.publicIpAddress.replace(/\./g, '-')}.${inst.region === 'us-east-1' ? 'compute-1' : `${inst.region}.compute`}.amazonaws.com`
      : '';
    const groups = inst.securityGroupIds
      .map((id) => wrap('item', el('groupId', id) + el('groupName', idx.groupsById.get(id)?.name ?? id)))
      .join('');
    const mappings = idx.volumes
      .filter((v) => v.attachedTo?.instanceId === inst.id)
      .map((v) =>
        wrap(
          'item',
          el('deviceName', v.attachedTo?.device) +
            wrap(
              'ebs',
              el('volumeId', v.id) +
                el('status', 'attached') +
                el('attachTime', inst.launchTime) +
                el('deleteOnTermination', true),
            ),
        ),
      )
      .join('');
    const instanceXml = wrap(
      'item',
      el('instanceId', inst.id) +
        el('imageId', inst.imageId) +
        wrap('instanceState', el('code', stateCodes[inst.state] ?? 16) + el('name', inst.state)) +
        el('privateDnsName', privateDns) +
        el('dnsName', publicDns) +
        el('reason', '') +
        el('amiLaunchIndex', 0) +
        '<productCodes/>' +
        el('instanceType', inst.type) +
        el('launchTime', inst.launchTime) +
        wrap('placement', el('availabilityZone', az) + el('groupName', '') + el('tenancy', 'default')) +
        wrap('monitoring', el('state', 'disabled')) +
        el('subnetId', inst.subnetId) +
        el('vpcId', inst.vpcId) +
        el('privateIpAddress', inst.privateIpAddress) +
        el('ipAddress', inst.publicIpAddress) +
        el('sourceDestCheck', true) +
        (groups === '' ? '<groupSet/>' : wrap('groupSet', groups)) +
        el('architecture', inst.architecture) +
        el('rootDeviceType', 'ebs') +
        el('rootDeviceName', '/dev/xvda') +
        (mappings === '' ? '<blockDeviceMapping/>' : wrap('blockDeviceMapping', mappings)) +
        el('virtualizationType', 'hvm') +
        tagSet(inst.tags) +
        el('hypervisor', 'xen') +
        el('ebsOptimized', false),
    );
    const xml = wrap(
      'item',
      el('reservationId', `r-${inst.id.slice(2)}`) +
        el('ownerId', accountId) +
        '<groupSet/>' +
        wrap('instancesSet', instanceXml),
    );
    const bytes = Buffer.from(xml, 'utf8');
    instanceXmlCache.set(key, bytes);
    return bytes;
  }

  const instanceField: FieldReader<FixtureInstance> = (i, name) => {
    switch (name) {
      case 'instance-id':
        return [i.id];
      case 'instance-state-name':
        return [i.state];
      case 'instance-state-code':
        return [String(stateCodes[i.state] ?? 16)];
      case 'instance-type':
        return [i.type];
      case 'vpc-id':
        return i.vpcId ? [i.vpcId] : [];
      case 'subnet-id':
        return i.subnetId ? [i.subnetId] : [];
      case 'image-id':
        return [i.imageId];
      case 'availability-zone':
        return [i.availabilityZone ?? `${i.region}a`];
      case 'private-ip-address':
        return i.privateIpAddress ? [i.privateIpAddress] : [];
      case 'ip-address':
        return i.publicIpAddress ? [i.publicIpAddress] : [];
      case 'architecture':
        return [i.architecture];
      case 'instance.group-id':
        return i.securityGroupIds;
      default:
        return tagField(i.tags, name);
    }
  };

  function describeInstances(params: QueryParams, req: ServiceRequest): ServiceResponse {
    const idx = regionIndex(req.principal.accountId, req.region);
    const ids = indexedList(params, 'InstanceId');
    const filters = parseFilters(params);
    let items: FixtureInstance[];
    if (ids.length > 0) {
      checkIds(ids, 'i', 'InvalidInstanceID.Malformed');
      const missing = ids.filter((id) => !idx.instancesById.has(id));
      if (missing.length > 0) throw idsNotFound('instance ID', 'InvalidInstanceID.NotFound', missing);
      const wanted = new Set(ids);
      items = idx.instances.filter((i) => wanted.has(i.id));
    } else {
      items = idx.instances;
    }
    items =
      filters.length === 0
        ? items
        : applyFilters(items, filters, instanceField, idx.instances[0] ?? probeInstance);
    const page = paginate(items, params, {
      min: 5,
      max: 1000,
      idsGiven: ids.length > 0,
      idsParam: 'instancesSet',
    });
    if (page.items.length === 0)
      return ec2Response(
        'DescribeInstances',
        req.requestId,
        `<reservationSet/>${el('nextToken', page.nextToken)}`,
      );
    const head = `${XML_DECLARATION}<DescribeInstancesResponse xmlns="${NS}">${el('requestId', req.requestId)}<reservationSet>`;
    const tail = `</reservationSet>${el('nextToken', page.nextToken)}</DescribeInstancesResponse>`;
    const parts: Buffer[] = [Buffer.from(head, 'utf8')];
    for (const i of page.items) parts.push(reservationXml(req.principal.accountId, i, idx));
    parts.push(Buffer.from(tail, 'utf8'));
    return { body: Buffer.concat(parts) };
  }

  function describeRegions(params: QueryParams, req: ServiceRequest): ServiceResponse {
    const account = accounts.get(req.principal.accountId);
    let regions = [...(account?.regions ?? [])].sort();
    const names = indexedList(params, 'RegionName');
    if (names.length > 0) {
      for (const n of names) {
        if (!regions.includes(n)) throw new AwsError(400, 'InvalidParameterValue', `Invalid region: ${n}`);
      }
      regions = regions.filter((r) => names.includes(r));
    }
    const filters = parseFilters(params);
    regions = applyFilters(
      regions,
      filters,
      (r, name) => {
        if (name === 'region-name') return [r];
        if (name === 'endpoint') return [`ec2.${r}.amazonaws.com`];
        if (name === 'opt-in-status') return ['opt-in-not-required'];
        return undefined;
      },
      'us-east-1',
    );
    const items = regions
      .map((r) =>
        wrap(
          'item',
          el('regionName', r) +
            el('regionEndpoint', `ec2.${r}.amazonaws.com`) +
            el('optInStatus', 'opt-in-not-required'),
        ),
      )
      .join('');
    return ec2Response(
      'DescribeRegions',
      req.requestId,
      items === '' ? '<regionInfo/>' : wrap('regionInfo', items),
    );
  }

  const volumeField: FieldReader<FixtureVolume> = (v, name) => {
    switch (name) {
      case 'volume-id':
        return [v.id];
      case 'status':
        return [v.attachedTo ? 'in-use' : 'available'];
      case 'volume-type':
        return [v.type];
      case 'size':
        return [String(v.sizeGiB)];
      case 'encrypted':
        return [String(v.encrypted)];
      case 'availability-zone':
        return [v.availabilityZone ?? `${v.region}a`];
      case 'attachment.instance-id':
        return v.attachedTo ? [v.attachedTo.instanceId] : [];
      case 'attachment.status':
        return v.attachedTo ? ['attached'] : [];
      case 'attachment.device':
        return v.attachedTo ? [v.attachedTo.device] : [];
      default:
        return tagField(v.tags, name);
    }
  };

  function describeVolumes(params: QueryParams, req: ServiceRequest): ServiceResponse {
    const idx = regionIndex(req.principal.accountId, req.region);
    const ids = indexedList(params, 'VolumeId');
    let items = idx.volumes;
    if (ids.length > 0) {
      checkIds(ids, 'vol', 'InvalidVolumeID.Malformed');
      const missing = ids.filter((id) => !idx.volumesById.has(id));
      if (missing.length > 0) throw idsNotFound('volume', 'InvalidVolume.NotFound', missing);
      items = items.filter((v) => ids.includes(v.id));
    }
    items = applyFilters(items, parseFilters(params), volumeField, idx.volumes[0] ?? probeVolume);
    const page = paginate(items, params, {
      min: 5,
      max: 500,
      idsGiven: ids.length > 0,
      idsParam: 'volumeSet',
    });
    const xml = page.items
      .map((v) => {
        const az = v.availabilityZone ?? `${v.region}a`;
        const attachment = v.attachedTo
          ? wrap(
              'attachmentSet',
              wrap(
                'item',
                el('volumeId', v.id) +
                  el('instanceId', v.attachedTo.instanceId) +
                  el('device', v.attachedTo.device) +
                  el('status', 'attached') +
                  el('attachTime', v.createTime) +
                  el('deleteOnTermination', true),
              ),
            )
          : '<attachmentSet/>';
        return wrap(
          'item',
          el('volumeId', v.id) +
            el('size', v.sizeGiB) +
            el('snapshotId', '') +
            el('availabilityZone', az) +
            el('status', v.attachedTo ? 'in-use' : 'available') +
            el('createTime', v.createTime) +
            attachment +
            el('volumeType', v.type) +
            (v.type === 'gp3' ? el('iops', 3000) + el('throughput', 125) : '') +
            el('encrypted', v.encrypted) +
            el('multiAttachEnabled', false) +
            tagSet(v.tags),
        );
      })
      .join('');
    return ec2Response(
      'DescribeVolumes',
      req.requestId,
      (xml === '' ? '<volumeSet/>' : wrap('volumeSet', xml)) + el('nextToken', page.nextToken),
    );
  }

  const groupField: FieldReader<FixtureSecurityGroup> = (g, name) => {
    switch (name) {
      case 'group-id':
        return [g.id];
      case 'group-name':
        return [g.name];
      case 'description':
        return [g.description];
      case 'vpc-id':
        return g.vpcId ? [g.vpcId] : [];
      case 'ip-permission.from-port':
        return g.ingress.map((p) => String(p.fromPort ?? -1));
      case 'ip-permission.cidr':
        return g.ingress.flatMap((p) => p.cidrs);
      default:
        return tagField(g.tags, name);
    }
  };

  function permissionsXml(name: string, list: FixtureSecurityGroup['ingress']): string {
    if (list.length === 0) return `<${name}/>`;
    return wrap(
      name,
      list
        .map((p) =>
          wrap(
            'item',
            el('ipProtocol', p.protocol) +
              el('fromPort', p.fromPort) +
              el('toPort', p.toPort) +
              '<groups/>' +
              (p.cidrs.length === 0
                ? '<ipRanges/>'
                : wrap('ipRanges', p.cidrs.map((c) => wrap('item', el('cidrIp', c))).join(''))) +
              '<ipv6Ranges/><prefixListIds/>',
          ),
        )
        .join(''),
    );
  }

  function describeSecurityGroups(params: QueryParams, req: ServiceRequest): ServiceResponse {
    const idx = regionIndex(req.principal.accountId, req.region);
    const ids = indexedList(params, 'GroupId');
    const names = indexedList(params, 'GroupName');
    let items = idx.groups;
    if (ids.length > 0) {
      checkIds(ids, 'sg', 'InvalidGroupId.Malformed');
      const missing = ids.filter((id) => !idx.groupsById.has(id));
      if (missing.length > 0) {
        throw new AwsError(400, 'InvalidGroup.NotFound', `The security group '${missing[0]}' does not exist`);
      }
      items = items.filter((g) => ids.includes(g.id));
    }
    if (names.length > 0) {
      const missing = names.filter((n) => !idx.groups.some((g) => g.name === n));
      if (missing.length > 0) {
        throw new AwsError(
          400,
          'InvalidGroup.NotFound',
          `The security group '${missing[0]}' does not exist in default VPC`,
        );
      }
      items = items.filter((g) => names.includes(g.name));
    }
    items = applyFilters(items, parseFilters(params), groupField, idx.groups[0] ?? probeGroup);
    const page = paginate(items, params, {
      min: 5,
      max: 1000,
      idsGiven: ids.length + names.length > 0,
      idsParam: 'groupIdSet',
    });
    const xml = page.items
      .map((g) =>
        wrap(
          'item',
          el('ownerId', req.principal.accountId) +
            el('groupId', g.id) +
            el('groupName', g.name) +
            el('groupDescription', g.description) +
            el('vpcId', g.vpcId) +
            permissionsXml('ipPermissions', g.ingress) +
            permissionsXml('ipPermissionsEgress', g.egress) +
            tagSet(g.tags),
        ),
      )
      .join('');
    return ec2Response(
      'DescribeSecurityGroups',
      req.requestId,
      (xml === '' ? '<securityGroupInfo/>' : wrap('securityGroupInfo', xml)) +
        el('nextToken', page.nextToken),
    );
  }

  const handlers: Record<string, (params: QueryParams, req: ServiceRequest) => ServiceResponse> = {
    DescribeInstances: describeInstances,
    DescribeRegions: describeRegions,
    DescribeVolumes: describeVolumes,
    DescribeSecurityGroups: describeSecurityGroups,
  };

  return {
    handles: (action: string): boolean => Object.hasOwn(handlers, action),
    throttlingClass: ec2ThrottlingClass,
    handle(action: string, params: QueryParams, req: ServiceRequest): ServiceResponse {
      const handler = handlers[action];
      if (!handler) throw invalidEc2Action(action);
      return handler(params, req);
    },
    /** A new account's resources become visible (its caches start empty). */
    addAccount(account: FixtureAccount): void {
      forget(account.id);
      accounts.set(account.id, account);
    },
    /** A removed account's resources are forgotten. */
    removeAccount(accountId: string): void {
      forget(accountId);
      accounts.delete(accountId);
    },
  };
}

// Probes let unknown filter names be rejected even in an empty region.
const probeInstance: FixtureInstance = {
  id: 'i-00000000',
  region: 'us-east-1',
  type: 't3.micro',
  state: 'running',
  imageId: 'ami-00000000',
  launchTime: '2024-01-01T00:00:00Z',
  architecture: 'x86_64',
  securityGroupIds: [],
  tags: {},
};
const probeVolume: FixtureVolume = {
  id: 'vol-00000000',
  region: 'us-east-1',
  sizeGiB: 1,
  type: 'gp3',
  encrypted: false,
  createTime: '2024-01-01T00:00:00Z',
  tags: {},
};
const probeGroup: FixtureSecurityGroup = {
  id: 'sg-00000000',
  region: 'us-east-1',
  name: 'probe',
  description: '',
  ingress: [],
  egress: [],
  tags: {},
};

export function invalidEc2Action(action: string): AwsError {
  return new AwsError(400, 'InvalidAction', `The action ${action} is not valid for this web service.`);
}

export type Ec2Service = ReturnType<typeof createEc2Service>;
