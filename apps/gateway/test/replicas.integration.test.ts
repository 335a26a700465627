import { generateFixture, type Sandbox, startSandbox } from '@rolegraph/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoAccounts } from '../src/demo.js';
import { type GatewayProcess, metricValue, startGatewayProcess, writeConfigFile } from './gateway-process.js';
import { type RedisServer, redisTestsSkipped, startRedisServer } from './redis-server.js';

// Three gateway replicas as separate processes (`node dist/main.js --config FILE`), one Redis,
// one sandbox, queries spread round-robin as a load balancer would. The sandbox counts every
// AWS call; Debian's redis-server is killed and restarted under load.

const CSRF = { 'content-type': 'application/json', 'x-graphql-yoga-csrf': '1' };

/** The demo fixture's whole estate (36 EC2/S3 calls at the minimum) and smaller queries beside it. */
const QUERIES = [
  `{ accounts { alias
      instances(first: 100) { nodes { id region securityGroups { id name } volumes { id sizeGiB } } }
      buckets(first: 100) { nodes { name region tags { key value } } } } }`,
  '{ account(account: "prod") { alias instances(first: 100) { nodes { id state } } } }',
  '{ account(account: "staging") { buckets(first: 100) { nodes { name tags { key value } } } } }',
  '{ accounts(aliases: ["audit", "prod"]) { alias instances(first: 100) { nodes { id type } } } }',
];

interface Outcome {
  replica: string;
  query: number | string;
  ok: boolean;
  detail?: string;
}

/** POSTs one query (an index into QUERIES, or the text); ok only for HTTP 200 with data and no error. */
async function ask(
  replica: GatewayProcess,
  query: number | string,
  headers: Record<string, string> = {},
): Promise<Outcome> {
  try {
    const res = await fetch(replica.url, {
      method: 'POST',
      headers: { ...CSRF, ...headers },
      body: JSON.stringify({ query: typeof query === 'number' ? QUERIES[query] : query }),
      signal: AbortSignal.timeout(60_000),
    });
    const body = (await res.json()) as { data?: unknown; errors?: unknown[] };
    const ok = res.status === 200 && body.data != null && !body.errors;
    return {
      replica: replica.name,
      query,
      ok,
      ...(ok ? {} : { detail: JSON.stringify(body).slice(0, 400) }),
    };
  } catch (error) {
    return { replica: replica.name, query, ok: false, detail: String(error) };
  }
}

/**
 * `total` queries over `replicas` round-robin, `concurrency` at a time; `during(i)` runs as the
 * i-th query starts (to kill something mid-load).
 */
async function roundRobin(
  replicas: () => GatewayProcess[],
  options: { total: number; concurrency: number; during?: (i: number) => Promise<void> | void },
): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  let next = 0;
  const loop = async () => {
    while (next < options.total) {
      const i = next++;
      await options.during?.(i);
      const live = replicas();
      outcomes.push(await ask(live[i % live.length] as GatewayProcess, i % QUERIES.length));
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, loop));
  return outcomes;
}

/** EC2 and S3 calls by operation (STS is per replica by design: credentials never leave one). */
function serviceCalls(sandbox: Sandbox): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of sandbox.admin.counters()) {
    if (c.service === 'sts') continue;
    const name = `${c.service}:${c.operation}`;
    out[name] = (out[name] ?? 0) + c.count;
  }
  return out;
}

const sum = (calls: Record<string, number>) => Object.values(calls).reduce((a, b) => a + b, 0);

