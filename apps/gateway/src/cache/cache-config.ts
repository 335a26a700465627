import { DEFAULT_ANSWER_CACHE_MAX_BYTES } from '@rolegraph/credentials/aws';
import { z } from 'zod';
import { redisSchema } from './redis-config.js';

/** `default`, a service (`ec2`) or `service:Operation` (`ec2:DescribeInstances`). */
const ttlNameSchema = z
  .string()
  .regex(
    /^(default|[a-z0-9-]+(:[A-Za-z0-9]+)?)$/,
    'must be default, a service such as ec2, or service:Operation such as ec2:DescribeInstances',
  );

/**
 * The AWS-answer cache (`cache:` in the gateway file). On by default: answers are kept
 * `ttlSeconds` (by operation, then service, then `default`) in at most `maxBytes` of memory.
 */
export const cacheSchema = z.strictObject({
  /** `false`: no cache at all; every call goes to AWS and nothing is shared. @default true */
  enabled: z.boolean().default(true),
  /**
   * Seconds an answer is kept, over the defaults `{ default: 60, 'ec2:DescribeRegions': 3600,
   * 'sts:GetCallerIdentity': 0 }`; 0 keeps nothing (identical calls in flight are still shared).
   */
  ttlSeconds: z.record(ttlNameSchema, z.number().min(0).max(86_400)).default({}),
  /** Most bytes of answers held in memory (serialized size plus keys). @default 67108864 (64 MiB) */
  maxBytes: z
    .number()
    .int()
    .min(64 * 1024)
    .max(64 * 1024 * 1024 * 1024)
    .default(DEFAULT_ANSWER_CACHE_MAX_BYTES),
  /**
   * Redis shared by gateway replicas: the answers and the rate-limit buckets live there (each
   * replica falls back to its own memory while Redis does not answer). Absent: memory only.
   */
  redis: redisSchema.optional(),
});

export type CacheConfig = z.output<typeof cacheSchema>;
