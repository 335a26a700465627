import { serialize } from 'node:v8';
import { type AnswerStore, createMemoryAnswerStore } from '@rolegraph/credentials/aws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRedisAnswerStore } from '../src/cache/redis-answer-store.js';
import { redisSchema } from '../src/cache/redis-config.js';
import { createRedisLink, type RedisLink, withDeadline } from '../src/cache/redis-link.js';
import { answerStoreWithFallback } from '../src/cache/shared-stores.js';
import type { LogEntry } from '../src/observability/log.js';
import { createMetrics, type GatewayMetrics } from '../src/observability/metrics.js';
import {
  makeCertificates,
  type RedisServer,
  redisTestsSkipped,
  startRedisServer,
  tlsTestsSkipped,
} from './redis-server.js';

// The link to a real redis-server: what a replica does when Redis dies, stalls, comes back,
// or refuses its password. Nothing here fails a caller; every transition is one log line.

async function until<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 15_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

interface Replica {
  link: RedisLink;
  store: AnswerStore;
  local: AnswerStore;
  logs: LogEntry[];
  metrics: GatewayMetrics;
}

const open: RedisLink[] = [];

function replica(config: Record<string, unknown>): Replica {
  const logs: LogEntry[] = [];
  const metrics = createMetrics({ defaultMetrics: false });
  const parsed = redisSchema.parse(config);
  const link = createRedisLink({
    config: parsed,
    log: (entry) => logs.push(entry),
    metrics,
    probeIntervalMs: 100,
  });
  open.push(link);
  const local = createMemoryAnswerStore({ maxBytes: 1 << 20 });
  const store = answerStoreWithFallback(
    link,
    createRedisAnswerStore({ client: link.client, commandTimeoutMs: parsed.commandTimeoutMs }),
    local,
    metrics,
  );
  return { link, store, local, logs, metrics };
}

async function metric(metrics: GatewayMetrics, name: string, labels: Record<string, string> = {}) {
  const found = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (found?.values ?? []) as Array<{ value: number; labels: Record<string, unknown> }>;
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want))
    .reduce((sum, v) => sum + v.value, 0);
}

const warnings = (logs: LogEntry[]) => logs.filter((l) => l.level === 'warn');
const answer = (n: number) => ({ value: serialize({ n }), storedAt: n });

