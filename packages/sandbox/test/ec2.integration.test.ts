import {
  DescribeInstancesCommand,
  DescribeRegionsCommand,
  DescribeSecurityGroupsCommand,
  DescribeVolumesCommand,
  EC2Client,
  EC2ServiceException,
  paginateDescribeInstances,
  paginateDescribeSecurityGroups,
  paginateDescribeVolumes,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoFixture, generateFixture, type Sandbox, startSandbox } from '../src/index.js';
import { account, assume, readerArn, type SessionCredentials } from './helpers.js';

let sb: Sandbox;
let prod: SessionCredentials;
let ec2: EC2Client;

beforeAll(async () => {
  sb = await startSandbox({ fixture: demoFixture() });
  prod = await assume(sb, readerArn(sb, 'prod'));
  ec2 = new EC2Client({ endpoint: sb.endpoint, region: 'us-east-1', credentials: prod, maxAttempts: 1 });
});
afterAll(async () => {
  await sb.close();
});

async function ec2Error(promise: Promise<unknown>): Promise<EC2ServiceException> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EC2ServiceException);
  return error as EC2ServiceException;
}

const prodInstances = (region: string) => account(sb, 'prod').instances.filter((i) => i.region === region);

describe('EC2 DescribeInstances', () => {
  it('lists only the calling account and region', async () => {
    const out = await ec2.send(new DescribeInstancesCommand({}));
    const ids = out.Reservations?.flatMap((r) => r.Instances?.map((i) => i.InstanceId) ?? []) ?? [];
    expect(ids.sort()).toEqual(
      prodInstances('us-east-1')
        .map((i) => i.id)
        .sort(),
    );
    expect(out.Reservations?.[0]?.OwnerId).toBe('111111111111');
    const first = out.Reservations?.[0]?.Instances?.[0];
    const fixture = prodInstances('us-east-1').find((i) => i.id === first?.InstanceId);
    expect(first?.InstanceType).toBe(fixture?.type);
    expect(first?.State?.Name).toBe(fixture?.state);
    expect(first?.Tags?.find((t) => t.Key === 'Environment')?.Value).toBe('prod');
    expect(first?.BlockDeviceMappings?.[0]?.Ebs?.VolumeId).toMatch(/^vol-/);
    expect(first?.LaunchTime).toBeInstanceOf(Date);
  });

  it('accepts InstanceId.N and reports unknown ids as InvalidInstanceID.NotFound', async () => {
    const [a, b] = prodInstances('us-east-1');
    const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [a?.id ?? '', b?.id ?? ''] }));
    expect(out.Reservations).toHaveLength(2);
    const missing = await ec2Error(
      ec2.send(
        new DescribeInstancesCommand({
          InstanceIds: [a?.id ?? '', 'i-0123456789abcdef0', 'i-0123456789abcdef1'],
        }),
      ),
    );
    expect(missing.name).toBe('InvalidInstanceID.NotFound');
    expect(missing.message).toBe("The instance IDs 'i-0123456789abcdef0, i-0123456789abcdef1' do not exist");
    expect(missing.$metadata.httpStatusCode).toBe(400);
    // Another region's instance is unknown here.
    const other = prodInstances('eu-west-1')[0]?.id ?? '';
    expect((await ec2Error(ec2.send(new DescribeInstancesCommand({ InstanceIds: [other] })))).name).toBe(
      'InvalidInstanceID.NotFound',
    );
    const malformed = await ec2Error(ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-xyz'] })));
    expect(malformed.name).toBe('InvalidInstanceID.Malformed');
  });

  it('treats an unknown id in the instance-id filter as simply absent', async () => {
    const out = await ec2.send(
      new DescribeInstancesCommand({ Filters: [{ Name: 'instance-id', Values: ['i-0123456789abcdef0'] }] }),
    );
    expect(out.Reservations ?? []).toHaveLength(0);
  });

  it('refuses more than 200 filter values in one call with FilterLimitExceeded, as EC2 does', async () => {
    const values = Array.from({ length: 201 }, (_, k) => `i-${k.toString(16).padStart(17, '0')}`);
    const error = await ec2
      .send(new DescribeInstancesCommand({ Filters: [{ Name: 'instance-id', Values: values }] }))
      .catch((e: unknown) => e as { name: string; $metadata: { httpStatusCode: number } });
    expect(error).toMatchObject({ name: 'FilterLimitExceeded', $metadata: { httpStatusCode: 400 } });
    const ok = await ec2.send(
      new DescribeInstancesCommand({ Filters: [{ Name: 'instance-id', Values: values.slice(0, 200) }] }),
    );
    expect(ok.Reservations).toEqual([]);
  });

  it('filters by state, type, vpc, tag:KEY and tag-key (with wildcards)', async () => {
    const all = prodInstances('us-east-1');
    const running = all.filter((i) => i.state === 'running');
    const byState = await ec2.send(
      new DescribeInstancesCommand({ Filters: [{ Name: 'instance-state-name', Values: ['running'] }] }),
    );
    expect(byState.Reservations).toHaveLength(running.length);
    const type = all[0]?.type ?? '';
    const byType = await ec2.send(
      new DescribeInstancesCommand({ Filters: [{ Name: 'instance-type', Values: [type] }] }),
    );
    expect(byType.Reservations).toHaveLength(all.filter((i) => i.type === type).length);
    const byVpc = await ec2.send(
      new DescribeInstancesCommand({ Filters: [{ Name: 'vpc-id', Values: [all[0]?.vpcId ?? ''] }] }),
    );
    expect(byVpc.Reservations).toHaveLength(all.length);
    const byTag = await ec2.send(
      new DescribeInstancesCommand({ Filters: [{ Name: 'tag:Name', Values: ['prod-us-east-1-*'] }] }),
    );
    expect(byTag.Reservations).toHaveLength(all.length);
    const withCost = all.filter((i) => 'CostCenter' in i.tags).length;
    const byKey = await ec2.send(
      new DescribeInstancesCommand({ Filters: [{ Name: 'tag-key', Values: ['CostCenter'] }] }),
    );
    expect(byKey.Reservations ?? []).toHaveLength(withCost);
    const combined = await ec2.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: 'instance-state-name', Values: ['running', 'stopped'] },
          { Name: 'tag:Environment', Values: ['prod'] },
        ],
      }),
    );
    expect(combined.Reservations).toHaveLength(
      all.filter((i) => i.state === 'running' || i.state === 'stopped').length,
    );
    const bad = await ec2Error(
      ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'colour', Values: ['x'] }] })),
    );
    expect(bad.name).toBe('InvalidParameterValue');
  });

  it('paginates with MaxResults/NextToken through the SDK paginator', async () => {
    const ids: string[] = [];
    let pages = 0;
    for await (const page of paginateDescribeInstances({ client: ec2, pageSize: 5 }, { MaxResults: 5 })) {
      pages++;
      for (const r of page.Reservations ?? [])
        for (const i of r.Instances ?? []) ids.push(i.InstanceId ?? '');
    }
    expect(ids.sort()).toEqual(
      prodInstances('us-east-1')
        .map((i) => i.id)
        .sort(),
    );
    expect(pages).toBe(1);
    const big = await startSandbox({ fixture: sbFixtureWithManyInstances() });
    try {
      const creds = await assume(big, readerArn(big, 'account-0001'));
      const client = new EC2Client({ endpoint: big.endpoint, region: 'us-east-1', credentials: creds });
      const seen: string[] = [];
      for await (const page of paginateDescribeInstances({ client, pageSize: 7 }, {})) {
        for (const r of page.Reservations ?? [])
          for (const i of r.Instances ?? []) seen.push(i.InstanceId ?? '');
      }
      expect(seen).toHaveLength(23);
      expect(new Set(seen).size).toBe(23);
      expect(big.admin.calls({ service: 'ec2', operation: 'DescribeInstances' })).toBe(4);
    } finally {
      await big.close();
    }
  });

  it('rejects MaxResults with InstanceId, and MaxResults out of range', async () => {
    const id = prodInstances('us-east-1')[0]?.id ?? '';
    const combo = await ec2Error(
      ec2.send(new DescribeInstancesCommand({ InstanceIds: [id], MaxResults: 5 })),
    );
    expect(combo.name).toBe('InvalidParameterCombination');
    const range = await ec2Error(ec2.send(new DescribeInstancesCommand({ MaxResults: 4 })));
    expect(range.name).toBe('InvalidParameterValue');
    const token = await ec2Error(
      ec2.send(new DescribeInstancesCommand({ MaxResults: 5, NextToken: 'garbage' })),
    );
    expect(token.name).toBe('InvalidPaginationToken');
  });
});

