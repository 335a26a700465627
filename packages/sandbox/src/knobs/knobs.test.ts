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
