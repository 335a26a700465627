import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../config/config-error.js';
import { parseConfig } from '../config/load-config.js';
import { redactRedisUrl, redisClientOptions } from './redis-link.js';

const reader = { alias: 'prod', roleArn: 'arn:aws:iam::111111111111:role/Reader', regions: ['us-east-1'] };

async function configError(redis: unknown): Promise<ConfigError> {
  try {
    await parseConfig({ accounts: [reader], cache: { redis } }, { file: 'gateway.yaml' });
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('cache.redis configuration', () => {
  it('fills the defaults: prefix, timeouts, single flight', async () => {
    const config = await parseConfig({ accounts: [reader], cache: { redis: { url: 'redis://r:6379' } } });
    expect(config.cache.redis).toEqual({
      url: 'redis://r:6379',
      keyPrefix: 'rolegraph:',
      connectTimeoutMs: 1000,
      commandTimeoutMs: 250,
      singleFlightMs: 1000,
    });
    expect((await parseConfig({ accounts: [reader] })).cache.redis).toBeUndefined();
  });

  it.each([
    ['http scheme', { url: 'http://r:6379' }, 'cache.redis.url', /redis:\/\/ or rediss:\/\//],
    ['not a URL', { url: 'localhost:6379' }, 'cache.redis.url', /redis:\/\/ or rediss:\/\//],
    ['database not a number', { url: 'redis://r:6379/cache' }, 'cache.redis.url', /database/],
    ['password twice', { url: 'redis://:a-secret@r', password: 'b' }, 'cache.redis.password', /twice/],
    ['username twice', { url: 'redis://u:p@r', username: 'v' }, 'cache.redis.username', /twice/],
    ['tls off with rediss', { url: 'rediss://r', tls: false }, 'cache.redis.tls', /rediss/],
    ['command timeout 0', { url: 'redis://r', commandTimeoutMs: 0 }, 'cache.redis.commandTimeoutMs', /./],
    ['negative single flight', { url: 'redis://r', singleFlightMs: -1 }, 'cache.redis.singleFlightMs', /./],
    ['unknown key', { url: 'redis://r', passwd: 'x' }, 'cache.redis', /passwd/],
    ['unknown tls key', { url: 'rediss://r', tls: { ca: 'x' } }, 'cache.redis.tls', /./],
    ['no url', {}, 'cache.redis.url', /./],
  ])('%s: refused at start, naming the field', async (_name, redis, path, message) => {
    const error = await configError(redis);
    const issue = error.issues.find((i) => i.path === path);
    expect(issue, JSON.stringify(error.issues)).toBeDefined();
    expect(issue?.message).toMatch(message);
    // Never the password, whatever was wrong.
    expect(error.message).not.toContain('a-secret');
  });
});

describe('redisClientOptions', () => {
  const base = {
    keyPrefix: 'rolegraph:',
    connectTimeoutMs: 1000,
    commandTimeoutMs: 250,
    singleFlightMs: 1000,
  };

  it('takes host, port, db, user and password from the URL, and fails fast when Redis is gone', () => {
    const options = redisClientOptions({ ...base, url: 'redis://gw:p%40ss@redis.internal:6380/2' });
    expect(options).toMatchObject({
      host: 'redis.internal',
      port: 6380,
      db: 2,
      username: 'gw',
      password: 'p@ss',
      keyPrefix: 'rolegraph:',
      // A backstop: calls are timed by withDeadline.
      commandTimeout: 5000,
      connectTimeout: 1000,
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
    });
    expect(options.tls).toBeUndefined();
    // Reconnects in the background, backing off to 2 s.
    const retry = options.retryStrategy as (times: number) => number;
    expect([1, 2, 3, 6, 50].map(retry)).toEqual([100, 200, 400, 2000, 2000]);
  });

  it('rediss:// or tls turns TLS on, verifying the certificate unless told not to, with the CA file', () => {
    expect(redisClientOptions({ ...base, url: 'rediss://r' }).tls).toEqual({ rejectUnauthorized: true });
    const dir = mkdtempSync(join(tmpdir(), 'rolegraph-ca-'));
    writeFileSync(join(dir, 'ca.pem'), 'PEM');
    expect(
      redisClientOptions({
        ...base,
        url: 'redis://r',
        password: 'x',
        tls: { caFile: join(dir, 'ca.pem'), servername: 'redis.internal', rejectUnauthorized: false },
      }),
    ).toMatchObject({
      password: 'x',
      tls: { ca: 'PEM', servername: 'redis.internal', rejectUnauthorized: false },
    });
    expect(() =>
      redisClientOptions({
        ...base,
        url: 'redis://r',
        tls: { caFile: '/nonexistent/ca.pem', rejectUnauthorized: true },
      }),
    ).toThrow('cache.redis.tls.caFile: /nonexistent/ca.pem cannot be read (ENOENT)');
  });

  it('redactRedisUrl hides the password and keeps the rest', () => {
    expect(redactRedisUrl('redis://gw:s3cret@r:6379/0')).toBe('redis://gw:***@r:6379/0');
    expect(redactRedisUrl('rediss://r:6379')).toBe('rediss://r:6379');
    expect(redactRedisUrl('not a url s3cret')).toBe('[unparsable redis url]');
  });
});
