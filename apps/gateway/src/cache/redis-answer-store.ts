import { createHash } from 'node:crypto';
import type { AnswerStore, StoredAnswer } from '@rolegraph/credentials/aws';
import type { Redis } from 'ioredis';

/** Keys longer than this are stored under their SHA-256 (a canonical input can be long). */
const MAX_PLAIN_KEY = 512;
const FORMAT = 1;
const HEADER = 9;

/** Where an answer lives in Redis (after the client's `keyPrefix`). */
export function redisAnswerKey(key: string): string {
  return key.length <= MAX_PLAIN_KEY
    ? `answer:${key}`
    : `answer#${createHash('sha256').update(key).digest('base64url')}`;
}

/** One byte of format, `storedAt` as a float64, then the serialized answer as it is. */
export function encodeAnswer(answer: StoredAnswer): Buffer {
  const out = Buffer.allocUnsafe(HEADER + answer.value.byteLength);
  out.writeUInt8(FORMAT, 0);
  out.writeDoubleBE(answer.storedAt, 1);
  out.set(answer.value, HEADER);
  return out;
}

/** The stored answer, or `undefined` for bytes this format did not write. */
export function decodeAnswer(bytes: Buffer): StoredAnswer | undefined {
  if (bytes.length < HEADER || bytes.readUInt8(0) !== FORMAT) return undefined;
  const storedAt = bytes.readDoubleBE(1);
  if (!Number.isFinite(storedAt)) return undefined;
  return { value: new Uint8Array(bytes.subarray(HEADER)), storedAt };
}

export interface RedisAnswerStoreOptions {
  client: Redis;
}

/**
 * The AWS-answer cache in Redis: each answer is one binary string (`SET ... PX ttl`), so Redis
 * expires it; nothing is read back as text. Errors (Redis down, a command timeout) are thrown:
 * the fallback around it decides what to do (see `createSharedStores`).
 *
 * @example
 * const answers = createRedisAnswerStore({ client: link.client });
 * await answers.set(key, { value: serialize(output), storedAt: Date.now() }, 60_000);
 * const hit = await answers.get(key);
 */
export function createRedisAnswerStore(options: RedisAnswerStoreOptions): AnswerStore {
  const { client } = options;
  return {
    async get(key) {
      const bytes = await client.getBuffer(redisAnswerKey(key));
      return bytes ? decodeAnswer(bytes) : undefined;
    },
    async set(key, answer, ttlMs) {
      // A TTL of 0 (or less) means: do not keep it.
      if (!(ttlMs >= 1)) return;
      await client.set(redisAnswerKey(key), encodeAnswer(answer), 'PX', Math.ceil(ttlMs));
    },
  };
}
