// TEMPORARY: the interfaces agreed in interfaces.md, until the `cache` and `limits` branches
// land them in @rolegraph/credentials/aws; then this file goes and the imports point there.

export interface TokenBucketSpec {
  burst: number;
  refillPerSecond: number;
}

export interface BucketStore {
  take(key: string, spec: TokenBucketSpec, nowMs: number): Promise<number> | number;
  drain(key: string, spec: TokenBucketSpec, nowMs: number): Promise<void> | void;
}

export interface StoredAnswer {
  value: Uint8Array;
  storedAt: number;
}

export interface AnswerStore {
  get(key: string): Promise<StoredAnswer | undefined> | StoredAnswer | undefined;
  set(key: string, answer: StoredAnswer, ttlMs: number): Promise<void> | void;
}
