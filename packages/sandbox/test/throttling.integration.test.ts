import {
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  DescribeVolumesCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import {
  DescribeOrganizationCommand,
  ListAccountsCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { demoFixture, type Sandbox, startSandbox } from '../src/index.js';
import { assume, readerArn, type SessionCredentials } from './helpers.js';

// The sandbox clock stands still, so no bucket refills during a test: counts are exact, never timed.
const frozen = Date.now();
let sb: Sandbox;
let prod: SessionCredentials;

beforeAll(async () => {
  sb = await startSandbox({ fixture: demoFixture(), now: () => frozen });
  prod = await assume(sb, readerArn(sb, 'prod'));
});
afterAll(async () => {
  await sb.close();
});
beforeEach(() => {
  // AWS's defaults; setThrottling also refills every bucket.
  sb.admin.setThrottling(true);
  sb.admin.reset();
});

const ec2 = (region = 'us-east-1') =>
  new EC2Client({ endpoint: sb.endpoint, region, credentials: prod, maxAttempts: 1 });

/** Sends `n` calls one after the other; how many were answered and how many throttled. */
async function burst(n: number, send: () => Promise<unknown>, throttledName: string) {
  let ok = 0;
  let throttled = 0;
  for (let i = 0; i < n; i++) {
    try {
      await send();
      ok++;
    } catch (error) {
      expect((error as Error).name).toBe(throttledName);
      throttled++;
    }
  }
  return { ok, throttled };
}

describe("EC2's throttling classes", () => {
  it('an unfiltered, unpaginated DescribeInstances burst is throttled after 50; a filtered one after 100', async () => {
    const client = ec2();
    const unfiltered = await burst(
      60,
      () => client.send(new DescribeInstancesCommand({})),
      'RequestLimitExceeded',
    );
    expect(unfiltered).toEqual({ ok: 50, throttled: 10 });
    // The filtered calls have a bucket of their own, untouched by the unfiltered burst.
    const filtered = await burst(
      110,
      () =>
        client.send(
          new DescribeInstancesCommand({ Filters: [{ Name: 'instance-state-name', Values: ['running'] }] }),
        ),
      'RequestLimitExceeded',
    );
    expect(filtered).toEqual({ ok: 100, throttled: 10 });
    const counted = { service: 'ec2' as const, operation: 'DescribeInstances', account: '111111111111' };
    expect(sb.admin.calls(counted)).toBe(170);
    expect(sb.admin.calls({ ...counted, outcome: 'throttled' })).toBe(20);
    const http = (await (
      await fetch(`${sb.endpoint}/_sandbox/calls?service=ec2&operation=DescribeInstances&outcome=throttled`)
    ).json()) as { count: number };
    expect(http.count).toBe(20);
    // Buckets are per region: eu-west-1 still has its full unfiltered bucket.
    const eu = await burst(
      51,
      () => ec2('eu-west-1').send(new DescribeInstancesCommand({})),
      'RequestLimitExceeded',
    );
    expect(eu).toEqual({ ok: 50, throttled: 1 });
  });

  it('paginated calls use the standard bucket; unfiltered security groups and volumes have the small one too', async () => {
    const client = ec2();
    const paged = await burst(
      60,
      () => client.send(new DescribeInstancesCommand({ MaxResults: 5 })),
      'RequestLimitExceeded',
    );
    expect(paged).toEqual({ ok: 60, throttled: 0 });
    const groups = await burst(
      55,
      () => client.send(new DescribeSecurityGroupsCommand({})),
      'RequestLimitExceeded',
    );
    expect(groups).toEqual({ ok: 50, throttled: 5 });
    const volumes = await burst(
      55,
      () => client.send(new DescribeVolumesCommand({})),
      'RequestLimitExceeded',
    );
    expect(volumes).toEqual({ ok: 50, throttled: 5 });
  });

  it('each class is overridable on its own', async () => {
    sb.admin.setThrottling({ ec2: { unfilteredUnpaginated: { burst: 3, refillPerSecond: 0 } } });
    const client = ec2();
    expect(
      await burst(5, () => client.send(new DescribeInstancesCommand({})), 'RequestLimitExceeded'),
    ).toEqual({
      ok: 3,
      throttled: 2,
    });
    expect(sb.admin.knobs().throttling.ec2?.nonMutating).toEqual({ burst: 100, refillPerSecond: 20 });
  });
});

describe('Organizations throttling', () => {
  it('answers TooManyRequestsException once the caller account has spent its 20-call burst; other accounts are not affected', async () => {
    const org = new OrganizationsClient({
      endpoint: sb.endpoint,
      region: 'us-east-1',
      credentials: sb.credentials,
      maxAttempts: 1,
    });
    const listed = await burst(25, () => org.send(new ListAccountsCommand({})), 'TooManyRequestsException');
    expect(listed).toEqual({ ok: 20, throttled: 5 });
    // One bucket per account: DescribeOrganization from the same account is throttled too...
    const error = await org.send(new DescribeOrganizationCommand({})).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'TooManyRequestsException', $metadata: { httpStatusCode: 400 } });
    // ...and prod's account has its own.
    const fromProd = new OrganizationsClient({
      endpoint: sb.endpoint,
      region: 'us-east-1',
      credentials: prod,
      maxAttempts: 1,
    });
    await expect(fromProd.send(new DescribeOrganizationCommand({}))).resolves.toBeDefined();
    expect(sb.admin.calls({ service: 'organizations', outcome: 'throttled' })).toBe(6);
    expect(
      sb.admin.calls({ service: 'organizations', operation: 'ListAccounts', account: '000000000000' }),
    ).toBe(25);
  });

  it("the SDK's standard retry strategy treats TooManyRequestsException as throttling and retries it", async () => {
    sb.admin.setThrottling({ organizations: { burst: 1, refillPerSecond: 0 } });
    const org = new OrganizationsClient({
      endpoint: sb.endpoint,
      region: 'us-east-1',
      credentials: sb.credentials,
      maxAttempts: 2,
    });
    await org.send(new ListAccountsCommand({}));
    const error = await org.send(new ListAccountsCommand({})).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'TooManyRequestsException', $metadata: { attempts: 2 } });
  });
});