describe.skipIf(redisTestsSkipped)('Redis down, slow, back: each replica falls back to its memory', () => {
  let server: RedisServer;

  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterEach(async () => {
    for (const link of open.splice(0)) await link.close();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('connects, shares answers through Redis, and says so once', async () => {
    const a = replica({ url: server.url });
    const b = replica({ url: server.url });
    expect(await a.link.whenUp(10_000)).toBe('up');
    expect(await b.link.whenUp(10_000)).toBe('up');
    await a.store.set('shared-1', answer(1), 60_000);
    expect((await b.store.get('shared-1'))?.storedAt).toBe(1);
    // Not in b's memory: b read it from Redis.
    expect(await b.local.get('shared-1')).toBeUndefined();
    expect(await metric(a.metrics, 'rolegraph_gateway_cache_redis_up')).toBe(1);
    expect(a.logs.map((l) => l.msg)).toEqual([
      'redis connected: answer cache and rate-limit buckets are shared',
    ]);
  });

  it('a call made while the first connection is being made waits for it: Redis, not memory', async () => {
    const r = replica({ url: server.url });
    // The first calls of a replica that just started (its source identity, its first queries).
    expect(r.link.state()).toBe('connecting');
    await r.store.set('at-start', answer(5), 60_000);
    expect(r.link.state()).toBe('up');
    expect(await r.local.get('at-start')).toBeUndefined();
    expect(server.cli('EXISTS', 'rolegraph:answer:at-start')).toBe('1');
    expect(await metric(r.metrics, 'rolegraph_gateway_cache_redis_fallbacks_total')).toBe(0);
  });

  it('Redis killed: calls are served from memory at once (one warning), and Redis is used again once it is back', async () => {
    const own = await startRedisServer();
    try {
      const r = replica({ url: own.url });
      expect(await r.link.whenUp(10_000)).toBe('up');
      await own.kill();
      // Every call answers: none throws, none waits for the dead Redis.
      for (let i = 0; i < 50; i++) {
        await r.store.set(`k${i}`, answer(i), 60_000);
        expect((await r.store.get(`k${i}`))?.storedAt).toBe(i);
      }
      expect(r.link.state()).toBe('down');
      expect(warnings(r.logs)).toHaveLength(1);
      expect(warnings(r.logs)[0]).toMatchObject({ redis: own.url.replace(/\/?$/, '') });
      expect(await metric(r.metrics, 'rolegraph_gateway_cache_redis_up')).toBe(0);
      expect(await metric(r.metrics, 'rolegraph_gateway_cache_redis_outages_total')).toBe(1);
      expect(
        await metric(r.metrics, 'rolegraph_gateway_cache_redis_fallbacks_total', { store: 'answers' }),
      ).toBe(100);

      await own.restart();
      expect(await r.link.whenUp(15_000)).toBe('up');
      expect(r.logs.at(-1)?.msg).toBe(
        'redis is back: the shared answer cache and rate-limit buckets are in use again',
      );
      await r.store.set('after', answer(7), 60_000);
      expect(own.cli('EXISTS', 'rolegraph:answer:after')).toBe('1');
      expect(await metric(r.metrics, 'rolegraph_gateway_cache_redis_up')).toBe(1);
      expect(warnings(r.logs)).toHaveLength(1);
    } finally {
      await own.stop();
    }
  });

  it('Redis stalls (SIGSTOP): calls time out after commandTimeoutMs and are served from memory; after 3 in a row the replica stops asking, and goes back when Redis answers', async () => {
    const own = await startRedisServer();
    try {
      const r = replica({ url: own.url, commandTimeoutMs: 100 });
      expect(await r.link.whenUp(10_000)).toBe('up');
      await r.local.set('stalled', answer(3), 60_000);
      own.pause();
      for (let i = 0; i < 3; i++) {
        const started = Date.now();
        expect((await r.store.get('stalled'))?.storedAt).toBe(3);
        // Bounded by the command timeout, not by Redis: generous for a loaded machine.
        expect(Date.now() - started).toBeLessThan(5_000);
        expect(r.link.state()).toBe(i < 2 ? 'up' : 'down');
      }
      // Later calls do not ask Redis at all.
      for (let i = 0; i < 20; i++) expect((await r.store.get('stalled'))?.storedAt).toBe(3);
      expect(warnings(r.logs)).toHaveLength(1);
      expect(String(warnings(r.logs)[0]?.reason)).toMatch(/did not answer within 100 ms/);
      own.resume();
      expect(await r.link.whenUp(15_000)).toBe('up');
      expect(await r.store.get('stalled')).toBeUndefined(); // from Redis again, which never had it
    } finally {
      own.resume();
      await own.stop();
    }
  });

  it('one slow answer (a stall of this process, say) is served from memory but does not turn the link down', async () => {
    const own = await startRedisServer();
    try {
      const r = replica({ url: own.url, commandTimeoutMs: 100 });
      expect(await r.link.whenUp(10_000)).toBe('up');
      await r.store.set('k', answer(1), 60_000);
      own.pause();
      expect(await r.store.get('k')).toBeUndefined(); // timed out: memory, which does not have it
      own.resume();
      expect((await r.store.get('k'))?.storedAt).toBe(1); // Redis again
      expect(r.link.state()).toBe('up');
      expect(warnings(r.logs)).toHaveLength(0);
      expect(await metric(r.metrics, 'rolegraph_gateway_cache_redis_fallbacks_total')).toBe(1);
    } finally {
      own.resume();
      await own.stop();
    }
  });

  it('a stall of this process longer than commandTimeoutMs is not taken for a slow Redis', async () => {
    const r = replica({ url: server.url, commandTimeoutMs: 50 });
    expect(await r.link.whenUp(10_000)).toBe('up');
    await r.store.set('stall', answer(4), 60_000);
    for (let i = 0; i < 3; i++) {
      const pending = r.store.get('stall');
      // The command is on the wire; this process now does nothing else for 300 ms (a long GC,
      // a CPU-bound request). Redis answers meanwhile; the reply waits in the socket.
      const until = Date.now() + 300;
      while (Date.now() < until) {
        // busy
      }
      expect((await pending)?.storedAt).toBe(4);
    }
    expect(await metric(r.metrics, 'rolegraph_gateway_cache_redis_fallbacks_total')).toBe(0);
    expect(r.link.state()).toBe('up');
  });

  it('withDeadline: a command Redis never answers fails with REDIS_TIMEOUT', async () => {
    const never = new Promise<never>(() => {});
    await expect(withDeadline(never, 30)).rejects.toMatchObject({ code: 'REDIS_TIMEOUT' });
    await expect(withDeadline(Promise.resolve(7), 30)).resolves.toBe(7);
    await expect(withDeadline(Promise.reject(new Error('WRONGTYPE')), 30)).rejects.toThrow('WRONGTYPE');
  });

  it('Redis unreachable at start: the replica starts on its memory, warns once, and connects when Redis appears', async () => {
    const own = await startRedisServer();
    await own.kill();
    try {
      const r = replica({ url: own.url, connectTimeoutMs: 200 });
      await until('the link to give up connecting', () => (r.link.state() === 'down' ? true : undefined));
      await r.store.set('early', answer(1), 60_000);
      expect((await r.store.get('early'))?.storedAt).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 1000)); // several reconnect attempts
      expect(warnings(r.logs)).toHaveLength(1);
      await own.restart();
      expect(await r.link.whenUp(15_000)).toBe('up');
    } finally {
      await own.stop();
    }
  });

  it('after close: no log line, no reconnection', async () => {
    const r = replica({ url: server.url });
    expect(await r.link.whenUp(10_000)).toBe('up');
    await r.link.close();
    const lines = r.logs.length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(r.logs).toHaveLength(lines);
    expect(r.link.client.status).toBe('end');
  });
});

