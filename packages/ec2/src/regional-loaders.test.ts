import { awsError, createFakeSession as fakeSession } from '@rolegraph/credentials/testing';
import { describe, expect, it } from 'vitest';
import { fakeEc2, groupId, idsSent, instanceId, volumeId } from '../test/fake-ec2.js';
import { createEc2Loaders } from './ec2-loaders.js';
import { AdapterErrorCode, Ec2Error } from './errors.js';

const ids = (from: number, count: number) => Array.from({ length: count }, (_, k) => instanceId(from + k));
const regionOf = (region: string) => (id: string) => ({ region, id });

describe('instance loader', () => {
  it('loads ids of one tick with one DescribeInstances per region', async () => {
    const { session, calls } = fakeSession(
      fakeEc2([
        ...ids(1, 10).map((id) => ({ id, region: 'us-east-1' })),
        ...ids(100, 4).map((id) => ({ id, region: 'eu-west-1' })),
      ]),
    );
    const { instance } = createEc2Loaders({ session });
    const results = await Promise.all([
      ...ids(1, 10).map((id) => instance.load({ region: 'us-east-1', id })),
      ...ids(100, 4).map((id) => instance.load({ region: 'eu-west-1', id })),
    ]);
    expect(results.map((r) => r?.id)).toEqual([...ids(1, 10), ...ids(100, 4)]);
    expect(results.map((r) => r?.region)).toEqual([
      ...Array(10).fill('us-east-1'),
      ...Array(4).fill('eu-west-1'),
    ]);
    expect(calls.map((c) => [c.operation, c.region, idsSent(c).length])).toEqual([
      ['DescribeInstances', 'us-east-1', 10],
      ['DescribeInstances', 'eu-west-1', 4],
    ]);
  });

  it('sends each id once however often it is asked for', async () => {
    const { session, calls } = fakeSession(fakeEc2(ids(1, 3).map((id) => ({ id, region: 'us-east-1' }))));
    const { instance } = createEc2Loaders({ session });
    const keys = [...ids(1, 3), ...ids(1, 3), instanceId(1)].map(regionOf('us-east-1'));
    const results = await instance.loadMany(keys);
    expect(results.map((r) => (r instanceof Error ? r : r?.id))).toEqual([
      ...ids(1, 3),
      ...ids(1, 3),
      instanceId(1),
    ]);
    expect(calls).toHaveLength(1);
    expect(idsSent(calls[0])).toEqual(ids(1, 3));
  });

  it('splits 1500 ids into two calls of 1000 and 500', async () => {
    const { session, calls } = fakeSession(fakeEc2(ids(1, 1500).map((id) => ({ id, region: 'us-east-1' }))));
    const { instance } = createEc2Loaders({ session });
    const results = await instance.loadMany(ids(1, 1500).map(regionOf('us-east-1')));
    expect(results.every((r) => r !== null && !(r instanceof Error))).toBe(true);
    expect(calls.map((c) => (c.input.InstanceIds as string[]).length)).toEqual([1000, 500]);
  });

  it('honours a smaller maxBatchSize and rejects a bad one', async () => {
    const { session, calls } = fakeSession(fakeEc2(ids(1, 10).map((id) => ({ id, region: 'us-east-1' }))));
    const { instance } = createEc2Loaders({ session, maxBatchSize: 4 });
    await instance.loadMany(ids(1, 10).map(regionOf('us-east-1')));
    expect(calls.map((c) => idsSent(c).length)).toEqual([4, 4, 2]);
    expect(() => createEc2Loaders({ session, maxBatchSize: 1001 })).toThrow(/maxBatchSize.*1001/);
    expect(() => createEc2Loaders({ session, maxBatchSize: 0 })).toThrow(TypeError);
  });

  it('resolves unknown ids to null in one filtered call, keeping the found ones', async () => {
    const known = ids(1, 7);
    const unknown = ids(500, 3);
    const { session, calls } = fakeSession(fakeEc2(known.map((id) => ({ id, region: 'us-east-1' }))));
    const { instance } = createEc2Loaders({ session });
    const asked = [
      known[0],
      unknown[0],
      ...known.slice(1, 4),
      unknown[1],
      ...known.slice(4),
      unknown[2],
    ] as string[];
    const results = await instance.loadMany(asked.map(regionOf('us-east-1')));
    expect(results.map((r) => (r instanceof Error ? 'error' : (r?.id ?? null)))).toEqual(
      asked.map((id) => (known.includes(id) ? id : null)),
    );
    // Up to 200 ids go as the instance-id filter, which leaves unknown ids out: one call.
    expect(calls.map((c) => Object.keys(c.input).filter((k) => c.input[k] !== undefined))).toEqual([
      ['Filters', 'MaxResults'],
    ]);
    expect(calls[0]?.input.Filters).toEqual([{ Name: 'instance-id', Values: asked }]);
  });

  it('more than 200 ids go as InstanceIds; an unknown one is retried as filters of at most 200', async () => {
    const known = ids(1, 445);
    const unknown = ids(5000, 5);
    const { session, calls } = fakeSession(fakeEc2(known.map((id) => ({ id, region: 'us-east-1' }))));
    const results = await createEc2Loaders({ session }).instance.loadMany(
      [...known, ...unknown].map(regionOf('us-east-1')),
    );
    expect(results.filter((r) => r === null)).toHaveLength(5);
    expect(results.filter((r) => r !== null && !(r instanceof Error))).toHaveLength(445);
    expect(calls.map((c) => [c.input.InstanceIds ? 'ids' : 'filter', idsSent(c).length])).toEqual([
      ['ids', 450],
      ['filter', 200],
      ['filter', 200],
      ['filter', 50],
    ]);
  });

  it('1000 known ids cost one call', async () => {
    const { session, calls } = fakeSession(fakeEc2(ids(1, 1000).map((id) => ({ id, region: 'us-east-1' }))));
    await createEc2Loaders({ session }).instance.loadMany(ids(1, 1000).map(regionOf('us-east-1')));
    expect(calls.map((c) => idsSent(c).length)).toEqual([1000]);
  });

  it('resolves malformed ids to null without any call', async () => {
    const { session, calls } = fakeSession(fakeEc2([{ id: instanceId(1), region: 'us-east-1' }]));
    const { instance } = createEc2Loaders({ session });
    const results = await instance.loadMany(
      ['i-123', 'vol-0123456789abcdef0', 'I-0123456789ABCDEF0', ''].map(regionOf('us-east-1')),
    );
    expect(results).toEqual([null, null, null, null]);
    expect(calls).toHaveLength(0);
    expect(await instance.loadMany([instanceId(1), 'i-nothex00'].map(regionOf('us-east-1')))).toMatchObject([
      { id: instanceId(1) },
      null,
    ]);
    expect(calls).toHaveLength(1);
    expect(idsSent(calls[0])).toEqual([instanceId(1)]);
  });

  it('rejects only the keys of a failed call, each with a typed error', async () => {
    const eu = ids(100, 2);
    const fake = fakeEc2(eu.map((id) => ({ id, region: 'eu-west-1' })));
    const { session, calls } = fakeSession(
      (call) => {
        if (call.region === 'us-east-1') throw awsError('RequestLimitExceeded', 503, 'req-throttled');
        return fake(call);
      },
      { accountId: '111122223333' },
    );
    const { instance } = createEc2Loaders({ session });
    const results = await instance.loadMany([
      { region: 'us-east-1', id: instanceId(1) },
      { region: 'eu-west-1', id: eu[0] as string },
      { region: 'us-east-1', id: instanceId(2) },
      { region: 'eu-west-1', id: eu[1] as string },
    ]);
    expect(calls).toHaveLength(2);
    expect(results[1]).toMatchObject({ id: eu[0] });
    expect(results[3]).toMatchObject({ id: eu[1] });
    for (const failed of [results[0], results[2]]) {
      expect(failed).toBeInstanceOf(Ec2Error);
      expect(failed).toMatchObject({
        code: AdapterErrorCode.AWS_THROTTLED,
        accountId: '111122223333',
        region: 'us-east-1',
        awsCode: 'RequestLimitExceeded',
        requestId: 'req-throttled',
        retryable: true,
      });
    }
    await expect(instance.load({ region: 'us-east-1', id: instanceId(1) })).rejects.toBeInstanceOf(Ec2Error);
  });

  it('passes the signal to every call and sends nothing once it fired', async () => {
    const controller = new AbortController();
    const { session, calls } = fakeSession(fakeEc2([{ id: instanceId(1), region: 'us-east-1' }]));
    const loaders = createEc2Loaders({ session, signal: controller.signal });
    await loaders.instance.load({ region: 'us-east-1', id: instanceId(1) });
    // The call's own signal, following the request's (callAws: followSignal; it aborts with the
    // request's, as the test of an in-flight call shows).
    expect(calls[0]?.signal).toBeInstanceOf(AbortSignal);
    expect(calls[0]?.signal).not.toBe(controller.signal);
    controller.abort();
    await expect(loaders.instance.load({ region: 'us-east-1', id: instanceId(2) })).rejects.toMatchObject({
      code: AdapterErrorCode.ABORTED,
      retryable: false,
    });
    await expect(loaders.volume.load({ region: 'us-east-1', id: volumeId(2) })).rejects.toMatchObject({
      code: AdapterErrorCode.ABORTED,
    });
    expect(calls).toHaveLength(1);
  });

  it('classifies an SDK AbortError of an in-flight call as ABORTED', async () => {
    const controller = new AbortController();
    const { session } = fakeSession((call) => {
      return new Promise((_, reject) =>
        call.signal?.addEventListener('abort', () =>
          reject(Object.assign(new Error('aborted'), { name: 'AbortError' })),
        ),
      );
    });
    const { instance } = createEc2Loaders({ session, signal: controller.signal });
    const pending = instance.load({ region: 'us-east-1', id: instanceId(1) });
    setTimeout(() => controller.abort(), 5);
    await expect(pending).rejects.toMatchObject({ code: AdapterErrorCode.ABORTED, region: 'us-east-1' });
  });
});

