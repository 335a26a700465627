import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { DescribeRegionsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoFixture, type Sandbox, startSandbox } from '../src/index.js';
import { assume, readerArn, type SessionCredentials, stsClient } from './helpers.js';

let sb: Sandbox;
let prod: SessionCredentials;

beforeAll(async () => {
  sb = await startSandbox({ fixture: demoFixture(), maxBodyBytes: 4096 });
  prod = await assume(sb, readerArn(sb, 'prod'));
});
afterAll(async () => {
  await sb.close();
});

const ec2 = () =>
  new EC2Client({ endpoint: sb.endpoint, region: 'us-east-1', credentials: prod, maxAttempts: 1 });

async function stillServes(): Promise<void> {
  await expect(stsClient(sb).send(new GetCallerIdentityCommand({}))).resolves.toMatchObject({
    Account: '000000000000',
  });
}

function rawRequest(payload: string, closeAfter = true): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(sb.port, '127.0.0.1', () => {
      socket.write(payload);
      if (closeAfter) socket.end();
    });
    let data = '';
    socket.on('data', (d) => {
      data += d.toString();
    });
    socket.on('close', () => resolve(data));
    socket.on('error', () => resolve(data));
    socket.setTimeout(3000, () => socket.destroy());
  });
}

describe('bad input gets AWS-shaped errors and never stops the server', () => {
  it('unsigned query request: MissingAuthenticationToken in the EC2 shape', async () => {
    const res = await fetch(sb.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=DescribeInstances&Version=2016-11-15',
    });
    expect(res.status).toBe(401);
    const text = await res.text();
    expect(text).toMatch(/<Response><Errors><Error><Code>MissingAuthenticationToken<\/Code>/);
    expect(text).toMatch(/<RequestID>[0-9a-f-]{36}<\/RequestID>/);
    expect(Date.parse(res.headers.get('date') ?? '')).toBeGreaterThan(Date.now() - 60_000);
  });

  it('unsigned STS request: ErrorResponse shape with x-amzn-RequestId', async () => {
    const res = await fetch(sb.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=GetCallerIdentity&Version=2011-06-15',
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    expect(await res.text()).toMatch(
      /<ErrorResponse[^>]*><Error><Type>Sender<\/Type><Code>MissingAuthenticationToken<\/Code>/,
    );
  });

  it('anonymous S3 request: AccessDenied with x-amz-request-id and x-amz-id-2', async () => {
    const res = await fetch(`${sb.endpoint}/some-bucket?list-type=2`);
    expect(res.status).toBe(403);
    expect(res.headers.get('x-amz-request-id')).toMatch(/^[0-9A-F]{16}$/);
    expect(res.headers.get('x-amz-id-2')).toBeTruthy();
    expect(await res.text()).toMatch(/<Error><Code>AccessDenied<\/Code>/);
  });

  it('malformed Authorization header', async () => {
    const res = await fetch(sb.endpoint, {
      method: 'POST',
      headers: {
        authorization: 'AWS4-HMAC-SHA256 garbage',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'Action=DescribeRegions',
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/<Code>IncompleteSignature<\/Code>/);
  });

  it('unknown action: InvalidAction; unknown S3 feature: NotImplemented; wrong method', async () => {
    const invalid = await ec2Raw('Action=RunInstances&Version=2016-11-15');
    expect(invalid.status).toBe(400);
    expect(invalid.text).toMatch(/<Code>InvalidAction<\/Code>/);
    const s3 = await fetch(`${sb.endpoint}/bucket?acl`, {
      headers: {
        authorization: fakeAuth('s3'),
        'x-amz-date': '20240101T000000Z',
        'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
      },
    });
    expect(s3.status).toBe(501);
    expect(await s3.text()).toMatch(/<Code>NotImplemented<\/Code>/);
    const patch = await fetch(`${sb.endpoint}/bucket`, {
      method: 'PATCH',
      headers: { authorization: fakeAuth('s3') },
    });
    expect(patch.status).toBe(405);
    expect(await patch.text()).toMatch(/<Code>MethodNotAllowed<\/Code>/);
    const put = await fetch(sb.endpoint, {
      method: 'PUT',
      headers: { authorization: fakeAuth('ec2') },
      body: 'x',
    });
    expect(put.status).toBe(405);
    await stillServes();
  });

  it('malformed form body and missing Action', async () => {
    const bad = await ec2Raw('%%%&&&===&Version=2016-11-15');
    expect(bad.status).toBe(400);
    expect(bad.text).toMatch(/<Code>MissingAction<\/Code>/);
    const json = await fetch(sb.endpoint, {
      method: 'POST',
      headers: { authorization: fakeAuth('ec2'), 'content-type': 'application/json' },
      body: '{"Action":',
    });
    expect(json.status).toBe(400);
    expect(await json.text()).toMatch(/<Code>MalformedInput<\/Code>/);
    await stillServes();
  });

  it('oversized body: 413 in the service shape', async () => {
    const res = await ec2Raw(`Action=DescribeInstances&Pad=${'x'.repeat(10_000)}`);
    expect(res.status).toBe(413);
    expect(res.text).toMatch(/<Code>RequestEntityTooLarge<\/Code>/);
    await stillServes();
  });

  it('truncated connections and garbage bytes do not crash it', async () => {
    await rawRequest(
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\nAction=Desc',
    );
    const garbage = await rawRequest('\x00\x01\x02 not http at all\r\n\r\n');
    expect(garbage).toMatch(/^HTTP\/1.1 400/);
    await rawRequest('GET / HTTP/1.1\r\nHost: x\r\n', true);
    await stillServes();
  });

  it('unemulated service in the credential scope', async () => {
    const res = await fetch(sb.endpoint, {
      method: 'POST',
      headers: { authorization: fakeAuth('iam'), 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=ListRoles',
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/does not emulate the service 'iam'/);
  });
});

describe('knobs', () => {
  it('throttles EC2 with a token bucket: RequestLimitExceeded 503, counted', async () => {
    sb.admin.setThrottling({ ec2: { burst: 3, refillPerSecond: 0 } });
    sb.admin.reset();
    try {
      const client = ec2();
      for (let i = 0; i < 3; i++) await client.send(new DescribeRegionsCommand({}));
      const error = await client.send(new DescribeRegionsCommand({})).catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'RequestLimitExceeded', $metadata: { httpStatusCode: 503 } });
      // Other regions have their own bucket.
      const eu = new EC2Client({
        endpoint: sb.endpoint,
        region: 'eu-west-1',
        credentials: prod,
        maxAttempts: 1,
      });
      await expect(eu.send(new DescribeRegionsCommand({}))).resolves.toBeDefined();
      expect(sb.admin.calls({ service: 'ec2', operation: 'DescribeRegions', account: '111111111111' })).toBe(
        5,
      );
    } finally {
      sb.admin.setThrottling(false);
    }
  });

  it('STS Throttling 400 and S3 SlowDown 503 via faults; faults run out after `times`', async () => {
    sb.admin.setFault({ service: 'sts', operation: 'GetCallerIdentity', error: 'throttle', times: 1 });
    const e = await stsClient(sb)
      .send(new GetCallerIdentityCommand({}))
      .catch((x: unknown) => x);
    expect(e).toMatchObject({ name: 'Throttling', $metadata: { httpStatusCode: 400 } });
    await stillServes();
    sb.admin.setFault({ service: 's3', account: '111111111111', error: 'throttle', times: 1 });
    const s3 = new S3Client({
      endpoint: sb.endpoint,
      region: 'us-east-1',
      credentials: prod,
      forcePathStyle: true,
      maxAttempts: 1,
    });
    const slow = await s3.send(new ListBucketsCommand({})).catch((x: unknown) => x);
    expect(slow).toMatchObject({ name: 'SlowDown', $metadata: { httpStatusCode: 503 } });
    sb.admin.setFault({
      service: 'ec2',
      error: { code: 'UnauthorizedOperation', status: 403, message: 'nope' },
      times: 1,
    });
    const forced = await ec2()
      .send(new DescribeRegionsCommand({}))
      .catch((x: unknown) => x);
    expect(forced).toMatchObject({ name: 'UnauthorizedOperation', message: 'nope' });
    sb.admin.setFault({ service: 'ec2', error: 'internal', times: 1 });
    const internal = await ec2()
      .send(new DescribeRegionsCommand({}))
      .catch((x: unknown) => x);
    expect(internal).toMatchObject({ name: 'InternalError', $metadata: { httpStatusCode: 500 } });
    expect(sb.admin.knobs().faults).toEqual([]);
  });

  it('connection reset fault', async () => {
    sb.admin.setFault({ service: 'ec2', operation: 'DescribeRegions', error: 'reset', times: 1 });
    const e = await ec2()
      .send(new DescribeRegionsCommand({}))
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Error);
    expect(
      (e as Error & { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode,
    ).toBeUndefined();
    await stillServes();
  });

  it('latency: fixed delay per service', async () => {
    sb.admin.setLatency({ ec2: { fixedMs: 150 } });
    try {
      const started = performance.now();
      await ec2().send(new DescribeRegionsCommand({}));
      expect(performance.now() - started).toBeGreaterThanOrEqual(140);
      const sts = performance.now();
      await stsClient(sb).send(new GetCallerIdentityCommand({}));
      expect(performance.now() - sts).toBeLessThan(140);
    } finally {
      sb.admin.setLatency({});
    }
  });

  it('switching a service or an account off', async () => {
    sb.admin.setServiceEnabled('ec2', false);
    const off = await ec2()
      .send(new DescribeRegionsCommand({}))
      .catch((x: unknown) => x);
    expect(off).toMatchObject({ $metadata: { httpStatusCode: 503 } });
    sb.admin.setServiceEnabled('ec2', true);
    sb.admin.setAccountEnabled('111111111111', false);
    const closed = await ec2()
      .send(new DescribeRegionsCommand({}))
      .catch((x: unknown) => x);
    expect(closed).toMatchObject({ name: 'AuthFailure' });
    const denied = await assume(sb, readerArn(sb, 'prod')).catch((x: unknown) => x);
    expect(denied).toMatchObject({ name: 'AccessDenied' });
    sb.admin.setAccountEnabled('111111111111', true);
    await expect(ec2().send(new DescribeRegionsCommand({}))).resolves.toBeDefined();
  });

  it('admin HTTP endpoint: knobs, counters, calls, reset', async () => {
    const post = (path: string, body?: unknown) =>
      fetch(`${sb.endpoint}${path}`, {
        method: 'POST',
        ...(body === undefined
          ? {}
          : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      });
    expect((await post('/_sandbox/reset')).status).toBe(200);
    await ec2().send(new DescribeRegionsCommand({}));
    const counters = (await (await fetch(`${sb.endpoint}/_sandbox/counters`)).json()) as {
      total: number;
      counters: unknown[];
    };
    expect(counters.total).toBe(1);
    expect(counters.counters[0]).toMatchObject({
      service: 'ec2',
      operation: 'DescribeRegions',
      account: '111111111111',
      region: 'us-east-1',
      roleArn: readerArn(sb, 'prod'),
      count: 1,
    });
    const calls = (await (
      await fetch(`${sb.endpoint}/_sandbox/calls?service=ec2&account=111111111111`)
    ).json()) as { count: number };
    expect(calls.count).toBe(1);
    const set = await post('/_sandbox/knobs', {
      faults: [{ service: 'ec2', error: 'unavailable', times: 1 }],
      latency: { s3: { fixedMs: 1 } },
    });
    expect(set.status).toBe(200);
    const e = await ec2()
      .send(new DescribeRegionsCommand({}))
      .catch((x: unknown) => x);
    expect(e).toMatchObject({ $metadata: { httpStatusCode: 503 } });
    const bad = await post('/_sandbox/knobs', { faults: [{ error: 'explode' }] });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { issues: { path: string }[] }).issues[0]?.path).toBe('faults[0].error');
    const advanced = (await (
      await post('/_sandbox/knobs', { advanceClockMs: 1000, latency: {} })
    ).json()) as { clockOffsetMs: number };
    expect(advanced.clockOffsetMs).toBe(1000);
    sb.admin.advanceClock(-1000);
  });
});

function fakeAuth(service: string): string {
  return `AWS4-HMAC-SHA256 Credential=AKIAROLEGRAPHCENTRAL/20240101/us-east-1/${service}/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`;
}

async function ec2Raw(body: string): Promise<{ status: number; text: string }> {
  const res = await fetch(sb.endpoint, {
    method: 'POST',
    headers: {
      authorization: fakeAuth('ec2'),
      'content-type': 'application/x-www-form-urlencoded',
      'x-amz-date': '20240101T000000Z',
    },
    body,
  });
  return { status: res.status, text: await res.text() };
}

/** The kernel's count of connections dropped because a listen queue was full (Linux). */
function listenOverflows(): number | undefined {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
    const header = lines.find((l) => l.startsWith('TcpExt:'))?.split(/\s+/) ?? [];
    const values = lines.filter((l) => l.startsWith('TcpExt:'))[1]?.split(/\s+/) ?? [];
    const at = header.indexOf('ListenOverflows');
    return at > 0 ? Number(values[at]) : undefined;
  } catch {
    return undefined;
  }
}

describe('many connections at once', () => {
  // 50 SDK clients with 50 sockets each open 2,500 connections in one burst. With Node's default
  // backlog of 511 the kernel drops SYNs past it (counted as ListenOverflows), and a dropped SYN
  // is retried only after 1, 3, 7 s...: that was a stall of minutes under load.
  it.runIf(listenOverflows() !== undefined || process.env.CI === 'true')(
    '2,500 sockets opened in one burst: none dropped by the kernel',
    async () => {
      const burst = await startSandbox({ fixture: demoFixture() });
      try {
        const before = listenOverflows();
        await Promise.all(
          Array.from(
            { length: 2500 },
            () =>
              new Promise<void>((resolve, reject) => {
                const socket = connect(burst.port, '127.0.0.1', () => {
                  resolve();
                  socket.destroy();
                });
                socket.on('error', reject);
              }),
          ),
        );
        expect(listenOverflows()).toBe(before);
      } finally {
        await burst.close();
      }
      await expect(startSandbox({ backlog: 0 })).rejects.toThrow(/backlog/);
    },
  );
});
