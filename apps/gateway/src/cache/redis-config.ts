import { z } from 'zod';

/** `redis://` or `rediss://` (TLS), with an optional `user:password@` and `/db`. Never echoed in errors. */
const redisUrlSchema = z
  .string()
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== '';
    } catch {
      return false;
    }
  }, 'must be a redis:// or rediss:// URL such as redis://redis.internal:6379/0')
  .refine((value) => {
    try {
      const path = new URL(value).pathname;
      return path === '' || path === '/' || /^\/\d{1,2}$/.test(path);
    } catch {
      return true;
    }
  }, 'must name a database as a number (/0 .. /99), or none');

/**
 * Redis shared by gateway replicas: the AWS-answer cache and the rate-limit buckets live there.
 * Secrets (the password, in the URL or here) are never logged.
 */
export const redisSchema = z
  .strictObject({
    url: redisUrlSchema,
    /** ACL user (Redis 6+); or `user@` in the URL. */
    username: z.string().min(1).optional(),
    /** `AUTH` password; or `:password@` in the URL. */
    password: z.string().min(1).optional(),
    /** TLS: `true`, or options; a `rediss://` URL turns it on too. */
    tls: z
      .union([
        z.boolean(),
        z.strictObject({
          /** PEM file of the CA that signed the server's certificate. @default the system CAs */
          caFile: z.string().min(1).optional(),
          /** The name the certificate must carry. @default the URL's host */
          servername: z.string().min(1).optional(),
          /** @default true */
          rejectUnauthorized: z.boolean().default(true),
        }),
      ])
      .optional(),
    /** Prepended to every key, so one Redis can serve several gateways. @default rolegraph: */
    keyPrefix: z.string().max(64).default('rolegraph:'),
    /** A connection attempt longer than this fails (and is retried in the background). @default 1000 */
    connectTimeoutMs: z.number().int().min(10).max(60_000).default(1000),
    /**
     * A command without an answer after this long fails and that call is served from memory;
     * 3 in a row (or a closed connection) and the replica uses its memory until Redis answers
     * again. Keep it above this process's event-loop stalls: a reply that waits behind a
     * stall times out like a slow Redis. @default 250
     */
    commandTimeoutMs: z.number().int().min(5).max(10_000).default(250),
    /**
     * Cross-replica single flight: of replicas missing one answer at once, the first claims it
     * for this long and asks AWS, the others wait for its answer up to this long, then ask AWS
     * themselves. 0: each replica asks on its own miss. @default 1000
     */
    singleFlightMs: z.number().int().min(0).max(60_000).default(1000),
  })
  .superRefine((redis, ctx) => {
    let url: URL;
    try {
      url = new URL(redis.url);
    } catch {
      return;
    }
    if (url.protocol === 'rediss:' && redis.tls === false) {
      ctx.addIssue({ code: 'custom', path: ['tls'], message: 'must not be false with a rediss:// URL' });
    }
    if (redis.password !== undefined && url.password !== '') {
      ctx.addIssue({ code: 'custom', path: ['password'], message: 'is given twice: here and in url' });
    }
    if (redis.username !== undefined && url.username !== '') {
      ctx.addIssue({ code: 'custom', path: ['username'], message: 'is given twice: here and in url' });
    }
  });

/** The validated `cache.redis` section. */
export type RedisConfig = z.output<typeof redisSchema>;