describe('EC2 DescribeRegions, DescribeVolumes, DescribeSecurityGroups', () => {
  it('DescribeRegions lists the account regions', async () => {
    const out = await ec2.send(new DescribeRegionsCommand({}));
    expect(out.Regions?.map((r) => r.RegionName)).toEqual(['eu-west-1', 'us-east-1']);
    expect(out.Regions?.[0]?.Endpoint).toBe('ec2.eu-west-1.amazonaws.com');
    const filtered = await ec2.send(
      new DescribeRegionsCommand({ Filters: [{ Name: 'region-name', Values: ['us-*'] }] }),
    );
    expect(filtered.Regions?.map((r) => r.RegionName)).toEqual(['us-east-1']);
  });

  it('DescribeVolumes: ids, filters, pagination and InvalidVolume.NotFound', async () => {
    const vols = account(sb, 'prod').volumes.filter((v) => v.region === 'us-east-1');
    const all: string[] = [];
    for await (const page of paginateDescribeVolumes({ client: ec2, pageSize: 5 }, {})) {
      for (const v of page.Volumes ?? []) all.push(v.VolumeId ?? '');
    }
    expect(all.sort()).toEqual(vols.map((v) => v.id).sort());
    const available = await ec2.send(
      new DescribeVolumesCommand({ Filters: [{ Name: 'status', Values: ['available'] }] }),
    );
    expect(available.Volumes?.map((v) => v.VolumeId)).toEqual(
      vols.filter((v) => !v.attachedTo).map((v) => v.id),
    );
    const one = await ec2.send(new DescribeVolumesCommand({ VolumeIds: [vols[0]?.id ?? ''] }));
    expect(one.Volumes?.[0]?.Size).toBe(vols[0]?.sizeGiB);
    expect(one.Volumes?.[0]?.Attachments?.[0]?.InstanceId).toBe(vols[0]?.attachedTo?.instanceId);
    const missing = await ec2Error(
      ec2.send(new DescribeVolumesCommand({ VolumeIds: ['vol-0123456789abcdef0'] })),
    );
    expect(missing.name).toBe('InvalidVolume.NotFound');
    expect((await ec2Error(ec2.send(new DescribeVolumesCommand({ VolumeIds: ['vol-nope'] })))).name).toBe(
      'InvalidVolumeID.Malformed',
    );
  });

  it('DescribeSecurityGroups: ids, filters, pagination and InvalidGroup.NotFound', async () => {
    const groups = account(sb, 'prod').securityGroups.filter((g) => g.region === 'us-east-1');
    const seen: string[] = [];
    for await (const page of paginateDescribeSecurityGroups({ client: ec2, pageSize: 5 }, {})) {
      for (const g of page.SecurityGroups ?? []) seen.push(g.GroupId ?? '');
    }
    expect(seen.sort()).toEqual(groups.map((g) => g.id).sort());
    const web = await ec2.send(
      new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: ['prod-web'] }] }),
    );
    expect(web.SecurityGroups?.[0]?.IpPermissions?.[0]).toMatchObject({
      IpProtocol: 'tcp',
      FromPort: 443,
      ToPort: 443,
      IpRanges: [{ CidrIp: '0.0.0.0/0' }],
    });
    expect(web.SecurityGroups?.[0]?.OwnerId).toBe('111111111111');
    const byId = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groups[0]?.id ?? ''] }));
    expect(byId.SecurityGroups?.[0]?.GroupName).toBe(groups[0]?.name);
    const missing = await ec2Error(
      ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: ['sg-0123456789abcdef0'] })),
    );
    expect(missing.name).toBe('InvalidGroup.NotFound');
  });
});