describe('security group and volume loaders', () => {
  it('500 instances with their groups and volumes in one region cost 3 calls', async () => {
    const fixture = Array.from({ length: 500 }, (_, k) => ({
      id: instanceId(k + 1),
      region: 'us-east-1',
      groups: [groupId(1), groupId(2 + (k % 10))],
      volumes: [volumeId(k + 1)],
    }));
    const { session, calls } = fakeSession(fakeEc2(fixture));
    const ec2 = createEc2Loaders({ session });
    const instances = await Promise.all(
      fixture.map((f) => ec2.instance.load({ region: f.region, id: f.id })),
    );
    const [groups, volumes] = await Promise.all([
      Promise.all(
        instances.flatMap(
          (i) => i?.securityGroupIds.map((id) => ec2.securityGroup.load({ region: i.region, id })) ?? [],
        ),
      ),
      Promise.all(
        instances.flatMap((i) => i?.volumeIds.map((id) => ec2.volume.load({ region: i.region, id })) ?? []),
      ),
    ]);
    expect(groups).toHaveLength(1000);
    expect(new Set(groups.map((g) => g?.id)).size).toBe(11);
    expect(volumes.map((v) => v?.attachedInstanceIds[0])).toEqual(fixture.map((f) => f.id));
    expect(calls.map((c) => c.operation)).toEqual([
      'DescribeInstances',
      'DescribeSecurityGroups',
      'DescribeVolumes',
    ]);
    expect(idsSent(calls[1])).toHaveLength(11);
  });

  it('resolves unknown groups and volumes to null through the group-id / volume-id filters, one call each', async () => {
    const { session, calls } = fakeSession(
      fakeEc2([{ id: instanceId(1), region: 'us-east-1', groups: [groupId(1)], volumes: [volumeId(1)] }]),
    );
    const ec2 = createEc2Loaders({ session });
    const [groups, volumes] = await Promise.all([
      ec2.securityGroup.loadMany([groupId(1), groupId(9), 'sg-bad'].map(regionOf('us-east-1'))),
      ec2.volume.loadMany([volumeId(9), volumeId(1)].map(regionOf('us-east-1'))),
    ]);
    expect(groups).toMatchObject([
      { id: groupId(1), name: `name-${groupId(1)}`, inboundRuleCount: 1 },
      null,
      null,
    ]);
    expect(volumes).toMatchObject([null, { id: volumeId(1), sizeGiB: 8 }]);
    expect(calls.map((c) => [c.operation, c.input.Filters === undefined ? 'ids' : 'filter'])).toEqual([
      ['DescribeSecurityGroups', 'filter'],
      ['DescribeVolumes', 'filter'],
    ]);
    expect(calls[0]?.input.Filters).toEqual([{ Name: 'group-id', Values: [groupId(1), groupId(9)] }]);
    expect(calls[1]?.input.Filters).toEqual([{ Name: 'volume-id', Values: [volumeId(9), volumeId(1)] }]);
  });

  it('creates independent loaders per call of the factory', async () => {
    const { session, calls } = fakeSession(fakeEc2([{ id: instanceId(1), region: 'us-east-1' }]));
    const key = { region: 'us-east-1', id: instanceId(1) };
    await createEc2Loaders({ session }).instance.load(key);
    await createEc2Loaders({ session }).instance.load(key);
    expect(calls).toHaveLength(2);
  });
});
