import { describe, expect, it } from 'vitest';
import { Knobs } from './knobs.js';

const sel = {
  service: 'ec2' as const,
  operation: 'DescribeInstances',
  account: '111111111111',
  region: 'us-east-1',
};

describe('Knobs token buckets', () => {
  it('allows the burst, then refills at the configured rate on the injected clock', () => {
    const knobs = new Knobs(() => 0);
    knobs.setThrottling(true);
    let now = 1_000_000;
    let allowed = 0;
    for (let i = 0; i < 150; i++) if (knobs.take(sel, now)) allowed++;
    expect(allowed).toBe(100);
    now += 1000;
    allowed = 0;
    for (let i = 0; i < 50; i++) if (knobs.take(sel, now)) allowed++;
    expect(allowed).toBe(20);
    expect(knobs.take({ ...sel, region: 'eu-west-1' }, now)).toBe(true);
  });

  it('EC2 classes: unfiltered and unpaginated calls draw from a 50 + 10/s bucket of their own', () => {
    const knobs = new Knobs(() => 0);
    knobs.setThrottling(true);
    const now = 1_000_000;
    const unfiltered = { ...sel, ec2Class: 'unfilteredUnpaginated' as const };
    let allowed = 0;
    for (let i = 0; i < 80; i++) if (knobs.take(unfiltered, now)) allowed++;
    expect(allowed).toBe(50);
    // The standard bucket of the same operation is untouched.
    allowed = 0;
    for (let i = 0; i < 120; i++) if (knobs.take(sel, now)) allowed++;
    expect(allowed).toBe(100);
    allowed = 0;
    for (let i = 0; i < 30; i++) if (knobs.take(unfiltered, now + 1000)) allowed++;
    expect(allowed).toBe(10);
  });

  it('EC2 classes are overridable one by one; a single spec sizes every class; bad specs are TypeErrors', () => {
    const knobs = new Knobs(() => 0);
    knobs.setThrottling({ ec2: { unfilteredUnpaginated: { burst: 2, refillPerSecond: 0 } } });
    expect(knobs.snapshot().throttling.ec2).toEqual({
      nonMutating: { burst: 100, refillPerSecond: 20 },
      unfilteredUnpaginated: { burst: 2, refillPerSecond: 0 },
    });
    knobs.setThrottling({ ec2: { nonMutating: false } });
    expect(knobs.snapshot().throttling.ec2).toEqual({
      unfilteredUnpaginated: { burst: 50, refillPerSecond: 10 },
    });
    expect(knobs.take(sel, 0)).toBe(true);
    knobs.setThrottling({ ec2: { burst: 3, refillPerSecond: 0 } });
    expect(knobs.snapshot().throttling.ec2).toEqual({
      nonMutating: { burst: 3, refillPerSecond: 0 },
      unfilteredUnpaginated: { burst: 3, refillPerSecond: 0 },
    });
    expect(() => knobs.setThrottling({ ec2: { burst: 0, refillPerSecond: 1 } })).toThrow(TypeError);
    expect(() => knobs.setThrottling({ ec2: { bogus: { burst: 1, refillPerSecond: 1 } } as never })).toThrow(
      /not an EC2 class/,
    );
    expect(() => knobs.setThrottling({ iam: { burst: 1, refillPerSecond: 1 } } as never)).toThrow(TypeError);
  });

  it('Organizations: one bucket per caller account, whatever the operation and region', () => {
    const knobs = new Knobs(() => 0);
    knobs.setThrottling(true);
    const orgSel = {
      service: 'organizations' as const,
      operation: 'ListAccounts',
      account: '000000000000',
      region: 'us-east-1',
    };
    let allowed = 0;
    for (let i = 0; i < 15; i++) if (knobs.take(orgSel, 0)) allowed++;
    for (let i = 0; i < 15; i++)
      if (knobs.take({ ...orgSel, operation: 'ListRoots', region: 'eu-west-1' }, 0)) allowed++;
    expect(allowed).toBe(20);
    expect(knobs.take({ ...orgSel, account: '111111111111' }, 0)).toBe(true);
    expect(knobs.take(orgSel, 100)).toBe(true); // 10/s: one token after 100 ms
    expect(knobs.take(orgSel, 100)).toBe(false);
  });

  it('faults honour selectors, times and probability', () => {
    let r = 0.9;
    const knobs = new Knobs(() => r);
    knobs.addFault({ service: 'ec2', account: '111111111111', error: 'internal', times: 1 });
    knobs.addFault({ service: 's3', error: 'throttle', probability: 0.5 });
    expect(knobs.fault({ ...sel, account: '222222222222' })).toBeUndefined();
    expect(knobs.fault(sel)).toBe('internal');
    expect(knobs.fault(sel)).toBeUndefined();
    const s3 = { ...sel, service: 's3' as const };
    expect(knobs.fault(s3)).toBeUndefined();
    r = 0.1;
    expect(knobs.fault(s3)).toBe('throttle');
  });

  it('latency adds jitter from the injected random source; bad values are TypeErrors', () => {
    const knobs = new Knobs(() => 0.5);
    knobs.setLatency({ sts: { fixedMs: 10, jitterMs: 20 } });
    expect(knobs.delayFor('sts')).toBe(20);
    expect(knobs.delayFor('ec2')).toBe(0);
    expect(() => knobs.setLatency({ sts: { fixedMs: -1 } })).toThrow(TypeError);
  });
});
