import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EC2Client } from '@aws-sdk/client-ec2';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, type Harness, startHarness } from './helpers.js';

// OpenTelemetry: a span per GraphQL operation and per AWS call, off unless configured.

const QUERY = `query TwoRegions {
  account(account: "prod") {
    east: instances(region: "us-east-1", first: 2) { nodes { id } }
    west: instances(region: "eu-west-1", first: 2) { nodes { id } }
  }
}`;

describe('tracing to an in-memory exporter', () => {
  let h: Harness;
  const exporter = new InMemorySpanExporter();
  beforeAll(async () => {
    const tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    h = await startHarness({ deps: { tracerProvider } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('has one span for the operation and one per AWS call, with account, region, service, operation and attempts', async () => {
    const before = h.sandbox.admin.calls({ service: 'ec2', operation: 'DescribeInstances' });
    const r = await gql(h.gateway, QUERY);
    expect(r.body.errors).toBeUndefined();
    const sent = h.sandbox.admin.calls({ service: 'ec2', operation: 'DescribeInstances' }) - before;
    expect(sent).toBe(2);

    const spans = exporter.getFinishedSpans();
    const operations = spans.filter((s) => s.attributes['graphql.execute.operationName'] === 'TwoRegions');
    expect(operations).toHaveLength(1);
    expect(operations[0]?.attributes['graphql.execute.operationType']).toBe('query');

    const aws = spans.filter((s) => s.name === 'EC2.DescribeInstances');
    expect(aws).toHaveLength(sent);
    expect(aws.map((s) => s.attributes['cloud.region']).sort()).toEqual(['eu-west-1', 'us-east-1']);
    for (const span of aws) {
      expect(span.attributes).toMatchObject({
        'rpc.system': 'aws-api',
        'rpc.service': 'EC2',
        'rpc.method': 'DescribeInstances',
        'cloud.account.id': '111111111111',
        'aws.attempts': 1,
      });
      expect(typeof span.attributes['aws.request_id']).toBe('string');
      expect(span.status.code).not.toBe(2);
    }
  });

  it('marks a failed AWS call with its error code and status ERROR', async () => {
    exporter.reset();
    h.sandbox.admin.setFault({ service: 'ec2', error: 'throttle' });
    try {
      await gql(
        h.gateway,
        '{ account(account: "staging") { instances(region: "us-east-1", first: 1) { nodes { id } } } }',
      );
    } finally {
      h.sandbox.admin.clearFaults();
    }
    const failed = exporter.getFinishedSpans().filter((s) => s.name === 'EC2.DescribeInstances');
    expect(failed).toHaveLength(1);
    expect(failed[0]?.attributes['aws.error_code']).toBe('RequestLimitExceeded');
    expect(failed[0]?.attributes['cloud.account.id']).toBe('222222222222');
    expect(failed[0]?.status).toEqual({ code: 2, message: 'RequestLimitExceeded' });
  });
});

describe('tracing configuration', () => {
  it('is off unless configured: no tracing middleware on the session clients', async () => {
    const h = await startHarness();
    try {
      await gql(
        h.gateway,
        '{ account(account: "prod") { instances(region: "us-east-1", first: 1) { nodes { id } } } }',
      );
      const session = h.gateway.sessions.sessions().find((s) => s.accountId === '111111111111');
      if (!session) throw new Error('no session for prod after a query');
      const client = session.client(EC2Client, 'us-east-1') as unknown as {
        middlewareStack: { identify(): string[] };
      };
      const names = client.middlewareStack.identify().join(' ');
      expect(names).toContain('rolegraphAccountActivity');
      expect(names).not.toContain('rolegraphAwsTracing');
    } finally {
      await h.close();
    }
  });

  it('with tracing.otlpEndpoint, exports the spans over OTLP/HTTP (flushed on close)', async () => {
    const received: Array<{ path: string; type: string; body: string }> = [];
    const collector = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      req.on('end', () => {
        received.push({ path: req.url ?? '', type: req.headers['content-type'] ?? '', body });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces`;
    const h = await startHarness({
      config: { tracing: { otlpEndpoint: endpoint, serviceName: 'gw-under-test' } },
    });
    try {
      const r = await gql(h.gateway, QUERY);
      expect(r.body.errors).toBeUndefined();
    } finally {
      await h.close();
      await new Promise<void>((resolve) => collector.close(() => resolve()));
    }
    expect(received.length).toBeGreaterThanOrEqual(1);
    expect(received[0]?.path).toBe('/v1/traces');
    const all = received.map((r) => r.body).join('\n');
    expect(all).toContain('EC2.DescribeInstances');
    expect(all).toContain('gw-under-test');
    expect(all).toContain('111111111111');
  });
});