describe.skipIf(redisTestsSkipped)('Redis with a password (--requirepass)', () => {
  const password = 'correct horse battery staple';
  let server: RedisServer;

  beforeAll(async () => {
    server = await startRedisServer({ password });
  });
  afterEach(async () => {
    for (const link of open.splice(0)) await link.close();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('authenticates with the password in the URL or in `password`, and never logs it', async () => {
    const inUrl = replica({ url: server.url.replace('//', `//:${encodeURIComponent(password)}@`) });
    const inField = replica({ url: server.url, password });
    expect(await inUrl.link.whenUp(10_000)).toBe('up');
    expect(await inField.link.whenUp(10_000)).toBe('up');
    await inUrl.store.set('authed', answer(5), 60_000);
    expect((await inField.store.get('authed'))?.storedAt).toBe(5);
    expect(inUrl.link.where).toBe(`redis://:***@127.0.0.1:${server.port}`);
    for (const r of [inUrl, inField]) {
      expect(JSON.stringify(r.logs)).not.toContain('horse');
      expect(JSON.stringify(r.logs)).not.toContain(encodeURIComponent(password));
    }
  });

  it('a wrong or missing password: the replica runs on its memory and says why, without the password', async () => {
    const wrong = replica({ url: server.url, password: 'wrong-secret-value' });
    const none = replica({ url: server.url });
    for (const r of [wrong, none]) {
      await until('the link to give up', () => (r.link.state() === 'down' ? true : undefined));
      await r.store.set('x', answer(9), 60_000);
      expect((await r.store.get('x'))?.storedAt).toBe(9);
    }
    expect(String(warnings(wrong.logs)[0]?.reason)).toMatch(/WRONGPASS|invalid password/i);
    expect(String(warnings(none.logs)[0]?.reason)).toMatch(/NOAUTH|auth/i);
    expect(JSON.stringify(wrong.logs)).not.toContain('wrong-secret-value');
    expect(server.cli('EXISTS', 'rolegraph:answer:x')).toBe('0');
  });
});

describe.skipIf(tlsTestsSkipped)('Redis over TLS (--tls-port, a throwaway CA)', () => {
  let server: RedisServer;
  let caFile: string;

  beforeAll(async () => {
    const certificates = makeCertificates();
    caFile = certificates.caFile;
    server = await startRedisServer({ tls: certificates, password: 'tls-pass-123' });
  });
  afterEach(async () => {
    for (const link of open.splice(0)) await link.close();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('rediss:// with the CA: connects, verifies the certificate, round-trips', async () => {
    expect(server.url).toMatch(/^rediss:\/\//);
    const r = replica({ url: server.url, password: 'tls-pass-123', tls: { caFile } });
    expect(await r.link.whenUp(10_000)).toBe('up');
    await r.store.set('tls', answer(11), 60_000);
    expect((await r.store.get('tls'))?.storedAt).toBe(11);
    expect(server.cli('EXISTS', 'rolegraph:answer:tls')).toBe('1');
  });

  it('a certificate the replica cannot verify (no CA given) is refused: memory, and a warning naming the TLS problem', async () => {
    const r = replica({ url: server.url, password: 'tls-pass-123', connectTimeoutMs: 500 });
    await until('the link to give up', () => (r.link.state() === 'down' ? true : undefined));
    expect(String(warnings(r.logs)[0]?.reason)).toMatch(/certificate/i);
    await r.store.set('y', answer(1), 60_000);
    expect((await r.store.get('y'))?.storedAt).toBe(1);
  });

  it('plain redis:// to a TLS-only server never connects', async () => {
    const r = replica({ url: server.url.replace('rediss://', 'redis://'), connectTimeoutMs: 300 });
    await until('the link to give up', () => (r.link.state() === 'down' ? true : undefined));
    expect(r.link.isUp()).toBe(false);
  });
});