describe('EC2 auth errors', () => {
  it('answers AuthFailure 401 to an unknown key and SignatureDoesNotMatch 403 to a wrong secret', async () => {
    const unknown = new EC2Client({
      endpoint: sb.endpoint,
      region: 'us-east-1',
      maxAttempts: 1,
      credentials: { accessKeyId: 'AKIAUNKNOWNUNKNOWN00', secretAccessKey: 'x'.repeat(40) },
    });
    const e1 = await ec2Error(unknown.send(new DescribeRegionsCommand({})));
    expect(e1.name).toBe('AuthFailure');
    expect(e1.$metadata.httpStatusCode).toBe(401);
    const wrong = new EC2Client({
      endpoint: sb.endpoint,
      region: 'us-east-1',
      maxAttempts: 1,
      credentials: { ...prod, secretAccessKey: 'not-the-secret' },
    });
    const e2 = await ec2Error(wrong.send(new DescribeRegionsCommand({})));
    expect(e2.name).toBe('SignatureDoesNotMatch');
    expect(e2.$metadata.httpStatusCode).toBe(403);
  });
});

function sbFixtureWithManyInstances() {
  return generateFixture({
    accounts: 1,
    regions: ['us-east-1'],
    instancesPerRegion: 23,
    bucketsPerAccount: 1,
    seed: 7,
  });
}
