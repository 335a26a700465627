import { createHash, randomUUID } from 'node:crypto';
import type { AnswerStore, StoredAnswer } from '@rolegraph/credentials/aws';
import type { Redis } from 'ioredis';
import { withDeadline } from './redis-link.js';

/** Keys longer than this are stored under their SHA-256 (a canonical input can be long). */
const MAX_PLAIN_KEY = 512;
const FORMAT = 1;
const HEADER = 9;

/**
 * Where an answer lives in Redis (after the client's `keyPrefix`).
 *
 * @example
 * redisAnswerKey('ec2:DescribeRegions:111111111111:us-east-1:arn:aws:iam::111111111111:role/R:{}');
 * // 'answer:ec2:DescribeRegions:111111111111:...'; past 512 characters 'answer#<sha256 base64url>'
 */
export function redisAnswerKey(key: string): string {
  return key.length <= MAX_PLAIN_KEY
    ? `answer:${key}`
    : `answer#${createHash('sha256').update(key).digest('base64url')}`;
}

/**
 * The claim of the replica fetching `key` from AWS (cross-replica single flight).
 *
 * @example
 * redisClaimKey('ec2:DescribeRegions:...'); // 'claim:ec2:DescribeRegions:...'
 */
export function redisClaimKey(key: string): string {
  return `claim:${redisAnswerKey(key).slice('answer'.length + 1)}`;
}

/**
 * One byte of format, `storedAt` as a float64, then the serialized answer as it is.
 *
 * @example
 * const bytes = encodeAnswer({ value: serialize(output), storedAt: Date.now() });
 */
export function encodeAnswer(answer: StoredAnswer): Buffer {
  const out = Buffer.allocUnsafe(HEADER + answer.value.byteLength);
  out.writeUInt8(FORMAT, 0);
  out.writeDoubleBE(answer.storedAt, 1);
  out.set(answer.value, HEADER);
  return out;
}

/**
 * The stored answer, or `undefined` for bytes this format did not write.
 *
 * @example
 * decodeAnswer(encodeAnswer(answer)); // { value, storedAt } as given
 */
export function decodeAnswer(bytes: Buffer): StoredAnswer | undefined {
  if (bytes.length < HEADER || bytes.readUInt8(0) !== FORMAT) return undefined;
  const storedAt = bytes.readDoubleBE(1);
  if (!Number.isFinite(storedAt)) return undefined;
  return { value: new Uint8Array(bytes.subarray(HEADER)), storedAt };
}

/**
 * KEYS: answer, claim. ARGV: claimant, claim ms (0: never claim). The answer if there is one;
 * else, when nobody holds the claim, takes it (`SET NX PX`) and says so; else says who waits.
 * One round trip for a hit and for a miss alike.
 */
const GET_OR_CLAIM_LUA = `
local value = redis.call('GET', KEYS[1])
if value then return value end
if tonumber(ARGV[2]) > 0 and redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if tonumber(ARGV[2]) > 0 then return 2 end
return 0
`;

/** KEYS: answer, claim. ARGV: bytes, ttl ms. Stores the answer and lets the waiters go. */
const PUT_LUA = `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('DEL', KEYS[2])
return 1
`;

/** The reply of GET_OR_CLAIM_LUA when another replica holds the claim. */
const HELD = 2;

interface AnswerCommands {
  rolegraphGetOrClaimBuffer(
    answer: string,
    claim: string,
    claimant: string,
    claimMs: number,
  ): Promise<Buffer | number>;
  rolegraphPut(answer: string, claim: string, bytes: Buffer, ttlMs: number): Promise<number>;
}

export interface RedisAnswerStoreOptions {
  client: Redis;
  /**
   * Cross-replica single flight: on a miss, the first replica claims the key for this long
   * (`SET NX PX`) and fetches it from AWS; the others wait up to this long for its answer
   * (polling every 5-50 ms), then fetch it themselves. A claim whose holder died or failed
   * (errors are never stored) lapses after this long. 0: no claims, every replica fetches
   * on its own miss.
   * @default 1000
   */
  singleFlightMs?: number;
  /** Each command's deadline (`withDeadline`). @default 250 */
  commandTimeoutMs?: number;
  /** @default setTimeout-based sleep; inject in tests. */
  sleep?: (ms: number) => Promise<void>;
  /** @default Date.now */
  now?: () => number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The AWS-answer cache in Redis: each answer is one binary string (`SET ... PX ttl`), so Redis
 * expires it; nothing is read back as text. With `singleFlightMs`, a miss is claimed so that
 * of N replicas missing one key at once, one asks AWS and the others get its answer. Errors
 * (Redis down, a command timeout) are thrown: the fallback around it decides what to do (see
 * `createSharedStores`).
 *
 * @example
 * const answers = createRedisAnswerStore({ client: link.client });
 * await answers.set(key, { value: serialize(output), storedAt: Date.now() }, 60_000);
 * const hit = await answers.get(key);
 */
export function createRedisAnswerStore(options: RedisAnswerStoreOptions): AnswerStore {
  const { client } = options;
  const claimMs = options.singleFlightMs ?? 1000;
  if (!Number.isSafeInteger(claimMs) || claimMs < 0) {
    throw new TypeError(
      `createRedisAnswerStore: singleFlightMs must be an integer >= 0, got ${String(options.singleFlightMs)}`,
    );
  }
  const sleep = options.sleep ?? defaultSleep;
  const now = options.now ?? Date.now;
  // Who holds a claim, for someone reading Redis; never a secret.
  const claimant = `rolegraph-gateway:${process.pid}:${randomUUID()}`;
  if (!('rolegraphGetOrClaim' in client)) {
    client.defineCommand('rolegraphGetOrClaim', { numberOfKeys: 2, lua: GET_OR_CLAIM_LUA });
    client.defineCommand('rolegraphPut', { numberOfKeys: 2, lua: PUT_LUA });
  }
  const commands = client as unknown as AnswerCommands;
  const timeoutMs = options.commandTimeoutMs ?? 250;
  const getOrClaim = (key: string, claim: string, ms: number) =>
    withDeadline(commands.rolegraphGetOrClaimBuffer(redisAnswerKey(key), claim, claimant, ms), timeoutMs);

  return {
    async get(key) {
      const claim = redisClaimKey(key);
      let reply = await getOrClaim(key, claim, claimMs);
      if (Buffer.isBuffer(reply)) return decodeAnswer(reply);
      if (reply !== HELD) return undefined; // MISS, or CLAIMED: this replica asks AWS
      // Another replica is asking AWS: wait for its answer, or for its claim to lapse.
      const deadline = now() + claimMs;
      let pause = 5;
      while (now() < deadline) {
        await sleep(pause);
        pause = Math.min(pause * 2, 50);
        reply = await getOrClaim(key, claim, claimMs);
        if (Buffer.isBuffer(reply)) return decodeAnswer(reply);
        if (reply !== HELD) return undefined;
      }
      return undefined;
    },
    async set(key, answer, ttlMs) {
      // A TTL of 0 (or less) means: do not keep it.
      if (!(ttlMs >= 1)) return;
      await commands.rolegraphPut(
        redisAnswerKey(key),
        redisClaimKey(key),
        encodeAnswer(answer),
        Math.ceil(ttlMs),
      );
    },
  };
}
