import { describe, expect, it } from 'vitest';
import { ec2ThrottlingClass } from './ec2.js';

const params = (entries: Record<string, string>) => new Map(Object.entries(entries));

describe('ec2ThrottlingClass', () => {
  it('unfiltered and unpaginated DescribeInstances / DescribeSecurityGroups / DescribeVolumes: the small bucket', () => {
    for (const action of ['DescribeInstances', 'DescribeSecurityGroups', 'DescribeVolumes']) {
      expect(ec2ThrottlingClass(action, params({ Action: action, Version: '2016-11-15' }))).toBe(
        'unfilteredUnpaginated',
      );
    }
  });

  it('a filter, ids, MaxResults or NextToken make the call an ordinary non-mutating one', () => {
    const base = { Action: 'DescribeInstances', Version: '2016-11-15' };
    const extras: Record<string, string>[] = [
      { 'Filter.1.Name': 'instance-state-name', 'Filter.1.Value.1': 'running' },
      { 'InstanceId.1': 'i-0123456789abcdef0' },
      { MaxResults: '5' },
      { NextToken: 'abc' },
    ];
    for (const extra of extras) {
      expect(ec2ThrottlingClass('DescribeInstances', params({ ...base, ...extra }))).toBe('nonMutating');
    }
    expect(ec2ThrottlingClass('DescribeSecurityGroups', params({ 'GroupName.1': 'web' }))).toBe(
      'nonMutating',
    );
    expect(ec2ThrottlingClass('DescribeVolumes', params({ 'VolumeId.1': 'vol-0123456789abcdef0' }))).toBe(
      'nonMutating',
    );
  });

  it('other operations are non-mutating whatever their parameters', () => {
    expect(ec2ThrottlingClass('DescribeRegions', params({}))).toBe('nonMutating');
  });
});
