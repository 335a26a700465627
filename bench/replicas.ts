/**
 * The `replicas` case of latency-throughput: 1 vs 3 gateway replicas (separate processes,
 * `node apps/gateway/dist/main.js --config FILE`) on one Redis (`cache.redis`), and 3 replicas
 * without Redis for contrast: AWS calls per query and throughput, from a cold cache, under the
 * same load (autocannon, 16 connections split over the replicas, a mix of 24 queries).
 * Debian's redis-server on a free loopback port; the sandbox in its own process.
 * Run alone: pnpm bench replicas  (or node --import tsx bench/replicas.ts)
 */
import { loadavg } from 'node:os';
import { demoAccounts } from '@rolegraph/gateway';
import type { GenerateFixtureOptions, SandboxFixture } from '@rolegraph/sandbox';
import autocannon from 'autocannon';
import {
  type GatewayProcess,
  metricValue,
  startGatewayProcess,
  writeConfigFile,
} from '../apps/gateway/test/gateway-process.js';
import { startRedisServer } from '../apps/gateway/test/redis-server.js';
import { CSRF_HEADERS, isMain, latencyOf } from './lib/gateway-harness.js';
import type { BenchSection } from './lib/report.js';
import { startSandboxProcess } from './lib/sandbox-process.js';

const CONNECTIONS = 16;
const DURATION_S = 10;
const AWS_LATENCY_MS = 20;
const FIXTURE: GenerateFixtureOptions = { accounts: 3, instancesPerRegion: 10, seed: 1 };

/** 3 accounts x 8 page sizes: 24 distinct queries, so the cache has something to share. */
const QUERIES = ['account-0001', 'account-0002', 'account-0003'].flatMap((account) =>
  [5, 6, 7, 8, 9, 10, 15, 20].map(
    (first) =>
      `{ account(account: "${account}") { alias instances(first: ${first}) { nodes { id type state name tags { key value } } } } }`,
  ),
);

interface Row {
  name: string;
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  failures: number;
  awsCalls: number;
  fallbacks: number;
}

/** autocannon on each replica at once (connections split between them), bodies cycling through QUERIES. */
async function loadReplicas(
  replicas: GatewayProcess[],
): Promise<Omit<Row, 'name' | 'awsCalls' | 'fallbacks'>> {
  let next = 0;
  const results = await Promise.all(
    replicas.map((replica, i) =>
      autocannon({
        url: replica.url,
        method: 'POST',
        headers: CSRF_HEADERS,
        connections: Math.floor(CONNECTIONS / replicas.length) + (i < CONNECTIONS % replicas.length ? 1 : 0),
        duration: DURATION_S,
        requests: [
          {
            setupRequest: (request) => ({
              ...request,
              body: JSON.stringify({ query: QUERIES[next++ % QUERIES.length] }),
            }),
          },
        ],
      }),
    ),
  );
  const requests = results.reduce((sum, r) => sum + r.requests.total, 0);
  return {
    requests,
    rps: requests / DURATION_S,
    // Per-replica percentiles, the worst of them (autocannon does not merge histograms).
    p50: Math.max(...results.map((r) => r.latency.p50)),
    p99: Math.max(...results.map((r) => r.latency.p99)),
    failures: results.reduce((sum, r) => sum + r.non2xx + r.errors + r.timeouts, 0),
  };
}

export async function benchReplicas(): Promise<BenchSection[]> {
  const loadBefore = loadavg()[0] ?? 0;
  const sandbox = await startSandboxProcess({ fixture: FIXTURE, latency: latencyOf(AWS_LATENCY_MS) });
  const redis = await startRedisServer();
  const rows: Row[] = [];
  try {
    const run = async (name: string, count: number, withRedis: boolean) => {
      redis.cli('FLUSHALL');
      const configFile = writeConfigFile({
        accounts: demoAccounts({ fixture: sandbox.fixture as SandboxFixture }),
        aws: { endpoint: sandbox.endpoint },
        cache: withRedis ? { redis: { url: redis.url } } : {},
      });
      const replicas = await Promise.all(
        Array.from({ length: count }, (_, i) =>
          startGatewayProcess({ name: `r${i}`, configFile, credentials: sandbox.credentials }),
        ),
      );
      try {
        if (withRedis) await Promise.all(replicas.map((r) => r.lineWith(/^redis connected/, 30_000)));
        await sandbox.reset();
        const load = await loadReplicas(replicas);
        let fallbacks = 0;
        for (const r of replicas)
          fallbacks += metricValue(await r.metrics(), 'rolegraph_gateway_cache_redis_fallbacks_total');
        const awsCalls =
          (await sandbox.calls({ service: 'ec2' })) +
          (await sandbox.calls({ service: 's3' })) +
          (await sandbox.calls({ service: 'sts', operation: 'GetCallerIdentity' }));
        rows.push({ name, ...load, awsCalls, fallbacks });
      } finally {
        await Promise.all(replicas.map((r) => r.stop()));
      }
    };
    await run('1 replica, Redis', 1, true);
    await run('3 replicas, one Redis', 3, true);
    await run('3 replicas, no Redis (each its own memory cache)', 3, false);
  } finally {
    await redis.stop();
    await sandbox.close();
  }
  const one = rows[0];
  return [
    {
      title: 'Replicas: 1 vs 3 gateway processes on one Redis (cache.redis), from a cold cache',
      description: `autocannon, ${CONNECTIONS} connections split over the replicas, ${DURATION_S} s from a cold cache (Redis flushed, new processes), ${QUERIES.length} distinct one-account instance queries in turn (generateFixture: 3 accounts × 2 regions × 10 instances), ${AWS_LATENCY_MS} ms AWS latency. Each replica is \`node apps/gateway/dist/main.js --config FILE\`; the sandbox runs in its own process, redis-server in another, all on this machine's 2 cores.`,
      columns: [
        'setup',
        'requests',
        'req/s',
        'p50 ms (worst replica)',
        'p99 ms (worst replica)',
        'EC2/S3 calls',
        'AWS calls / 1000 queries',
        'vs 1 replica',
        'Redis fallbacks',
        'failures',
      ],
      rows: rows.map((r) => [
        r.name,
        r.requests,
        Math.round(r.rps),
        r.p50,
        r.p99,
        r.awsCalls,
        ((1000 * r.awsCalls) / Math.max(1, r.requests)).toFixed(2),
        one ? `${(r.awsCalls / Math.max(1, one.awsCalls)).toFixed(2)}x` : '',
        r.fallbacks,
        r.failures,
      ]),
      notes: [
        'AWS calls are the EC2 and S3 calls of the whole run (the answers the cache can hold); AssumeRole is per replica by design (credentials never leave a process, never go to Redis), so it is not in the count.',
        'Throughput is not expected to grow with replicas here: the replicas, the sandbox, Redis and autocannon share the same 2 cores. What sharing buys is the AWS-call column: 3 replicas on one Redis against 1 replica, and against 3 replicas that each fill their own cache.',
        `Machine load average (1 min) before / after: ${loadBefore.toFixed(1)} / ${(loadavg()[0] ?? 0).toFixed(1)}.`,
      ],
    },
  ];
}

if (isMain(import.meta.url)) {
  const { renderSection } = await import('./lib/report.js');
  for (const s of await benchReplicas()) process.stdout.write(`\n${renderSection(s)}`);
}
