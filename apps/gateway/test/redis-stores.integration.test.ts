import { deserialize, serialize } from 'node:v8';
import { createMemoryBucketStore } from '@rolegraph/credentials/aws';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisAnswerStore, redisAnswerKey, redisClaimKey } from '../src/cache/redis-answer-store.js';
import { bucketKey, createRedisBucketStore } from '../src/cache/redis-bucket-store.js';
import { redisSchema } from '../src/cache/redis-config.js';
import { redisClientOptions } from '../src/cache/redis-link.js';
import { type RedisServer, redisTestsSkipped, startRedisServer } from './redis-server.js';

// The stores against Debian's redis-server on a loopback port: no mock anywhere.

/** A connected client with the gateway's options (no offline queue: it must be ready first). */
async function clientFor(server: RedisServer, extra: Record<string, unknown> = {}): Promise<Redis> {
  const config = redisSchema.parse({ url: server.url, commandTimeoutMs: 2000, ...extra });
  const redis = new Redis(redisClientOptions(config));
  await redis.connect();
  return redis;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe.skipIf(redisTestsSkipped)('Redis stores on a real redis-server', () => {
  let server: RedisServer;
  const clients: Redis[] = [];
  const client = async (extra?: Record<string, unknown>) => {
    const c = await clientFor(server, extra);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await server?.stop();
  });

  describe('RedisAnswerStore', () => {
    it('round-trips a v8-serialized answer: Dates, Uint8Arrays and storedAt survive', async () => {
      const store = createRedisAnswerStore({ client: await client() });
      const answer = {
        Reservations: [
          { Instances: [{ InstanceId: 'i-1', LaunchTime: new Date('2026-01-02T03:04:05.678Z') }] },
        ],
        Body: new Uint8Array([0, 1, 2, 255]),
        Count: 2n,
      };
      const storedAt = 1_767_000_000_123.5;
      await store.set('ec2:DescribeInstances:{"a":1}', { value: serialize(answer), storedAt }, 60_000);
      const hit = await store.get('ec2:DescribeInstances:{"a":1}');
      expect(hit?.storedAt).toBe(storedAt);
      expect(hit?.value).toBeInstanceOf(Uint8Array);
      const back = deserialize(hit?.value ?? new Uint8Array()) as typeof answer;
      expect(back).toEqual(answer);
      expect(back.Reservations[0]?.Instances[0]?.LaunchTime).toBeInstanceOf(Date);
      expect(back.Body).toBeInstanceOf(Uint8Array);
      expect(await store.get('never-stored')).toBeUndefined();
    });

    it('keeps an answer for its TTL (SET PX) and Redis drops it after', async () => {
      const redis = await client();
      const store = createRedisAnswerStore({ client: redis });
      await store.set('ttl-key', { value: serialize({ ok: true }), storedAt: 1 }, 300);
      expect(await store.get('ttl-key')).toBeDefined();
      const pttl = await redis.pttl(redisAnswerKey('ttl-key'));
      expect(pttl).toBeGreaterThan(0);
      expect(pttl).toBeLessThanOrEqual(300);
      await until('the answer to expire', async () => ((await store.get('ttl-key')) ? undefined : true));
      // TTL 0 means "do not keep": nothing is written.
      await store.set('zero-ttl', { value: serialize(1), storedAt: 1 }, 0);
      expect(await redis.exists(redisAnswerKey('zero-ttl'))).toBe(0);
    });

    it('stores keys under the configured prefix, long ones under their SHA-256', async () => {
      const store = createRedisAnswerStore({ client: await client({ keyPrefix: 'gw-a:' }) });
      const long = `ec2:DescribeInstances:${JSON.stringify({ InstanceIds: Array.from({ length: 100 }, (_, i) => `i-${i}`) })}`;
      await store.set('short', { value: serialize('s'), storedAt: 1 }, 60_000);
      await store.set(long, { value: serialize('l'), storedAt: 2 }, 60_000);
      const keys = server.cli('--scan', '--pattern', 'gw-a:*').split('\n').sort();
      expect(keys).toHaveLength(2);
      expect(keys[0]).toMatch(/^gw-a:answer#[A-Za-z0-9_-]{43}$/);
      expect(keys[1]).toBe('gw-a:answer:short');
      expect(deserialize((await store.get(long))?.value ?? new Uint8Array())).toBe('l');
      // Another prefix is another gateway: it sees none of these.
      const other = createRedisAnswerStore({ client: await client({ keyPrefix: 'gw-b:' }) });
      expect(await other.get('short')).toBeUndefined();
    });

    it('reads bytes it did not write as a miss, not a crash', async () => {
      const redis = await client();
      await redis.set(redisAnswerKey('garbage'), 'not a stored answer');
      const store = createRedisAnswerStore({ client: redis });
      expect(await store.get('garbage')).toBeUndefined();
    });
  });

  describe('RedisAnswerStore: cross-replica single flight', () => {
    it('of replicas missing one key at once, one claims it; the others get its answer when it is stored', async () => {
      const [a, b, c] = await Promise.all([client(), client(), client()]);
      const stores = [a, b, c].map((redis) =>
        createRedisAnswerStore({ client: redis!, singleFlightMs: 5000 }),
      );
      expect(await stores[0]!.get('flight')).toBeUndefined(); // a claims: a asks AWS
      const waiting = [stores[1]!.get('flight'), stores[2]!.get('flight')];
      await new Promise((resolve) => setTimeout(resolve, 100));
      await stores[0]!.set('flight', { value: serialize({ from: 'a' }), storedAt: 42 }, 60_000);
      const got = await Promise.all(waiting);
      expect(got.map((g) => g?.storedAt)).toEqual([42, 42]);
      expect(deserialize(got[0]?.value ?? new Uint8Array())).toEqual({ from: 'a' });
      // The claim went with the answer.
      expect(await a!.exists(redisClaimKey('flight'))).toBe(0);
    });

    it('a claim whose holder never stores (it failed, or died) lapses: a waiter then claims and fetches itself', async () => {
      const [a, b, c] = await Promise.all([client(), client(), client()]);
      const [sa, sb, sc] = [a, b, c].map((redis) =>
        createRedisAnswerStore({ client: redis!, singleFlightMs: 400 }),
      );
      expect(await sa!.get('lapse')).toBeUndefined();
      const started = Date.now();
      expect(await sb!.get('lapse')).toBeUndefined(); // waited for the claim to lapse, then took it
      expect(Date.now() - started).toBeGreaterThanOrEqual(300);
      expect(await b!.get(redisClaimKey('lapse'))).toMatch(/^rolegraph-gateway:/);
      // c now waits on b, and gets b's answer.
      const waiting = sc!.get('lapse');
      await sb!.set('lapse', { value: serialize('b'), storedAt: 7 }, 60_000);
      expect((await waiting)?.storedAt).toBe(7);
    });

    it('singleFlightMs: 0 claims nothing: every replica misses on its own', async () => {
      const [a, b] = await Promise.all([client(), client()]);
      const [sa, sb] = [a, b].map((redis) => createRedisAnswerStore({ client: redis!, singleFlightMs: 0 }));
      expect(await sa!.get('no-flight')).toBeUndefined();
      expect(await sb!.get('no-flight')).toBeUndefined();
      expect(await a!.exists(redisClaimKey('no-flight'))).toBe(0);
      expect(() => createRedisAnswerStore({ client: a!, singleFlightMs: -1 })).toThrow(/singleFlightMs/);
    });
  });

  describe('RedisBucketStore', () => {
    it('is atomic: 3 clients x 60 concurrent takes from a 50-token bucket take exactly 50', async () => {
      const spec = { burst: 50, refillPerSecond: 0.001 };
      const stores = (await Promise.all([client(), client(), client()])).map((c) =>
        createRedisBucketStore({ client: c }),
      );
      const results = await Promise.all(
        stores.flatMap((store) =>
          Array.from({ length: 60 }, () => store.take('ec2:atomic', spec, Date.now())),
        ),
      );
      expect(results.filter((wait) => wait === 0)).toHaveLength(50);
      // The refused ones are told how long until a token: about 1000 s at 0.001 tokens/s.
      const waits = results.filter((wait) => wait > 0);
      expect(waits).toHaveLength(130);
      for (const wait of waits) expect(wait).toBeGreaterThan(900_000);
    });

    it("refills at refillPerSecond by the caller's clock (clock: 'caller')", async () => {
      const store = createRedisBucketStore({ client: await client(), clock: 'caller' });
      const spec = { burst: 2, refillPerSecond: 10 };
      const t0 = 1_800_000_000_000;
      expect(await store.take('refill', spec, t0)).toBe(0);
      expect(await store.take('refill', spec, t0)).toBe(0);
      expect(await store.take('refill', spec, t0)).toBe(100);
      expect(await store.take('refill', spec, t0 + 40)).toBe(60);
      expect(await store.take('refill', spec, t0 + 100)).toBe(0);
      // Long idle: back to the burst, never above.
      expect(await store.take('refill', spec, t0 + 60_000)).toBe(0);
      expect(await store.take('refill', spec, t0 + 60_000)).toBe(0);
      expect(await store.take('refill', spec, t0 + 60_000)).toBe(100);
    });

    it('a clock behind the bucket (a skewed replica) refills nothing and never goes negative', async () => {
      const store = createRedisBucketStore({ client: await client(), clock: 'caller' });
      const spec = { burst: 1, refillPerSecond: 1 };
      const t0 = 1_800_000_000_000;
      expect(await store.take('skew', spec, t0)).toBe(0);
      expect(await store.take('skew', spec, t0 - 5_000)).toBe(1000);
      expect(await store.take('skew', spec, t0 + 1000)).toBe(0);
    });

    it('answers exactly as the memory store does, take for take (fast-check, caller clock)', async () => {
      const redis = await client();
      let run = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.record({
            burst: fc.integer({ min: 1, max: 20 }),
            refillPerSecond: fc.double({ min: 0.05, max: 50, noNaN: true }),
          }),
          fc.array(
            fc.tuple(fc.constantFrom('take', 'take', 'take', 'drain'), fc.integer({ min: -50, max: 400 })),
            {
              minLength: 1,
              maxLength: 40,
            },
          ),
          async (spec, steps) => {
            const key = `conformance-${run++}`;
            const memory = createMemoryBucketStore();
            const shared = createRedisBucketStore({ client: redis, clock: 'caller' });
            let now = 1_800_000_000_000;
            for (const [op, dt] of steps) {
              now += dt;
              if (op === 'drain') {
                memory.drain(key, spec, now);
                await shared.drain(key, spec, now);
              } else {
                expect(await shared.take(key, spec, now)).toBe(memory.take(key, spec, now));
              }
            }
          },
        ),
        { seed: 20261201, numRuns: 150 },
      );
    });

    it('drain empties the bucket: the next take waits a full token', async () => {
      const store = createRedisBucketStore({ client: await client(), clock: 'caller' });
      const spec = { burst: 5, refillPerSecond: 2 };
      const t0 = 1_800_000_000_000;
      await store.drain('drained', spec, t0);
      expect(await store.take('drained', spec, t0)).toBe(500);
    });

    it("by default counts by Redis's TIME: replicas whose clocks disagree by hours share one bucket", async () => {
      const spec = { burst: 1, refillPerSecond: 0.001 };
      const a = createRedisBucketStore({ client: await client() });
      const b = createRedisBucketStore({ client: await client() });
      const hour = 3_600_000;
      expect(await a.take('shared-clock', spec, Date.now() - 5 * hour)).toBe(0);
      // Were b's clock used, 10 h of refill would give it a token.
      expect(await b.take('shared-clock', spec, Date.now() + 5 * hour)).toBeGreaterThan(900_000);
    });

    it('expires an idle bucket once it would be full again', async () => {
      const redis = await client();
      const store = createRedisBucketStore({ client: redis });
      await store.take('idle', { burst: 10, refillPerSecond: 100 }, Date.now());
      const pttl = await redis.pttl(bucketKey('idle'));
      expect(pttl).toBeGreaterThan(0);
      expect(pttl).toBeLessThanOrEqual(1010);
    });

    it('refuses a bucket spec that cannot refill, naming the field', async () => {
      const store = createRedisBucketStore({ client: await client() });
      await expect(store.take('bad', { burst: 0, refillPerSecond: 1 }, 0)).rejects.toThrow(
        /token bucket spec must be/,
      );
      await expect(store.take('bad', { burst: 1, refillPerSecond: 0 }, 0)).rejects.toThrow(
        /refillPerSecond: a number > 0/,
      );
    });

    it('keeps working after Redis restarts and forgets the script (EVALSHA, then the script again)', async () => {
      const own = await startRedisServer();
      const redis = await clientFor(own);
      try {
        const store = createRedisBucketStore({ client: redis });
        const spec = { burst: 3, refillPerSecond: 0.001 };
        expect(await store.take('restart', spec, 0)).toBe(0);
        await own.restart();
        // The same client: ioredis reconnects by itself; the new server knows no script.
        await until('the client to reconnect', async () => (redis.status === 'ready' ? true : undefined));
        expect(await store.take('restart', spec, 0)).toBe(0);
        own.cli('SCRIPT', 'FLUSH');
        expect(await store.take('restart', spec, 0)).toBe(0);
        expect(await store.take('restart', spec, 0)).toBe(0);
        expect(await store.take('restart', spec, 0)).toBeGreaterThan(0);
      } finally {
        redis.disconnect();
        await own.stop();
      }
    });
  });
});
