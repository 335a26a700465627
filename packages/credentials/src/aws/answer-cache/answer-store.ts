import { LRUCache } from 'lru-cache';

/** One cached AWS answer, as every `AnswerStore` keeps it. */
export interface StoredAnswer {
  /** The answer serialized with node:v8 `serialize` (keeps Dates, Uint8Arrays). */
  value: Uint8Array;
  /** Epoch ms when AWS answered. */
  storedAt: number;
}

/**
 * Where cached AWS answers live: process memory (`createMemoryAnswerStore`, lru-cache bounded
 * by bytes) or Redis (the gateway's, for replicas). Keys and values carry no secret: a key is
 * made of the role ARN, account, region, service, operation and the request's input; a value
 * is what the AWS call answered, never credentials.
 *
 * A store may drop any entry at any time (a miss only costs an AWS call), and may keep an
 * entry past `ttlMs`: the answer cache checks `storedAt` itself before serving one.
 */
export interface AnswerStore {
  get(key: string): Promise<StoredAnswer | undefined> | StoredAnswer | undefined;
  set(key: string, answer: StoredAnswer, ttlMs: number): Promise<void> | void;
}

/** Options of `createMemoryAnswerStore`. */
export interface MemoryAnswerStoreOptions {
  /**
   * The most bytes the store holds (answers' serialized bytes plus their keys); the least
   * recently used entries are dropped to make room, and an answer larger than this is not kept.
   */
  maxBytes: number;
  /** The clock of entry TTLs; inject a fake one in tests. @default Date.now */
  now?: () => number;
}

/** What an entry costs in memory: its bytes, its key (UTF-16) and a little bookkeeping. */
const ENTRY_OVERHEAD_BYTES = 64;
export const answerSize = (key: string, answer: StoredAnswer): number =>
  answer.value.byteLength + key.length * 2 + ENTRY_OVERHEAD_BYTES;

/**
 * An in-process `AnswerStore`: an LRU cache bounded by bytes (lru-cache `maxSize` with a size
 * per entry), each entry dropped after its `ttlMs`.
 *
 * @example
 * const store = createMemoryAnswerStore({ maxBytes: 64 * 1024 * 1024 });
 * const cache = createAnswerCache({ store });
 */
export function createMemoryAnswerStore(options: MemoryAnswerStoreOptions): AnswerStore {
  const { maxBytes } = options ?? {};
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
    throw new TypeError(
      `createMemoryAnswerStore: maxBytes must be a positive integer, got ${String(maxBytes)}`,
    );
  }
  const now = options.now ?? Date.now;
  const entries = new LRUCache<string, StoredAnswer>({
    maxSize: maxBytes,
    sizeCalculation: (answer, key) => answerSize(key, answer),
    perf: { now },
    ttlResolution: 0,
    // Nothing to do on expiry but forget: no timers, stale entries go when read or evicted.
    ttlAutopurge: false,
  });
  return {
    get: (key) => entries.get(key),
    set(key, answer, ttlMs) {
      if (!(ttlMs > 0)) return;
      // Too large for the bound: lru-cache refuses it (and drops an older value of the key).
      entries.set(key, answer, { ttl: ttlMs });
    },
  };
}