describe.skipIf(redisTestsSkipped)('3 gateway replicas (processes) sharing one Redis', () => {
  let sandbox: Sandbox;
  let redis: RedisServer;
  const started: GatewayProcess[] = [];
  const configWith = (
    redisOptions: Record<string, unknown> = {},
    cacheOptions: Record<string, unknown> = {},
  ) =>
    writeConfigFile({
      accounts: demoAccounts(sandbox),
      aws: { endpoint: sandbox.endpoint },
      cache: { ...cacheOptions, redis: { url: redis.url, ...redisOptions } },
    });
  /** The claims in Redis and who holds them (`rolegraph-gateway:<pid>:<uuid>`). */
  const claimHolders = (): string[] =>
    redis
      .cli('--scan', '--pattern', 'rolegraph:claim:*')
      .split('\n')
      .filter(Boolean)
      .map((key) => redis.cli('GET', key));

  const startReplicas = async (names: string[], configFile: string) => {
    const replicas = await Promise.all(
      names.map((name) => startGatewayProcess({ name, configFile, credentials: sandbox.credentials })),
    );
    started.push(...replicas);
    await Promise.all(replicas.map((r) => r.lineWith(/^redis connected/, 30_000)));
    return replicas;
  };
  const stopAll = async () => {
    await Promise.all(started.splice(0).map((r) => r.stop()));
  };

  beforeAll(async () => {
    sandbox = await startSandbox({ port: 0, host: '127.0.0.1' });
    redis = await startRedisServer();
  }, 60_000);
  afterAll(async () => {
    await stopAll();
    await redis?.stop();
    await sandbox?.close();
  });

  it('AWS calls equal those of one replica: every distinct call once, across the replicas', async () => {
    const load = { total: 48, concurrency: 6 };
    // Exact counts must not depend on timing: the claim outlasts any AWS call of this test on a
    // loaded machine (the first one of each replica assumes the role inside it), and a command
    // never times out behind an event-loop stall of 3 gateways, a sandbox and vitest on 2 cores
    // (a timed-out read is a local miss: one more AWS call).
    const configFile = configWith({ singleFlightMs: 10_000, commandTimeoutMs: 5_000 });
    // One replica, cold cache.
    const [solo] = await startReplicas(['solo'], configFile);
    sandbox.admin.reset();
    const soloOutcomes = await roundRobin(() => [solo as GatewayProcess], load);
    const one = serviceCalls(sandbox);
    await stopAll();
    redis.cli('FLUSHALL');

    const replicas = await startReplicas(['a', 'b', 'c'], configFile);
    sandbox.admin.reset();
    const outcomes = await roundRobin(() => replicas, load);
    const three = serviceCalls(sandbox);

    expect(soloOutcomes.filter((o) => !o.ok)).toEqual([]);
    expect(outcomes.filter((o) => !o.ok)).toEqual([]);
    expect(new Set(outcomes.map((o) => o.replica))).toEqual(new Set(['a', 'b', 'c']));
    for (const r of replicas)
      console.info(
        r.name,
        JSON.stringify(r.lines.filter((l) => l.level !== 'info' || /redis/.test(String(l.msg)))),
      );
    expect(three).toEqual(one);
    // The minimum, from the fixture: the estate query's 36 calls, and nothing else is new
    // (the smaller queries reuse its answers where their inputs match).
    expect(one['ec2:DescribeInstances']).toBeGreaterThanOrEqual(6);
    expect(one['s3:GetBucketTagging']).toBe(15);
    expect(one['s3:ListBuckets']).toBe(3);
    expect(one['ec2:DescribeSecurityGroups']).toBe(6);
    expect(one['ec2:DescribeVolumes']).toBe(6);
    console.info(
      `[replicas] ${load.total} queries: 1 replica ${sum(one)} EC2/S3 calls, 3 replicas ${sum(three)}`,
      three,
    );
    for (const r of replicas) {
      const text = await r.metrics();
      expect(metricValue(text, 'rolegraph_gateway_cache_redis_up')).toBe(1);
      expect(metricValue(text, 'rolegraph_gateway_cache_redis_fallbacks_total')).toBe(0);
    }
    await stopAll();
  }, 180_000);

  it('one replica killed mid-load (SIGKILL) while it holds claims: the others lose no answer', async () => {
    redis.cli('FLUSHALL');
    // Slow AWS, so the killed replica is fetching (and holding claims others wait on) when it dies.
    sandbox.admin.setLatency({ ec2: { fixedMs: 300 }, s3: { fixedMs: 300 } });
    try {
      // Answers kept 1 s: misses (and so claims) keep coming all through the load.
      const config = configWith({}, { ttlSeconds: { default: 1 } });
      const [a, b, c] = (await startReplicas(['a', 'b', 'c'], config)) as GatewayProcess[];
      let live = [a, b, c] as GatewayProcess[];
      let heldAtKill: string[] = [];
      const outcomes = await roundRobin(() => live, {
        total: 36,
        concurrency: 6,
        during: async (i) => {
          if (i !== 8) return;
          const mine = `rolegraph-gateway:${String(a?.child.pid)}:`;
          const deadline = Date.now() + 20_000;
          // The load's own queries to a may all be hits (or done) by now: keep one more query of
          // our own in flight at a, so it keeps missing (answers live 1 s) and claiming. Its
          // outcome is not counted: a is about to be killed.
          let probing = false;
          let probeQuery = 0;
          // Freeze a (SIGSTOP) before reading the claims: a claim seen is then still held at the
          // kill, whatever the time between the read and the kill on a loaded machine.
          while (Date.now() < deadline) {
            a?.child.kill('SIGSTOP');
            heldAtKill = claimHolders().filter((h) => h.startsWith(mine));
            if (heldAtKill.length > 0) break;
            a?.child.kill('SIGCONT');
            if (!probing) {
              probing = true;
              void ask(a as GatewayProcess, probeQuery++ % QUERIES.length).finally(() => {
                probing = false;
              });
            }
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
          live = [b, c] as GatewayProcess[];
          await a?.kill();
          // Right away, every query on the survivors: some need keys a had claimed.
          await Promise.all(QUERIES.flatMap((_, q) => [b, c].map((r) => ask(r as GatewayProcess, q)))).then(
            (extra) => {
              expect(extra.filter((o) => !o.ok)).toEqual([]);
            },
          );
        },
      });
      expect(heldAtKill.length).toBeGreaterThan(0);
      const others = outcomes.filter((o) => o.replica !== 'a');
      expect(others.length).toBeGreaterThan(20);
      expect(others.filter((o) => !o.ok)).toEqual([]);
      expect(a?.child.signalCode).toBe('SIGKILL');
    } finally {
      sandbox.admin.setLatency({});
      await stopAll();
    }
  }, 180_000);

  it('Redis killed mid-load: zero failed queries; each replica warns once, then uses Redis again once it is back', async () => {
    redis.cli('FLUSHALL');
    const replicas = await startReplicas(['a', 'b', 'c'], configWith());
    const before = await roundRobin(() => replicas, { total: 12, concurrency: 3 });
    await redis.kill();
    const during = await roundRobin(() => replicas, { total: 24, concurrency: 6 });
    for (const r of replicas) {
      await r.lineWith(/^redis unavailable/);
      expect(metricValue(await r.metrics(), 'rolegraph_gateway_cache_redis_up')).toBe(0);
    }
    await redis.restart();
    for (const r of replicas) await r.lineWith(/^redis is back/, 30_000);
    const after = await roundRobin(() => replicas, { total: 12, concurrency: 3 });

    for (const phase of [before, during, after]) expect(phase.filter((o) => !o.ok)).toEqual([]);
    for (const r of replicas) {
      const text = await r.metrics();
      expect(metricValue(text, 'rolegraph_gateway_cache_redis_up')).toBe(1);
      expect(metricValue(text, 'rolegraph_gateway_cache_redis_outages_total')).toBe(1);
      expect(
        metricValue(text, 'rolegraph_gateway_cache_redis_fallbacks_total', { store: 'answers' }),
      ).toBeGreaterThan(0);
      // One warning per replica for the whole outage, however many calls fell back.
      expect(r.lines.filter((l) => String(l.msg).startsWith('redis unavailable'))).toHaveLength(1);
    }
    // The restarted Redis (empty) holds the answers of the queries after it came back.
    expect(Number(redis.cli('DBSIZE'))).toBeGreaterThan(0);
  }, 180_000);
});

describe.skipIf(redisTestsSkipped)('3 replicas draw on one set of rate-limit buckets in Redis', () => {
  let sandbox: Sandbox;
  let redis: RedisServer;
  const started: GatewayProcess[] = [];
  // One EC2 bucket (account, region, DescribeInstances) of 30 tokens that refills one token per
  // 100 s: what goes out is what the bucket held, whatever the timing.
  const BUCKET = { burst: 30, refillPerSecond: 0.01 };
  const CALLS = 60;
  const queryFor = (n: number) =>
    `{ account(account: "account-0001") { instances(region: "us-east-1", first: 5, filter: { tags: [{ key: "run", values: ["v${n}"] }] }) { nodes { id } } } }`;

  beforeAll(async () => {
    sandbox = await startSandbox({
      port: 0,
      host: '127.0.0.1',
      fixture: generateFixture({
        accounts: 1,
        regions: ['us-east-1'],
        instancesPerRegion: 2,
        bucketsPerAccount: 0,
        seed: 3,
      }),
    });
    redis = await startRedisServer();
  }, 60_000);
  afterAll(async () => {
    await Promise.all(started.splice(0).map((r) => r.stop()));
    await redis?.stop();
    await sandbox?.close();
  });

  /** CALLS distinct DescribeInstances (each its own tag filter, past the cache) over `count` replicas at once. */
  const burst = async (count: number, cache: Record<string, unknown>) => {
    redis.cli('FLUSHALL');
    const configFile = writeConfigFile({
      accounts: demoAccounts(sandbox),
      aws: { endpoint: sandbox.endpoint },
      // Calls past the bucket wait for a token that comes in 100 s: they end at the deadline.
      server: { queryTimeoutMs: 4000 },
      limits: { aws: { ec2: { nonMutating: BUCKET } } },
      cache,
    });
    const replicas = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        startGatewayProcess({ name: `r${i}`, configFile, credentials: sandbox.credentials }),
      ),
    );
    started.push(...replicas);
    if (cache.redis) await Promise.all(replicas.map((r) => r.lineWith(/^redis connected/, 30_000)));
    // Sessions first, so the burst is EC2 only.
    await Promise.all(
      replicas.map((r) =>
        ask(r, '{ account(account: "account-0001") { alias status { callerIdentity { arn } } } }'),
      ),
    );
    sandbox.admin.reset();
    const outcomes = await Promise.all(
      Array.from({ length: CALLS }, (_, n) => ask(replicas[n % count] as GatewayProcess, queryFor(n))),
    );
    let fallbacks = 0;
    for (const r of replicas)
      fallbacks += metricValue(await r.metrics(), 'rolegraph_gateway_cache_redis_fallbacks_total');
    await Promise.all(started.splice(0).map((r) => r.stop()));
    return {
      answered: outcomes.filter((o) => o.ok).length,
      sent: sandbox.admin.calls({ service: 'ec2', operation: 'DescribeInstances' }),
      fallbacks,
    };
  };

  it('what one replica may send, 3 replicas on Redis send together; each on its own buckets sends 3 times as much', async () => {
    const one = await burst(1, {});
    // The bucket less its reserve against arrival jitter: well under CALLS.
    expect(one.sent).toBeGreaterThan(20);
    expect(one.sent).toBeLessThanOrEqual(BUCKET.burst);
    const shared = await burst(3, { redis: { url: redis.url, commandTimeoutMs: 5_000 } });
    expect(shared.fallbacks).toBe(0);
    expect(shared.sent).toBe(one.sent);
    expect(shared.answered).toBe(one.sent);
    expect(Number(redis.cli('EXISTS', 'rolegraph:bucket:ec2:100000000001:us-east-1:DescribeInstances'))).toBe(
      1,
    );
    const alone = await burst(3, {});
    expect(alone.sent).toBe(Math.min(CALLS, 3 * one.sent));
    console.info(
      `[replicas] ${CALLS} calls at once on a ${BUCKET.burst}-token bucket: 1 replica sent ${one.sent}, 3 on Redis ${shared.sent}, 3 on their own buckets ${alone.sent}`,
    );
  }, 180_000);
});
